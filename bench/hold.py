#!/usr/bin/env python3
"""hold.py: make bench.  ca-exec -s -j N against answers of M MB each,
streamed at once: the peak RSS of ca-exec against the bound ca-exec(1)
gives for output held behind an unfinished request (256 MiB).  Streams
still arriving count against that bound, so the peak stays near it,
however many answers are in flight.

    hold.py [--jobs N] [--mb M] [--unordered] [--check MIB]

--check: exit 1 if the peak exceeds MIB (t/hostile-input.bats uses it).

Environment: CA_BENCH_BIN, the directory of the ca tools (default: the
source tree).  The server is a loopback one here, that sends one
precomputed event stream (text deltas of 4000 bytes) per request, so
that ca-exec is what is measured.
"""
import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(os.environ.get("CA_BENCH_BIN") or ROOT)
BOUND_MIB = 256


def event(name, obj):
    return b"event: %s\ndata: %s\n\n" % (name.encode(),
                                         json.dumps(obj).encode())


def stream(mb):
    msg = {"id": "msg_hold", "type": "message", "role": "assistant",
           "model": "claude-opus-5-5", "content": [], "stop_reason": None,
           "stop_sequence": None, "usage": {"input_tokens": 10,
                                            "output_tokens": 1}}
    piece = event("content_block_delta", {
        "type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": "x" * 4000}})
    return b"".join([
        event("message_start", {"type": "message_start", "message": msg}),
        event("content_block_start", {"type": "content_block_start",
                                      "index": 0, "content_block":
                                      {"type": "text", "text": ""}}),
        piece * (mb * 1000 * 1000 // 4000),
        event("content_block_stop", {"type": "content_block_stop",
                                     "index": 0}),
        event("message_delta", {"type": "message_delta", "delta":
                                {"stop_reason": "end_turn",
                                 "stop_sequence": None},
                                "usage": {"output_tokens": 100}}),
        event("message_stop", {"type": "message_stop"})])


def serve(body):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("request-id", "req_hold")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % srv.server_address[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=64)
    ap.add_argument("--mb", type=int, default=10)
    ap.add_argument("--check", type=int)
    ap.add_argument("--unordered", action="store_true")
    a = ap.parse_args()
    base = serve(stream(a.mb))
    env = dict(os.environ, ANTHROPIC_BASE_URL=base,
               ANTHROPIC_API_KEY="bench-key-not-real")
    work = tempfile.mkdtemp(prefix="ca-hold.")
    req = os.path.join(work, "req")
    with open(req, "wb") as f:
        for i in range(a.jobs):
            f.write(subprocess.run(
                [os.path.join(BIN, "ca-request"), "-n", "-i", "h%d" % i,
                 "x"], env=env, stdout=subprocess.PIPE,
                check=True).stdout)
    rss = os.path.join(work, "rss")
    with open(req, "rb") as fin:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss,
                            os.path.join(BIN, "ca-exec"), "-s", "-j",
                            str(a.jobs)] + (["-u"] if a.unordered else []),
                           stdin=fin, env=env,
                           stdout=subprocess.PIPE)
    n = p.stdout.count(b'"type":"response"')
    peak = int(open(rss).read().split()[-1]) / 1024
    for f in (req, rss):
        os.unlink(f)
    os.rmdir(work)
    print("ca-exec -s%s -j %d, %d answers of %d MB streamed: peak RSS "
          "%.0f MiB (held output bound %d MiB); exit %d, %d responses"
          % ("u" if a.unordered else "", a.jobs, a.jobs, a.mb, peak, BOUND_MIB, p.returncode, n))
    if p.returncode != 0 or n != a.jobs:
        sys.exit(1)
    if a.check is not None and peak > a.check:
        sys.exit(1)


if __name__ == "__main__":
    main()
