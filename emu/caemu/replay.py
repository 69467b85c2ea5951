"""--replay: answer Messages requests from a transcript recorded against
the real API (the NDJSON output of ca-exec, and of ca-fetch after it),
matched by the request body, and serve the files it fetched.

The transcript holds each request record (ca-exec writes it before its
responses), then one response record per part of the turn.  The body of
part 1 is the request's params; the body of part k > 1 is what ca-exec
sends to continue a paused turn: the params with one more assistant
message holding the content of parts 1..k-1, in the turn's container.

A body is matched less what changes from one run to the next:
- "stream" (a streamed request is answered as a stream of the message);
- the container id ("container" as a string, or its "id" in an object):
  each run gets a new container;
- every MCP server's "authorization_token" (never in a record);
- a "file_id" of a file uploaded in the run: it stands for the file's name
  and size (from the transcript's file records, and from this emulator's
  own uploads), since an upload gets a new id each time.
"""

import hashlib
import json
import os

from .errors import APIError


class ReplayError(Exception):
    pass


def top_spans(line):
    """The members of the JSON object on line, each with its exact text:
    {key: (value, raw)}, so a message goes out byte for byte as it came."""
    dec = json.JSONDecoder()
    out = {}
    i = line.index("{") + 1
    n = len(line)

    def skip(i):
        while i < n and line[i] in " \t\r\n":
            i += 1
        return i

    i = skip(i)
    if i < n and line[i] == "}":
        return out
    while i < n:
        key, i = dec.raw_decode(line, skip(i))
        i = skip(i)
        if line[i] != ":":
            raise ValueError("expected ':'")
        j = skip(i + 1)
        val, i = dec.raw_decode(line, j)
        out[key] = (val, line[j:i])
        i = skip(i)
        if line[i] == "}":
            break
        if line[i] != ",":
            raise ValueError("expected ','")
        i += 1
    return out


