"""Wire basics: limits, ids, timestamps, compact JSON, file names and MIME
types, request bodies (Content-Length or chunked, read incrementally) and a
streaming multipart/form-data parser.
"""

import datetime
import json
import mimetypes
import os
import re
import secrets
import string
import urllib.parse

from .errors import ClientGone


PROG = "ca-emu"

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

ALNUM = string.ascii_letters + string.digits

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
    # One draw of random bytes, not one per character: ids are made on
    # every request.  (62 letters: the small bias of % does not matter.)
    return prefix + "".join(ALNUM[b % len(ALNUM)] for b in secrets.token_bytes(n))


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


def gen_bytes(n):
    """n bytes of the GEN_LINE pattern, in CHUNK pieces."""
    while n > 0:
        d = GEN_BLOCK[:n]
        n -= len(d)
        yield d
