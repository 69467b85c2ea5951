"""Long conversations: threshold compaction (the compact_20260112 edit),
on-demand compaction (compaction {type: summarize}) and context editing
(clear_tool_uses_20250919, clear_thinking_20251015), as the API answers
them: the rules checked, a deterministic summary, the block signed so an
edited one is refused, and usage.iterations billed beside the top level.
"""

import hashlib
import hmac

from .errors import APIError
from .wire import jdump

COMPACT_BETA = "compact-2026-01-12"
ONDEMAND_BETA = "compact-2026-09-04"
EDIT_BETA = "context-management-2025-06-27"
BETAS = (COMPACT_BETA, ONDEMAND_BETA, EDIT_BETA)
COMPACT_EDIT = "compact_20260112"
CLEAR_TOOLS = "clear_tool_uses_20250919"
CLEAR_THINK = "clear_thinking_20251015"
TRIGGER_MIN = 50000
TRIGGER_DEFAULT = 150000
INSTR_MAX = 16384
EDIT_FIELDS = {
    COMPACT_EDIT: ("type", "trigger", "pause_after_compaction", "instructions"),
    CLEAR_TOOLS: ("type", "trigger", "keep", "clear_at_least", "exclude_tools",
                  "clear_tool_inputs"),
    CLEAR_THINK: ("type", "keep"),
}


def mac(emu, kind, content):
    """The block's opaque field: an HMAC of its summary, so an edited
    block no longer matches."""
    return hmac.new(emu.secret, (kind + "\0" + content).encode("utf-8", "surrogateescape"),
                    hashlib.sha256).hexdigest()


