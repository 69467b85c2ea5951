"""ca-emu: a local emulator of Anthropic's Messages API (code execution
tool), Files API and Message Batches API, for the tests of the ca toolkit
and for a dry run by hand.

Python 3 standard library only.  It binds a loopback address only, "plays the
model" from fenced code blocks in the last user message (and really runs
them), or answers from a recorded transcript (--replay), stores uploaded and
generated files on disk, logs every API request as one NDJSON line, and
injects faults on demand.  emu/README.md documents the interface, and
man/ca-emu.1 the command.  The wire shapes follow the official SDK's types
and the API's documented behaviour.

Modules: tables (the models, betas and request fields the API accepts),
errors and wire (error bodies, ids, request bodies, multipart), state (the
request log, containers, the emulator's state), files, faults, validate
(request validation), script (the model script) and runner (the code
runner), replay (answers from a transcript), sse (streaming), usage (token
accounting), messages, control, batches, server (the HTTP handler that
joins them) and daemon (how the command runs: in the foreground, in the
background, around one command; -k).  main() is here.
"""

import argparse
import ipaddress
import os
import socket
import sys

from . import daemon
from .replay import Replay, ReplayError
from .server import Handler, Server
from .state import Emu
from .wire import PROG

VERSION = "0.9.0"

USAGE = """\
usage: ca-emu [-D] [-d DIR] [--replay FILE] [--replay-files DIR] [options]
       ca-emu [-d DIR] [--replay FILE] [--replay-files DIR] [options] -- CMD [ARG ...]
       ca-emu -k [-d DIR]
       ca-emu --version"""

HELP = USAGE + """

Start the local API emulator on loopback and print the environment that
points the ca tools at it:  eval "$(ca-emu)"   ...   eval "$(ca-emu -k)"

  -d DIR, --dir DIR      keep the files here: log.ndjson, state/ (uploads,
                         containers), stderr, port, pid (default: a new
                         directory under $XDG_STATE_HOME/ca-emu, printed)
  -D, --foreground       stay in the foreground (print the environment, serve
                         until SIGTERM or SIGINT)
  -k, --kill             stop the emulator named by -d DIR or CA_EMU_PID and
                         print the shell commands that unset its environment
  -- CMD [ARG ...]       run CMD against the emulator, stop it, exit as CMD did
  --replay FILE          answer Messages requests from a recorded ca-exec
                         output (repeatable); unknown requests get a 404
  --replay-files DIR     the directory the transcript's files were fetched to
                         (ca-fetch -d DIR), served by the Files API
  --host HOST            loopback address to bind (default 127.0.0.1)
  --port N               port; 0 (the default) picks a free one
  --port-file FILE       write the port here once listening (default DIR/port)
  --log FILE             append one NDJSON line per API request (DIR/log.ndjson)
  --state DIR            uploads and containers (DIR/state; without -d in the
                         foreground, a temporary one removed at exit)
  --exec-timeout SECONDS time limit of one code step (default 20)
  --container-ttl SECONDS
                         containers expire this long after creation (30 days)
  --pause-each-step      stop with pause_turn after every code step
  --latency-ms N         wait this long before each Messages answer
  --max-file-size BYTES  larger uploads are refused (default 500000000)
  -V, --version          print the version and the Python that runs the code
  -h, --help             print this help

The key it prints is a fixed fake one; no request leaves the machine."""


class Parser(argparse.ArgumentParser):
    def format_usage(self):
        return USAGE + "\n"

    def format_help(self):
        return HELP + "\n"


def parser():
    ap = Parser(prog=PROG, add_help=False)
    ap.add_argument("-h", "--help", action="store_true")
    ap.add_argument("-V", "--version", action="store_true")
    ap.add_argument("-d", "--dir")
    ap.add_argument("-D", "--foreground", action="store_true")
    ap.add_argument("-k", "--kill", action="store_true")
    ap.add_argument("--replay", action="append", default=[], metavar="FILE")
    ap.add_argument("--replay-files", metavar="DIR")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--state")
    ap.add_argument("--exec-timeout", type=float, default=20.0)
    ap.add_argument("--container-ttl", type=float, default=30 * 86400.0)
    ap.add_argument("--pause-each-step", action="store_true")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--max-file-size", type=int, default=500 * 1000 * 1000)
    return ap


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = None
    if "--" in argv:
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    ap = parser()
    args = ap.parse_args(argv)
    if args.help:
        sys.stdout.write(HELP + "\n")
        return 0
    if args.version:
        py, pyver = daemon.code_python()
        sys.stdout.write(f"{PROG} {VERSION} (Python {pyver} at {py} runs the code)\n")
        return 0
    if args.kill:
        if cmd is not None or args.foreground or args.replay:
            ap.error("-k takes only -d DIR")
        return daemon.kill(args.dir)
    if cmd is not None and (not cmd or args.foreground):
        ap.error("-- needs a command, and not -D")

    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        ap.error(f"--host must be a loopback IP address, not {args.host!r}")
    if not addr.is_loopback:
        ap.error(f"refusing to listen on non-loopback address {args.host}")
    if not 0 <= args.port <= 65535:
        ap.error("--port must be 0..65535")

    replay = None
    if args.replay_files and not args.replay:
        ap.error("--replay-files needs --replay")
    if args.replay:
        try:
            replay = Replay(args.replay, args.replay_files)
        except ReplayError as e:
            sys.stderr.write(f"{PROG}: {e}\n")
            return 2
        for w in replay.warnings:
            sys.stderr.write(f"{PROG}: {w}\n")

    # The directory: named, or (unless in the foreground, where the
    # launchers of the tests name each file) a new one.
    d = args.dir
    if d is None and not args.foreground:
        try:
            d = daemon.new_dir()
        except OSError as e:
            sys.stderr.write(f"{PROG}: cannot make a directory for the files: {e}\n")
            return 1
    if d is not None:
        d = os.path.abspath(d)
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            sys.stderr.write(f"{PROG}: {d}: {e}\n")
            return 1
        args.log = args.log or os.path.join(d, "log.ndjson")
        args.state = args.state or os.path.join(d, "state")
        args.port_file = args.port_file or os.path.join(d, "port")

    if args.port_file:
        args.port_file = os.path.abspath(args.port_file)   # the daemon leaves the cwd
    Server.address_family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    try:
        emu = Emu(args)
    except OSError as e:
        sys.stderr.write(f"{PROG}: {e}\n")
        return 1
    emu.replay = replay
    try:
        srv = Server((host, args.port), Handler)
    except OSError as e:
        sys.stderr.write(f"{PROG}: cannot listen on {host}:{args.port}: {e}\n")
        return 1
    srv.emu = emu
    shown = f"[{host}]" if addr.version == 6 else host
    run = daemon.Run(srv, emu, f"http://{shown}:{srv.server_address[1]}", d, args.port_file)
    if cmd is not None:
        return run.around(cmd)
    if args.foreground:
        return run.foreground()
    return run.background()
