"""Fault rules (POST /_emu/faults): their keys, validation, matching, and
the faults that answer a request before it is routed.
"""

import re
import time

from .errors import APIError, ERROR_MESSAGES, ERROR_TYPES, error_body
from .wire import gen_bytes, jdump


FAULT_EFFECTS = ("status", "reset", "latency_ms", "stream", "content_length_lie",
                 "cut_body", "redirect", "huge_body", "headers", "hang_ms",
                 "usage", "usage_drop")
FAULT_KEYS = FAULT_EFFECTS + ("method", "path", "times", "body", "after",
                              "stall_ms", "gap_ms", "chunked", "read_body_bytes",
                              "sse", "chunk_bytes", "comment")
STREAM_FAULTS = ("error_after", "cut_after", "reset_after", "stall_after",
                 "slow", "raw")


def path_matches(pattern, path):
    """Exact match; each '*' matches any run of characters ('/' too), so a
    pattern ending in '*' is a prefix and /v1/files/*/content works."""
    if "*" not in pattern:
        return path == pattern
    rx = ".*".join(re.escape(x) for x in pattern.split("*"))
    return re.fullmatch(rx, path, re.S) is not None


def validate_fault(r):
    if not isinstance(r, dict):
        raise APIError(400, "a fault rule must be an object")
    for k in r:
        if k not in FAULT_KEYS:
            raise APIError(400, f"fault rule: unknown key {k!r}")
    if not any(k in r for k in FAULT_EFFECTS):
        raise APIError(400, "fault rule: no effect given")
    if "path" in r and not isinstance(r["path"], str):
        raise APIError(400, "fault rule: path must be a string")
    if "method" in r and not isinstance(r["method"], str):
        raise APIError(400, "fault rule: method must be a string")
    t = r.get("times", 1)
    if not isinstance(t, int) or isinstance(t, bool):
        raise APIError(400, "fault rule: times must be an integer (-1: unlimited)")
    if "status" in r and (not isinstance(r["status"], int) or not 100 <= r["status"] <= 999):
        raise APIError(400, "fault rule: status must be an integer 100..999")
    if "reset" in r and r["reset"] not in ("before_headers", "after_headers"):
        raise APIError(400, "fault rule: reset must be before_headers or after_headers")
    if "stream" in r:
        if r["stream"] not in STREAM_FAULTS:
            raise APIError(400, "fault rule: stream must be one of " + ", ".join(STREAM_FAULTS))
        if r["stream"] not in ("slow", "raw") and not isinstance(r.get("after"), int):
            raise APIError(400, "fault rule: stream faults need an integer 'after'")
        if r["stream"] == "raw" and not isinstance(r.get("sse"), str):
            raise APIError(400, "fault rule: stream raw needs an 'sse' string")
    if "headers" in r and not isinstance(r["headers"], dict):
        raise APIError(400, "fault rule: headers must be an object")
    for k in ("latency_ms", "hang_ms", "huge_body", "stall_ms", "gap_ms",
              "read_body_bytes", "chunk_bytes"):
        if k in r and (not isinstance(r[k], (int, float)) or r[k] < 0):
            raise APIError(400, f"fault rule: {k} must be a number >= 0")
    if "redirect" in r and not isinstance(r["redirect"], str):
        raise APIError(400, "fault rule: redirect must be a URL string")
    if "usage" in r and not isinstance(r["usage"], dict):
        raise APIError(400, "fault rule: usage must be an object")
    if "usage_drop" in r and (not isinstance(r["usage_drop"], list) or
                              not all(isinstance(k, str) for k in r["usage_drop"])):
        raise APIError(400, "fault rule: usage_drop must be a list of field names")


def fault_usage(fault, u):
    """The message's usage u as a usage fault rewrites it: each field of
    "usage" set to its value (any JSON, null or a string too), each field
    of "usage_drop" removed; u itself when no such fault applies."""
    if not fault or not ("usage" in fault or "usage_drop" in fault):
        return u
    u = dict(u)
    u.update(fault.get("usage") or {})
    for k in fault.get("usage_drop") or []:
        u.pop(k, None)
    return u


def describe_fault(r):
    for k in ("reset", "stream"):
        if k in r:
            return f"{k}:{r[k]}"
    for k in ("status", "redirect", "huge_body", "hang_ms"):
        if k in r:
            return f"{k}:{r[k]}"
    for k in ("content_length_lie", "cut_body", "latency_ms", "headers",
              "usage", "usage_drop"):
        if k in r:
            return k
    return "rule"


class Faults:
    """Handler methods: faults that answer a request before it is routed."""

    def apply_fault(self, r):
        """Apply a fault rule; True when it answered the request itself."""
        if r.get("latency_ms"):
            self.emu.pause(self, "latency_ms", r["latency_ms"])
        if r.get("reset"):
            if "read_body_bytes" in r:
                self.body.read_exact(int(r["read_body_bytes"]))
                self.body_done = True
            else:
                self.finish_request_body()
            if r["reset"] == "after_headers":
                h = self.api_headers()
                h["content-type"] = "application/json"
                h["content-length"] = "4096"
                self.send_status(200, h, log_status=0)
                self.write_raw(b'{"id":"msg_')
            self.rst()
            return True
        if "hang_ms" in r:
            self.finish_request_body()
            time.sleep(float(r["hang_ms"]) / 1000)
            self.write_log(0)
            self.close_plain()
            return True
        if "status" in r:
            self.fault = {"headers": r.get("headers") or {}}
            st = r["status"]
            if "body" in r:
                b = r["body"]
                data = b.encode("utf-8", "surrogateescape") if isinstance(b, str) else jdump(b)
            elif st >= 400:
                data = jdump(error_body(ERROR_TYPES.get(st, "api_error"),
                                        ERROR_MESSAGES.get(st, "Error"), self.rid))
            else:
                data = b""
            self.respond(st, data)
            return True
        if "redirect" in r:
            self.fault = {"headers": r.get("headers") or {}}
            self.respond(302, b"", headers={"location": r["redirect"]})
            return True
        if "huge_body" in r:
            n = int(r["huge_body"])
            self.fault = {"headers": r.get("headers") or {}}
            if r.get("chunked"):
                h = self.merged_headers("application/octet-stream")
                h["transfer-encoding"] = "chunked"
                self.send_status(200, h)
                for d in gen_bytes(n):
                    self.write_chunk(d)
                self.write_raw(b"0\r\n\r\n")
            else:
                self.respond(200, ctype="application/octet-stream",
                             gen=lambda: gen_bytes(n), length=n)
            return True
        if r.get("stream") == "raw":
            self.fault = {"headers": r.get("headers") or {}}
            h = self.merged_headers("text/event-stream")
            h["transfer-encoding"] = "chunked"
            self.send_status(200, h)
            data = r["sse"].encode("utf-8", "surrogateescape")
            step = int(r.get("chunk_bytes") or len(data) or 1)
            for i in range(0, len(data), step):
                if i and r.get("gap_ms"):
                    self.emu.pause(self, "stream:raw", r["gap_ms"], i // step)
                self.write_chunk(data[i:i + step])
            self.write_raw(b"0\r\n\r\n")
            return True
        self.fault = r                  # stream faults, body faults, headers
        return False
