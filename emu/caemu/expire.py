"""Containers that expire, answered the three ways the API is known to:
400 invalid_request_error with details.error_code container_expired (the
documented error), an untyped 500 (observed for a days-old id), or the
request taken and every code result a container_expired error (as a
third party reports it).  POST /_emu/containers/ID {"expired": true,
"answer": "400"|"500"|"result"} picks one; 400 is the default.

The API refuses a follow-up that leaves out the container its last turn
ran in, but documents sending the request again without it once that
container has expired: so the server_tool_use ids a container ran are
remembered, and a history whose last container is gone may come without.
"""

from .errors import APIError

ANSWERS = ("400", "500", "result")


def answer(cont):
    """An expired container named in a request: the error to raise, or
    the container itself when the results are to carry the error."""
    how = getattr(cont, "expire_answer", "400")
    if how == "500":
        raise APIError(500, "Internal server error")
    if how == "result":
        return cont
    raise APIError(400, f"container {cont.id} has expired", code="container_expired")


def result_error(cont):
    return getattr(cont, "expire_answer", "400") == "result" and cont.expired()


def set_answer(cont, body):
    how = body.get("answer", "400")
    if how not in ANSWERS:
        raise APIError(400, "answer must be one of " + ", ".join(ANSWERS))
    cont.expire_answer = how


def note_turn(emu, cont, blocks):
    """Remember which container ran this turn's calls."""
    if cont is None:
        return
    with emu.lock:
        ran = emu.__dict__.setdefault("tool_containers", {})
        for b in blocks:
            if isinstance(b, dict) and b.get("type") == "server_tool_use":
                ran[b.get("id")] = cont.id


def history_container_gone(emu, msgs):
    """Whether the last assistant message's calls ran in a container that
    has since expired."""
    ran = getattr(emu, "tool_containers", {})
    for m in reversed(msgs):
        if m.get("role") != "assistant" or not isinstance(m.get("content"), list):
            continue
        for b in m["content"]:
            if isinstance(b, dict) and b.get("type") == "server_tool_use":
                c = emu.get_container(ran.get(b.get("id"), ""))
                return c is not None and c.expired()
        return False
    return False