def norm(body, names):
    """The body less what varies between runs, as canonical JSON."""
    def walk(v):
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k == "file_id" and isinstance(x, str) and x in names:
                    x = names[x]
                elif k == "authorization_token":
                    continue
                out[k] = walk(x)
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    b = {k: v for k, v in body.items() if k != "stream"}
    c = b.get("container")
    if isinstance(c, str):
        del b["container"]
    elif isinstance(c, dict):
        c = {k: v for k, v in c.items() if k != "id"}
        if c:
            b["container"] = c
        else:
            del b["container"]
    return json.dumps(walk(b), sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def asked(body):
    """What a request asked, for a message: its last user text, cut."""
    msgs = body.get("messages") if isinstance(body, dict) else None
    text = ""
    for m in msgs if isinstance(msgs, list) else []:
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                text = c
            elif isinstance(c, list):
                text = " ".join(b.get("text", "") for b in c if isinstance(b, dict)
                                and b.get("type") == "text" and isinstance(b.get("text"), str))
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


class Answer:
    def __init__(self, message, raw, request_id):
        self.message = message          # the Message, parsed
        self.raw = raw.encode("utf-8", "surrogateescape")  # as recorded
        self.request_id = request_id


class Fetched:
    def __init__(self, meta_raw, path):
        self.meta_raw = meta_raw.encode("utf-8", "surrogateescape")
        self.path = path                # the bytes, or None


class Replay:
    def __init__(self, paths, files_dir):
        self.paths = paths
        self.answers = {}               # key -> [Answer, ...] in recorded order
        self.served = {}                # key -> how many were given out
        self.files = {}                 # file id -> Fetched
        self.names = {}                 # uploaded file id -> "name (size bytes)"
        self.warnings = []
        self.fetched = []
        self.count = 0
        reqs, resps = [], []
        for p in paths:
            self.read(p, reqs, resps)
        for cid, params, pname, parts in self.turns(reqs, resps):
            self.add_turn(params, parts)
        self.read_fetched(files_dir)
        if self.count == 0:
            raise ReplayError(f"--replay: no request record followed by its response in "
                              f"{', '.join(paths)}; record with ca-exec, whose output "
                              f"holds both")

    def read(self, path, reqs, resps):
        try:
            f = open(path, encoding="utf-8", errors="surrogateescape")
        except OSError as e:
            raise ReplayError(f"--replay: {path}: {e.strerror}")
        with f:
            for ln, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = top_spans(line)
                except (ValueError, IndexError):
                    self.warnings.append(f"{path}:{ln}: not a JSON record; skipped")
                    continue
                kind = rec.get("type", (None, ""))[0]
                where = f"{path}:{ln}"
                if kind == "request" and isinstance(rec.get("params", (None,))[0], dict):
                    cid = rec.get("custom_id", (None,))[0]
                    reqs.append((len(reqs) + len(resps), cid if isinstance(cid, str) else None,
                                 rec["params"][0], where))
                elif kind == "response" and "message" in rec:
                    resps.append((len(reqs) + len(resps), rec))
                elif kind == "file" and isinstance(rec.get("file", (None,))[0], dict):
                    m = rec["file"][0]
                    if isinstance(m.get("id"), str):
                        self.names[m["id"]] = f"{m.get('filename')} ({m.get('size_bytes')} bytes)"
                elif kind == "fetched" and isinstance(rec.get("file", (None,))[0], dict):
                    self.fetched.append((rec, where))

    def turns(self, reqs, resps):
        """Each request with the responses that carry its custom_id after
        it (and before the next request of that id), in part order."""
        seq = sorted([(pos, "q", (cid, params)) for pos, cid, params, _ in reqs] +
                     [(pos, "r", rec) for pos, rec in resps], key=lambda x: x[0])
        last, by = {}, {}
        for pos, kind, x in seq:
            if kind == "q":
                last[x[0]] = pos
                by[pos] = (x[0], x[1], [])
                continue
            cid = x.get("custom_id", (None,))[0]
            cid = cid if isinstance(cid, str) else None
            if "batch_id" in x:
                continue                # batches are not replayed
            if cid not in last:
                self.warnings.append(f"--replay: a response of {cid!r} has no request "
                                     "record before it; skipped")
                continue
            by[last[cid]][2].append(x)
        for rpos in sorted(by):
            cid, params, parts = by[rpos]
            parts.sort(key=lambda r: r["part"][0] if isinstance(r.get("part", (None,))[0], int)
                       else 1)
            yield cid, params, rpos, parts

    def add_turn(self, params, parts):
        content = []
        for k, rec in enumerate(parts):
            body = params
            if k > 0:
                body = dict(params, messages=list(params.get("messages") or []) +
                            [{"role": "assistant", "content": list(content)}])
            msg, raw = rec["message"]
            if not isinstance(msg, dict):
                continue
            rid = rec.get("request_id", (None,))[0]
            self.answers.setdefault(norm(body, self.names), []).append(Answer(msg, raw, rid))
            self.count += 1
            content += msg.get("content") or []

    def read_fetched(self, files_dir):
        for rec, where in self.fetched:
            meta, raw = rec["file"]
            fid = meta.get("id")
            if not isinstance(fid, str) or fid in self.files:
                continue
            path = None
            rpath = rec.get("path", (None,))[0]
            if files_dir and isinstance(rpath, str):
                cand = os.path.abspath(os.path.join(files_dir, os.path.basename(rpath)))
                want = rec.get("sha256", (None,))[0]
                try:
                    with open(cand, "rb") as f:
                        got = hashlib.sha256(f.read()).hexdigest()
                    if want is None or got == want:
                        path = cand
                    else:
                        self.warnings.append(f"{where}: {cand} is not the file fetched "
                                             "(its SHA-256 differs); not served")
                except OSError as e:
                    self.warnings.append(f"{where}: {cand}: {e.strerror}; not served")
            self.files[fid] = Fetched(raw, path)

    def describe(self):
        return (f"{', '.join(self.paths)} ({self.count} recorded response(s), "
                f"{len(self.files)} file(s))")

    def answer(self, body, emu):
        """The recorded Answer for a request body, or a 404 naming it."""
        names = dict(self.names)
        with emu.lock:
            for fid, rec in emu.files.items():
                if rec.source == "upload":
                    names[fid] = f"{rec.filename} ({rec.size} bytes)"
        key = norm(body, names)
        with emu.lock:
            got = self.answers.get(key)
            if not got:
                raise APIError(404, f"ca-emu --replay: no recorded answer for this request "
                                    f"(user text: {json.dumps(asked(body))})")
            n = self.served.get(key, 0)
            self.served[key] = n + 1
        return got[min(n, len(got) - 1)]
