"""How the command runs once the server is bound: in the foreground, in
the background (the ssh-agent idiom: print the environment, fork, serve),
or around one command; and -k, which stops one started in the background.
In every case SIGTERM, SIGINT and SIGHUP stop it cleanly: code steps
killed, the port and pid files removed.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .wire import PROG

# The key it prints: fake, and plainly so.  The emulator takes any
# non-empty key; the real API would refuse this one.
FAKE_KEY = "ca-emu-fake-key-not-real"
ENV_NAMES = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "CA_EMU_PID", "CA_EMU_DIR")


def code_python():
    """The Python that runs the code of a ```python step, and its version."""
    py = shutil.which("python3") or sys.executable
    if os.path.realpath(py) == os.path.realpath(sys.executable):
        return py, sys.version.split()[0]
    try:
        out = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return py, out or "?"


def new_dir():
    """A new directory for the files: under $XDG_STATE_HOME/ca-emu (or
    ~/.local/state/ca-emu), else a temporary one."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    if not os.path.isabs(base):
        home = os.environ.get("HOME") or ""
        base = os.path.join(home, ".local", "state") if os.path.isabs(home) else ""
    if base:
        try:
            os.makedirs(os.path.join(base, "ca-emu"), mode=0o700, exist_ok=True)
            return tempfile.mkdtemp(prefix="", dir=os.path.join(base, "ca-emu"))
        except OSError:
            pass
    return tempfile.mkdtemp(prefix="ca-emu.")


def env_lines(url, pid, d):
    v = {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": FAKE_KEY, "CA_EMU_PID": str(pid)}
    if d is not None:
        v["CA_EMU_DIR"] = d
    return "".join(f"{k}={shlex.quote(x)}; export {k};\n" for k, x in v.items())


def write_atomic(path, text):
    fd, tmp = tempfile.mkstemp(prefix=".ca-emu-", dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def remove_if(path, text):
    """Remove path if it still holds text (a later emulator's is kept)."""
    try:
        with open(path) as f:
            if f.read() != text:
                return
        os.unlink(path)
    except OSError:
        pass


def kill(d):
    """-k: stop the emulator of DIR (its pid file) or of CA_EMU_PID, wait
    until it is gone, and print the commands that unset its variables."""
    if d is not None:
        try:
            with open(os.path.join(d, "pid")) as f:
                spid = f.read().strip()
        except OSError as e:
            sys.stderr.write(f"{PROG}: -k: no emulator runs in {d}: {e.strerror}\n")
            return 1
    else:
        spid = os.environ.get("CA_EMU_PID", "")
        if not spid:
            sys.stderr.write(f"{PROG}: -k: CA_EMU_PID is not set, and no -d DIR was given\n")
            return 2
    if not spid.isdigit() or int(spid) < 2:
        sys.stderr.write(f"{PROG}: -k: not a process id: {spid!r}\n")
        return 1
    pid = int(spid)
    # A stale CA_EMU_PID may name someone else's process by now.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"ca-emu" not in f.read():
                sys.stderr.write(f"{PROG}: -k: pid {pid} is not ca-emu\n")
                return 1
    except OSError:
        pass                            # no /proc, or no such process: kill says
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as e:
        sys.stderr.write(f"{PROG}: -k: pid {pid}: {e.strerror}\n")
        return 1
    for _ in range(200):            # it exits within a second; 10 s at most
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.05)
    else:
        sys.stderr.write(f"{PROG}: -k: pid {pid} is still running\n")
        return 1
    sys.stdout.write("".join(f"unset {k};\n" for k in ENV_NAMES))
    sys.stderr.write(f"{PROG}: pid {pid} stopped\n")
    return 0


class Run:
    def __init__(self, srv, emu, url, d, port_file):
        self.srv, self.emu, self.url, self.dir = srv, emu, url, d
        self.port_file = port_file
        self.stop = threading.Event()
        self.signum = 0

    def note(self):
        """The startup note: where, what runs the code, where the files are.
        Written before the port file, which tells a launcher it is up."""
        py, ver = code_python()
        sys.stderr.write(f"{PROG}: listening on {self.url}\n")
        what = f"answers from {self.emu.replay.describe()}" if self.emu.replay else \
            f"runs the fenced code of each prompt with Python {ver} ({py}) or {self.emu.bash}"
        sys.stderr.write(f"{PROG}: {what}; files in {self.dir or self.emu.state}\n")
        sys.stderr.flush()

    def publish(self, pid):
        port = f"{self.srv.server_address[1]}\n"
        if self.port_file:
            write_atomic(self.port_file, port)
        if self.dir:
            write_atomic(os.path.join(self.dir, "pid"), f"{pid}\n")

    def on_signal(self, signum, frame):
        self.signum = signum
        self.stop.set()

    def catch(self):
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, self.on_signal)

    def serve(self):
        t = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.2},
                             daemon=True)
        t.start()

    def shut(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.emu.kill_all()
        if self.port_file:
            remove_if(self.port_file, f"{self.srv.server_address[1]}\n")
        if self.dir:
            remove_if(os.path.join(self.dir, "pid"), f"{os.getpid()}\n")
        if self.emu.own_state:
            shutil.rmtree(self.emu.state, ignore_errors=True)

    def wait(self):
        while not self.stop.wait(0.5):
            pass
        self.shut()
        return 0

    def foreground(self):
        self.catch()
        self.note()
        self.publish(os.getpid())
        sys.stdout.write(env_lines(self.url, os.getpid(), self.dir))
        sys.stdout.flush()
        self.serve()
        return self.wait()

    def background(self):
        """Fork: the parent prints the environment and exits; the child,
        with no terminal and none of the caller's descriptors (a command
        substitution waits for its stdout to close), serves."""
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe()
        pid = os.fork()
        if pid > 0:
            os.close(w)
            os.read(r, 1)               # the child has set up its signals
            os.close(r)
            self.note()
            self.publish(pid)
            sys.stdout.write(env_lines(self.url, pid, self.dir))
            sys.stdout.flush()
            os._exit(0)
        os.close(r)
        os.setsid()
        self.catch()
        os.write(w, b"x")
        os.close(w)
        null = os.open(os.devnull, os.O_RDWR)
        err = os.open(os.path.join(self.dir, "stderr"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                      0o644)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(err, 2)
        keep = {0, 1, 2, self.srv.fileno()}
        if self.emu.log.fd is not None:
            keep.add(self.emu.log.fd)
        for fd in range(3, 1024):
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.chdir("/")
        self.serve()
        return self.wait()

    def around(self, cmd):
        """Serve while CMD runs with the environment; its status is ours.
        A signal to us goes on to CMD, which decides."""
        self.note()
        self.publish(os.getpid())
        env = dict(os.environ, ANTHROPIC_BASE_URL=self.url, ANTHROPIC_API_KEY=FAKE_KEY,
                   CA_EMU_PID=str(os.getpid()))
        if self.dir:
            env["CA_EMU_DIR"] = self.dir
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
        self.serve()
        try:
            proc = subprocess.Popen(cmd, env=env)
        except OSError as e:
            sys.stderr.write(f"{PROG}: {cmd[0]}: {e.strerror}\n")
            self.shut()
            return 126 if isinstance(e, PermissionError) else 127
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, lambda signum, frame: proc.send_signal(signum))
        rc = proc.wait()
        self.shut()
        return 128 - rc if rc < 0 else rc
