"""The code runner: the work directory of a container, the text editor
commands (view, str_replace), skills, and running a step's code with a
timeout and capped output.
"""

import os
import re
import signal
import subprocess
import tempfile
import time

from .expire import result_error
from .tables import ANTHROPIC_SKILLS
from .wire import OUT_CAP, PING_INTERVAL, VIRT_WORK, guess_mime, new_id, safe_name


def srv_use(name, inp):
    return {"type": "server_tool_use", "id": new_id("srvtoolu_"), "name": name,
            "input": inp, "caller": {"type": "direct"}}


def lines_of(s):
    ls = s.split("\n")
    if ls and ls[-1] == "":
        ls.pop()
    return ls


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


class Runner:
    """Turn methods: the work directory, the text editor, skills, running code."""

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
        rtype = f"{prefix}_tool_result"
        if result_error(self.c):        # expire.py: nothing runs
            return {"type": rtype, "tool_use_id": use["id"], "content": {
                "type": f"{prefix}_tool_result_error", "error_code": "container_expired"}}
        with self.c.lock:
            res = self.execute(argv, tick, stdin)
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
                    "PYTHONUNBUFFERED": "1",
                    # Where /skills/NAME/ is: custom skills are mounted here.
                    "SKILLS_DIR": os.path.join(c.root, "skills")})
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
