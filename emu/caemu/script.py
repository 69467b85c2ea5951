"""The model script: the fenced blocks of the last user message become the
steps of a turn, and a Turn yields the content blocks the model would.
"""

import base64
import json
import os
import tempfile
import time
import urllib.parse

from . import tools
from .runner import Runner, srv_use
from .validate import pending_call, trailing_blocks
from .wire import VIRT_WORK, new_id, rfc3339


PING = object()                 # marker yielded by Turn.run between steps


FENCE_LANGS = {"python": "python", "py": "python", "python3": "python",
               "bash": "bash", "sh": "bash", "shell": "bash",
               "view": "view", "str_replace": "str_replace", "pause": "pause",
               "web_search": "web_search", "web_fetch": "web_fetch", "mcp": "mcp",
               "skill": "skill", "tool": "tool"}
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


class Turn(Runner):
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
        last_user = tools.prompt_index(msgs)
        self.msgs = msgs
        self.custom = tools.custom_tools(req)
        self.ptc_tools = tools.code_callable(req) if tool in (
            "code_execution_20260120", "code_execution_20260521") else []
        self.answers = tools.answered(msgs, last_user)
        self.prompt = user_text(msgs[last_user]) if last_user >= 0 else ""
        trailing = trailing_blocks(msgs)
        self.resumed = any(b.get("type") in CALL_TYPES for b in trailing)
        # A paused turn may end on a call that has not run yet: it runs
        # first, and its result answers that call's id.
        self.pending = pending_call(trailing) or tools.ptc_pending(trailing)
        self.trailing = trailing
        self.resumed = self.resumed or any(b.get("type") == "tool_use" for b in trailing)
        self.done_calls = sum(1 for b in trailing if b.get("type") in CALL_TYPES
                              and b is not self.pending) + tools.direct_done(trailing)
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
        if k == "tool":
            return st["arg"].strip() in self.custom
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
            yield self.final_text(self.no_code_text())
            self.stop_reason = "end_turn"
            return
        start, left = 0, self.done_calls
        while start < len(self.steps) and left >= self.calls_for(self.steps[start]):
            left -= self.calls_for(self.steps[start])
            start += 1
        n = len(self.steps)
        if not self.resumed and self.format is None:
            yield text_block(f"I'll run {n} code step(s).")
        yield from tools.direct_result_texts(self, self.msgs)
        pause = self.emu.cfg("pause_each_step")
        for k in range(start, n):
            step = self.steps[k]
            resume = self.pending is not None and k == start
            if resume:
                step["resume_id"] = self.pending["id"]
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
            if self.stop_reason == "tool_use":
                return          # the code waits for client tool calls
            if step["kind"] == "tool" and (k == n - 1 or self.steps[k + 1]["kind"] != "tool"):
                self.stop_reason = "tool_use"
                return
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

    def no_code_text(self):
        """The reply to a prompt with no step to run: what the emulator is,
        and how to give it something to run."""
        code = [st for st in parse_steps(self.prompt) if st["kind"] in CODE_KINDS]
        why = ("holds code, but the request has no code execution tool to run it"
               if code and not self.tool else "holds no fenced code")
        return (f"No code to run in \"{self.prompt[:200]}\": the prompt {why}. "
                "This is ca-emu, a local emulator, not a model: it runs only the code "
                "written in the prompt, in a fenced block (a line ```python or ```bash, "
                "the code, then a line ```).")

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

    def step_blocks(self, step, n, tick):
        kind, v = step["kind"], self.tool
        body = step["body"]
        if kind in ("web_search", "web_fetch", "mcp", "skill"):
            yield from getattr(self, kind + "_blocks")(step, tick)
            return
        if kind == "tool":
            yield tools.direct_use(step)
            return
        if kind == "python" and self.ptc_tools:
            use = srv_use("code_execution", {"code": body})
            yield use
            yield from tools.run_cell(self, dict(use, id=step.get("resume_id", use["id"])),
                                      body, tick)
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
