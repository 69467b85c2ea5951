"""Client tools: direct tool use and programmatic tool calling (PTC).

The model script calls a client tool in two ways:

- a ```tool NAME``` fence with a JSON body: a direct call (a tool_use block
  with caller direct); consecutive tool fences make one response with
  several calls.  The turn stops with stop_reason tool_use; when the
  results come back, the turn goes on with a text block per result.
- a python cell (code_execution_20260120 and later) that awaits a declared
  code-callable tool as an async function: ``rows = await query({"sql":
  "..."})`` (asyncio.gather works too).  When the code awaits a call with
  no answer yet, the response pauses with the code's server_tool_use and
  one tool_use per pending call (caller code_execution_20260120).  The
  cell is then run again from the start with the answers so far (a
  replay: the code must be deterministic), until it completes.

The continuation rules of the API are enforced (validate_results).
"""

import json
import os
import tempfile
import time

from .errors import APIError
from .wire import new_id

TOOL_CONFIG = {"ptc_timeout_s": 270}      # a pending programmatic call's life
PTC_CALLER = "code_execution_20260120"     # how responses tag the code caller
CODE_CALLERS = ("code_execution_20250825", "code_execution_20260120",
                "code_execution_20260521")
PAUSED_RC = 98

WRAPPER = r'''
import ast, asyncio, json, os, sys
sys.path[0] = os.getcwd()
spec = json.load(open(sys.argv[2]))
answers, calls, n = spec["answers"], [], [0]

def tool(name):
    async def call(args):
        i = n[0]
        n[0] += 1
        if i < len(answers):
            a = answers[i]
            if a.get("timeout"):
                raise TimeoutError(f"Calling tool [{name!r}] timed out "
                                   f"(no response after {a['after']}s).")
            return a["text"]
        calls.append({"name": name, "input": args})
        for _ in range(20):     # let gathered siblings ask too
            await asyncio.sleep(0)
        with open(spec["out"], "w") as f:
            json.dump(calls, f)
        os._exit(98)
    call.__name__ = name
    return call

g = {"__name__": "__main__"}
for t in spec["tools"]:
    g[t] = tool(t)
src = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read()
code = compile(src, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
r = eval(code, g)
if asyncio.iscoroutine(r):
    asyncio.run(r)
'''


def custom_tools(req):
    """The request's client tools: {name: tool}."""
    out = {}
    for t in req.get("tools") or []:
        if isinstance(t, dict) and t.get("type") in (None, "custom") \
                and isinstance(t.get("name"), str):
            out[t["name"]] = t
    return out


def code_callable(req):
    return sorted(n for n, t in custom_tools(req).items()
                  if any(c in CODE_CALLERS for c in t.get("allowed_callers") or []))


def validate_tool_def(i, t, tool, model, no_ptc):
    """allowed_callers of a custom tool, as the API checks it."""
    ac = t.get("allowed_callers")
    if ac is None:
        return
    if not isinstance(ac, list) or not ac or \
            any(c not in ("direct",) + CODE_CALLERS for c in ac):
        raise APIError(400, f"tools.{i}.allowed_callers: Input should be a list of "
                            "'direct', " + ", ".join(repr(c) for c in CODE_CALLERS))
    code = [c for c in ac if c != "direct"]
    if code and tool not in ("code_execution_20260120", "code_execution_20260521"):
        raise APIError(400, f"tools.{i}.allowed_callers: programmatic tool calling needs "
                            "code_execution_20260120 or later in tools")
    if code and model in no_ptc:
        raise APIError(400, f"tools.{i}.allowed_callers: {model} does not support "
                            "programmatic tool calling")


def tool_result_only(m):
    c = m.get("content")
    return isinstance(c, list) and c and all(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in c)


def prompt_index(msgs):
    """The user message that holds the prompt: the last one that is not
    only tool results."""
    return max((i for i, m in enumerate(msgs) if m.get("role") == "user"
                and not tool_result_only(m)), default=-1)


