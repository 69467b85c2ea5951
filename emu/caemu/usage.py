"""Token accounting: the usage object of a response, output tokens, and
prompt-caching breakpoints.
"""

import json

from .wire import jdump


def cache_breakpoints(req):
    """The request as a list of cacheable pieces in prefix order (tools,
    system, message blocks), and the indexes of its cache breakpoints."""
    pieces, marks = [], []
    ttl = ["5m"]

    def add(x):
        pieces.append(jdump(x))
        cc = x.get("cache_control") if isinstance(x, dict) else None
        if cc is not None:
            marks.append(len(pieces) - 1)
            if isinstance(cc, dict):
                ttl[0] = cc.get("ttl", "5m")

    for t in req.get("tools") or []:
        add(t)
    sysp = req.get("system")
    if isinstance(sysp, list):
        for b in sysp:
            add(b)
    elif sysp is not None:
        add(sysp)
    for m in req["messages"]:
        c = m.get("content")
        if isinstance(c, list):
            for b in c:
                add(b)
        else:
            add(c)
    cc = req.get("cache_control")
    if cc is not None and pieces and (not marks or marks[-1] != len(pieces) - 1):
        marks.append(len(pieces) - 1)      # automatic: the last block
        if isinstance(cc, dict):
            ttl[0] = cc.get("ttl", "5m")
    return pieces, marks, ttl[0]


def out_tokens(blocks):
    n = 0
    for b in blocks:
        if b["type"] == "text":
            n += len(b["text"])
        elif b["type"] in ("server_tool_use", "mcp_tool_use"):
            n += len(json.dumps(b["input"]))
        elif b["type"] == "thinking":
            n += len(b["thinking"])
    return max(1, n // 4)


def usage(inp, out, calls, web=None, cache=None, thinking=None):
    """calls: code execution calls, or None without server tools; web:
    {"web_search": n, "web_fetch": n}; cache: (read, write, ttl)."""
    stu = None
    if calls is not None:
        web = web or {}
        stu = {"web_search_requests": web.get("web_search", 0),
               "web_fetch_requests": web.get("web_fetch", 0), "code_execution_requests": calls}
    read, write, ttl = cache or (0, 0, "5m")
    return {"input_tokens": inp, "output_tokens": out,
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write if ttl != "1h" else 0,
                               "ephemeral_1h_input_tokens": write if ttl == "1h" else 0},
            "server_tool_use": stu, "service_tier": "standard", "inference_geo": "global",
            "output_tokens_details": None if thinking is None else {"thinking_tokens": thinking},
            "speed": "standard"}
