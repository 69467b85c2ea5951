#!/usr/bin/python3
"""ca-emu: a local emulator of Anthropic's Messages API (code execution tool)
and Files API, for the tests of the ca toolkit.

Python 3 standard library only.  It binds a loopback address only, "plays the
model" from fenced code blocks in the last user message (and really runs
them), stores uploaded and generated files on disk, logs every API request as
one NDJSON line, and injects faults on demand.  emu/README.md documents the
interface.  The wire shapes follow the official SDK's types and the API
documentation.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import io
import ipaddress
import itertools
import json
import mimetypes
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

PROG = "ca-emu"

CODE_TOOL_TYPES = (
    "code_execution_20250522",
    "code_execution_20250825",
    "code_execution_20260120",
    "code_execution_20260521",
)
API_VERSIONS = ("2023-06-01", "2026-10-21")
FILES_BETA = "files-api-2025-04-14"
SKILLS_BETA = "skills-2025-10-02"
MCP_BETAS = ("mcp-client-2025-04-04", "mcp-client-2025-11-20", "mcp-client-2026-09-15")

# Every anthropic-beta value the API is known to accept; anything else is
# 400, as the API answers, so a misspelt beta fails a test.  Current ones
# first, then those the SDK calls deprecated but "the API still accepts".
KNOWN_BETAS = frozenset((
    "code-execution-2025-05-22", "code-execution-2025-08-25",
    "code-execution-web-tools-2026-02-09", "web-fetch-2025-09-10",
    FILES_BETA, SKILLS_BETA, *MCP_BETAS, "inline-tools-2026-09-15",
    "structured-outputs-2025-11-13", "structured-outputs-2025-12-15",
    "thinking-display-updates-2026-08-18", "thinking-token-count-2026-05-13",
    "task-budgets-2026-03-13", "message-batches-2024-09-24",
    "prompt-caching-2024-07-31", "pdfs-2024-09-25", "token-counting-2024-11-01",
    "token-efficient-tools-2025-02-19", "extended-cache-ttl-2025-04-11",
    "cache-diagnosis-2026-04-07", "ce-user-management-2026-07-13",
))

# Model ids the API serves: the SDK's Model list and the code execution
# tool's supported models.  Any other name is 404 not_found_error.
KNOWN_MODELS = frozenset((
    "claude-fable-5-2", "claude-mythos-5-2", "claude-haiku-5-5", "claude-sonnet-5-5",
    "claude-fable-5-1", "claude-opus-5-5", "claude-mythos-5-1", "claude-sonnet-5",
    "claude-fable-5", "claude-mythos-5", "claude-opus-5", "claude-opus-4-8",
    "claude-opus-4-7", "claude-mythos-preview", "claude-opus-4-6", "claude-sonnet-4-6",
    "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-opus-4-5",
    "claude-opus-4-5-20251101", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929",
))

# Top-level fields of a Messages request (GA) and of count_tokens, and those
# that exist only in the beta types: a BETA_FIELDS entry with betas is 400
# without one of them (None: accepted; no source names the beta it needs).
MESSAGE_FIELDS = frozenset((
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences",
    "stream", "temperature", "top_p", "top_k", "tools", "tool_choice", "container",
    "thinking", "service_tier", "speed", "inference_geo", "cache_control",
    "diagnostics", "output_config",
))
COUNT_FIELDS = frozenset((
    "model", "messages", "system", "tools", "tool_choice", "thinking",
    "output_config", "cache_control", "speed",
))
BETA_FIELDS = {"mcp_servers": MCP_BETAS, "context_management": None,
               "output_format": None, "billing_policy": None, "compaction": None}
SAMPLING = ("temperature", "top_p", "top_k")

WEB_SEARCH_TYPES = ("web_search_20250305", "web_search_20260209", "web_search_20260318")
WEB_FETCH_TYPES = ("web_fetch_20250910", "web_fetch_20260209", "web_fetch_20260309",
                   "web_fetch_20260318")
CALLERS = ("direct", "code_execution_20250825", "code_execution_20260120",
           "code_execution_20260521")
TOOL_COMMON = ("type", "name", "allowed_callers", "cache_control", "defer_loading", "strict")
CUSTOM_FIELDS = TOOL_COMMON + ("description", "input_schema", "input_examples",
                               "eager_input_streaming")
MCP_TOOLSET_FIELDS = ("type", "mcp_server_name", "default_config", "configs",
                      "cache_control", "tools")
ANTHROPIC_SKILLS = ("pptx", "xlsx", "docx", "pdf")
# Models that still take thinking {type: "enabled"} (4.7 and later refuse it).
THINKING_ENABLED_MODELS = frozenset((
    "claude-opus-4-6", "claude-sonnet-4-6", "claude-mythos-preview", "claude-haiku-4-5",
    "claude-haiku-4-5-20251001", "claude-opus-4-5", "claude-opus-4-5-20251101",
    "claude-sonnet-4-5", "claude-sonnet-4-5-20250929",
))
# Models without programmatic tool calling: web tools from _20260209 on
# default to being called from code, so these need allowed_callers direct.
NO_PTC_MODELS = frozenset(("claude-haiku-4-5", "claude-haiku-4-5-20251001"))
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENT_TYPES = ("application/pdf", "text/plain")

CHUNK = 1 << 20                 # I/O unit for bodies, uploads and downloads
OUT_CAP = 1 << 20               # cap on a step's captured stdout and stderr
BODY_MEM_MAX = 64 << 20         # JSON bodies held in memory at most
MSG_MAX = 32 * 1000 * 1000      # Messages API request limit, 32 MB (413 above)
PING_INTERVAL = 5.0             # stream pings while a step runs longer
VIRT_WORK = "/tmp/work"         # the work directory as shown to the client
MULTIPART_HDR_MAX = 64 << 10    # one part's header block
FIELD_MAX = 64 << 10            # a non-file multipart field kept in memory

# Generated content (POST /_emu/files "size", "huge_body" faults): this 64-byte
# line repeated, so `yes 'abc...XYZ!' | head -c N` reproduces it.
GEN_LINE = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!\n"
GEN_BLOCK = GEN_LINE * (CHUNK // len(GEN_LINE))

ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error",
    402: "billing_error", 403: "permission_error", 404: "not_found_error",
    405: "invalid_request_error", 408: "timeout_error",
    409: "conflict_error", 413: "request_too_large",
    422: "invalid_request_error", 429: "rate_limit_error",
    500: "api_error", 502: "api_error", 503: "api_error",
    504: "timeout_error", 529: "overloaded_error",
}
ERROR_MESSAGES = {
    400: "Invalid request", 401: "invalid x-api-key",
    402: "Your credit balance is too low", 403: "Permission denied",
    404: "Not found", 405: "Method not allowed", 408: "Request timeout",
    409: "Conflict", 413: "Request exceeds the maximum allowed size",
    422: "Unprocessable entity",
    429: "Number of requests has exceeded your rate limit",
    500: "Internal server error", 502: "Bad gateway",
    503: "Service unavailable", 504: "Gateway timeout", 529: "Overloaded",
}
REASONS = {529: "Overloaded", 413: "Payload Too Large"}

FAULT_EFFECTS = ("status", "reset", "latency_ms", "stream", "content_length_lie",
                 "cut_body", "redirect", "huge_body", "headers", "hang_ms")
FAULT_KEYS = FAULT_EFFECTS + ("method", "path", "times", "body", "after",
                              "stall_ms", "gap_ms", "chunked", "read_body_bytes",
                              "sse", "chunk_bytes", "comment")
STREAM_FAULTS = ("error_after", "cut_after", "reset_after", "stall_after",
                 "slow", "raw")

ALNUM = string.ascii_letters + string.digits
PING = object()                 # marker yielded by Turn.run between steps

# A private table, so MIME guesses do not depend on the machine's files.
_MIME = mimetypes.MimeTypes()
for _ext, _type in ((".py", "text/x-python"), (".csv", "text/csv"),
                    (".json", "application/json"), (".md", "text/markdown"),
                    (".txt", "text/plain"), (".png", "image/png"),
                    (".svg", "image/svg+xml"), (".ndjson", "application/x-ndjson"),
                    (".jsonl", "application/x-ndjson")):
    _MIME.add_type(_type, _ext)


def guess_mime(name):
    t, _ = _MIME.guess_type("x" + os.path.splitext(name)[1].lower())
    return t or "application/octet-stream"


def new_id(prefix, n=24):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


def rfc3339(ts, frac=False):
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if frac else "%Y-%m-%dT%H:%M:%SZ")


def jdump(obj):
    """Compact UTF-8 JSON.  Lone surrogates U+DC80..U+DCFF (from
    surrogateescape) become the raw bytes they stand for, so a test can make
    the emulator send arbitrary bytes in a string; other lone surrogates fall
    back to ASCII escapes."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def error_body(etype, message, rid, code=None):
    err = {"type": etype, "message": message}
    if code:
        err["details"] = {"error_code": code}
    return {"type": "error", "error": err, "request_id": rid}


def base_name(name):
    """The last path component, with '/' and '\\' both as separators."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def safe_name(name):
    """A base name safe to create in a work directory, or None."""
    b = base_name(name)
    if b in ("", ".", "..") or len(b.encode("utf-8", "surrogateescape")) > 255:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in b):
        return None
    return b


class APIError(Exception):
    def __init__(self, status, message, etype=None, code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.etype = etype or ERROR_TYPES.get(status, "api_error")
        self.code = code
        self.headers = headers or {}


class ClientGone(Exception):
    """The peer went away, or the request is not readable: close."""


class StreamEnded(Exception):
    """A stream fault ended the response early (already handled)."""


# ---------------------------------------------------------------------------
# Request bodies: Content-Length or chunked, read incrementally.

class BodyReader:
    def __init__(self, rfile, headers):
        self.rfile = rfile
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        self.remaining = 0
        self.chunk_left = 0
        self.total = 0
        if not self.chunked:
            cl = headers.get("Content-Length")
            if cl is not None:
                try:
                    self.remaining = int(cl.strip())
                except ValueError:
                    raise ClientGone("bad Content-Length")
                if self.remaining < 0:
                    raise ClientGone("bad Content-Length")
        self.eof = not self.chunked and self.remaining == 0

    def read(self, n=CHUNK):
        """Up to n bytes; b'' at the end of the body."""
        if self.eof:
            return b""
        if not self.chunked:
            data = self.rfile.read(min(n, self.remaining))
            if not data:
                raise ClientGone("body cut short")
            self.remaining -= len(data)
            if self.remaining == 0:
                self.eof = True
        else:
            if self.chunk_left == 0:
                line = self.rfile.readline(1024)
                if not line.endswith(b"\n"):
                    raise ClientGone("bad chunk header")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ClientGone("bad chunk header")
                if size == 0:
                    while True:         # trailers, then the final CRLF
                        t = self.rfile.readline(8192)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    self.eof = True
                    return b""
                self.chunk_left = size
            data = self.rfile.read(min(n, self.chunk_left))
            if not data:
                raise ClientGone("body cut short")
            self.chunk_left -= len(data)
            if self.chunk_left == 0:
                self.rfile.readline(8)  # the CRLF after the chunk
        self.total += len(data)
        return data

    def read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            d = self.read(min(CHUNK, n - len(buf)))
            if not d:
                break
            buf += d
        return bytes(buf)

    def drain(self):
        while self.read():
            pass


# ---------------------------------------------------------------------------
# Streaming multipart/form-data parser: the body never sits in memory whole.

def parse_header_params(value):
    """'form-data; name="a"; filename="b"' -> ('form-data', {name: a, ...})."""
    main, _, rest = value.partition(";")
    params = {}
    for m in re.finditer(r'\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)\s*;?', rest):
        k, v = m.group(1).lower(), m.group(2).strip()
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        params[k] = v
    if "filename*" in params:       # RFC 5987: charset'lang'pct-encoded
        enc, _, tail = params["filename*"].partition("'")
        _, _, pct = tail.partition("'")
        try:
            params["filename"] = urllib.parse.unquote(pct, encoding=enc or "utf-8",
                                                      errors="surrogateescape")
        except LookupError:
            pass
    return main.strip().lower(), params


class Sink:
    """Counts a part's bytes; subclasses keep them."""

    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)

    def close(self):
        pass


class MemSink(Sink):
    def __init__(self, cap=FIELD_MAX):
        super().__init__()
        self.buf = bytearray()
        self.cap = cap

    def write(self, data):
        super().write(data)
        if len(self.buf) < self.cap:
            self.buf += data[: self.cap - len(self.buf)]


class FileSink(Sink):
    def __init__(self, path, limit):
        super().__init__()
        self.path = path
        self.limit = limit
        self.f = open(path, "wb")
        self.overflow = False

    def write(self, data):
        super().write(data)
        if self.size > self.limit:
            self.overflow = True        # keep counting, stop storing
        if not self.overflow:
            self.f.write(data)

    def close(self):
        self.f.close()


class MultipartError(Exception):
    pass


