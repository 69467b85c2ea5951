"""ca-emu: a local emulator of Anthropic's Messages API (code execution
tool), Files API and Message Batches API, for the tests of the ca toolkit.

Python 3 standard library only.  It binds a loopback address only, "plays the
model" from fenced code blocks in the last user message (and really runs
them), stores uploaded and generated files on disk, logs every API request as
one NDJSON line, and injects faults on demand.  emu/README.md documents the
interface.  The wire shapes follow the official SDK's types and the API's
documented behaviour.

Modules: tables (the models, betas and request fields the API accepts),
errors and wire (error bodies, ids, request bodies, multipart), state (the
request log, containers, the emulator's state), files, faults, validate
(request validation), script (the model script) and runner (the code
runner), sse (streaming), usage (token accounting), messages, control,
batches, and server (the HTTP handler that joins them).  main() is here.
"""

import argparse
import ipaddress
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading

from .server import Handler, Server
from .state import Emu
from .wire import PROG


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
