"""Server-sent events: the event writer, with the stream faults, and the
events of one content block.
"""

import json

from .errors import StreamEnded
from .script import split_pieces
from .wire import jdump


class SSEWriter:
    def __init__(self, h, fault):
        self.h = h
        self.fault = fault
        self.count = 0

    def _check(self):
        f = self.fault
        if not f or f.get("stream") in ("slow", "raw") or self.count != f.get("after"):
            return
        kind = f["stream"]
        if kind == "error_after":
            self._send("error", jdump({"type": "error", "error": {
                "type": "overloaded_error", "message": "Overloaded"}}))
            self.end()
            raise StreamEnded()
        if kind == "cut_after":
            self.end()
            raise StreamEnded()
        if kind == "reset_after":
            self.h.rst()
            raise StreamEnded()
        if kind == "stall_after":
            self.h.emu.pause(self.h, "stream:stall_after", f.get("stall_ms", 0), self.count)

    def begin(self):
        self._check()

    def _send(self, name, data):
        self.h.write_chunk(b"event: " + name.encode() + b"\ndata: " + data + b"\n\n")

    def event(self, name, obj, raw=None):
        f = self.fault
        if f and f.get("stream") == "slow" and self.count > 0:
            self.h.emu.pause(self.h, "stream:slow", f.get("gap_ms", 0), self.count)
        self._send(name, raw if raw is not None else jdump(obj))
        self.count += 1
        self._check()

    def ping(self):
        self.event("ping", None, raw=b'{"type": "ping"}')

    def end(self):
        self.h.write_raw(b"0\r\n\r\n")


def emit_block(w, idx, block):
    t = block["type"]
    if t == "text":
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": dict(block, text="")})
        for piece in split_pieces(block["text"], 24):
            w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                            "delta": {"type": "text_delta", "text": piece}})
    elif t == "thinking":
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": dict(block, thinking="",
                                                              signature="")})
        if block["thinking"]:
            for piece in split_pieces(block["thinking"], 24):
                w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                "delta": {"type": "thinking_delta", "thinking": piece}})
        w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                        "delta": {"type": "signature_delta",
                                                  "signature": block["signature"]}})
    elif t in ("server_tool_use", "mcp_tool_use", "tool_use"):
        start = dict(block)
        start["input"] = {}
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": start})
        for piece in [""] + split_pieces(json.dumps(block["input"]), 48):
            w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                            "delta": {"type": "input_json_delta", "partial_json": piece}})
    elif t == "compaction" and "encrypted_content" in block:
        # Threshold compaction: the summary whole in one delta.
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": dict(block, content=None,
                                                              encrypted_content=None)})
        w.event("content_block_delta", {"type": "content_block_delta", "index": idx,
                                        "delta": {"type": "compaction_delta",
                                                  "content": block["content"],
                                                  "encrypted_content": block["encrypted_content"]}})
    else:
        w.event("content_block_start", {"type": "content_block_start", "index": idx,
                                        "content_block": block})
    w.event("content_block_stop", {"type": "content_block_stop", "index": idx})