def parse_multipart(reader, boundary, sink_for):
    """Read a whole multipart body from reader, calling sink_for(info) for
    each part (info: name, filename, content_type).  Returns the list of
    parts' info dicts, each with its "size" and "sink"."""
    delim = b"--" + boundary
    sep = b"\r\n" + delim
    buf = b""
    parts = []

    def fill():
        nonlocal buf
        d = reader.read(CHUNK)
        if not d:
            return False
        buf += d
        return True

    # Preamble, up to the first delimiter.
    while True:
        i = buf.find(delim)
        if i >= 0:
            buf = buf[i + len(delim):]
            break
        buf = buf[-(len(delim) - 1):] if len(buf) >= len(delim) else buf
        if not fill():
            raise MultipartError("no multipart boundary found")
    while True:
        while len(buf) < 2:
            if not fill():
                raise MultipartError("body ends after a boundary")
        if buf.startswith(b"--"):
            break                       # close delimiter
        while b"\r\n" not in buf:
            if len(buf) > 1024 or not fill():
                raise MultipartError("bad line after a boundary")
        buf = buf[buf.index(b"\r\n") + 2:]
        # Part headers.
        while True:
            if buf.startswith(b"\r\n"):
                hdr, buf = b"", buf[2:]
                break
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                hdr, buf = buf[:i], buf[i + 4:]
                break
            if len(buf) > MULTIPART_HDR_MAX or not fill():
                raise MultipartError("bad part headers")
        info = {"name": None, "filename": None, "content_type": None}
        for line in hdr.split(b"\r\n"):
            k, _, v = line.decode("utf-8", "surrogateescape").partition(":")
            k = k.strip().lower()
            if k == "content-disposition":
                _, params = parse_header_params(v)
                info["name"] = params.get("name")
                info["filename"] = params.get("filename")
            elif k == "content-type":
                info["content_type"] = v.strip()
        sink = sink_for(info)
        # Part data, up to CRLF + delimiter.
        while True:
            i = buf.find(sep)
            if i >= 0:
                sink.write(buf[:i])
                buf = buf[i + len(sep):]
                break
            keep = len(sep) - 1
            if len(buf) > keep:
                sink.write(buf[:-keep])
                buf = buf[-keep:]
            if not fill():
                sink.close()
                raise MultipartError("body ends inside a part")
        sink.close()
        info["size"] = sink.size
        info["sink"] = sink
        parts.append(info)
    reader.drain()                      # epilogue
    return parts


# ---------------------------------------------------------------------------
# The request log.

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


# ---------------------------------------------------------------------------
# State: files, containers, faults, runtime configuration.

class FileRec:
    def __init__(self, fid, filename, mime, size, path, downloadable, expires_at, source):
        self.id = fid
        self.filename = filename
        self.mime_type = mime
        self.size = size
        self.path = path
        self.created = time.time()
        self.downloadable = downloadable
        self.expires_at = expires_at
        self.source = source            # "upload" | "generated" | "control"
        self.deleted = False
        self.force_expired = False

    def expired(self):
        return self.force_expired or (self.expires_at is not None and time.time() >= self.expires_at)

    def meta(self):
        return {
            "id": self.id, "type": "file", "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": getattr(self, "claimed_size", None) or self.size,
            "created_at": rfc3339(self.created),
            "downloadable": self.downloadable,
            "expires_at": rfc3339(self.expires_at) if self.expires_at is not None else None,
        }


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
        self.generation = 0
        self.config = self.default_config()
        self.log = Log(args.log)
        self.org_id = str(uuid.uuid4())
        self.procs = set()
        self.conn_ids = itertools.count(1)
        self.python = shutil.which("python3") or sys.executable
        self.bash = shutil.which("bash") or "/bin/bash"
        self.secret = secrets.token_bytes(32)   # signs thinking blocks
        self.cache = {}                 # prompt-cache prefixes: key -> tokens

    def default_config(self):
        a = self.args
        cfg = {"pause_each_step": bool(a.pause_each_step), "latency_ms": a.latency_ms,
               "container_ttl": a.container_ttl, "exec_timeout": a.exec_timeout,
               "max_file_size": a.max_file_size}
        cfg.update(BATCH_CONFIG)        # Message Batches section
        return cfg

    def cfg(self, key):
        with self.lock:
            return self.config[key]

    # Files -----------------------------------------------------------------
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

    # Containers --------------------------------------------------------------
    def new_container(self):
        cid = new_id("container_")
        c = Container(cid, os.path.join(self.cont_dir, cid), float(self.cfg("container_ttl")))
        with self.lock:
            self.containers[cid] = c
        return c

    def get_container(self, cid):
        with self.lock:
            return self.containers.get(cid)

    # Faults ------------------------------------------------------------------
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

    # Prompt caching ----------------------------------------------------------
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

    # Thinking signatures ------------------------------------------------------
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


def path_matches(pattern, path):
    """Exact match; each '*' matches any run of characters ('/' too), so a
    pattern ending in '*' is a prefix and /v1/files/*/content works."""
    if "*" not in pattern:
        return path == pattern
    rx = ".*".join(re.escape(x) for x in pattern.split("*"))
    return re.fullmatch(rx, path, re.S) is not None


def validate_fault(r):
    if not isinstance(r, dict):
        raise APIError(400, "a fault rule must be an object")
    for k in r:
        if k not in FAULT_KEYS:
            raise APIError(400, f"fault rule: unknown key {k!r}")
    if not any(k in r for k in FAULT_EFFECTS):
        raise APIError(400, "fault rule: no effect given")
    if "path" in r and not isinstance(r["path"], str):
        raise APIError(400, "fault rule: path must be a string")
    if "method" in r and not isinstance(r["method"], str):
        raise APIError(400, "fault rule: method must be a string")
    t = r.get("times", 1)
    if not isinstance(t, int) or isinstance(t, bool):
        raise APIError(400, "fault rule: times must be an integer (-1: unlimited)")
    if "status" in r and (not isinstance(r["status"], int) or not 100 <= r["status"] <= 999):
        raise APIError(400, "fault rule: status must be an integer 100..999")
    if "reset" in r and r["reset"] not in ("before_headers", "after_headers"):
        raise APIError(400, "fault rule: reset must be before_headers or after_headers")
    if "stream" in r:
        if r["stream"] not in STREAM_FAULTS:
            raise APIError(400, "fault rule: stream must be one of " + ", ".join(STREAM_FAULTS))
        if r["stream"] not in ("slow", "raw") and not isinstance(r.get("after"), int):
            raise APIError(400, "fault rule: stream faults need an integer 'after'")
        if r["stream"] == "raw" and not isinstance(r.get("sse"), str):
            raise APIError(400, "fault rule: stream raw needs an 'sse' string")
    if "headers" in r and not isinstance(r["headers"], dict):
        raise APIError(400, "fault rule: headers must be an object")
    for k in ("latency_ms", "hang_ms", "huge_body", "stall_ms", "gap_ms",
              "read_body_bytes", "chunk_bytes"):
        if k in r and (not isinstance(r[k], (int, float)) or r[k] < 0):
            raise APIError(400, f"fault rule: {k} must be a number >= 0")
    if "redirect" in r and not isinstance(r["redirect"], str):
        raise APIError(400, "fault rule: redirect must be a URL string")


def describe_fault(r):
    for k in ("reset", "stream"):
        if k in r:
            return f"{k}:{r[k]}"
    for k in ("status", "redirect", "huge_body", "hang_ms"):
        if k in r:
            return f"{k}:{r[k]}"
    for k in ("content_length_lie", "cut_body", "latency_ms", "headers"):
        if k in r:
            return k
    return "rule"


# ---------------------------------------------------------------------------
# The model script: fenced blocks in the last user message.

FENCE_LANGS = {"python": "python", "py": "python", "python3": "python",
               "bash": "bash", "sh": "bash", "shell": "bash",
               "view": "view", "str_replace": "str_replace", "pause": "pause",
               "web_search": "web_search", "web_fetch": "web_fetch", "mcp": "mcp",
               "skill": "skill"}
CODE_KINDS = ("python", "bash", "view", "str_replace", "skill")
CALL_TYPES = ("server_tool_use", "mcp_tool_use")


def parse_steps(text):
    """Fenced blocks (```lang [arg] ... ```) of known languages, in order."""
    steps = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if not s.startswith("```"):
            i += 1
            continue
        info = s[3:]
        body_lines = []
        if info.endswith("```") and len(info) >= 3:     # ```view PATH```
            info = info[:-3]
            i += 1
        else:
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body_lines.append(lines[i])
                i += 1
            i += 1                      # the closing fence (or the end)
        lang, _, arg = info.strip().partition(" ")
        kind = FENCE_LANGS.get(lang.lower())
        if kind:
            steps.append({"kind": kind, "arg": arg.strip(), "body": "\n".join(body_lines)})
    return steps


def user_text(msg):
    c = msg.get("content")
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return "\n".join(b.get("text", "") for b in c
                         if isinstance(b, dict) and b.get("type") == "text"
                         and isinstance(b.get("text"), str))
    return ""


