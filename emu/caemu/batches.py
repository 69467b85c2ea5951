"""Message Batches: create, get, list, cancel, delete and results.  A batch
is processed all at once, by the first request that looks at it once its
delay is over; each request's result kind comes from a "ca-emu-batch:"
line in its prompt (default: it runs, and succeeds or errors as a Messages
request would).  Results are written to a JSONL file in a shuffled order.
"""

import json
import os
import random
import re
import threading
import time

from .errors import APIError, error_body
from .script import PING, Turn, user_text
from .usage import out_tokens, usage
from .wire import BODY_MEM_MAX, jdump, new_id, rfc3339


BATCH_CONFIG = {"batch_delay_ms": 0,            # in_progress for this long
                "batch_max_requests": 100000,   # per batch (400 above)
                "batch_max_bytes": 256 << 20,   # create body (413 above)
                "batch_results_port": 0}        # results_url on this port
BATCH_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")
BATCH_DIRECTIVE = re.compile(r"^ca-emu-batch:[ \t]*(succeeded|errored|canceled|expired)"
                             r"(?:[ \t]+([a-z_]+))?[ \t]*$", re.M)
BATCH_PAD = re.compile(r"^ca-emu-batch-pad:[ \t]*([0-9]{1,10})[ \t]*$", re.M)
BATCH_TTL = 86400.0


class Batch:
    def __init__(self, bid, version, requests, state_dir):
        self.id = bid
        self.version = version
        self.requests = requests        # [(custom_id, params as JSON text)]
        self.created = time.time()
        self.status = "in_progress"
        self.cancel_at = None
        self.ended_at = None
        self.counts = {"processing": len(requests), "succeeded": 0, "errored": 0,
                       "canceled": 0, "expired": 0}
        self.path = os.path.join(state_dir, bid + ".jsonl")
        self.results_url = None
        self.lock = threading.Lock()

    def obj(self):
        return {"id": self.id, "type": "message_batch",
                "processing_status": self.status, "request_counts": dict(self.counts),
                "created_at": rfc3339(self.created, frac=True),
                "expires_at": rfc3339(self.created + BATCH_TTL, frac=True),
                "ended_at": rfc3339(self.ended_at, frac=True) if self.ended_at else None,
                "cancel_initiated_at": rfc3339(self.cancel_at, frac=True)
                if self.cancel_at else None,
                "archived_at": None, "results_url": self.results_url}


def batch_store(emu):
    with emu.lock:
        if not hasattr(emu, "batches"):
            emu.batches = {}
            emu.batch_order = []        # ids, oldest first
            emu.batch_dir = os.path.join(emu.state, "batches")
            os.makedirs(emu.batch_dir, exist_ok=True)
        return emu.batches


def batch_routes(h, p):
    m = re.fullmatch(r"/v1/messages/batches(?:/([^/]+)(/cancel|/results)?)?", p)
    if m is None:
        raise APIError(404, f"Not found: {h.command} {p}")
    bid, tail = m.group(1), m.group(2)
    if bid is None:
        return {"POST": lambda: batch_create(h), "GET": lambda: batch_list(h)}
    if tail == "/cancel":
        return {"POST": lambda: batch_cancel(h, bid)}
    if tail == "/results":
        return {"GET": lambda: batch_results(h, bid)}
    return {"GET": lambda: h.respond_json(200, batch_get(h, bid).obj()),
            "DELETE": lambda: batch_delete(h, bid)}


def batch_create(h):
    emu = h.emu
    limit = int(emu.cfg("batch_max_bytes"))
    body = h.json_request(min(limit, BODY_MEM_MAX))
    if len(h.raw_body) > 1 << 20:       # keep the log readable
        h.log_body = {"requests": f"({len(body.get('requests') or [])} requests)"}
    reqs = body.get("requests")
    if not isinstance(reqs, list) or not reqs:
        raise APIError(400, "requests: Input should be a non-empty list")
    if len(reqs) > int(emu.cfg("batch_max_requests")):
        raise APIError(400, f"requests: a batch holds at most "
                            f"{int(emu.cfg('batch_max_requests'))} requests")
    seen, out = set(), []
    for i, r in enumerate(reqs):
        if not isinstance(r, dict):
            raise APIError(400, f"requests.{i}: Input should be a valid dictionary")
        cid, params = r.get("custom_id"), r.get("params")
        if not isinstance(cid, str) or not BATCH_CUSTOM_ID.match(cid):
            raise APIError(400, f"requests.{i}.custom_id: String should match pattern "
                                "'^[a-zA-Z0-9_-]{1,64}$'")
        if cid in seen:
            raise APIError(400, f"requests.{i}.custom_id: duplicate custom_id {cid!r}")
        seen.add(cid)
        if not isinstance(params, dict):
            raise APIError(400, f"requests.{i}.params: Input should be a valid dictionary")
        for f in ("model", "max_tokens", "messages"):
            if f not in params:
                raise APIError(400, f"requests.{i}.params.{f}: field required")
        if params.get("stream") is True:
            raise APIError(400, f"requests.{i}.params.stream: streaming is not "
                                "supported in batches")
        if params.get("max_tokens") == 0:
            raise APIError(400, f"requests.{i}.params.max_tokens: must be at least 1 "
                                "in batches")
        if "speed" in params:
            raise APIError(400, f"requests.{i}.params.speed: not supported in batches")
        out.append((cid, jdump(params)))
    store = batch_store(emu)
    b = Batch(new_id("msgbatch_"), h.version, out, emu.batch_dir)
    with emu.lock:
        store[b.id] = b
        emu.batch_order.append(b.id)
    h.respond_json(200, b.obj())