def results_in(m):
    c = m.get("content")
    return [b for b in c if isinstance(b, dict) and b.get("type") == "tool_result"] \
        if isinstance(c, list) else []


def validate_results(emu, req, msgs, tool):
    """The continuation after tool_use: each assistant message with
    tool_use blocks is followed by a user message answering each of them
    (only results when a call is programmatic or a server tool waits);
    programmatic calls come back with their container, the same tools,
    text content, and within the time limit."""
    names = custom_tools(req)
    for i, m in enumerate(msgs):
        if m.get("role") != "assistant" or not isinstance(m.get("content"), list):
            continue
        uses = [b for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not uses:
            continue
        nxt = msgs[i + 1] if i + 1 < len(msgs) else None
        if nxt is None:
            continue            # the turn ends on its calls: nothing to check
        got = {b.get("tool_use_id"): b for b in results_in(nxt)} if nxt.get("role") == "user" else {}
        want = {b.get("id") for b in uses}
        missing = sorted(x for x in want if x not in got)
        if missing:
            raise APIError(400, f"messages.{i + 1}: tool_use ids were found without "
                                f"tool_result blocks immediately after: {', '.join(missing)}. "
                                "Each tool_use block must have a corresponding tool_result "
                                "block in the next message.")
        extra = sorted(x for x in got if x not in want)
        if extra:
            raise APIError(400, f"messages.{i + 1}.content: unexpected tool_use_id found in "
                                f"tool_result blocks: {extra[0]}. Each tool_result block must "
                                "have a corresponding tool_use block in the previous message.")
        ptc = [b for b in uses if (b.get("caller") or {}).get("type") in CODE_CALLERS]
        done = {b.get("tool_use_id") for b in m["content"] if isinstance(b, dict)}
        waiting = [b for b in m["content"] if isinstance(b, dict)
                   and b.get("type") == "server_tool_use" and b.get("id") not in done]
        if (ptc or waiting) and not tool_result_only(nxt):
            raise APIError(400, f"messages.{i + 1}.content: while a programmatic tool call or "
                                "a server tool is pending, the user message may hold only "
                                "tool_result blocks")
        for b in uses:
            if b.get("name") not in names:
                raise APIError(400, f"messages.{i}.content: tool_use names {b.get('name')!r}, "
                                    "which is not in tools (send the same tools)")
        for b in ptc:
            r = got[b["id"]]
            c = r.get("content")
            if not (isinstance(c, str) or (isinstance(c, list) and all(
                    isinstance(x, dict) and x.get("type") == "text" for x in c))):
                raise APIError(400, f"messages.{i + 1}: the result of a programmatic tool "
                                    "call must be a string or text blocks")
            if not tool:
                raise APIError(400, "tools: a programmatic tool call is pending; the code "
                                    "execution tool must still be present")
            c = req.get("container")
            cid = c if isinstance(c, str) else (c or {}).get("id") if isinstance(c, dict) else None
            if cid is None:
                raise APIError(400, "container: the request has pending programmatic tool "
                                    "calls but no container id")
            with emu.lock:
                info = getattr(emu, "ptc_calls", {}).get(b["id"])
            if info and info[1] != cid:
                raise APIError(400, f"container: the pending programmatic tool call "
                                    f"{b['id']} belongs to container {info[1]}, not {cid}")


def result_text(r):
    c = r.get("content")
    if isinstance(c, list):
        c = "".join(x.get("text", "") for x in c if isinstance(x, dict))
    return c if isinstance(c, str) else ""


def answered(msgs, start):
    """tool_use_id -> its tool_result, after the prompt message."""
    out = {}
    for m in msgs[start + 1:]:
        if m.get("role") == "user":
            for b in results_in(m):
                out[b.get("tool_use_id")] = b
    return out


def ptc_pending(trailing):
    """The code cell (server_tool_use) whose calls wait, or None."""
    done = {b.get("tool_use_id") for b in trailing if "tool_use_id" in b}
    for b in trailing:
        if b.get("type") == "server_tool_use" and b.get("id") not in done and any(
                x.get("type") == "tool_use" and (x.get("caller") or {}).get("tool_id") == b.get("id")
                for x in trailing):
            return b
    return None


def direct_done(trailing):
    return sum(1 for b in trailing if b.get("type") == "tool_use"
               and (b.get("caller") or {}).get("type", "direct") == "direct")


def direct_result_texts(turn, msgs):
    """On a continuation, a text block for each direct call just answered."""
    if not msgs or not tool_result_only(msgs[-1]) or len(msgs) < 2:
        return []
    uses = {b.get("id"): b for b in msgs[-2].get("content") or [] if isinstance(b, dict)
            and b.get("type") == "tool_use"
            and (b.get("caller") or {}).get("type", "direct") == "direct"}
    out = []
    for r in results_in(msgs[-1]):
        u = uses.get(r.get("tool_use_id"))
        if u is None:
            continue
        err = " (error)" if r.get("is_error") else ""
        out.append({"type": "text", "text": f"{u.get('name')} returned{err}: {result_text(r)}",
                    "citations": None})
    return out


def direct_use(step):
    try:
        inp = json.loads(step["body"]) if step["body"].strip() else {}
    except ValueError:
        inp = {"text": step["body"]}
    return {"type": "tool_use", "id": new_id("toolu_"), "name": step["arg"].strip(),
            "input": inp, "caller": {"type": "direct"}}


def ptc_answers(turn, use_id):
    """The answers so far to the cell's calls, in call order."""
    emu, out = turn.emu, []
    limit = float(emu.cfg("ptc_timeout_s"))
    for b in turn.trailing:
        if b.get("type") != "tool_use" or (b.get("caller") or {}).get("tool_id") != use_id:
            continue
        r = turn.answers.get(b.get("id"))
        with emu.lock:
            info = getattr(emu, "ptc_calls", {}).get(b.get("id"))
        if info and time.time() - info[0] > limit:
            out.append({"timeout": True, "after": int(limit)})
        else:
            out.append({"text": result_text(r) if r else ""})
    return out


def run_cell(turn, use, body, tick):
    """Run a python cell with the code-callable tools: its result block,
    or (the code waits for calls) the tool_use blocks, with stop_reason
    tool_use set on the turn."""
    c = turn.c
    fd, cell = tempfile.mkstemp(prefix="cell_", suffix=".py", dir=c.tmp)
    with os.fdopen(fd, "wb") as f:
        f.write(body.encode("utf-8", "surrogateescape"))
    fd, wrap = tempfile.mkstemp(prefix="ptc_", suffix=".py", dir=c.tmp)
    with os.fdopen(fd, "w") as f:
        f.write(WRAPPER)
    fd, spec = tempfile.mkstemp(prefix="spec_", suffix=".json", dir=c.tmp)
    out = spec + ".calls"
    with os.fdopen(fd, "w") as f:
        json.dump({"tools": turn.ptc_tools, "answers": ptc_answers(turn, use["id"]),
                   "out": out}, f)
    try:
        res_block = turn.exec_result(use, "code_execution", [turn.emu.python, wrap, cell, spec],
                                     tick)
        calls = None
        if os.path.exists(out):
            with open(out) as f:
                calls = json.load(f)
    finally:
        for p in (cell, wrap, spec, out):
            try:
                os.unlink(p)
            except OSError:
                pass
    if calls is None:
        return [res_block]
    blocks = []
    now = time.time()
    for k in calls:
        b = {"type": "tool_use", "id": new_id("toolu_"), "name": k["name"], "input": k["input"],
             "caller": {"type": PTC_CALLER, "tool_id": use["id"]}}
        with turn.emu.lock:
            if not hasattr(turn.emu, "ptc_calls"):
                turn.emu.ptc_calls = {}
            turn.emu.ptc_calls[b["id"]] = (now, c.id)
        blocks.append(b)
    turn.stop_reason = "tool_use"
    return blocks
