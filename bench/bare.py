#!/usr/bin/env python3
"""bare.py: a server that is never the bottleneck, for make bench.

It answers like the Files and Messages APIs, just enough for ca-upload,
ca-fetch and ca-exec (--stream, or -j with --latency-ms), and does no
work: an upload's body is
read into one reused buffer and dropped, a download is one random MiB
sent over and over.  So a benchmark against it measures the client.

    bare.py --port-file F [--blob FILE] [--deltas N] [--latency-ms N]
            [--idle S]

Loopback only.  It exits by itself after --idle seconds without a
request (default 60), so a benchmark that dies leaves nothing behind.
--blob: the file every download sends, with sendfile(2).
--deltas: a streamed message carries N text deltas, 20 ms apart, each
"@<send time>;" (time.time()), for first-byte latency.
--latency-ms: a message is not streamed but answered as one JSON
message N ms after its request, as the emulator's --latency-ms does, so
that ca-exec -j can be timed against a server that adds nothing else.
"""
import argparse
import http.server
import json
import os
import sys
import threading
import time

CHUNK = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bare"
    # Headers and body go out as two writes: with Nagle's algorithm the
    # body would wait for the client's delayed ACK, 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.send_header("request-id", "req_bare")
        self.end_headers()
        self.wfile.write(body)

    def meta(self, fid, size):
        return {"type": "file", "id": fid, "filename": "big.bin",
                "mime_type": "application/octet-stream", "size_bytes": size,
                "created_at": "2026-01-01T00:00:00Z", "downloadable": True}

    def do_POST(self):
        self.server.touch()
        n = int(self.headers.get("content-length") or 0)
        if self.path == "/v1/messages" and self.server.latency:
            # Its own copy: the model is read from it, threads at once.
            body = self.rfile.read(n)
            time.sleep(self.server.latency / 1000)
            return self.reply(200, self.message(body))
        got = 0
        buf = self.server.sink
        # Chunks of the body, at memory speed, into one shared buffer.
        while got < n:
            k = self.rfile.readinto(memoryview(buf)[:min(CHUNK, n - got)])
            if not k:
                return
            got += k
        if self.path == "/v1/files":
            self.reply(200, self.meta("file_bare_up", got))
        elif self.path == "/v1/messages":
            self.stream()
        else:
            self.reply(404, {"type": "error", "error": {
                "type": "not_found_error", "message": "no"}})

    def do_GET(self):
        self.server.touch()
        p = self.path.split("/")
        size = os.path.getsize(self.server.blob)
        if len(p) == 4 and p[1:3] == ["v1", "files"]:
            return self.reply(200, self.meta(p[3], size))
        if len(p) != 5 or p[1:3] != ["v1", "files"] or p[4] != "content":
            return self.reply(404, {"type": "error", "error": {
                "type": "not_found_error", "message": "no"}})
        self.send_response(200)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", str(size))
        self.end_headers()
        with open(self.server.blob, "rb") as f:
            self.wfile.flush()
            self.connection.sendfile(f)

    def message(self, body):
        """The request's model (whose price ca-exec knows), if it fits."""
        try:
            model = json.loads(body)["model"]
        except (ValueError, KeyError, TypeError):
            model = "claude-bare"
        return {"id": "msg_bare", "type": "message", "role": "assistant",
                "model": model, "content": [
                    {"type": "text", "text": "ok"}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1}}

    def event(self, name, data):
        self.wfile.write(b"event: %s\ndata: %s\n\n" % (
            name.encode(), json.dumps(data).encode()))
        self.wfile.flush()

    def stream(self):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("request-id", "req_bare")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        usage = {"input_tokens": 10, "output_tokens": 1}
        self.event("message_start", {"type": "message_start", "message": {
            "id": "msg_bare", "type": "message", "role": "assistant",
            "model": "claude-bare", "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": usage}})
        self.event("content_block_start", {
            "type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}})
        for _ in range(self.server.deltas):
            time.sleep(0.02)
            self.event("content_block_delta", {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta",
                          "text": "@%.6f;\n" % time.time()}})
        self.event("content_block_stop", {"type": "content_block_stop",
                                          "index": 0})
        self.event("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": "end_turn", "stop_sequence": None},
            "usage": usage})
        self.event("message_stop", {"type": "message_stop"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # ca-exec -j 64 connects 64 times at once: socketserver's backlog of
    # 5 would drop SYNs, each retried a second later.
    request_queue_size = 1024

    def touch(self):
        self.last = time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--blob", default="/dev/null")
    ap.add_argument("--deltas", type=int, default=50)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--idle", type=float, default=60)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.blob, srv.deltas, srv.latency = a.blob, a.deltas, a.latency_ms
    srv.sink = bytearray(CHUNK)
    srv.touch()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    while time.monotonic() - srv.last < a.idle:
        time.sleep(0.5)
    sys.exit(0)


if __name__ == "__main__":
    main()