def tokens_of(x):
    return max(1, len(jdump(x)) // 4)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_edits(cm, betas):
    if not isinstance(cm, dict) or not isinstance(cm.get("edits"), list):
        raise APIError(400, "context_management.edits: Input should be a valid list")
    for k in cm:
        if k != "edits":
            raise APIError(400, f"context_management.{k}: Extra inputs are not permitted")
    edits = {}
    for i, e in enumerate(cm["edits"]):
        where = f"context_management.edits.{i}"
        t = e.get("type") if isinstance(e, dict) else None
        if t not in EDIT_FIELDS:
            raise APIError(400, f"{where}.type: Input should be '{CLEAR_TOOLS}', "
                                f"'{CLEAR_THINK}' or '{COMPACT_EDIT}'")
        for k in e:
            if k not in EDIT_FIELDS[t]:
                raise APIError(400, f"{where}.{k}: Extra inputs are not permitted")
        if t in edits:
            raise APIError(400, f"{where}: duplicate edit type {t}")
        need = COMPACT_BETA if t == COMPACT_EDIT else EDIT_BETA
        if need not in betas:
            raise APIError(400, f"{where}: {t} requires the anthropic-beta header {need}")
        if t == CLEAR_THINK and i != 0:
            raise APIError(400, f"{where}: {CLEAR_THINK} must be listed first in edits")
        trig = e.get("trigger")
        if trig is not None:
            ok = ("input_tokens",) if t == COMPACT_EDIT else ("input_tokens", "tool_uses")
            if not isinstance(trig, dict) or trig.get("type") not in ok \
                    or not _int(trig.get("value")) or trig["value"] < 1:
                raise APIError(400, f"{where}.trigger: Input should be "
                                    "{type: input_tokens, value: integer}")
            if t == COMPACT_EDIT and trig["value"] < TRIGGER_MIN:
                raise APIError(400, f"{where}.trigger.value: Input should be greater "
                                    f"than or equal to {TRIGGER_MIN}")
        if t == COMPACT_EDIT:
            if "instructions" in e and e["instructions"] is not None \
                    and not isinstance(e["instructions"], str):
                raise APIError(400, f"{where}.instructions: Input should be a valid string")
            if "pause_after_compaction" in e and not isinstance(e["pause_after_compaction"], bool):
                raise APIError(400, f"{where}.pause_after_compaction: Input should be a "
                                    "valid boolean")
        edits[t] = e
    return edits


def check_ondemand(req, betas):
    c = req["compaction"]
    if ONDEMAND_BETA not in betas:
        raise APIError(400, f"compaction: requires the anthropic-beta header {ONDEMAND_BETA}")
    if not isinstance(c, dict) or c.get("type") != "summarize":
        raise APIError(400, "compaction.type: Input should be 'summarize'")
    for k in c:
        if k not in ("type", "instructions"):
            raise APIError(400, f"compaction.{k}: Extra inputs are not permitted")
    ins = c.get("instructions")
    if ins is not None and (not isinstance(ins, str) or len(ins) > INSTR_MAX):
        raise APIError(400, f"compaction.instructions: at most {INSTR_MAX} characters")
    if "context_management" in req:
        raise APIError(400, "compaction: cannot be combined with context_management")
    if "stop_sequences" in req:
        raise APIError(400, "compaction: cannot be combined with stop_sequences")
    if isinstance(req.get("output_config"), dict) and "format" in req["output_config"]:
        raise APIError(400, "compaction: cannot be combined with output_config.format")
    tc = req.get("tool_choice")
    if isinstance(tc, dict) and tc.get("type") in ("any", "tool"):
        raise APIError(400, "compaction: cannot be combined with tool_choice any or tool")


def blocks(msgs):
    for i, m in enumerate(msgs):
        if isinstance(m.get("content"), list):
            for j, b in enumerate(m["content"]):
                if isinstance(b, dict) and b.get("type") == "compaction":
                    yield i, j, b


def check_blocks(emu, msgs, betas):
    """Every block must be as the API sent it, with its header; a signed
    (on-demand) block must come first and alone."""
    signed = 0
    for i, j, b in blocks(msgs):
        where = f"messages.{i}.content.{j}"
        key = "signature" if "signature" in b else "encrypted_content"
        for k in b:
            if k not in ("type", "content", key, "cache_control"):
                raise APIError(400, f"{where}.compaction.{k}: Extra inputs are not permitted")
        content = b.get("content")
        if content is None:
            continue                    # a failed compaction: a no-op
        need = ONDEMAND_BETA if key == "signature" else COMPACT_BETA
        if need not in betas:
            raise APIError(400, f"{where}: compaction blocks require the anthropic-beta "
                                f"header {need}")
        if not isinstance(content, str) or not isinstance(b.get(key), str) \
                or not hmac.compare_digest(b[key], mac(emu, key, content)):
            code = "compaction_signature_invalid" if key == "signature" \
                else "compaction_content_mismatch"
            raise APIError(400, f"{where}: the compaction block was modified", code=code)
        if key == "signature":
            signed += 1
            if i != 0 or j != 0:
                raise APIError(400, f"{where}: summarized messages remain in front of the "
                                    "compaction block", code="compaction_block_misplaced")
    if signed > 1:
        raise APIError(400, "messages: send exactly one compaction block per request")
    return signed


def effective(msgs):
    """What the model sees: everything before the last compaction block
    is ignored."""
    last = None
    for i, j, b in blocks(msgs):
        if b.get("content") is not None:
            last = (i, j)
    if last is None:
        return msgs
    i, j = last
    head = dict(msgs[i], content=msgs[i]["content"][j:])
    return [head] + msgs[i + 1:]


def summary(msgs):
    """Deterministic: counts and the last user words, nothing random."""
    users = [m for m in msgs if m.get("role") == "user"]
    last = ""
    for m in reversed(users):
        c = m.get("content")
        if isinstance(c, str):
            last = c
        elif isinstance(c, list):
            last = " ".join(b.get("text", "") for b in c
                            if isinstance(b, dict) and b.get("type") == "text")
        if last:
            break
    return (f"Summary of the conversation: {len(msgs)} messages, {len(users)} from "
            f"the user. Last request: {last[:200]}")


class Plan:
    """What a request asks of this module, worked out once it is valid."""

    def __init__(self, emu, req, betas):
        self.emu = emu
        self.edits = {}
        self.ondemand = "compaction" in req
        if "context_management" in req:
            self.edits = check_edits(req["context_management"], betas)
        if self.ondemand:
            check_ondemand(req, betas)
        self.signed = check_blocks(emu, req["messages"], betas)
        self.msgs = effective(req["messages"])
        self.view = dict(req, messages=self.msgs)
        self.view.pop("stream", None)
        self.block = None
        self.iterations = None
        self.pause = False
        self.applied = []

    def input_tokens(self):
        return tokens_of(self.view)

    def summarize(self, in_tokens):
        """On-demand: the whole answer is the signed block."""
        msgs = self.msgs
        if len(msgs) == 1 and self.signed:
            raise APIError(400, "nothing to summarize since the last compaction",
                           code="compaction_nothing_to_summarize")
        text = summary(msgs)
        self.block = {"type": "compaction", "content": text,
                      "signature": mac(self.emu, "signature", text)}
        self.iterations = [{"type": "compaction", "input_tokens": in_tokens,
                            "output_tokens": max(1, len(text) // 4)}]
        return self.block

    def threshold(self, in_tokens):
        """compact_20260112: past the trigger, a block first; returns the
        input tokens the message iteration then reads."""
        e = self.edits.get(COMPACT_EDIT)
        if e is None:
            return in_tokens
        trig = (e.get("trigger") or {}).get("value", TRIGGER_DEFAULT)
        if in_tokens < trig:
            return in_tokens
        text = summary(self.msgs)
        self.block = {"type": "compaction", "content": text,
                      "encrypted_content": mac(self.emu, "encrypted_content", text)}
        self.pause = bool(e.get("pause_after_compaction"))
        self.iterations = [{"type": "compaction", "input_tokens": in_tokens,
                            "output_tokens": max(1, len(text) // 4)}]
        last = self.msgs[-1:] if self.msgs else []
        return tokens_of(self.block) + tokens_of(last)

    def context_edits(self, in_tokens):
        """Clearing is server-side: report what would be cleared."""
        e = self.edits.get(CLEAR_THINK)
        if e is not None:
            keep = e.get("keep")
            if keep is None:
                n = 1
            elif keep == "all" or (isinstance(keep, dict) and keep.get("type") == "all"):
                n = None                # keep them all
            else:
                n = keep.get("value", 1) if isinstance(keep, dict) else 1
            turns = [m for m in self.msgs if m.get("role") == "assistant"
                     and isinstance(m.get("content"), list)
                     and any(isinstance(b, dict) and b.get("type") == "thinking"
                             for b in m["content"])]
            gone = [] if n is None else turns[:max(0, len(turns) - n)]
            if gone:
                self.applied.append({"type": CLEAR_THINK, "cleared_thinking_turns": len(gone),
                                     "cleared_input_tokens": sum(tokens_of(m) for m in gone)})
        e = self.edits.get(CLEAR_TOOLS)
        if e is not None:
            trig = (e.get("trigger") or {}).get("value", 100000)
            keep = (e.get("keep") or {}).get("value", 3)
            results = [b for m in self.msgs if isinstance(m.get("content"), list)
                       for b in m["content"] if isinstance(b, dict)
                       and b.get("type", "").endswith("tool_result")]
            if in_tokens >= trig and len(results) > keep:
                gone = results[:len(results) - keep]
                self.applied.append({"type": CLEAR_TOOLS, "cleared_tool_uses": len(gone),
                                     "cleared_input_tokens": sum(tokens_of(b) for b in gone)})

    def context_management(self):
        if not self.edits:
            return None
        return {"applied_edits": self.applied}

    def usage(self, u):
        """The top level counts the last iteration only; the entries sum
        to the bill."""
        if self.iterations is None:
            return u
        it = list(self.iterations)
        if not self.ondemand and not self.pause:
            it.append({"type": "message", "input_tokens": u["input_tokens"],
                       "output_tokens": u["output_tokens"]})
        elif self.ondemand or self.pause:
            u = dict(u, input_tokens=0, output_tokens=0)
        return dict(u, iterations=it)