def batch_get(h, bid):
    store = batch_store(h.emu)
    with h.emu.lock:
        b = store.get(bid)
    if b is None:
        raise APIError(404, f"Batch not found: {bid}")
    batch_advance(h, b)
    return b


def batch_advance(h, b):
    """End the batch if its time has come (or it is being canceled)."""
    with b.lock:
        if b.status == "ended":
            return
        delay = float(h.emu.cfg("batch_delay_ms")) / 1000
        if b.status != "canceling" and time.time() < b.created + delay:
            return
        lines = [batch_one(h, b, cid, params) for cid, params in b.requests]
        random.shuffle(lines)
        with open(b.path, "wb") as f:
            for ln in lines:
                f.write(ln + b"\n")
        port = int(h.emu.cfg("batch_results_port")) or h.server.server_address[1]
        b.results_url = f"http://127.0.0.1:{port}/v1/messages/batches/{b.id}/results"
        b.ended_at = time.time()
        b.status = "ended"
        b.requests = []


def batch_one(h, b, cid, params):
    """One request's result line (bytes)."""
    req = json.loads(params)
    kind, etype, pad = "succeeded", None, 0
    msgs = req.get("messages")
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "user":
                d = BATCH_DIRECTIVE.search(user_text(m))
                if d:
                    kind, etype = d.group(1), d.group(2)
                d = BATCH_PAD.search(user_text(m))
                if d:
                    pad = int(d.group(1))
                break
    if b.status == "canceling":
        kind = "canceled"
    res = {"type": kind}
    if kind == "succeeded":
        try:
            res["message"] = batch_message(h, b, req)
            if pad:
                res["message"]["content"].append({"type": "text", "text": "x" * pad})
        except APIError as e:
            kind, res = "errored", {"type": "errored", "error": error_body(
                e.etype, e.message, new_id("req_"), e.code)}
    elif kind == "errored":
        etype = etype or "invalid_request_error"
        res["error"] = error_body(etype, f"emulated {etype}", new_id("req_"))
    b.counts["processing"] -= 1
    b.counts[kind] += 1
    return jdump({"custom_id": cid, "result": res})


def batch_message(h, b, req):
    h.version = b.version
    tool, uploads = h.validate_request(req)
    cont = h.resolve_container(req, tool)
    if cont is not None:
        h.copy_uploads(cont, uploads)
    turn = Turn(h.emu, req, tool, cont)
    blocks = [x for x in turn.run(lambda: None) if x is not PING]
    in_tokens = max(1, len(jdump(req)) // 4)
    u = usage(in_tokens, out_tokens(blocks), turn.calls if tool else None)
    u["service_tier"] = "batch"
    return {"id": new_id("msg_"), "type": "message", "role": "assistant",
            "model": req["model"], "content": blocks, "stop_reason": turn.stop_reason,
            "stop_sequence": None, "stop_details": None,
            "container": cont.obj() if cont else None, "diagnostics": None, "usage": u}


def batch_list(h):
    store = batch_store(h.emu)
    q = {k: v[-1] for k, v in h.query.items()}
    try:
        limit = int(q.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise APIError(400, "limit: Input should be between 1 and 1000")
    with h.emu.lock:
        ids = [i for i in reversed(h.emu.batch_order) if i in store]
    if "after_id" in q and "before_id" in q:
        raise APIError(400, "before_id and after_id are exclusive")
    for key in ("after_id", "before_id"):
        if key in q and q[key] not in ids:
            raise APIError(400, f"{key}: unknown batch {q[key]!r}")
    if "after_id" in q:
        rest = ids[ids.index(q["after_id"]) + 1:]
        page, more = rest[:limit], len(rest) > limit
    elif "before_id" in q:
        rest = ids[:ids.index(q["before_id"])]
        page, more = rest[-limit:], len(rest) > limit
    else:
        page, more = ids[:limit], len(ids) > limit
    data = [batch_get(h, i).obj() for i in page]
    h.respond_json(200, {"data": data, "has_more": more,
                         "first_id": page[0] if page else None,
                         "last_id": page[-1] if page else None})


def batch_cancel(h, bid):
    b = batch_get(h, bid)
    with b.lock:
        if b.status == "in_progress":
            b.status = "canceling"
            b.cancel_at = time.time()
    h.respond_json(200, b.obj())


def batch_delete(h, bid):
    b = batch_get(h, bid)
    if b.status != "ended":
        raise APIError(400, f"Batch {bid} is still processing; cancel it first")
    with h.emu.lock:
        h.emu.batches.pop(bid, None)
    try:
        os.unlink(b.path)
    except OSError:
        pass
    h.respond_json(200, {"id": bid, "type": "message_batch_deleted"})


def batch_results(h, bid):
    b = batch_get(h, bid)
    if b.status != "ended":
        raise APIError(400, f"Batch {bid} is still processing; results are available "
                            "once it has ended")
    h.respond(200, ctype="application/binary", path=b.path)
