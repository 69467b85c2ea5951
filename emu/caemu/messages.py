"""The Messages API routes: POST /v1/messages (a whole message or a
stream of events) and POST /v1/messages/count_tokens.
"""

import os
import shutil
import sys
import time
import traceback

from .compact import Plan
from .errors import APIError, ClientGone, StreamEnded
from .expire import answer as expired_answer, note_turn
from .faults import fault_usage
from .skills import mount
from .script import PING, Turn
from .sse import SSEWriter, emit_block
from .usage import out_tokens, usage
from .wire import MSG_MAX, PROG, jdump, new_id, safe_name


class Messages:
    """Handler methods: the Messages API routes."""

    def json_request(self, limit):
        if self.body_too_large or (self.raw_body is not None and len(self.raw_body) > limit):
            raise APIError(413, f"Request exceeds the maximum size of {limit} bytes")
        if not self.raw_body:
            raise APIError(400, "There was an error parsing the body of your request: empty body")
        if not self.json_ok:
            raise APIError(400, "There was an error parsing the body of your request: invalid JSON")
        if not isinstance(self.json_body, dict):
            raise APIError(400, "body: Input should be a valid dictionary")
        return self.json_body

    def resolve_container(self, req, tool):
        c = req.get("container")
        cid = None
        if isinstance(c, str):
            cid = c
        elif isinstance(c, dict):
            cid = c.get("id")
            if cid is not None and not isinstance(cid, str):
                raise APIError(400, "container.id: Input should be a valid string")
        elif c is not None:
            raise APIError(400, "container: Input should be a string or an object")
        if cid is not None:
            cont = self.emu.get_container(cid)
            if cont is None:
                raise APIError(404, f"container {cid} not found")
            if cont.expired():
                return expired_answer(cont)     # expire.py: raises, or not
            return cont
        return self.emu.new_container() if tool else None

    def copy_uploads(self, cont, uploads):
        for fid in uploads:
            if fid in cont.uploaded:
                continue
            cont.uploaded.add(fid)
            rec = self.emu.get_file(fid)
            name = safe_name(rec.filename) if rec else None
            if name is None:
                continue
            with cont.lock:
                dst = os.path.join(cont.work, name)
                tmp = dst + ".ca-emu-tmp"
                shutil.copyfile(rec.path, tmp)
                os.replace(tmp, dst)

    def h_messages(self):
        req = self.json_request(MSG_MAX)
        if self.emu.replay is not None:
            self.replay_answer(req)
            return
        tool, uploads = self.validate_request(req)
        plan = Plan(self.emu, req, set(self.betas()))     # compact.py
        self.cache_use = self.emu.prompt_cache(req)
        lat = self.emu.cfg("latency_ms")
        if lat:
            time.sleep(float(lat) / 1000)
        cont = self.resolve_container(req, tool)
        if cont is not None:
            self.copy_uploads(cont, uploads)
        turn = Turn(self.emu, req, tool, cont, self.req_info)
        self.cont_obj = None
        if cont is not None:
            self.cont_obj = cont.obj()
            if turn.skills:
                self.cont_obj["skills"] = mount(self.emu, cont, turn.skills)
        msg = {"id": new_id("msg_"), "type": "message", "role": "assistant",
               "model": req["model"], "content": [], "stop_reason": None,
               "stop_sequence": None, "stop_details": None, "container": None,
               "diagnostics": None, "usage": None}
        # About len/4 of the request, leaving "stream" out so that a streamed
        # turn and a plain one report the same usage.
        # What follows the last compaction block only: the API ignores
        # the rest.
        in_tokens = plan.input_tokens()
        if self.cache_use:
            # Input tokens count only what follows the cached prefix.
            in_tokens = max(1, in_tokens - self.cache_use[0] - self.cache_use[1])
        plan.context_edits(in_tokens)
        if plan.ondemand:
            turn = plan.summarize(in_tokens)
        else:
            in_tokens = plan.threshold(in_tokens)
        self.plan = plan
        if req.get("stream") is True:
            self.stream_turn(turn, msg, in_tokens, cont)
            return
        if plan.ondemand or plan.pause:
            blocks, stop = [plan.block], "compaction"
        else:
            blocks = [b for b in turn.run(lambda: None) if b is not PING]
            stop = turn.stop_reason
            note_turn(self.emu, cont, blocks)
        msg["content"] = ([plan.block] if plan.block and not plan.ondemand
                          and not plan.pause else []) + blocks
        msg["stop_reason"] = stop
        msg["container"] = self.cont_obj
        u = plan.usage(self.turn_usage(turn, in_tokens, blocks)
                       if not isinstance(turn, dict) else
                       usage(in_tokens, 1, None, cache=self.cache_use))
        msg["usage"] = fault_usage(self.fault, u)
        if plan.context_management() is not None:
            msg["context_management"] = plan.context_management()
        self.respond_json(200, msg)

    def replay_answer(self, req):
        """--replay: the recorded message, as recorded (request id and
        all); or, for a stream, the events of it."""
        a = self.emu.replay.answer(req, self.emu)
        if a.request_id and isinstance(a.request_id, str):
            self.rid = a.request_id
            self.rec["request_id"] = a.request_id
        if req.get("stream") is not True:
            self.respond(200, a.raw)
            return
        h = self.merged_headers("text/event-stream", {"cache-control": "no-cache",
                                                      "transfer-encoding": "chunked"})
        self.send_status(200, h)
        w = SSEWriter(self, self.fault if self.fault and self.fault.get("stream") else None)
        m = a.message
        u = m.get("usage") if isinstance(m.get("usage"), dict) else {}
        w.begin()
        start = dict(m, content=[], stop_reason=None, stop_sequence=None, container=None)
        w.event("message_start", {"type": "message_start", "message": start})
        for i, b in enumerate(m.get("content") or []):
            emit_block(w, i, b)
        w.event("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": m.get("stop_reason"), "stop_sequence": m.get("stop_sequence"),
                      "stop_details": m.get("stop_details"), "container": m.get("container")},
            "usage": u})
        w.event("message_stop", {"type": "message_stop"})
        w.end()

    def turn_usage(self, turn, in_tokens, blocks):
        server = turn.tool or turn.web
        think = sum(len(b["thinking"]) // 4 for b in blocks if b["type"] == "thinking")
        u = usage(in_tokens, out_tokens(blocks), turn.calls if server else None,
                  turn.counts, self.cache_use, think if turn.thinking else None)
        if self.emu.rl is not None:     # ratelimit.py: output counts as made
            self.emu.rl.charge_output(u["output_tokens"])
        return u

    def stream_blocks(self, w, turn, blocks):
        """The blocks of a streamed turn, a compaction block first."""
        plan = self.plan
        if plan.block is not None:
            emit_block(w, 0, plan.block)
            blocks.append(plan.block)
            if plan.ondemand or plan.pause:
                return "compaction"
        for b in turn.run(w.ping):
            if b is PING:
                w.ping()
                continue
            emit_block(w, len(blocks), b)
            blocks.append(b)
        return turn.stop_reason

    def stream_turn(self, turn, msg, in_tokens, cont):
        h = self.merged_headers("text/event-stream", {"cache-control": "no-cache",
                                                      "transfer-encoding": "chunked"})
        self.send_status(200, h)
        w = SSEWriter(self, self.fault if self.fault and self.fault.get("stream") else None)
        blocks = []
        try:
            w.begin()
            start = dict(msg)
            start["usage"] = fault_usage(self.fault, usage(in_tokens, 1, None, cache=self.cache_use))
            w.event("message_start", {"type": "message_start", "message": start})
            stop = self.stream_blocks(w, turn, blocks)
            note_turn(self.emu, cont, blocks)
            plan = self.plan
            u = plan.usage(self.turn_usage(turn, in_tokens, blocks)
                           if not isinstance(turn, dict) else
                           usage(in_tokens, 1, None, cache=self.cache_use))
            du = {"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"],
                  "cache_creation_input_tokens": u["cache_creation_input_tokens"],
                  "cache_read_input_tokens": u["cache_read_input_tokens"],
                  "server_tool_use": u["server_tool_use"],
                  "output_tokens_details": u["output_tokens_details"]}
            if "iterations" in u:
                du["iterations"] = u["iterations"]
            ev = {"type": "message_delta",
                  "delta": {"stop_reason": stop, "stop_sequence": None,
                            "stop_details": None, "container": self.cont_obj},
                  "usage": fault_usage(self.fault, du)}
            if plan.context_management() is not None:
                ev["context_management"] = plan.context_management()
            w.event("message_delta", ev)
            w.event("message_stop", {"type": "message_stop"})
            w.end()
        except (StreamEnded, ClientGone):
            raise
        except Exception:
            sys.stderr.write(f"{PROG}: internal error in a stream:\n{traceback.format_exc()}")
            w._send("error", jdump({"type": "error", "error": {
                "type": "api_error", "message": "Internal emulator error"}}))
            w.end()

    def h_count_tokens(self):
        req = self.json_request(MSG_MAX)
        self.validate_request(req, need_max_tokens=False)
        self.respond_json(200, {"input_tokens": max(1, len(self.raw_body) // 4)})