def split_pieces(s, size):
    """s in pieces of at most `size` characters, always at least two."""
    if len(s) < 2:
        return [s, ""]
    size = max(1, min(size, (len(s) + 1) // 2))
    return [s[i:i + size] for i in range(0, len(s), size)]


def text_block(text):
    return {"type": "text", "text": text, "citations": None}


def srv_use(name, inp):
    return {"type": "server_tool_use", "id": new_id("srvtoolu_"), "name": name,
            "input": inp, "caller": {"type": "direct"}}


def lines_of(s):
    ls = s.split("\n")
    if ls and ls[-1] == "":
        ls.pop()
    return ls


class Turn:
    """One assistant turn: yields content blocks as they are produced (code
    really runs between a server_tool_use and its result)."""

    def __init__(self, emu, req, tool, container, info=None):
        self.emu = emu
        self.tool = tool                # code execution tool type or None
        self.c = container
        info = info or {}
        self.web = info.get("web") or {}
        self.mcp = info.get("mcp") or {}
        self.toolsets = info.get("toolsets") or {}
        self.skills = info.get("skills") or []
        self.format = info.get("format")
        self.thinking = info.get("thinking")
        self.counts = {"code": 0, "web_search": 0, "web_fetch": 0}
        msgs = req["messages"]
        last_user = -1
        for i, m in enumerate(msgs):
            if m.get("role") == "user":
                last_user = i
        self.prompt = user_text(msgs[last_user]) if last_user >= 0 else ""
        trailing = trailing_blocks(msgs)
        self.resumed = any(b.get("type") in CALL_TYPES for b in trailing)
        # A paused turn may end on a call that has not run yet: it runs
        # first, and its result answers that call's id.
        self.pending = pending_call(trailing)
        self.done_calls = sum(1 for b in trailing if b.get("type") in CALL_TYPES
                              and b is not self.pending)
        # Web tool uses so far in this turn, for max_uses.
        self.used = {k: sum(1 for b in trailing if b.get("type") == "server_tool_use"
                            and b.get("name") == k) for k in ("web_search", "web_fetch")}
        self.prior_file_ids = []
        for b in trailing:
            if b.get("type", "").endswith("_tool_result") and isinstance(b.get("content"), dict):
                for o in b["content"].get("content") or []:
                    if isinstance(o, dict) and isinstance(o.get("file_id"), str):
                        self.prior_file_ids.append(o["file_id"])
        steps = [st for st in parse_steps(self.prompt) if self.can_run(st)]
        # A ```pause``` line marks the step after it: the turn pauses right
        # after that step's first server_tool_use, before its result.
        self.steps = []
        mark = False
        for st in steps:
            if st["kind"] == "pause":
                mark = True
                continue
            st["pause_before_result"] = mark
            mark = False
            self.steps.append(st)
        self.stop_reason = None
        self.calls = 0                  # server_tool_use blocks produced
        self.new_files = []             # FileRecs produced by this turn

    def can_run(self, st):
        """Whether this request has the tool a step needs."""
        k = st["kind"]
        if k == "pause":
            return True
        if k in ("web_search", "web_fetch"):
            return k in self.web
        if k == "mcp":
            return st["arg"].split(" ", 1)[0] in self.mcp
        if not self.tool:
            return False
        if self.tool == "code_execution_20250522":
            return k in ("python", "bash")
        return True

    def calls_for(self, step):
        return 2 if (self.tool == "code_execution_20250825" and step["kind"] == "python") else 1

    def run(self, tick):
        if self.thinking and self.thinking.get("type") in ("enabled", "adaptive") \
                and not self.resumed:
            yield self.thinking_block()
        if not self.steps:
            yield self.final_text("You said: " + self.prompt[:200])
            self.stop_reason = "end_turn"
            return
        start, left = 0, self.done_calls
        while start < len(self.steps) and left >= self.calls_for(self.steps[start]):
            left -= self.calls_for(self.steps[start])
            start += 1
        n = len(self.steps)
        if not self.resumed and self.format is None:
            yield text_block(f"I'll run {n} code step(s).")
        pause = self.emu.cfg("pause_each_step")
        for k in range(start, n):
            step = self.steps[k]
            resume = self.pending is not None and k == start
            first = True
            for b in self.step_blocks(step, k + 1, tick):
                if b.get("type") in CALL_TYPES:
                    if first and resume:
                        first = False
                        continue        # the pending call: already sent
                    self.count_call(b)
                    if first and step["pause_before_result"]:
                        yield b
                        self.stop_reason = "pause_turn"
                        return
                    first = False
                elif resume and b.get("tool_use_id") and "answered" not in step:
                    step["answered"] = True
                    b = dict(b, tool_use_id=self.pending["id"])
                yield b
            if pause:
                self.stop_reason = "pause_turn"
                return
            if k < n - 1:
                yield PING
        names = []
        for fid in self.prior_file_ids:
            with self.emu.lock:
                rec = self.emu.files.get(fid)
            names.append(rec.filename if rec else fid)
        names += [r.filename for r in self.new_files]
        files = ("files: " + ", ".join(names)) if names else "no files"
        yield self.final_text(f"Done: {n} step(s) ran; {files}.")
        self.stop_reason = "end_turn"

    def count_call(self, b):
        if b["type"] != "server_tool_use":
            return
        key = b["name"] if b["name"] in ("web_search", "web_fetch") else "code"
        self.counts[key] += 1
        if key == "code":
            self.calls += 1

    def final_text(self, text):
        """The turn's last text; with a JSON schema in output_config, a
        JSON document that validates against it."""
        if self.format is not None:
            return text_block(json.dumps(schema_example(self.format, self.format),
                                         separators=(",", ":")))
        return text_block(text)

    def thinking_block(self):
        n = len(self.steps)
        text = (f"The user wrote {len(self.prompt)} characters; "
                f"the script has {n} step(s).")
        if self.thinking.get("display") == "omitted":
            text = ""
        return {"type": "thinking", "thinking": text, "signature": self.emu.sign_thinking(text)}

    # Steps -------------------------------------------------------------------
    def step_blocks(self, step, n, tick):
        kind, v = step["kind"], self.tool
        body = step["body"]
        if kind in ("web_search", "web_fetch", "mcp", "skill"):
            yield from getattr(self, kind + "_blocks")(step, tick)
            return
        if kind == "python":
            if v == "code_execution_20250825":
                use = srv_use("text_editor_code_execution",
                              {"command": "create", "path": f"{VIRT_WORK}/step_{n}.py",
                               "file_text": body})
                yield use
                with self.c.lock:
                    real = os.path.join(self.c.work, f"step_{n}.py")
                    existed = os.path.lexists(real)
                    self.write_work_file(real, body.encode("utf-8", "surrogateescape"))
                yield {"type": "text_editor_code_execution_tool_result", "tool_use_id": use["id"],
                       "content": {"type": "text_editor_code_execution_create_result",
                                   "is_file_update": existed}}
                cmd = f"python3 step_{n}.py"
                use = srv_use("bash_code_execution", {"command": cmd})
                yield use
                yield self.exec_result(use, "bash_code_execution", [self.emu.bash, "-c", cmd], tick)
            else:
                use = srv_use("code_execution", {"code": body})
                yield use
                # The cell is fed on stdin ("python3 -"), so sys.path[0] is
                # the work directory, as in a REPL, and no file appears there.
                fd, path = tempfile.mkstemp(prefix="cell_", suffix=".py", dir=self.c.tmp)
                with os.fdopen(fd, "wb") as f:
                    f.write(body.encode("utf-8", "surrogateescape"))
                try:
                    yield self.exec_result(use, "code_execution", [self.emu.python, "-"], tick,
                                           stdin=path)
                finally:
                    os.unlink(path)
        elif kind == "bash":
            if v == "code_execution_20250522":
                # Shown as Python that runs the command through a shell.
                use = srv_use("code_execution",
                              {"code": f"import subprocess\nsubprocess.run({body!r}, shell=True)"})
                yield use
                yield self.exec_result(use, "code_execution", [self.emu.bash, "-c", body], tick)
            else:
                use = srv_use("bash_code_execution", {"command": body})
                yield use
                yield self.exec_result(use, "bash_code_execution", [self.emu.bash, "-c", body], tick)
        elif kind == "view":
            use = srv_use("text_editor_code_execution", {"command": "view", "path": step["arg"]})
            yield use
            with self.c.lock:
                content = self.view(step["arg"])
            yield {"type": "text_editor_code_execution_tool_result", "tool_use_id": use["id"],
                   "content": content}
        elif kind == "str_replace":
            ls = body.split("\n")
            old = new = None
            if "---" in ls:
                i = ls.index("---")
                old, new = "\n".join(ls[:i]), "\n".join(ls[i + 1:])
            use = srv_use("text_editor_code_execution",
                          {"command": "str_replace", "path": step["arg"],
                           "old_str": old if old is not None else body,
                           "new_str": new if new is not None else ""})
            yield use
            with self.c.lock:
                content = self.str_replace(step["arg"], old, new)
            yield {"type": "text_editor_code_execution_tool_result", "tool_use_id": use["id"],
                   "content": content}

    # Web search and fetch: canned results from the script ---------------------
    def web_search_blocks(self, step, tick=None):
        t = self.web["web_search"]
        use = srv_use("web_search", {"query": step["arg"]})
        yield use
        self.used["web_search"] += 1
        err = self.web_error(t, "web_search", step["arg"])
        if err:
            content = {"type": "web_search_tool_result_error", "error_code": err}
        else:
            content = []
            for line in step["body"].split("\n"):
                url, _, title = line.partition("|")
                url, title = url.strip(), title.strip()
                if not url or not domain_ok(t, url, search=True):
                    continue
                content.append({"type": "web_search_result", "url": url, "title": title or url,
                                "encrypted_content": base64.b64encode(
                                    ("emu:" + url).encode("utf-8", "surrogateescape")).decode(),
                                "page_age": None})
        yield {"type": "web_search_tool_result", "tool_use_id": use["id"],
               "caller": {"type": "direct"}, "content": content}

    def web_fetch_blocks(self, step, tick=None):
        t = self.web["web_fetch"]
        url = step["arg"]
        use = srv_use("web_fetch", {"url": url})
        yield use
        self.used["web_fetch"] += 1
        err = self.web_error(t, "web_fetch", url)
        if not err and not domain_ok(t, url, search=False):
            err = "url_not_allowed"
        if err:
            content = {"type": "web_fetch_tool_result_error", "error_code": err}
        else:
            cit = t.get("citations") or {}
            content = {"type": "web_fetch_result", "url": url,
                       "retrieved_at": rfc3339(time.time()),
                       "content": {"type": "document", "title": url,
                                   "citations": {"enabled": bool(cit.get("enabled"))},
                                   "source": {"type": "text", "media_type": "text/plain",
                                              "data": step["body"] or f"The page at {url}."}}}
        yield {"type": "web_fetch_tool_result", "tool_use_id": use["id"],
               "caller": {"type": "direct"}, "content": content}

    def web_error(self, t, name, arg):
        """An error code for a web call: "!code" in the script, or max_uses."""
        if arg.startswith("!"):
            return arg[1:].split(" ", 1)[0]
        mu = t.get("max_uses")
        if mu is not None and self.used[name] > mu:
            return "max_uses_exceeded"
        return None

    # MCP: the API calls the server; here the script says what it answers ----
    def mcp_blocks(self, step, tick=None):
        server, _, name = step["arg"].partition(" ")
        name = name.strip() or "echo"
        body = step["body"]
        out = None
        ls = body.split("\n")
        if "---" in ls:
            i = ls.index("---")
            body, out = "\n".join(ls[:i]), "\n".join(ls[i + 1:])
        try:
            inp = json.loads(body) if body.strip() else {}
        except ValueError:
            inp = {"text": body}
        use = {"type": "mcp_tool_use", "id": new_id("mcptoolu_"), "name": name,
               "server_name": server, "input": inp}
        yield use
        ts = self.toolsets.get(server) or {}
        enabled = (ts.get("default_config") or {}).get("enabled", True)
        enabled = ((ts.get("configs") or {}).get(name) or {}).get("enabled", enabled)
        if not enabled:
            text, err = f"Tool {name} is not enabled for server {server}", True
        else:
            text, err = (out if out is not None else json.dumps({"tool": name, "input": inp})), False
        yield {"type": "mcp_tool_result", "tool_use_id": use["id"], "is_error": err,
               "content": [{"type": "text", "text": text}]}

    # Skills: a loaded skill leaves a document in the outputs ------------------
    def skill_blocks(self, step, tick):
        sid, _, name = step["arg"].partition(" ")
        loaded = any(sk.get("skill_id") == sid for sk in self.skills)
        ext = sid if sid in ANTHROPIC_SKILLS else "txt"
        name = safe_name(name.strip() or f"output.{ext}") or f"output.{ext}"
        script = os.path.join(self.c.root, "skills", sid.replace("/", "_"), "make.py")
        shown = f"python3 /skills/{sid}/make.py {name}"
        use = srv_use("bash_code_execution", {"command": shown})
        yield use
        if not loaded:
            argv = [self.emu.bash, "-c", f"echo 'python3: can\'t open file /skills/{sid}/make.py' >&2; exit 2"]
        else:
            os.makedirs(os.path.dirname(script), exist_ok=True)
            with open(script, "w") as f:
                f.write(SKILL_SCRIPT)
            argv = [self.emu.python, script, sid, name]
        yield self.exec_result(use, "bash_code_execution", argv, tick)

    @staticmethod
    def write_work_file(real, data):
        # Write beside and rename, so a planted symlink is replaced, not followed.
        tmp = real + ".ca-emu-tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, real)

    def resolve(self, p):
        """A client-visible path -> a real path inside the work dir, or None."""
        if p == VIRT_WORK or p.startswith(VIRT_WORK + "/"):
            rel = p[len(VIRT_WORK):].lstrip("/")
        elif p.startswith("/"):
            return None
        else:
            rel = p
        if any(part == ".." for part in rel.split("/")):
            return None
        real = os.path.realpath(os.path.join(self.c.work, rel))
        root = os.path.realpath(self.c.work)
        if real != root and not real.startswith(root + os.sep):
            return None
        return real

    @staticmethod
    def te_error(code, message):
        return {"type": "text_editor_code_execution_tool_result_error", "error_code": code,
                "error_message": message}

    def view(self, p):
        real = self.resolve(p)
        if real is None or not os.path.exists(real):
            return self.te_error("file_not_found", f"File not found: {p}")
        if os.path.isdir(real):
            text = "\n".join(sorted(os.listdir(real))) + "\n"
        else:
            with open(real, "rb") as f:
                text = f.read(OUT_CAP).decode("utf-8", "replace")
        mime = guess_mime(real)
        ftype = "image" if mime.startswith("image/") else "pdf" if mime == "application/pdf" else "text"
        n = len(lines_of(text))
        return {"type": "text_editor_code_execution_view_result", "content": text,
                "file_type": ftype, "num_lines": n, "start_line": 1, "total_lines": n}

    def str_replace(self, p, old, new):
        real = self.resolve(p)
        if real is None or not os.path.isfile(real):
            return self.te_error("file_not_found", f"File not found: {p}")
        if old is None:
            return self.te_error("invalid_tool_input", "str_replace body must be OLD, a '---' line, NEW")
        if old == "":
            return self.te_error("invalid_tool_input", "old_str must not be empty")
        with open(real, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
        count = text.count(old)
        if count == 0:
            return self.te_error("invalid_tool_input", f"String not found in {p}")
        if count > 1:
            return self.te_error("invalid_tool_input", f"String found {count} times in {p}; it must be unique")
        pos = text.index(old)
        self.write_work_file(real, text.replace(old, new, 1).encode("utf-8", "surrogateescape"))
        start = text[:pos].count("\n") + 1
        ol, nl = lines_of(old), lines_of(new)
        return {"type": "text_editor_code_execution_str_replace_result",
                "old_start": start, "old_lines": len(ol), "new_start": start,
                "new_lines": len(nl), "lines": ["-" + x for x in ol] + ["+" + x for x in nl]}

    def snapshot(self):
        """{relpath: (mtime_ns, size, inode)} of regular files under outputs/."""
        snap = {}
        for root, dirs, files in os.walk(self.c.outputs):
            for name in files:
                full = os.path.join(root, name)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if os.path.isfile(full) and not os.path.islink(full):
                    snap[os.path.relpath(full, self.c.outputs)] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return snap

    def exec_result(self, use, prefix, argv, tick, stdin=None):
        with self.c.lock:
            res = self.execute(argv, tick, stdin)
        rtype = f"{prefix}_tool_result"
        if res["timeout"]:
            content = {"type": f"{prefix}_tool_result_error", "error_code": "execution_time_exceeded"}
        else:
            content = {"type": f"{prefix}_result", "stdout": res["stdout"], "stderr": res["stderr"],
                       "return_code": res["rc"],
                       "content": [{"type": f"{prefix}_output", "file_id": r.id} for r in res["files"]]}
        return {"type": rtype, "tool_use_id": use["id"], "content": content}

    def execute(self, argv, tick, stdin=None):
        emu, c = self.emu, self.c
        os.makedirs(c.outputs, exist_ok=True)
        before = self.snapshot()
        env = {k: v for k, v in os.environ.items()
               if not re.search(r"KEY|TOKEN|SECRET|PASSW|ANTHROPIC", k, re.I)}
        env.update({"OUTPUT_DIR": c.outputs, "TMPDIR": c.tmp, "LANG": "C.UTF-8",
                    "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONUNBUFFERED": "1"})
        timeout = float(emu.cfg("exec_timeout"))
        out = tempfile.TemporaryFile(dir=c.tmp)
        err = tempfile.TemporaryFile(dir=c.tmp)
        timed_out = False
        inp = open(stdin, "rb") if stdin else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(argv, cwd=c.work, env=env, stdin=inp,
                                    stdout=out, stderr=err, start_new_session=True)
        finally:
            if stdin:
                inp.close()
        with emu.lock:
            emu.procs.add(proc)
        try:
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                try:
                    proc.wait(timeout=min(left, PING_INTERVAL))
                    break
                except subprocess.TimeoutExpired:
                    if deadline - time.monotonic() > 0:
                        tick()
        finally:
            # Kill the whole group: a timed-out step, or background leftovers.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            with emu.lock:
                emu.procs.discard(proc)
        rc = proc.returncode
        if rc < 0:
            rc = 128 - rc
        out.seek(0)
        err.seek(0)
        stdout = out.read(OUT_CAP).decode("utf-8", "replace")
        stderr = err.read(OUT_CAP).decode("utf-8", "replace")
        out.close()
        err.close()
        files = []
        if not timed_out:
            after = self.snapshot()
            for rel in sorted(after):
                if before.get(rel) == after[rel]:
                    continue
                src = os.path.join(c.outputs, rel)
                name = os.path.basename(rel)
                try:
                    rec = emu.add_file(src, name, guess_mime(name), True, None, "generated", move=False)
                except OSError:
                    continue
                files.append(rec)
                self.new_files.append(rec)
        return {"timeout": timed_out, "stdout": stdout, "stderr": stderr, "rc": rc, "files": files}


# ---------------------------------------------------------------------------
# Server-sent events, with the stream faults.

class SSEWriter:
    def __init__(self, h, fault):
        self.h = h
        self.fault = fault
        self.count = 0

    def _check(self):
        f = self.fault
        if not f or f.get("stream") in ("slow", "raw") or self.count != f.get("after"):
            return
        kind = f["stream"]
        if kind == "error_after":
            self._send("error", jdump({"type": "error", "error": {
                "type": "overloaded_error", "message": "Overloaded"}}))
            self.end()
            raise StreamEnded()
        if kind == "cut_after":
            self.end()
            raise StreamEnded()
        if kind == "reset_after":
            self.h.rst()
            raise StreamEnded()
        if kind == "stall_after":
            time.sleep(float(f.get("stall_ms", 0)) / 1000)

    def begin(self):
        self._check()

    def _send(self, name, data):
        self.h.write_chunk(b"event: " + name.encode() + b"\ndata: " + data + b"\n\n")

    def event(self, name, obj, raw=None):
        f = self.fault
        if f and f.get("stream") == "slow" and self.count > 0:
            time.sleep(float(f.get("gap_ms", 0)) / 1000)
        self._send(name, raw if raw is not None else jdump(obj))
        self.count += 1
        self._check()

    def ping(self):
        self.event("ping", None, raw=b'{"type": "ping"}')

    def end(self):
        self.h.write_raw(b"0\r\n\r\n")


def emit_block(w, idx, block):
    t = block["type"]
    if t == "text":
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": {"type": "text", "text": "", "citations": None}})
        for piece in split_pieces(block["text"], 24):
            w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                            "delta": {"type": "text_delta", "text": piece}})
    elif t == "thinking":
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": {"type": "thinking", "thinking": "",
                                                          "signature": ""}})
        if block["thinking"]:
            for piece in split_pieces(block["thinking"], 24):
                w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                "delta": {"type": "thinking_delta", "thinking": piece}})
        w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                        "delta": {"type": "signature_delta",
                                                  "signature": block["signature"]}})
    elif t in ("server_tool_use", "mcp_tool_use"):
        start = dict(block)
        start["input"] = {}
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": start})
        for piece in [""] + split_pieces(json.dumps(block["input"]), 48):
            w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                            "delta": {"type": "input_json_delta", "partial_json": piece}})
    else:
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": block})
    w.event("content_block_stop", {"type": "content_block_stop", "index": idx})


