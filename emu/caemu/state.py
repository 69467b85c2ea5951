"""State: the request log, containers, and the emulator's files, faults and
runtime configuration.
"""

import base64
import hashlib
import hmac
import itertools
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid

from .batches import BATCH_CONFIG
from .tools import TOOL_CONFIG
from .errors import APIError
from .faults import path_matches
from .files import FileRec
from .usage import cache_breakpoints
from .wire import new_id, rfc3339


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if path else None
        self.keys = set()               # every API key value seen (>= 8 chars)

    def note_key(self, key):
        if key and len(key) >= 8:
            with self.lock:
                self.keys.add(key)

    def _scrub(self, v, keys, hit):
        if isinstance(v, str):
            for k in keys:
                if k in v:
                    v = v.replace(k, "***")
                    hit[0] = True
            return v
        if isinstance(v, list):
            return [self._scrub(x, keys, hit) for x in v]
        if isinstance(v, dict):
            return {self._scrub(k, keys, hit): self._scrub(x, keys, hit) for k, x in v.items()}
        return v

    def write(self, rec, tokens=()):
        """tokens: other secrets of this request (MCP authorization tokens),
        scrubbed the same way without counting as a leaked key."""
        if self.fd is None:
            return
        with self.lock:
            keys = sorted(self.keys, key=len, reverse=True)
        hit = [False]
        rec = self._scrub(rec, keys, hit)
        rec["key_elsewhere"] = hit[0]
        rec = self._scrub(rec, sorted(tokens, key=len, reverse=True), [False])
        data = (json.dumps(rec, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
        with self.lock:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]

    def truncate(self):
        if self.fd is not None:
            with self.lock:
                os.ftruncate(self.fd, 0)


class Container:
    def __init__(self, cid, root, ttl):
        self.id = cid
        self.root = root
        self.work = os.path.join(root, "work")
        self.tmp = os.path.join(root, "tmp")
        self.outputs = os.path.join(self.work, "outputs")
        for d in (self.work, self.tmp, self.outputs):
            os.makedirs(d, exist_ok=True)
        self.created = time.time()
        self.expires_at = self.created + ttl
        self.force_expired = False
        self.lock = threading.Lock()    # one step at a time per container
        self.uploaded = set()           # file ids already copied in

    def expired(self):
        return self.force_expired or time.time() >= self.expires_at

    def obj(self):
        return {"id": self.id, "expires_at": rfc3339(self.expires_at, frac=True), "skills": None}


class Emu:
    def __init__(self, args):
        self.args = args
        if args.state:
            self.state = os.path.abspath(args.state)
            self.own_state = False
        else:
            self.state = tempfile.mkdtemp(prefix="ca-emu-")
            self.own_state = True
        self.files_dir = os.path.join(self.state, "files")
        self.cont_dir = os.path.join(self.state, "containers")
        os.makedirs(self.files_dir, exist_ok=True)
        os.makedirs(self.cont_dir, exist_ok=True)
        self.lock = threading.RLock()
        self.files = {}
        self.file_order = []            # ids, oldest first (deleted ones too)
        self.containers = {}
        self.faults = []
        self.pauses = []                # what the faults' pauses did
        self.generation = 0
        self.config = self.default_config()
        self.rl = None                  # a ratelimit.RateLimit, when configured
        self.log = Log(args.log)
        self.org_id = str(uuid.uuid4())
        self.procs = set()
        self.conn_ids = itertools.count(1)
        self.python = shutil.which("python3") or sys.executable
        self.bash = shutil.which("bash") or "/bin/bash"
        self.secret = secrets.token_bytes(32)   # signs thinking blocks
        self.cache = {}                 # prompt-cache prefixes: key -> tokens
        self.replay = None              # a replay.Replay, with --replay

    def default_config(self):
        a = self.args
        cfg = {"pause_each_step": bool(a.pause_each_step), "latency_ms": a.latency_ms,
               "container_ttl": a.container_ttl, "exec_timeout": a.exec_timeout,
               "max_file_size": a.max_file_size, "ratelimit": None}
        cfg.update(BATCH_CONFIG)        # batches.py
        cfg.update(TOOL_CONFIG)         # tools.py
        return cfg

    def cfg(self, key):
        with self.lock:
            return self.config[key]

    def add_file(self, src, filename, mime, downloadable, expires_at, source, move):
        fid = new_id("file_")
        dst = os.path.join(self.files_dir, fid)
        if move:
            os.replace(src, dst)
        else:
            shutil.copyfile(src, dst, follow_symlinks=False)
        rec = FileRec(fid, filename, mime, os.path.getsize(dst), dst,
                      downloadable, expires_at, source)
        with self.lock:
            self.files[fid] = rec
            self.file_order.append(fid)
        return rec

    def get_file(self, fid):
        with self.lock:
            rec = self.files.get(fid)
        return rec if rec is not None and not rec.deleted else None

    def delete_file(self, rec):
        with self.lock:
            rec.deleted = True
        try:
            os.unlink(rec.path)
        except OSError:
            pass

    def all_newest_first(self):
        with self.lock:
            return [self.files[i] for i in reversed(self.file_order)]

    def new_container(self):
        cid = new_id("container_")
        c = Container(cid, os.path.join(self.cont_dir, cid), float(self.cfg("container_ttl")))
        with self.lock:
            self.containers[cid] = c
        return c

    def get_container(self, cid):
        with self.lock:
            return self.containers.get(cid)

    def pause(self, h, fault, ms, after=None):
        """Sleep ms for a fault of request h, and record the pause: a test
        reads what the emulator did (after which event, for how long, when)
        instead of timing the client's side."""
        t0 = time.time()
        time.sleep(float(ms) / 1000)
        rec = {"request_id": h.rid, "path": h.url_path, "fault": fault,
               "ms": ms, "after_events": after, "t0": t0, "t1": time.time()}
        with self.lock:
            if getattr(h, "gen", None) == self.generation:
                self.pauses.append(rec)

    def take_fault(self, method, path):
        with self.lock:
            for r in self.faults:
                times = r.get("times", 1)
                if times == 0:
                    continue
                if r.get("method") and r["method"].upper() != method:
                    continue
                p = r.get("path")
                if p is not None and not path_matches(p, path):
                    continue
                if times > 0:
                    r["times"] = times - 1
                rule = dict(r)
                self.faults = [x for x in self.faults if x.get("times", 1) != 0]
                return rule
        return None

    def prompt_cache(self, req):
        """(read, write, ttl) tokens for a request with cache_control: the
        longest prefix already cached is read; the prefix up to the last
        breakpoint is written if it was not.  None without breakpoints."""
        pieces, marks, ttl = cache_breakpoints(req)
        if not marks:
            return None
        if len(marks) > 4:
            raise APIError(400, "A maximum of 4 blocks with cache_control may be provided. "
                                f"Found {len(marks)}.")
        model = req["model"]
        keys = []
        h = hashlib.sha256(model.encode())
        size = 0
        for i, p in enumerate(pieces):
            h.update(p)
            size += len(p)
            if i in marks:
                keys.append((h.hexdigest(), max(1, size // 4)))
        with self.lock:
            read = max((n for k, n in keys if k in self.cache), default=0)
            last_key, last_n = keys[-1]
            write = 0 if last_key in self.cache else max(0, last_n - read)
            for k, n in keys:
                self.cache[k] = n
        return (read, write, ttl)

    def sign_thinking(self, text):
        """An HMAC of the thinking text with this process's secret, so a
        block whose text was altered no longer matches its signature."""
        nonce = secrets.token_bytes(12)
        return base64.b64encode(nonce + self.thinking_mac(nonce, text)).decode()

    def thinking_mac(self, nonce, text):
        return hmac.new(self.secret, nonce + text.encode("utf-8", "surrogateescape"),
                        hashlib.sha256).digest()

    def signature_ok(self, text, sig):
        try:
            raw = base64.b64decode(sig, validate=True)
        except (ValueError, TypeError):
            return False
        return len(raw) == 44 and hmac.compare_digest(raw[12:], self.thinking_mac(raw[:12], text))

    def check_thinking(self, msgs):
        for i, m in enumerate(msgs):
            if m.get("role") != "assistant" or not isinstance(m.get("content"), list):
                continue
            for j, b in enumerate(m["content"]):
                if not isinstance(b, dict) or b.get("type") != "thinking":
                    continue
                text, sig = b.get("thinking"), b.get("signature")
                if not isinstance(text, str) or not isinstance(sig, str) \
                        or not self.signature_ok(text, sig):
                    raise APIError(400, f"messages.{i}.content.{j}: Invalid `signature` in "
                                        "`thinking` block")

    # Processes (killed at exit) ---------------------------------------------
    def kill_all(self):
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass


def redact_tokens(body):
    """A copy of a request body for the log, with every MCP server's
    authorization_token replaced by "***"; and the token values."""
    if not isinstance(body, dict) or not isinstance(body.get("mcp_servers"), list):
        return body, []
    tokens, servers = [], []
    for sv in body["mcp_servers"]:
        if isinstance(sv, dict) and "authorization_token" in sv:
            if isinstance(sv["authorization_token"], str) and sv["authorization_token"]:
                tokens.append(sv["authorization_token"])
            sv = dict(sv, authorization_token="***")
        servers.append(sv)
    return dict(body, mcp_servers=servers), tokens
