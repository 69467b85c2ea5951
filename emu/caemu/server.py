"""HTTP: the server, and the request handler that reads bodies, applies
faults, checks authentication, version and betas, routes, answers and
logs.  The routes themselves are mixed in from the other modules.
"""

import http.server
import io
import json
import os
import re
import socket
import socketserver
import struct
import sys
import time
import traceback
import urllib.parse

from .batches import batch_routes
from .control import Control
from .errors import APIError, ClientGone, REASONS, StreamEnded, error_body
from .faults import Faults, describe_fault
from .files import Files
from .messages import Messages
from .skills import skill_routes
from .state import redact_tokens
from .tables import API_VERSIONS, KNOWN_BETAS
from .validate import Validation
from .wire import (BODY_MEM_MAX, BodyReader, CHUNK, MultipartError, PROG, Sink, jdump,
                   new_id, parse_header_params, parse_multipart, rfc3339)


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


class Handler(Messages, Validation, Files, Control, Faults,
              http.server.BaseHTTPRequestHandler):
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
            if self.emu.rl is not None:
                h.update(self.emu.rl.headers())
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
        # Logged before the answer leaves: a client that acts on the
        # answer at once must find its request in the log already.
        self.write_log(status if log_status is None else log_status)
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
            table = batch_routes(self, p)      # batches.py
        elif p == "/v1/skills" or p.startswith("/v1/skills/"):
            table = skill_routes(self, p)      # skills.py
        else:
            raise APIError(404, f"Not found: {m} {p}")
        if m not in table:
            raise APIError(405, f"Method {m} not allowed for {p}",
                           headers={"allow": ", ".join(sorted(table))})
        self.check_auth()
        self.version = self.check_version()
        self.check_betas()
        if p == "/v1/messages" and self.emu.rl is not None:
            self.emu.rl.admit(len(self.raw_body or b"") // 4)
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