# ---------------------------------------------------------------------------
# HTTP.

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 resets connections when a client opens
    # dozens at once (ca-exec -j 64); the kernel caps it at somaxconn.
    request_queue_size = 1024

    def server_bind(self):
        # Skip HTTPServer's getfqdn() (a reverse lookup) on loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ClientGone, OSError)):
            return
        sys.stderr.write(f"{PROG}: error handling a request:\n{traceback.format_exc()}")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Answers go out in several writes (headers, body, SSE events); with
    # Nagle's algorithm and the client's delayed ACK each small second
    # segment waited 40 ms.
    disable_nagle_algorithm = True
    server_version = "ca-emu/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        self.conn_id = next(self.server.emu.conn_ids)

    def parse_request(self):
        self.t0 = time.time()
        return super().parse_request()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # Plumbing --------------------------------------------------------------
    def write_raw(self, data):
        try:
            self.wfile.write(data)
        except (OSError, ValueError) as e:
            raise ClientGone(str(e))

    def write_chunk(self, data):
        if data:
            self.write_raw(b"%x\r\n" % len(data) + data + b"\r\n")

    def rst(self):
        """Close the connection with a TCP RST (SO_LINGER 0)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.connection):
            try:
                f.close()
            except OSError:
                pass
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.close_connection = True
        self.write_log(0)

    def close_plain(self):
        """Close after what was sent (FIN), whatever was announced."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_connection = True

    def write_log(self, status):
        if self.logged or self.control:
            return
        # A request that began before the last reset belongs to an
        # earlier test: logging it now would pollute the next one.
        if getattr(self, "gen", None) != self.emu.generation:
            return
        self.logged = True
        rec = self.rec
        rec["status"] = status
        rec["body"], tokens = redact_tokens(self.log_body)
        rec["multipart"] = self.log_multipart
        self.emu.log.write(rec, tokens)

    def api_headers(self):
        now = time.time()
        reset = rfc3339(now + 60)
        h = {"request-id": self.rid}
        if not self.control:
            h["anthropic-organization-id"] = self.emu.org_id
            for kind, limit in (("requests", 1000), ("input-tokens", 80000),
                                ("output-tokens", 16000), ("tokens", 96000)):
                h[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
                h[f"anthropic-ratelimit-{kind}-remaining"] = str(limit - 1)
                h[f"anthropic-ratelimit-{kind}-reset"] = reset
        return h

    def send_status(self, status, headers, log_status=None, body=None):
        """Send the status line and headers; with body (bytes), send it in
        the same write, so a small answer is one TCP segment."""
        self.finish_request_body()
        self.send_response(status, REASONS.get(status) or self.responses.get(status, ("Unknown",))[0])
        for k, v in headers.items():
            if v is None:
                continue
            v = str(v)
            try:
                v.encode("latin-1")
            except UnicodeEncodeError:
                v = v.encode("utf-8", "surrogateescape").decode("latin-1")
            self.send_header(k, v)
        try:
            if body is None:
                self.end_headers()
            else:
                self._headers_buffer.append(b"\r\n")
                data = b"".join(self._headers_buffer) + body
                self._headers_buffer = []
                self.wfile.write(data)
        except (OSError, ValueError) as e:
            raise ClientGone(str(e))
        self.write_log(status if log_status is None else log_status)

    def merged_headers(self, ctype, extra=None):
        h = self.api_headers()
        h["content-type"] = ctype
        if extra:
            h.update({k.lower(): v for k, v in extra.items()})
        if self.fault and isinstance(self.fault.get("headers"), dict):
            h.update({k.lower(): v for k, v in self.fault["headers"].items()})
        return h

    def respond(self, status, data=None, ctype="application/json", headers=None,
                path=None, gen=None, length=None):
        """Send a complete response: data (bytes), or a file at path, or
        gen() yielding bytes with a known length.  Applies the body faults."""
        h = self.merged_headers(ctype, headers)
        if data is not None:
            length = len(data)
        elif path is not None:
            length = os.path.getsize(path)
        f = self.fault or {}
        lie = f.get("content_length_lie")
        cut = bool(f.get("cut_body"))
        if lie:
            h["content-length"] = str(lie if isinstance(lie, int) and not isinstance(lie, bool)
                                      and lie > length else length + 1024)
        else:
            h["content-length"] = str(length)
        if data is not None and not cut and self.command != "HEAD":
            self.send_status(status, h, body=data)
            if lie:
                self.close_plain()
            return
        self.send_status(status, h)
        if self.command == "HEAD":
            return
        budget = length // 2 if cut else length

        def pieces():
            if data is not None:
                yield data
            elif path is not None:
                with open(path, "rb") as fh:
                    while True:
                        d = fh.read(CHUNK)
                        if not d:
                            break
                        yield d
            elif gen is not None:
                yield from gen()

        for d in pieces():
            if budget <= 0:
                break
            self.write_raw(d[:budget])
            budget -= len(d[:budget])
        if cut or lie:
            self.close_plain()

    def respond_json(self, status, obj, headers=None):
        self.respond(status, jdump(obj), headers=headers)

    def respond_error(self, e):
        self.respond_json(e.status, error_body(e.etype, e.message, self.rid, e.code), headers=e.headers)

    # Request bodies ------------------------------------------------------------
    def read_body_mem(self):
        """Read a non-multipart body into memory (at most BODY_MEM_MAX)."""
        if self.body_done:
            return
        buf = bytearray()
        too_large = False
        while True:
            d = self.body.read(CHUNK)
            if not d:
                break
            if too_large or len(buf) + len(d) > BODY_MEM_MAX:
                too_large = True
                buf = bytearray()
            else:
                buf += d
        self.body_done = True
        self.body_too_large = too_large
        self.raw_body = None if too_large else bytes(buf)
        self.json_ok = False
        if self.raw_body:
            try:
                self.json_body = json.loads(self.raw_body.decode("utf-8"))
                self.json_ok = True
                self.log_body = self.json_body
            except (ValueError, UnicodeDecodeError):
                pass

    def consume_multipart(self, sink_for):
        self.body_done = True
        try:
            parts = parse_multipart(self.body, self.boundary, sink_for)
        except MultipartError:
            self.body.drain()
            raise
        self.log_multipart = [{"name": p["name"], "filename": p["filename"],
                               "content_type": p["content_type"], "size": p["size"]}
                              for p in parts]
        return parts

    def finish_request_body(self):
        """Consume what is left of the request body before answering, so the
        connection stays usable."""
        if self.body_done:
            return
        if self.boundary is not None:
            try:
                self.consume_multipart(lambda info: Sink())
            except MultipartError:
                pass
        else:
            self.read_body_mem()

    # Dispatch ----------------------------------------------------------------
    def dispatch(self):
        self.emu = self.server.emu
        self.rid = new_id("req_")
        self.logged = False
        self.fault = None
        self.log_body = None
        self.log_multipart = None
        self.body_done = False
        self.raw_body = None
        self.json_body = None
        self.json_ok = False
        self.body_too_large = False
        u = urllib.parse.urlsplit(self.path)
        self.url_path = u.path
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self.control = self.url_path.startswith("/_emu/") or self.url_path == "/_emu"
        self.gen = self.emu.generation
        self.rec = {"t": getattr(self, "t0", time.time()), "method": self.command,
                    "path": self.url_path, "query": self.query,
                    "headers": self.redacted_headers(), "body": None, "multipart": None,
                    "status": 0, "conn": self.conn_id, "request_id": self.rid, "fault": None}
        ctype = self.headers.get("Content-Type", "")
        mtype, params = parse_header_params(ctype)
        self.boundary = None
        if mtype == "multipart/form-data" and params.get("boundary"):
            self.boundary = params["boundary"].encode("utf-8", "surrogateescape")
        try:
            self.body = BodyReader(self.rfile, self.headers)
            if self.control:
                self.handle_control()
                return
            rule = self.emu.take_fault(self.command, self.url_path)
            if rule is not None:
                self.rec["fault"] = describe_fault(rule)
                if self.apply_fault(rule):
                    return
            if self.boundary is None:
                self.read_body_mem()
            self.route()
        except APIError as e:
            if self.logged:
                self.close_connection = True
            else:
                self.respond_error(e)
        except (ClientGone, ConnectionError, StreamEnded):
            self.close_connection = True
        except Exception:
            sys.stderr.write(f"{PROG}: internal error:\n{traceback.format_exc()}")
            if self.logged:
                self.close_connection = True
            else:
                try:
                    self.respond_error(APIError(500, "Internal emulator error"))
                except Exception:
                    self.close_connection = True
        finally:
            self.write_log(0)

    def redacted_headers(self):
        out = {}
        for k, v in self.headers.items():
            lk = k.lower()
            if lk == "x-api-key":
                self.server.emu.log.note_key(v.strip())
                v = "***"
            elif lk in ("authorization", "proxy-authorization"):
                self.server.emu.log.note_key(v.strip())
                parts = v.strip().split(None, 1)
                if len(parts) == 2:
                    self.server.emu.log.note_key(parts[1].strip())
                v = "***"
            out[lk] = out[lk] + ", " + v if lk in out else v
        return out

    def apply_fault(self, r):
        """Apply a fault rule; True when it answered the request itself."""
        if r.get("latency_ms"):
            time.sleep(float(r["latency_ms"]) / 1000)
        if r.get("reset"):
            if "read_body_bytes" in r:
                self.body.read_exact(int(r["read_body_bytes"]))
                self.body_done = True
            else:
                self.finish_request_body()
            if r["reset"] == "after_headers":
                h = self.api_headers()
                h["content-type"] = "application/json"
                h["content-length"] = "4096"
                self.send_status(200, h, log_status=0)
                self.write_raw(b'{"id":"msg_')
            self.rst()
            return True
        if "hang_ms" in r:
            self.finish_request_body()
            time.sleep(float(r["hang_ms"]) / 1000)
            self.write_log(0)
            self.close_plain()
            return True
        if "status" in r:
            self.fault = {"headers": r.get("headers") or {}}
            st = r["status"]
            if "body" in r:
                b = r["body"]
                data = b.encode("utf-8", "surrogateescape") if isinstance(b, str) else jdump(b)
            elif st >= 400:
                data = jdump(error_body(ERROR_TYPES.get(st, "api_error"),
                                        ERROR_MESSAGES.get(st, "Error"), self.rid))
            else:
                data = b""
            self.respond(st, data)
            return True
        if "redirect" in r:
            self.fault = {"headers": r.get("headers") or {}}
            self.respond(302, b"", headers={"location": r["redirect"]})
            return True
        if "huge_body" in r:
            n = int(r["huge_body"])
            self.fault = {"headers": r.get("headers") or {}}
            if r.get("chunked"):
                h = self.merged_headers("application/octet-stream")
                h["transfer-encoding"] = "chunked"
                self.send_status(200, h)
                for d in gen_bytes(n):
                    self.write_chunk(d)
                self.write_raw(b"0\r\n\r\n")
            else:
                self.respond(200, ctype="application/octet-stream",
                             gen=lambda: gen_bytes(n), length=n)
            return True
        if r.get("stream") == "raw":
            self.fault = {"headers": r.get("headers") or {}}
            h = self.merged_headers("text/event-stream")
            h["transfer-encoding"] = "chunked"
            self.send_status(200, h)
            data = r["sse"].encode("utf-8", "surrogateescape")
            step = int(r.get("chunk_bytes") or len(data) or 1)
            for i in range(0, len(data), step):
                if i and r.get("gap_ms"):
                    time.sleep(float(r["gap_ms"]) / 1000)
                self.write_chunk(data[i:i + step])
            self.write_raw(b"0\r\n\r\n")
            return True
        self.fault = r                  # stream faults, body faults, headers
        return False

    def route(self):
        p, m = self.url_path, self.command
        fm = re.fullmatch(r"/v1/files/([^/]+)", p)
        fc = re.fullmatch(r"/v1/files/([^/]+)/content", p)
        if p == "/v1/messages":
            table = {"POST": self.h_messages}
        elif p == "/v1/messages/count_tokens":
            table = {"POST": self.h_count_tokens}
        elif p == "/v1/files":
            table = {"GET": self.h_files_list, "POST": self.h_files_upload}
        elif fm:
            table = {"GET": lambda: self.h_file_meta(fm.group(1)),
                     "DELETE": lambda: self.h_file_delete(fm.group(1))}
        elif fc:
            table = {"GET": lambda: self.h_file_content(fc.group(1))}
        elif p.startswith("/v1/messages/batches"):
            table = batch_routes(self, p)      # Message Batches section
        else:
            raise APIError(404, f"Not found: {m} {p}")
        if m not in table:
            raise APIError(405, f"Method {m} not allowed for {p}",
                           headers={"allow": ", ".join(sorted(table))})
        self.check_auth()
        self.version = self.check_version()
        self.check_betas()
        table[m]()

    def check_auth(self):
        for v in self.headers.get_all("x-api-key") or []:
            if v.strip():
                return
        for v in self.headers.get_all("authorization") or []:
            parts = v.strip().split(None, 1)
            if len(parts) == 2 and parts[0].lower() == "bearer" and parts[1].strip():
                return
        raise APIError(401, "x-api-key header is required (or Authorization: Bearer <key>)")

    def check_version(self):
        v = self.headers.get("anthropic-version")
        if v is None or not v.strip():
            raise APIError(400, "anthropic-version: header is required")
        v = v.strip()
        if v not in API_VERSIONS:
            raise APIError(400, f"anthropic-version: invalid version '{v}'; "
                                f"use one of {', '.join(API_VERSIONS)}")
        return v

    def check_betas(self):
        for b in self.betas():
            if b not in KNOWN_BETAS:
                raise APIError(400, f"Unsupported beta header: {b}")

    def betas(self):
        out = []
        for v in self.headers.get_all("anthropic-beta") or []:
            out += [x.strip() for x in v.split(",") if x.strip()]
        return out

    # Messages ----------------------------------------------------------------
    def json_request(self, limit):
        if self.body_too_large or (self.raw_body is not None and len(self.raw_body) > limit):
            raise APIError(413, f"Request exceeds the maximum size of {limit} bytes")
        if not self.raw_body:
            raise APIError(400, "There was an error parsing the body of your request: empty body")
        if not self.json_ok:
            raise APIError(400, "There was an error parsing the body of your request: invalid JSON")
        if not isinstance(self.json_body, dict):
            raise APIError(400, "body: Input should be a valid dictionary")
        return self.json_body

    def validate_request(self, req, need_max_tokens=True):
        """Refuse what the API refuses, before anything runs.  Returns the
        code execution tool type (or None) and the container_upload ids;
        what else the turn needs is left in self.req_info."""
        counting = not need_max_tokens
        betas = set(self.betas())
        fields = ("model", "max_tokens", "messages") if need_max_tokens else ("model", "messages")
        for f in fields:
            if f not in req:
                raise APIError(400, f"{f}: field required")
        if self.version == "2026-10-21":
            for f in SAMPLING:
                if f in req:
                    raise APIError(400, f"{f}: Extra inputs are not permitted")
        allowed = COUNT_FIELDS if counting else MESSAGE_FIELDS
        for k in req:
            if k in allowed:
                continue
            need = BETA_FIELDS.get(k, ())
            if need is None or (need and betas & set(need)):
                continue
            raise APIError(400, f"{k}: Extra inputs are not permitted")
        if not isinstance(req["model"], str) or not req["model"]:
            raise APIError(400, "model: Input should be a non-empty string")
        if need_max_tokens:
            mt = req["max_tokens"]
            if not isinstance(mt, int) or isinstance(mt, bool) or mt < 0:
                raise APIError(400, "max_tokens: Input should be a valid integer >= 0")
        if "stream" in req and not isinstance(req["stream"], bool):
            raise APIError(400, "stream: Input should be a valid boolean")
        if "output_format" in req and isinstance(req.get("output_config"), dict) \
                and "format" in req["output_config"]:
            raise APIError(400, "output_format: deprecated; give only output_config.format")
        msgs = req["messages"]
        if not isinstance(msgs, list) or not msgs:
            raise APIError(400, "messages: Input should be a non-empty list")
        for i, m in enumerate(msgs):
            self.validate_message(i, m)
        tool, web, mcp = self.validate_tools(req.get("tools"), betas)
        servers = validate_mcp_servers(req.get("mcp_servers"), mcp)
        skills = self.validate_container_field(req, tool, counting)
        fmt = validate_output_config(req)
        think = validate_thinking(req, need_max_tokens)
        check_pending_tools(msgs, tool, web, mcp)
        if not counting and req.get("container") is None and tool \
                and last_turn_used_container(msgs):
            raise APIError(400, "container: the previous assistant turn ran in a container; "
                                "send its id as container to continue")
        uploads, refs = [], []
        for m in msgs:
            if isinstance(m.get("content"), list):
                collect_file_refs(m["content"], uploads, refs)
        if uploads and not tool:
            raise APIError(400, "container_upload blocks require the code execution tool in tools")
        if req["model"] not in KNOWN_MODELS:
            raise APIError(404, f"model: {req['model']}")
        for t in web.values():
            if req["model"] in NO_PTC_MODELS and t["type"].rsplit("_", 1)[1] >= "20260209" \
                    and t.get("allowed_callers") != ["direct"]:
                raise APIError(400, f"{t['type']} runs through code execution by default, which "
                                    f"{req['model']} does not support; set "
                                    '"allowed_callers": ["direct"] on the tool')
        if think and think.get("type") == "enabled" and req["model"] not in THINKING_ENABLED_MODELS:
            raise APIError(400, '"thinking.type.enabled" is not supported for this model; '
                                'use "thinking.type.adaptive"')
        for fid in uploads + refs:
            rec = self.emu.get_file(fid)
            if rec is None:
                raise APIError(404, f"File not found: {fid}")
            if rec.expired():
                raise APIError(404, f"File {fid} has expired", code="file_expired")
        for path, kind, fid in file_blocks(msgs):
            rec = self.emu.get_file(fid)
            ok = IMAGE_TYPES if kind == "image" else DOCUMENT_TYPES
            if rec.mime_type not in ok:
                raise APIError(400, f"{path}: file {fid} is {rec.mime_type}; "
                                    f"a{'n' if kind == 'image' else ''} {kind} block takes "
                                    + ", ".join(ok) + " (use container_upload for other files)")
        self.emu.check_thinking(msgs)
        self.req_info = {"web": web, "mcp": servers, "toolsets": mcp, "skills": skills,
                         "format": fmt, "thinking": think}
        return tool, uploads

    def validate_message(self, i, m):
        if not isinstance(m, dict):
            raise APIError(400, f"messages.{i}: Input should be a valid dictionary")
        if m.get("role") not in ("user", "assistant", "system"):
            raise APIError(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
        c = m.get("content")
        if isinstance(c, str):
            return
        if not isinstance(c, list):
            raise APIError(400, f"messages.{i}.content: Input should be a string or a list of blocks")
        for j, b in enumerate(c):
            where = f"messages.{i}.content.{j}"
            if not isinstance(b, dict) or not isinstance(b.get("type"), str):
                raise APIError(400, f"{where}: a block must be an object with a type")
            if self.version == "2026-10-21":
                if m["role"] == "assistant" and b["type"] == "document":
                    raise APIError(400, f"{where}: document blocks are not "
                                        "permitted in assistant messages")
                if (m["role"] == "user" and b["type"] == "text"
                        and isinstance(b.get("citations"), list) and b["citations"]):
                    raise APIError(400, f"{where}.citations: citations are not "
                                        "permitted on user text blocks")
            check_file_block(where, b)

    def validate_tools(self, tools, betas):
        """The code execution tool type, the web tools {name: tool} and the
        MCP toolsets {server name: tool} of a request's tools."""
        tool, web, mcp = None, {}, {}
        if tools is None:
            return tool, web, mcp
        if not isinstance(tools, list):
            raise APIError(400, "tools: Input should be a valid list")
        for i, t in enumerate(tools):
            if not isinstance(t, dict):
                raise APIError(400, f"tools.{i}: Input should be a valid dictionary")
            ty = t.get("type")
            if ty in CODE_TOOL_TYPES:
                extra_fields(f"tools.{i}", t, TOOL_COMMON)
                if t.get("name") != "code_execution":
                    raise APIError(400, f"tools.{i}.name: Input should be 'code_execution'")
                tool = tool or ty
            elif ty in (None, "custom"):
                extra_fields(f"tools.{i}", t, CUSTOM_FIELDS)
                if not isinstance(t.get("name"), str) or not isinstance(t.get("input_schema"), dict):
                    raise APIError(400, f"tools.{i}: a custom tool needs name and input_schema")
            elif ty in WEB_SEARCH_TYPES or ty in WEB_FETCH_TYPES:
                name = validate_web_tool(i, t)
                if name in web:
                    raise APIError(400, f"tools.{i}: a second {name} tool")
                web[name] = t
            elif ty == "mcp_toolset":
                if not betas & set(MCP_BETAS):
                    raise APIError(400, f"tools.{i}: mcp_toolset needs the anthropic-beta "
                                        "mcp-client-2025-11-20")
                extra_fields(f"tools.{i}", t, MCP_TOOLSET_FIELDS)
                sn = t.get("mcp_server_name")
                if not isinstance(sn, str) or not sn:
                    raise APIError(400, f"tools.{i}.mcp_server_name: Field required")
                if sn in mcp:
                    raise APIError(400, f"tools.{i}: MCP server {sn} is referenced by "
                                        "more than one mcp_toolset")
                mcp[sn] = t
            else:
                raise APIError(400, f"tools.{i}: Input tag '{ty}' found using 'type' does not "
                                    "match any of the expected tags: "
                                    + ", ".join(("custom",) + CODE_TOOL_TYPES + WEB_SEARCH_TYPES
                                                + WEB_FETCH_TYPES + ("mcp_toolset",)))
        new_web = [t["type"] for t in web.values() if t["type"].rsplit("_", 1)[1] >= "20260209"]
        if new_web and tool in ("code_execution_20250522", "code_execution_20250825"):
            raise APIError(400, f"tools: {new_web[0]} requires code_execution_20260120 or later "
                                f"as its code execution version, not {tool}")
        return tool, web, mcp

    def validate_container_field(self, req, tool, counting):
        """The object form of container: {id?, skills?}.  Returns the
        skills list (or None)."""
        c = req.get("container")
        if counting or not isinstance(c, dict):
            return None
        extra_fields("container", c, ("id", "skills"))
        skills = c.get("skills")
        if skills is None:
            return None
        if not isinstance(skills, list):
            raise APIError(400, "container.skills: Input should be a valid list")
        if len(skills) > 8:
            raise APIError(400, "container.skills: at most 8 skills per request")
        if skills and not tool:
            raise APIError(400, "container.skills: skills need the code execution tool in tools")
        seen = set()
        for k, s in enumerate(skills):
            where = f"container.skills.{k}"
            if not isinstance(s, dict):
                raise APIError(400, f"{where}: Input should be a valid dictionary")
            extra_fields(where, s, ("type", "skill_id", "version"))
            if s.get("type") not in ("anthropic", "custom"):
                raise APIError(400, f"{where}.type: Input should be 'anthropic' or 'custom'")
            for f in ("skill_id", "version"):
                v = s.get(f)
                if (f == "skill_id" or v is not None) and \
                        (not isinstance(v, str) or not 1 <= len(v) <= 64):
                    raise APIError(400, f"{where}.{f}: a string of 1 to 64 characters")
            if s["type"] == "anthropic" and s["skill_id"] not in ANTHROPIC_SKILLS:
                raise APIError(404, f"{where}.skill_id: skill {s['skill_id']} not found")
            if s["type"] == "custom" and not s["skill_id"].startswith("skill_"):
                raise APIError(404, f"{where}.skill_id: skill {s['skill_id']} not found")
            if s["skill_id"] in seen:
                raise APIError(400, f"{where}: skill {s['skill_id']} is listed twice")
            seen.add(s["skill_id"])
        return skills

    def resolve_container(self, req, tool):
        c = req.get("container")
        cid = None
        if isinstance(c, str):
            cid = c
        elif isinstance(c, dict):
            cid = c.get("id")
            if cid is not None and not isinstance(cid, str):
                raise APIError(400, "container.id: Input should be a valid string")
        elif c is not None:
            raise APIError(400, "container: Input should be a string or an object")
        if cid is not None:
            cont = self.emu.get_container(cid)
            if cont is None:
                raise APIError(404, f"container {cid} not found")
            if cont.expired():
                raise APIError(400, f"container {cid} has expired", code="container_expired")
            return cont
        return self.emu.new_container() if tool else None

    def copy_uploads(self, cont, uploads):
        for fid in uploads:
            if fid in cont.uploaded:
                continue
            cont.uploaded.add(fid)
            rec = self.emu.get_file(fid)
            name = safe_name(rec.filename) if rec else None
            if name is None:
                continue
            with cont.lock:
                dst = os.path.join(cont.work, name)
                tmp = dst + ".ca-emu-tmp"
                shutil.copyfile(rec.path, tmp)
                os.replace(tmp, dst)

    def h_messages(self):
        req = self.json_request(MSG_MAX)
        tool, uploads = self.validate_request(req)
        self.cache_use = self.emu.prompt_cache(req)
        lat = self.emu.cfg("latency_ms")
        if lat:
            time.sleep(float(lat) / 1000)
        cont = self.resolve_container(req, tool)
        if cont is not None:
            self.copy_uploads(cont, uploads)
        turn = Turn(self.emu, req, tool, cont, self.req_info)
        self.cont_obj = None
        if cont is not None:
            self.cont_obj = cont.obj()
            if turn.skills:
                self.cont_obj["skills"] = [resolve_skill(sk) for sk in turn.skills]
        msg = {"id": new_id("msg_"), "type": "message", "role": "assistant",
               "model": req["model"], "content": [], "stop_reason": None,
               "stop_sequence": None, "stop_details": None, "container": None,
               "diagnostics": None, "usage": None}
        # About len/4 of the request, leaving "stream" out so that a streamed
        # turn and a plain one report the same usage.
        in_tokens = max(1, len(jdump({k: v for k, v in req.items() if k != "stream"})) // 4)
        if self.cache_use:
            # Input tokens count only what follows the cached prefix.
            in_tokens = max(1, in_tokens - self.cache_use[0] - self.cache_use[1])
        if req.get("stream") is True:
            self.stream_turn(turn, msg, in_tokens, cont)
            return
        blocks = [b for b in turn.run(lambda: None) if b is not PING]
        msg["content"] = blocks
        msg["stop_reason"] = turn.stop_reason
        msg["container"] = self.cont_obj
        msg["usage"] = self.turn_usage(turn, in_tokens, blocks)
        self.respond_json(200, msg)

    def turn_usage(self, turn, in_tokens, blocks):
        server = turn.tool or turn.web
        think = sum(len(b["thinking"]) // 4 for b in blocks if b["type"] == "thinking")
        return usage(in_tokens, out_tokens(blocks), turn.calls if server else None,
                     turn.counts, self.cache_use, think if turn.thinking else None)

    def stream_turn(self, turn, msg, in_tokens, cont):
        h = self.merged_headers("text/event-stream", {"cache-control": "no-cache",
                                                      "transfer-encoding": "chunked"})
        self.send_status(200, h)
        w = SSEWriter(self, self.fault if self.fault and self.fault.get("stream") else None)
        blocks = []
        try:
            w.begin()
            start = dict(msg)
            start["usage"] = usage(in_tokens, 1, None, cache=self.cache_use)
            w.event("message_start", {"type": "message_start", "message": start})
            for b in turn.run(w.ping):
                if b is PING:
                    w.ping()
                    continue
                emit_block(w, len(blocks), b)
                blocks.append(b)
            u = self.turn_usage(turn, in_tokens, blocks)
            w.event("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": turn.stop_reason, "stop_sequence": None,
                          "stop_details": None, "container": self.cont_obj},
                "usage": {"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"],
                          "cache_creation_input_tokens": u["cache_creation_input_tokens"],
                          "cache_read_input_tokens": u["cache_read_input_tokens"],
                          "server_tool_use": u["server_tool_use"],
                          "output_tokens_details": u["output_tokens_details"]}})
            w.event("message_stop", {"type": "message_stop"})
            w.end()
        except (StreamEnded, ClientGone):
            raise
        except Exception:
            sys.stderr.write(f"{PROG}: internal error in a stream:\n{traceback.format_exc()}")
            w._send("error", jdump({"type": "error", "error": {
                "type": "api_error", "message": "Internal emulator error"}}))
            w.end()

    def h_count_tokens(self):
        req = self.json_request(MSG_MAX)
        self.validate_request(req, need_max_tokens=False)
        self.respond_json(200, {"input_tokens": max(1, len(self.raw_body) // 4)})

    # Files -------------------------------------------------------------------
    def h_files_upload(self):
        if self.boundary is None:
            self.finish_request_body()
            raise APIError(400, "Content-Type must be multipart/form-data with a boundary")
        limit = int(self.emu.cfg("max_file_size"))
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.emu.files_dir)
        os.close(fd)
        state = {"file": None}

        def sink_for(info):
            if info["name"] == "file" and state["file"] is None:
                state["file"] = info
                return FileSink(tmp, limit)
            return MemSink()

        try:
            try:
                parts = self.consume_multipart(sink_for)
            except MultipartError as e:
                raise APIError(400, f"Malformed multipart body: {e}")
            fpart = state["file"]
            if fpart is None:
                raise APIError(400, "file: field required")
            if fpart["sink"].overflow:
                raise APIError(413, f"File too large: the limit is {limit} bytes")
            expires_at = None
            for p in parts:
                if p["name"] == "expires_in_seconds":
                    raw = bytes(p["sink"].buf).decode("utf-8", "replace").strip()
                    try:
                        secs = int(raw)
                    except ValueError:
                        raise APIError(400, "expires_in_seconds: Input should be a valid integer")
                    if not 3600 <= secs <= 7776000:
                        raise APIError(400, "expires_in_seconds: must be between 3600 and 7776000")
                    expires_at = time.time() + secs
            ct = (fpart["content_type"] or "").split(";")[0].strip().lower()
            name = base_name(fpart["filename"] or "")
            if not ct or ct == "application/octet-stream":
                ct = guess_mime(name)
            if name == "":
                ext = _MIME.guess_extension(ct) if ct != "application/octet-stream" else None
                name = "unnamed" + (ext or "")
            rec = self.emu.add_file(tmp, name, ct, False, expires_at, "upload", move=True)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.respond_json(200, rec.meta())

    def h_files_list(self):
        q = self.query
        allf = self.emu.all_newest_first()
        order = [r.id for r in allf]

        def qone(name):
            v = q.get(name)
            return v[-1] if v else None

        def qlimit():
            v = qone("limit")
            if v is None:
                return 20
            try:
                n = int(v)
            except ValueError:
                raise APIError(400, "limit: Input should be a valid integer")
            if not 1 <= n <= 1000:
                raise APIError(400, "limit: Input should be between 1 and 1000")
            return n

        def live_from(i):
            return [r for r in allf[i:] if not r.deleted]

        if FILES_BETA in self.betas():
            limit = qlimit()
            before, after = qone("before_id"), qone("after_id")
            if before and after:
                raise APIError(400, "before_id and after_id are mutually exclusive")
            if after:
                if after not in order:
                    raise APIError(400, f"after_id: unknown file id {after}")
                rest = live_from(order.index(after) + 1)
                data, more = rest[:limit], len(rest) > limit
            elif before:
                if before not in order:
                    raise APIError(400, f"before_id: unknown file id {before}")
                prior = [r for r in allf[:order.index(before)] if not r.deleted]
                data, more = prior[-limit:], len(prior) > limit
            else:
                rest = live_from(0)
                data, more = rest[:limit], len(rest) > limit
            self.respond_json(200, {"data": [r.meta() for r in data], "has_more": more,
                                    "first_id": data[0].id if data else None,
                                    "last_id": data[-1].id if data else None})
            return
        for k in ("before_id", "after_id"):
            if k in q:
                raise APIError(400, f"{k}: not supported without the {FILES_BETA} beta; "
                                    "use page and next_page")
        ids = q.get("ids[]", []) + q.get("ids", [])
        if ids:
            if "page" in q or "limit" in q:
                raise APIError(400, "ids[] is mutually exclusive with page and limit")
            uniq = list(dict.fromkeys(ids))
            if len(uniq) > 100:
                raise APIError(400, "ids[]: at most 100 ids")
            data = [r for r in (self.emu.get_file(i) for i in uniq) if r is not None]
            self.respond_json(200, {"data": [r.meta() for r in data], "next_page": None})
            return
        limit = qlimit()
        page = qone("page")
        start = 0
        if page:
            try:
                s = page[len("page_"):] if page.startswith("page_") else "!"
                fid = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
                start = order.index(fid) + 1
            except (ValueError, UnicodeDecodeError):
                raise APIError(400, "page: invalid cursor")
        rest = live_from(start)
        data = rest[:limit]
        nxt = None
        if len(rest) > limit:
            nxt = "page_" + base64.urlsafe_b64encode(data[-1].id.encode()).decode().rstrip("=")
        self.respond_json(200, {"data": [r.meta() for r in data], "next_page": nxt})

    def file_or_404(self, fid):
        rec = self.emu.get_file(fid)
        if rec is None:
            raise APIError(404, f"File not found: {fid}")
        return rec

    def h_file_meta(self, fid):
        self.respond_json(200, self.file_or_404(fid).meta())

    def h_file_delete(self, fid):
        rec = self.file_or_404(fid)
        self.emu.delete_file(rec)
        self.respond_json(200, {"id": fid, "type": "file_deleted"})

    def h_file_content(self, fid):
        rec = self.file_or_404(fid)
        if rec.expired():
            raise APIError(404, f"File {fid} has expired", code="file_expired")
        if not rec.downloadable:
            raise APIError(400, f"File {fid} is not downloadable: only files created by code "
                                "execution or skills can be downloaded", code="file_not_downloadable")
        self.respond(200, ctype="application/octet-stream", path=rec.path)

    # Control endpoints -------------------------------------------------------------
    def handle_control(self):
        self.read_body_mem()
        p, m = self.url_path, self.command
        emu = self.emu
        body = self.json_body if self.json_ok else None
        if self.raw_body and not self.json_ok:
            raise APIError(400, "control endpoints take a JSON body")
        if p == "/_emu/reset" and m == "POST":
            with emu.lock:
                emu.faults = []
                emu.config = emu.default_config()
                emu.cache = {}
                emu.generation += 1
            emu.log.truncate()
            self.respond_json(200, {"ok": True})
        elif p == "/_emu/faults" and m == "POST":
            rules = body if isinstance(body, list) else [body]
            for r in rules:
                validate_fault(r)
            with emu.lock:
                emu.faults.extend(dict(r) for r in rules)
                n = len(emu.faults)
            self.respond_json(200, {"ok": True, "queued": n})
        elif p == "/_emu/faults" and m == "DELETE":
            with emu.lock:
                emu.faults = []
            self.respond_json(200, {"ok": True})
        elif p == "/_emu/faults" and m == "GET":
            with emu.lock:
                rules = [dict(r) for r in emu.faults]
            self.respond_json(200, {"faults": rules})
        elif p == "/_emu/config" and m in ("POST", "GET"):
            if m == "POST":
                if not isinstance(body, dict):
                    raise APIError(400, "config: a JSON object is required")
                with emu.lock:
                    for k, v in body.items():
                        if k not in emu.config:
                            raise APIError(400, f"config: unknown key {k!r}")
                        if k == "pause_each_step":
                            v = bool(v)
                        elif not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                            raise APIError(400, f"config: {k} must be a number >= 0")
                        emu.config[k] = v
            with emu.lock:
                cfg = dict(emu.config)
            self.respond_json(200, cfg)
        elif p == "/_emu/files" and m == "POST":
            self.respond_json(200, self.control_file_create(body))
        elif re.fullmatch(r"/_emu/files/[^/]+", p) and m == "POST":
            fid = p.rsplit("/", 1)[1]
            with emu.lock:
                rec = emu.files.get(fid)
            if rec is None or rec.deleted:
                raise APIError(404, f"File not found: {fid}")
            self.respond_json(200, self.control_file_patch(rec, body or {}))
        elif re.fullmatch(r"/_emu/containers/[^/]+", p) and m in ("GET", "POST"):
            cont = emu.get_container(p.rsplit("/", 1)[1])
            if cont is None:
                raise APIError(404, "container not found")
            if m == "POST" and isinstance(body, dict) and "expired" in body:
                cont.force_expired = bool(body["expired"])
            self.respond_json(200, {"id": cont.id, "workdir": cont.work,
                                    "expires_at": rfc3339(cont.expires_at, frac=True),
                                    "expired": cont.expired()})
        else:
            raise APIError(404, f"Not found: {m} {p}")

    def control_file_create(self, body):
        if not isinstance(body, dict):
            raise APIError(400, "a JSON object is required")
        name = body.get("filename", "generated.bin")
        if not isinstance(name, str):
            raise APIError(400, "filename must be a string")
        fd, tmp = tempfile.mkstemp(prefix=".control-", dir=self.emu.files_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                if "content_b64" in body:
                    try:
                        f.write(base64.b64decode(body["content_b64"], validate=True))
                    except (ValueError, TypeError):
                        raise APIError(400, "content_b64: invalid base64")
                elif "size" in body:
                    n = body["size"]
                    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                        raise APIError(400, "size must be an integer >= 0")
                    for d in gen_bytes(n):
                        f.write(d)
            mime = body.get("mime_type") or guess_mime(name)
            rec = self.emu.add_file(tmp, name, mime, bool(body.get("downloadable", True)),
                                    None, "control", move=True)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.control_file_patch(rec, {k: body[k] for k in ("expired",) if k in body})

    @staticmethod
    def control_file_patch(rec, body):
        if "filename" in body:
            if not isinstance(body["filename"], str):
                raise APIError(400, "filename must be a string")
            rec.filename = body["filename"]
        if "mime_type" in body:
            rec.mime_type = str(body["mime_type"])
        if "size_bytes" in body:
            # A lie in the metadata only; the content stays as it is.
            rec.claimed_size = int(body["size_bytes"])
        if "downloadable" in body:
            rec.downloadable = bool(body["downloadable"])
        if "expired" in body:
            if body["expired"]:
                rec.force_expired = True
                rec.expires_at = time.time() - 60
            else:
                rec.force_expired = False
                rec.expires_at = None
        return rec.meta()


def gen_bytes(n):
    """n bytes of the GEN_LINE pattern, in CHUNK pieces."""
    while n > 0:
        d = GEN_BLOCK[:n]
        n -= len(d)
        yield d


def collect_file_refs(blocks, uploads, refs):
    """File ids of container_upload blocks, and of document/image blocks
    whose source is a file (also inside tool_result content)."""
    for b in blocks:
        if not isinstance(b, dict):
            continue
        t = b.get("type")
        if t == "container_upload":
            uploads.append(b.get("file_id"))
        elif t in ("document", "image") and isinstance(b.get("source"), dict) \
                and b["source"].get("type") == "file":
            refs.append(b["source"].get("file_id"))
        if isinstance(b.get("content"), list):
            collect_file_refs(b["content"], uploads, refs)


def extra_fields(where, obj, allowed):
    for k in obj:
        if k not in allowed:
            raise APIError(400, f"{where}.{k}: Extra inputs are not permitted")


def check_file_block(where, b):
    """A container_upload needs its file_id; a file source too."""
    t = b["type"]
    if t == "container_upload" and not isinstance(b.get("file_id"), str):
        raise APIError(400, f"{where}.file_id: Field required")
    if t in ("document", "image"):
        src = b.get("source")
        if not isinstance(src, dict):
            raise APIError(400, f"{where}.source: Field required")
        if src.get("type") == "file" and not isinstance(src.get("file_id"), str):
            raise APIError(400, f"{where}.source.file_id: Field required")
    if isinstance(b.get("content"), list):
        for k, x in enumerate(b["content"]):
            if isinstance(x, dict) and isinstance(x.get("type"), str):
                check_file_block(f"{where}.content.{k}", x)


def file_blocks(msgs):
    """(path, "image"|"document", file_id) of every block whose source is a
    file, tool_result content included."""
    out = []

    def walk(where, blocks):
        for j, b in enumerate(blocks):
            if not isinstance(b, dict):
                continue
            src = b.get("source")
            if b.get("type") in ("document", "image") and isinstance(src, dict) \
                    and src.get("type") == "file":
                out.append((f"{where}.{j}", b["type"], src["file_id"]))
            if isinstance(b.get("content"), list):
                walk(f"{where}.{j}.content", b["content"])

    for i, m in enumerate(msgs):
        if isinstance(m.get("content"), list):
            walk(f"messages.{i}.content", m["content"])
    return out


def is_domain(d):
    return isinstance(d, str) and d != "" and "://" not in d and not d.startswith(("/", "."))


def validate_web_tool(i, t):
    """Fields of a web_search_* or web_fetch_* tool; returns its name."""
    ty = t["type"]
    search = ty in WEB_SEARCH_TYPES
    name = "web_search" if search else "web_fetch"
    ver = ty.rsplit("_", 1)[1]
    ok = TOOL_COMMON + ("max_uses", "allowed_domains", "blocked_domains")
    ok += ("user_location",) if search else ("citations", "max_content_tokens", "url_sources")
    if not search and ver >= "20260309":
        ok += ("use_cache",)
    if ver >= "20260318":
        ok += ("response_inclusion",)
    where = f"tools.{i}"
    extra_fields(where, t, ok)
    if t.get("name") != name:
        raise APIError(400, f"{where}.name: Input should be '{name}'")
    for f in ("max_uses", "max_content_tokens"):
        v = t.get(f)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise APIError(400, f"{where}.{f}: Input should be a positive integer")
    if t.get("allowed_domains") is not None and t.get("blocked_domains") is not None:
        raise APIError(400, f"{where}: use allowed_domains or blocked_domains, not both")
    for f in ("allowed_domains", "blocked_domains"):
        v = t.get(f)
        if v is not None and (not isinstance(v, list) or not all(is_domain(d) for d in v)):
            raise APIError(400, f"{where}.{f}: a list of domains without a scheme")
    loc = t.get("user_location")
    if loc is not None:
        if not isinstance(loc, dict) or loc.get("type") != "approximate":
            raise APIError(400, f"{where}.user_location.type: Input should be 'approximate'")
        extra_fields(f"{where}.user_location", loc,
                     ("type", "city", "region", "country", "timezone"))
        if len(loc) < 2:
            raise APIError(400, f"{where}.user_location: give at least one of city, region, "
                                "country, timezone")
        c = loc.get("country")
        if c is not None and (not isinstance(c, str) or not re.fullmatch(r"[A-Z]{2}", c)):
            raise APIError(400, f"{where}.user_location.country: an ISO 3166-1 alpha-2 code")
    cit = t.get("citations")
    if cit is not None:
        if not isinstance(cit, dict):
            raise APIError(400, f"{where}.citations: Input should be a valid dictionary")
        extra_fields(f"{where}.citations", cit, ("enabled",))
    ac = t.get("allowed_callers")
    if ac is not None and (not isinstance(ac, list) or any(c not in CALLERS for c in ac)):
        raise APIError(400, f"{where}.allowed_callers: Input should be a list of "
                            + ", ".join(CALLERS))
    if t.get("response_inclusion") not in (None, "full", "excluded"):
        raise APIError(400, f"{where}.response_inclusion: Input should be 'full' or 'excluded'")
    return name


def validate_mcp_servers(servers, toolsets):
    """mcp_servers against the mcp_toolset tools: {name: server}."""
    out = {}
    if servers is None:
        if toolsets:
            raise APIError(400, f"tools: mcp_toolset names MCP server "
                                f"{next(iter(toolsets))}, which is not in mcp_servers")
        return out
    if not isinstance(servers, list):
        raise APIError(400, "mcp_servers: Input should be a valid list")
    for k, s in enumerate(servers):
        where = f"mcp_servers.{k}"
        if not isinstance(s, dict):
            raise APIError(400, f"{where}: Input should be a valid dictionary")
        extra_fields(where, s, ("type", "url", "name", "authorization_token", "tool_configuration"))
        if s.get("type") != "url":
            raise APIError(400, f"{where}.type: Input should be 'url'")
        if not isinstance(s.get("url"), str) or not s["url"].startswith("https://"):
            raise APIError(400, f"{where}.url: must start with https://")
        if not isinstance(s.get("name"), str) or not s["name"]:
            raise APIError(400, f"{where}.name: Field required")
        if s["name"] in out:
            raise APIError(400, f"{where}.name: MCP server names must be unique")
        tok = s.get("authorization_token")
        if tok is not None and not isinstance(tok, str):
            raise APIError(400, f"{where}.authorization_token: Input should be a string")
        if s["name"] not in toolsets:
            raise APIError(400, f"{where}: MCP server {s['name']} must be referenced by "
                                "exactly one mcp_toolset in tools")
        out[s["name"]] = s
    for sn in toolsets:
        if sn not in out:
            raise APIError(400, f"tools: mcp_toolset names MCP server {sn}, "
                                "which is not in mcp_servers")
    return out


SCHEMA_KEYS = ("type", "properties", "required", "additionalProperties", "items", "enum",
               "const", "description", "title", "format", "anyOf", "allOf", "$ref", "$defs",
               "definitions", "default", "minItems", "pattern", "$schema")
UNSUPPORTED_SCHEMA = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                      "multipleOf", "minLength", "maxLength", "maxItems", "uniqueItems")


def check_schema(where, sch):
    if not isinstance(sch, dict):
        raise APIError(400, f"{where}: a schema must be an object")
    for k in sch:
        if k in UNSUPPORTED_SCHEMA:
            raise APIError(400, f"{where}.{k}: this schema keyword is not supported")
    if sch.get("type") == "object" and sch.get("additionalProperties") is not False:
        raise APIError(400, f"{where}.additionalProperties: must be set to false for objects")
    if "minItems" in sch and sch["minItems"] not in (0, 1):
        raise APIError(400, f"{where}.minItems: only 0 or 1 is supported")
    for k, v in (sch.get("properties") or {}).items():
        check_schema(f"{where}.properties.{k}", v)
    if isinstance(sch.get("items"), dict):
        check_schema(f"{where}.items", sch["items"])
    for k in ("anyOf", "allOf"):
        for n, v in enumerate(sch.get(k) or []):
            check_schema(f"{where}.{k}.{n}", v)


def validate_output_config(req):
    """output_config {effort, format}; returns the JSON schema or None."""
    oc = req.get("output_config")
    fmt = req.get("output_format")
    if oc is not None:
        if not isinstance(oc, dict):
            raise APIError(400, "output_config: Input should be a valid dictionary")
        extra_fields("output_config", oc, ("effort", "format", "task_budget"))
        if oc.get("effort") not in (None, "low", "medium", "high", "xhigh", "max"):
            raise APIError(400, "output_config.effort: Input should be 'low', 'medium', "
                                "'high', 'xhigh' or 'max'")
        fmt = oc.get("format", fmt)
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise APIError(400, "output_config.format.type: Input should be 'json_schema'")
    extra_fields("output_config.format", fmt, ("type", "schema"))
    check_schema("output_config.format.schema", fmt.get("schema"))
    return fmt["schema"]


def validate_thinking(req, need_max_tokens):
    th = req.get("thinking")
    if th is None:
        return None
    if not isinstance(th, dict) or th.get("type") not in ("enabled", "adaptive", "disabled",
                                                          "between_tools"):
        raise APIError(400, "thinking.type: Input should be 'enabled', 'adaptive', "
                            "'disabled' or 'between_tools'")
    extra_fields("thinking", th, ("type", "budget_tokens", "display"))
    if th.get("display") not in (None, "summarized", "omitted"):
        raise APIError(400, "thinking.display: Input should be 'summarized' or 'omitted'")
    if th["type"] == "enabled":
        bt = th.get("budget_tokens")
        if not isinstance(bt, int) or isinstance(bt, bool) or bt < 1024:
            raise APIError(400, "thinking.budget_tokens: Input should be an integer >= 1024")
        if need_max_tokens and bt >= req["max_tokens"]:
            raise APIError(400, "thinking.budget_tokens: must be less than max_tokens")
    elif "budget_tokens" in th:
        raise APIError(400, "thinking.budget_tokens: Extra inputs are not permitted")
    return th


CODE_CALL_NAMES = ("code_execution", "bash_code_execution", "text_editor_code_execution")


def trailing_blocks(msgs):
    """The assistant blocks after the last user message: the paused turn."""
    last_user = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=-1)
    out = []
    for m in msgs[last_user + 1:]:
        if m.get("role") == "assistant" and isinstance(m.get("content"), list):
            out.extend(b for b in m["content"] if isinstance(b, dict))
    return out


def pending_call(blocks):
    """A server_tool_use or mcp_tool_use at the end of blocks with no
    result yet, or None."""
    done = {b.get("tool_use_id") for b in blocks if "tool_use_id" in b}
    for b in reversed(blocks):
        if b.get("type") in ("server_tool_use", "mcp_tool_use"):
            return None if b.get("id") in done else b
        if b.get("type") not in ("text", "thinking", "redacted_thinking"):
            return None
    return None


def check_pending_tools(msgs, tool, web, mcp):
    """A paused turn that ends on a call with no result must come back
    with the tool that runs it."""
    b = pending_call(trailing_blocks(msgs))
    if b is None:
        return
    name = b.get("name")
    if b["type"] == "mcp_tool_use":
        if b.get("server_name") not in mcp:
            raise APIError(400, f"the paused turn has a pending mcp_tool_use for server "
                                f"{b.get('server_name')}, but no mcp_toolset for it was provided")
    elif name in CODE_CALL_NAMES and not tool:
        raise APIError(400, "the paused turn has a pending code execution call, but no "
                            "code_execution tool was provided")
    elif name in ("web_search", "web_fetch") and name not in web:
        raise APIError(400, f"the paused turn has a pending {name} call, but no {name} "
                            "tool was provided")


def last_turn_used_container(msgs):
    """Whether the last assistant message holds code execution blocks."""
    for m in reversed(msgs):
        if m.get("role") != "assistant":
            continue
        c = m.get("content")
        if not isinstance(c, list):
            return False
        for b in c:
            if not isinstance(b, dict):
                continue
            t = b.get("type", "")
            if t == "server_tool_use" and b.get("name") in CODE_CALL_NAMES:
                return True
            if t.endswith("code_execution_tool_result"):
                return True
        return False
    return False



def resolve_skill(sk):
    """A request's skill as the response names it: "latest" resolved."""
    v = sk.get("version") or "latest"
    if v == "latest":
        v = "20251013" if sk["type"] == "anthropic" else \
            "skver_" + hashlib.sha256(sk["skill_id"].encode()).hexdigest()[:24]
    return {"skill_id": sk["skill_id"], "type": sk["type"], "version": v}


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

def domain_ok(t, url, search):
    """A URL against a web tool's allowed_domains / blocked_domains.
    Subdomains match; a path in an entry matches only for search."""
    u = urllib.parse.urlsplit(url)
    host, path = (u.hostname or "").lower(), u.path or "/"

    def hit(entry):
        d, _, p = entry.lower().partition("/")
        if host != d and not host.endswith("." + d):
            return False
        if p:
            return search and path.lstrip("/").startswith(p)
        return True

    if t.get("allowed_domains") is not None:
        return any(hit(d) for d in t["allowed_domains"])
    if t.get("blocked_domains") is not None:
        return not any(hit(d) for d in t["blocked_domains"])
    return True


# What a loaded skill runs: an Office Open XML zip (or a PDF, or text) named
# as asked, in $OUTPUT_DIR.
SKILL_SCRIPT = r"""import os, sys, zipfile
sid, name = sys.argv[1], sys.argv[2]
path = os.path.join(os.environ["OUTPUT_DIR"], name)
if sid in ("xlsx", "docx", "pptx"):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("docProps/app.xml", "<Properties><Application>ca-emu %s skill</Application></Properties>" % sid)
elif sid == "pdf":
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4\n%ca-emu pdf skill\n%%EOF\n")
else:
    with open(path, "w") as f:
        f.write("made by custom skill %s\n" % sid)
print("Created " + name)
"""

STRING_FORMATS = {"date-time": "2026-01-01T00:00:00Z", "time": "12:00:00", "date": "2026-01-01",
                  "duration": "P1D", "email": "user@example.com", "hostname": "example.com",
                  "uri": "https://example.com/", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
                  "uuid": "00000000-0000-4000-8000-000000000000"}


def schema_example(sch, root, depth=0):
    """A value that validates against a (supported subset of) JSON Schema:
    objects (all properties, required first), strings, numbers, integers,
    booleans, null, arrays, enum, const, anyOf, allOf and local $ref."""
    if not isinstance(sch, dict) or depth > 32:
        return None
    if "$ref" in sch:
        ref = sch["$ref"]
        node = root
        for part in ref.lstrip("#/").split("/") if ref.startswith("#") else []:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return schema_example(node, root, depth + 1)
    if "const" in sch:
        return sch["const"]
    if sch.get("enum"):
        return sch["enum"][0]
    if sch.get("anyOf"):
        return schema_example(sch["anyOf"][0], root, depth + 1)
    if sch.get("allOf"):
        out = {}
        for sub in sch["allOf"]:
            v = schema_example(sub, root, depth + 1)
            if isinstance(v, dict):
                out.update(v)
        return out
    t = sch.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object" or (t is None and "properties" in sch):
        props = sch.get("properties") or {}
        req = [k for k in sch.get("required") or [] if k in props]
        return {k: schema_example(props[k], root, depth + 1)
                for k in req + [k for k in props if k not in req]}
    if t == "array":
        return [schema_example(sch.get("items") or {"type": "string"}, root, depth + 1)]
    if t == "string":
        return STRING_FORMATS.get(sch.get("format"), "text")
    if t == "integer":
        return 1
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    return None


def cache_breakpoints(req):
    """The request as a list of cacheable pieces in prefix order (tools,
    system, message blocks), and the indexes of its cache breakpoints."""
    pieces, marks = [], []
    ttl = ["5m"]

    def add(x):
        pieces.append(jdump(x))
        cc = x.get("cache_control") if isinstance(x, dict) else None
        if cc is not None:
            marks.append(len(pieces) - 1)
            if isinstance(cc, dict):
                ttl[0] = cc.get("ttl", "5m")

    for t in req.get("tools") or []:
        add(t)
    sysp = req.get("system")
    if isinstance(sysp, list):
        for b in sysp:
            add(b)
    elif sysp is not None:
        add(sysp)
    for m in req["messages"]:
        c = m.get("content")
        if isinstance(c, list):
            for b in c:
                add(b)
        else:
            add(c)
    cc = req.get("cache_control")
    if cc is not None and pieces and (not marks or marks[-1] != len(pieces) - 1):
        marks.append(len(pieces) - 1)      # automatic: the last block
        if isinstance(cc, dict):
            ttl[0] = cc.get("ttl", "5m")
    return pieces, marks, ttl[0]

def out_tokens(blocks):
    n = 0
    for b in blocks:
        if b["type"] == "text":
            n += len(b["text"])
        elif b["type"] in ("server_tool_use", "mcp_tool_use"):
            n += len(json.dumps(b["input"]))
        elif b["type"] == "thinking":
            n += len(b["thinking"])
    return max(1, n // 4)


def usage(inp, out, calls, web=None, cache=None, thinking=None):
    """calls: code execution calls, or None without server tools; web:
    {"web_search": n, "web_fetch": n}; cache: (read, write, ttl)."""
    stu = None
    if calls is not None:
        web = web or {}
        stu = {"web_search_requests": web.get("web_search", 0),
               "web_fetch_requests": web.get("web_fetch", 0), "code_execution_requests": calls}
    read, write, ttl = cache or (0, 0, "5m")
    return {"input_tokens": inp, "output_tokens": out,
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write if ttl != "1h" else 0,
                               "ephemeral_1h_input_tokens": write if ttl == "1h" else 0},
            "server_tool_use": stu, "service_tier": "standard", "inference_geo": "global",
            "output_tokens_details": None if thinking is None else {"thinking_tokens": thinking},
            "speed": "standard"}


# ---------------------------------------------------------------------------
# Message Batches: create, get, list, cancel, delete and results.  A batch
# is processed all at once, by the first request that looks at it once its
# delay is over; each request's result kind comes from a "ca-emu-batch:"
# line in its prompt (default: it runs, and succeeds or errors as a Messages
# request would).  Results are written to a JSONL file in a shuffled order.

import random

BATCH_CONFIG = {"batch_delay_ms": 0,            # in_progress for this long
                "batch_max_requests": 100000,   # per batch (400 above)
                "batch_max_bytes": 256 << 20,   # create body (413 above)
                "batch_results_port": 0}        # results_url on this port
BATCH_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")
BATCH_DIRECTIVE = re.compile(r"^ca-emu-batch:[ \t]*(succeeded|errored|canceled|expired)"
                             r"(?:[ \t]+([a-z_]+))?[ \t]*$", re.M)
BATCH_TTL = 86400.0


class Batch:
    def __init__(self, bid, version, requests, state_dir):
        self.id = bid
        self.version = version
        self.requests = requests        # [(custom_id, params as JSON text)]
        self.created = time.time()
        self.status = "in_progress"
        self.cancel_at = None
        self.ended_at = None
        self.counts = {"processing": len(requests), "succeeded": 0, "errored": 0,
                       "canceled": 0, "expired": 0}
        self.path = os.path.join(state_dir, bid + ".jsonl")
        self.results_url = None
        self.lock = threading.Lock()

    def obj(self):
        return {"id": self.id, "type": "message_batch",
                "processing_status": self.status, "request_counts": dict(self.counts),
                "created_at": rfc3339(self.created, frac=True),
                "expires_at": rfc3339(self.created + BATCH_TTL, frac=True),
                "ended_at": rfc3339(self.ended_at, frac=True) if self.ended_at else None,
                "cancel_initiated_at": rfc3339(self.cancel_at, frac=True)
                if self.cancel_at else None,
                "archived_at": None, "results_url": self.results_url}


def batch_store(emu):
    with emu.lock:
        if not hasattr(emu, "batches"):
            emu.batches = {}
            emu.batch_order = []        # ids, oldest first
            emu.batch_dir = os.path.join(emu.state, "batches")
            os.makedirs(emu.batch_dir, exist_ok=True)
        return emu.batches


def batch_routes(h, p):
    m = re.fullmatch(r"/v1/messages/batches(?:/([^/]+)(/cancel|/results)?)?", p)
    if m is None:
        raise APIError(404, f"Not found: {h.command} {p}")
    bid, tail = m.group(1), m.group(2)
    if bid is None:
        return {"POST": lambda: batch_create(h), "GET": lambda: batch_list(h)}
    if tail == "/cancel":
        return {"POST": lambda: batch_cancel(h, bid)}
    if tail == "/results":
        return {"GET": lambda: batch_results(h, bid)}
    return {"GET": lambda: h.respond_json(200, batch_get(h, bid).obj()),
            "DELETE": lambda: batch_delete(h, bid)}


def batch_create(h):
    emu = h.emu
    limit = int(emu.cfg("batch_max_bytes"))
    body = h.json_request(min(limit, BODY_MEM_MAX))
    if len(h.raw_body) > 1 << 20:       # keep the log readable
        h.log_body = {"requests": f"({len(body.get('requests') or [])} requests)"}
    reqs = body.get("requests")
    if not isinstance(reqs, list) or not reqs:
        raise APIError(400, "requests: Input should be a non-empty list")
    if len(reqs) > int(emu.cfg("batch_max_requests")):
        raise APIError(400, f"requests: a batch holds at most "
                            f"{int(emu.cfg('batch_max_requests'))} requests")
    seen, out = set(), []
    for i, r in enumerate(reqs):
        if not isinstance(r, dict):
            raise APIError(400, f"requests.{i}: Input should be a valid dictionary")
        cid, params = r.get("custom_id"), r.get("params")
        if not isinstance(cid, str) or not BATCH_CUSTOM_ID.match(cid):
            raise APIError(400, f"requests.{i}.custom_id: String should match pattern "
                                "'^[a-zA-Z0-9_-]{1,64}$'")
        if cid in seen:
            raise APIError(400, f"requests.{i}.custom_id: duplicate custom_id {cid!r}")
        seen.add(cid)
        if not isinstance(params, dict):
            raise APIError(400, f"requests.{i}.params: Input should be a valid dictionary")
        for f in ("model", "max_tokens", "messages"):
            if f not in params:
                raise APIError(400, f"requests.{i}.params.{f}: field required")
        if params.get("stream") is True:
            raise APIError(400, f"requests.{i}.params.stream: streaming is not "
                                "supported in batches")
        if params.get("max_tokens") == 0:
            raise APIError(400, f"requests.{i}.params.max_tokens: must be at least 1 "
                                "in batches")
        if "speed" in params:
            raise APIError(400, f"requests.{i}.params.speed: not supported in batches")
        out.append((cid, jdump(params)))
    store = batch_store(emu)
    b = Batch(new_id("msgbatch_"), h.version, out, emu.batch_dir)
    with emu.lock:
        store[b.id] = b
        emu.batch_order.append(b.id)
    h.respond_json(200, b.obj())


def batch_get(h, bid):
    store = batch_store(h.emu)
    with h.emu.lock:
        b = store.get(bid)
    if b is None:
        raise APIError(404, f"Batch not found: {bid}")
    batch_advance(h, b)
    return b


def batch_advance(h, b):
    """End the batch if its time has come (or it is being canceled)."""
    with b.lock:
        if b.status == "ended":
            return
        delay = float(h.emu.cfg("batch_delay_ms")) / 1000
        if b.status != "canceling" and time.time() < b.created + delay:
            return
        lines = [batch_one(h, b, cid, params) for cid, params in b.requests]
        random.shuffle(lines)
        with open(b.path, "wb") as f:
            for ln in lines:
                f.write(ln + b"\n")
        port = int(h.emu.cfg("batch_results_port")) or h.server.server_address[1]
        b.results_url = f"http://127.0.0.1:{port}/v1/messages/batches/{b.id}/results"
        b.ended_at = time.time()
        b.status = "ended"
        b.requests = []


def batch_one(h, b, cid, params):
    """One request's result line (bytes)."""
    req = json.loads(params)
    kind, etype = "succeeded", None
    msgs = req.get("messages")
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "user":
                d = BATCH_DIRECTIVE.search(user_text(m))
                if d:
                    kind, etype = d.group(1), d.group(2)
                break
    if b.status == "canceling":
        kind = "canceled"
    res = {"type": kind}
    if kind == "succeeded":
        try:
            res["message"] = batch_message(h, b, req)
        except APIError as e:
            kind, res = "errored", {"type": "errored", "error": error_body(
                e.etype, e.message, new_id("req_"), e.code)}
    elif kind == "errored":
        etype = etype or "invalid_request_error"
        res["error"] = error_body(etype, f"emulated {etype}", new_id("req_"))
    b.counts["processing"] -= 1
    b.counts[kind] += 1
    return jdump({"custom_id": cid, "result": res})


def batch_message(h, b, req):
    h.version = b.version
    tool, uploads = h.validate_request(req)
    cont = h.resolve_container(req, tool)
    if cont is not None:
        h.copy_uploads(cont, uploads)
    turn = Turn(h.emu, req, tool, cont)
    blocks = [x for x in turn.run(lambda: None) if x is not PING]
    in_tokens = max(1, len(jdump(req)) // 4)
    u = usage(in_tokens, out_tokens(blocks), turn.calls if tool else None)
    u["service_tier"] = "batch"
    return {"id": new_id("msg_"), "type": "message", "role": "assistant",
            "model": req["model"], "content": blocks, "stop_reason": turn.stop_reason,
            "stop_sequence": None, "stop_details": None,
            "container": cont.obj() if cont else None, "diagnostics": None, "usage": u}


def batch_list(h):
    store = batch_store(h.emu)
    q = {k: v[-1] for k, v in h.query.items()}
    try:
        limit = int(q.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise APIError(400, "limit: Input should be between 1 and 1000")
    with h.emu.lock:
        ids = [i for i in reversed(h.emu.batch_order) if i in store]
    if "after_id" in q and "before_id" in q:
        raise APIError(400, "before_id and after_id are exclusive")
    for key in ("after_id", "before_id"):
        if key in q and q[key] not in ids:
            raise APIError(400, f"{key}: unknown batch {q[key]!r}")
    if "after_id" in q:
        rest = ids[ids.index(q["after_id"]) + 1:]
        page, more = rest[:limit], len(rest) > limit
    elif "before_id" in q:
        rest = ids[:ids.index(q["before_id"])]
        page, more = rest[-limit:], len(rest) > limit
    else:
        page, more = ids[:limit], len(ids) > limit
    data = [batch_get(h, i).obj() for i in page]
    h.respond_json(200, {"data": data, "has_more": more,
                         "first_id": page[0] if page else None,
                         "last_id": page[-1] if page else None})


def batch_cancel(h, bid):
    b = batch_get(h, bid)
    with b.lock:
        if b.status == "in_progress":
            b.status = "canceling"
            b.cancel_at = time.time()
    h.respond_json(200, b.obj())


def batch_delete(h, bid):
    b = batch_get(h, bid)
    if b.status != "ended":
        raise APIError(400, f"Batch {bid} is still processing; cancel it first")
    with h.emu.lock:
        h.emu.batches.pop(bid, None)
    try:
        os.unlink(b.path)
    except OSError:
        pass
    h.respond_json(200, {"id": bid, "type": "message_batch_deleted"})


def batch_results(h, bid):
    b = batch_get(h, bid)
    if b.status != "ended":
        raise APIError(400, f"Batch {bid} is still processing; results are available "
                            "once it has ended")
    h.respond(200, ctype="application/binary", path=b.path)


# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description="Local emulator of the Anthropic "
                                 "Messages API (code execution) and Files API, for tests.")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind (127.x or ::1)")
    ap.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    ap.add_argument("--port-file", help="write the port here (atomically) once listening")
    ap.add_argument("--log", help="append one NDJSON line per API request here")
    ap.add_argument("--state", help="state directory (default: a temporary one, removed at exit)")
    ap.add_argument("--exec-timeout", type=float, default=20.0, metavar="SECONDS")
    ap.add_argument("--container-ttl", type=float, default=30 * 86400.0, metavar="SECONDS")
    ap.add_argument("--pause-each-step", action="store_true")
    ap.add_argument("--latency-ms", type=float, default=0.0, metavar="N")
    ap.add_argument("--max-file-size", type=int, default=500 * 1000 * 1000, metavar="BYTES")
    args = ap.parse_args(argv)

    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        ap.error(f"--host must be a loopback IP address, not {args.host!r}")
    if not addr.is_loopback:
        ap.error(f"refusing to listen on non-loopback address {args.host}")
    if not 0 <= args.port <= 65535:
        ap.error("--port must be 0..65535")

    Server.address_family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    emu = Emu(args)
    try:
        srv = Server((host, args.port), Handler)
    except OSError as e:
        sys.stderr.write(f"{PROG}: cannot listen on {host}:{args.port}: {e}\n")
        return 1
    srv.emu = emu
    port = srv.server_address[1]
    if args.port_file:
        d = os.path.dirname(os.path.abspath(args.port_file))
        fd, tmp = tempfile.mkstemp(prefix=".port-", dir=d)
        with os.fdopen(fd, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    shown = f"[{host}]" if addr.version == 6 else host
    sys.stderr.write(f"{PROG}: listening on http://{shown}:{port}\n")
    sys.stderr.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    while not stop.wait(0.5):
        pass
    srv.shutdown()
    srv.server_close()
    emu.kill_all()
    if emu.own_state:
        shutil.rmtree(emu.state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
