"""Request validation: the fields, messages, tools, containers, web and MCP
tools, schemas and thinking settings of a Messages request, checked as the
API checks them, with the same error types.
"""

import re

from .tools import prompt_index, validate_results, validate_tool_def
from .errors import APIError
from .expire import history_container_gone
from .skills import check_custom
from .tables import (ANTHROPIC_SKILLS, BETA_FIELDS, CALLERS, CODE_CALL_NAMES,
                     CODE_TOOL_TYPES, COUNT_FIELDS, CUSTOM_FIELDS, DOCUMENT_TYPES,
                     IMAGE_TYPES, MCP_BETAS, MCP_TOOLSET_FIELDS,
                     MESSAGE_FIELDS, NO_PTC_MODELS, SAMPLING, THINKING_ENABLED_MODELS,
                     model_served,
                     TOOL_COMMON, UNSUPPORTED_SCHEMA, WEB_FETCH_TYPES, WEB_SEARCH_TYPES)


def collect_file_refs(blocks, uploads, refs):
    """File ids of container_upload blocks, and of document/image blocks
    whose source is a file (also inside tool_result content)."""
    for b in blocks:
        if not isinstance(b, dict):
            continue
        t = b.get("type")
        if t == "container_upload":
            uploads.append(b.get("file_id"))
        elif t in ("document", "image") and isinstance(b.get("source"), dict) \
                and b["source"].get("type") == "file":
            refs.append(b["source"].get("file_id"))
        if isinstance(b.get("content"), list):
            collect_file_refs(b["content"], uploads, refs)


def extra_fields(where, obj, allowed):
    for k in obj:
        if k not in allowed:
            raise APIError(400, f"{where}.{k}: Extra inputs are not permitted")


def check_file_block(where, b):
    """A container_upload needs its file_id; a file source too."""
    t = b["type"]
    if t == "container_upload" and not isinstance(b.get("file_id"), str):
        raise APIError(400, f"{where}.file_id: Field required")
    if t in ("document", "image"):
        src = b.get("source")
        if not isinstance(src, dict):
            raise APIError(400, f"{where}.source: Field required")
        if src.get("type") == "file" and not isinstance(src.get("file_id"), str):
            raise APIError(400, f"{where}.source.file_id: Field required")
    if isinstance(b.get("content"), list):
        for k, x in enumerate(b["content"]):
            if isinstance(x, dict) and isinstance(x.get("type"), str):
                check_file_block(f"{where}.content.{k}", x)


def file_blocks(msgs):
    """(path, "image"|"document", file_id) of every block whose source is a
    file, tool_result content included."""
    out = []

    def walk(where, blocks):
        for j, b in enumerate(blocks):
            if not isinstance(b, dict):
                continue
            src = b.get("source")
            if b.get("type") in ("document", "image") and isinstance(src, dict) \
                    and src.get("type") == "file":
                out.append((f"{where}.{j}", b["type"], src["file_id"]))
            if isinstance(b.get("content"), list):
                walk(f"{where}.{j}.content", b["content"])

    for i, m in enumerate(msgs):
        if isinstance(m.get("content"), list):
            walk(f"messages.{i}.content", m["content"])
    return out


def is_domain(d):
    return isinstance(d, str) and d != "" and "://" not in d and not d.startswith(("/", "."))


def validate_web_tool(i, t):
    """Fields of a web_search_* or web_fetch_* tool; returns its name."""
    ty = t["type"]
    search = ty in WEB_SEARCH_TYPES
    name = "web_search" if search else "web_fetch"
    ver = ty.rsplit("_", 1)[1]
    ok = TOOL_COMMON + ("max_uses", "allowed_domains", "blocked_domains")
    ok += ("user_location",) if search else ("citations", "max_content_tokens", "url_sources")
    if not search and ver >= "20260309":
        ok += ("use_cache",)
    if ver >= "20260318":
        ok += ("response_inclusion",)
    where = f"tools.{i}"
    extra_fields(where, t, ok)
    if t.get("name") != name:
        raise APIError(400, f"{where}.name: Input should be '{name}'")
    for f in ("max_uses", "max_content_tokens"):
        v = t.get(f)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise APIError(400, f"{where}.{f}: Input should be a positive integer")
    if t.get("allowed_domains") is not None and t.get("blocked_domains") is not None:
        raise APIError(400, f"{where}: use allowed_domains or blocked_domains, not both")
    for f in ("allowed_domains", "blocked_domains"):
        v = t.get(f)
        if v is not None and (not isinstance(v, list) or not all(is_domain(d) for d in v)):
            raise APIError(400, f"{where}.{f}: a list of domains without a scheme")
    loc = t.get("user_location")
    if loc is not None:
        if not isinstance(loc, dict) or loc.get("type") != "approximate":
            raise APIError(400, f"{where}.user_location.type: Input should be 'approximate'")
        extra_fields(f"{where}.user_location", loc,
                     ("type", "city", "region", "country", "timezone"))
        if len(loc) < 2:
            raise APIError(400, f"{where}.user_location: give at least one of city, region, "
                                "country, timezone")
        c = loc.get("country")
        if c is not None and (not isinstance(c, str) or not re.fullmatch(r"[A-Z]{2}", c)):
            raise APIError(400, f"{where}.user_location.country: an ISO 3166-1 alpha-2 code")
    cit = t.get("citations")
    if cit is not None:
        if not isinstance(cit, dict):
            raise APIError(400, f"{where}.citations: Input should be a valid dictionary")
        extra_fields(f"{where}.citations", cit, ("enabled",))
    ac = t.get("allowed_callers")
    if ac is not None and (not isinstance(ac, list) or any(c not in CALLERS for c in ac)):
        raise APIError(400, f"{where}.allowed_callers: Input should be a list of "
                            + ", ".join(CALLERS))
    if t.get("response_inclusion") not in (None, "full", "excluded"):
        raise APIError(400, f"{where}.response_inclusion: Input should be 'full' or 'excluded'")
    return name


def validate_mcp_servers(servers, toolsets):
    """mcp_servers against the mcp_toolset tools: {name: server}."""
    out = {}
    if servers is None:
        if toolsets:
            raise APIError(400, f"tools: mcp_toolset names MCP server "
                                f"{next(iter(toolsets))}, which is not in mcp_servers")
        return out
    if not isinstance(servers, list):
        raise APIError(400, "mcp_servers: Input should be a valid list")
    for k, s in enumerate(servers):
        where = f"mcp_servers.{k}"
        if not isinstance(s, dict):
            raise APIError(400, f"{where}: Input should be a valid dictionary")
        extra_fields(where, s, ("type", "url", "name", "authorization_token", "tool_configuration"))
        if s.get("type") != "url":
            raise APIError(400, f"{where}.type: Input should be 'url'")
        if not isinstance(s.get("url"), str) or not s["url"].startswith("https://"):
            raise APIError(400, f"{where}.url: must start with https://")
        if not isinstance(s.get("name"), str) or not s["name"]:
            raise APIError(400, f"{where}.name: Field required")
        if s["name"] in out:
            raise APIError(400, f"{where}.name: MCP server names must be unique")
        tok = s.get("authorization_token")
        if tok is not None and not isinstance(tok, str):
            raise APIError(400, f"{where}.authorization_token: Input should be a string")
        if s["name"] not in toolsets:
            raise APIError(400, f"{where}: MCP server {s['name']} must be referenced by "
                                "exactly one mcp_toolset in tools")
        out[s["name"]] = s
    for sn in toolsets:
        if sn not in out:
            raise APIError(400, f"tools: mcp_toolset names MCP server {sn}, "
                                "which is not in mcp_servers")
    return out


def check_schema(where, sch):
    if not isinstance(sch, dict):
        raise APIError(400, f"{where}: a schema must be an object")
    for k in sch:
        if k in UNSUPPORTED_SCHEMA:
            raise APIError(400, f"{where}.{k}: this schema keyword is not supported")
    if sch.get("type") == "object" and sch.get("additionalProperties") is not False:
        raise APIError(400, f"{where}.additionalProperties: must be set to false for objects")
    if "minItems" in sch and sch["minItems"] not in (0, 1):
        raise APIError(400, f"{where}.minItems: only 0 or 1 is supported")
    for k, v in (sch.get("properties") or {}).items():
        check_schema(f"{where}.properties.{k}", v)
    if isinstance(sch.get("items"), dict):
        check_schema(f"{where}.items", sch["items"])
    for k in ("anyOf", "allOf"):
        for n, v in enumerate(sch.get(k) or []):
            check_schema(f"{where}.{k}.{n}", v)


def validate_output_config(req):
    """output_config {effort, format}; returns the JSON schema or None."""
    oc = req.get("output_config")
    fmt = req.get("output_format")
    if oc is not None:
        if not isinstance(oc, dict):
            raise APIError(400, "output_config: Input should be a valid dictionary")
        extra_fields("output_config", oc, ("effort", "format", "task_budget"))
        if oc.get("effort") not in (None, "low", "medium", "high", "xhigh", "max"):
            raise APIError(400, "output_config.effort: Input should be 'low', 'medium', "
                                "'high', 'xhigh' or 'max'")
        fmt = oc.get("format", fmt)
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise APIError(400, "output_config.format.type: Input should be 'json_schema'")
    extra_fields("output_config.format", fmt, ("type", "schema"))
    check_schema("output_config.format.schema", fmt.get("schema"))
    return fmt["schema"]


def validate_thinking(req, need_max_tokens):
    th = req.get("thinking")
    if th is None:
        return None
    if not isinstance(th, dict) or th.get("type") not in ("enabled", "adaptive", "disabled",
                                                          "between_tools"):
        raise APIError(400, "thinking.type: Input should be 'enabled', 'adaptive', "
                            "'disabled' or 'between_tools'")
    extra_fields("thinking", th, ("type", "budget_tokens", "display"))
    if th.get("display") not in (None, "summarized", "omitted"):
        raise APIError(400, "thinking.display: Input should be 'summarized' or 'omitted'")
    if th["type"] == "enabled":
        bt = th.get("budget_tokens")
        if not isinstance(bt, int) or isinstance(bt, bool) or bt < 1024:
            raise APIError(400, "thinking.budget_tokens: Input should be an integer >= 1024")
        if need_max_tokens and bt >= req["max_tokens"]:
            raise APIError(400, "thinking.budget_tokens: must be less than max_tokens")
    elif "budget_tokens" in th:
        raise APIError(400, "thinking.budget_tokens: Extra inputs are not permitted")
    return th


def trailing_blocks(msgs):
    """The assistant blocks after the prompt (the last user message that
    is not only tool results): the paused turn."""
    last_user = prompt_index(msgs)
    out = []
    for m in msgs[last_user + 1:]:
        if m.get("role") == "assistant" and isinstance(m.get("content"), list):
            out.extend(b for b in m["content"] if isinstance(b, dict))
    return out


def pending_call(blocks):
    """A server_tool_use or mcp_tool_use at the end of blocks with no
    result yet, or None."""
    done = {b.get("tool_use_id") for b in blocks if "tool_use_id" in b}
    for b in reversed(blocks):
        if b.get("type") in ("server_tool_use", "mcp_tool_use"):
            return None if b.get("id") in done else b
        if b.get("type") not in ("text", "thinking", "redacted_thinking"):
            return None
    return None


def check_pending_tools(msgs, tool, web, mcp):
    """A paused turn that ends on a call with no result must come back
    with the tool that runs it."""
    b = pending_call(trailing_blocks(msgs))
    if b is None:
        return
    name = b.get("name")
    if b["type"] == "mcp_tool_use":
        if b.get("server_name") not in mcp:
            raise APIError(400, f"the paused turn has a pending mcp_tool_use for server "
                                f"{b.get('server_name')}, but no mcp_toolset for it was provided")
    elif name in CODE_CALL_NAMES and not tool:
        raise APIError(400, "the paused turn has a pending code execution call, but no "
                            "code_execution tool was provided")
    elif name in ("web_search", "web_fetch") and name not in web:
        raise APIError(400, f"the paused turn has a pending {name} call, but no {name} "
                            "tool was provided")


def last_turn_used_container(msgs):
    """Whether the last assistant message holds code execution blocks."""
    for m in reversed(msgs):
        if m.get("role") != "assistant":
            continue
        c = m.get("content")
        if not isinstance(c, list):
            return False
        for b in c:
            if not isinstance(b, dict):
                continue
            t = b.get("type", "")
            if t == "server_tool_use" and b.get("name") in CODE_CALL_NAMES:
                return True
            if t.endswith("code_execution_tool_result"):
                return True
        return False
    return False


class Validation:
    """Handler methods: validation of a Messages request."""

    def validate_request(self, req, need_max_tokens=True):
        """Refuse what the API refuses, before anything runs.  Returns the
        code execution tool type (or None) and the container_upload ids;
        what else the turn needs is left in self.req_info."""
        counting = not need_max_tokens
        betas = set(self.betas())
        fields = ("model", "max_tokens", "messages") if need_max_tokens else ("model", "messages")
        for f in fields:
            if f not in req:
                raise APIError(400, f"{f}: field required")
        if self.version == "2026-10-21":
            for f in SAMPLING:
                if f in req:
                    raise APIError(400, f"{f}: Extra inputs are not permitted")
        allowed = COUNT_FIELDS if counting else MESSAGE_FIELDS
        for k in req:
            if k in allowed:
                continue
            need = BETA_FIELDS.get(k, ())
            if need is None or (need and betas & set(need)):
                continue
            raise APIError(400, f"{k}: Extra inputs are not permitted")
        if not isinstance(req["model"], str) or not req["model"]:
            raise APIError(400, "model: Input should be a non-empty string")
        if need_max_tokens:
            mt = req["max_tokens"]
            if not isinstance(mt, int) or isinstance(mt, bool) or mt < 0:
                raise APIError(400, "max_tokens: Input should be a valid integer >= 0")
        if "stream" in req and not isinstance(req["stream"], bool):
            raise APIError(400, "stream: Input should be a valid boolean")
        if "output_format" in req and isinstance(req.get("output_config"), dict) \
                and "format" in req["output_config"]:
            raise APIError(400, "output_format: deprecated; give only output_config.format")
        msgs = req["messages"]
        if not isinstance(msgs, list) or not msgs:
            raise APIError(400, "messages: Input should be a non-empty list")
        for i, m in enumerate(msgs):
            self.validate_message(i, m)
        tool, web, mcp = self.validate_tools(req.get("tools"), betas)
        servers = validate_mcp_servers(req.get("mcp_servers"), mcp)
        skills = self.validate_container_field(req, tool, counting)
        fmt = validate_output_config(req)
        think = validate_thinking(req, need_max_tokens)
        check_pending_tools(msgs, tool, web, mcp)
        for i, t in enumerate(req.get("tools") or []):
            if isinstance(t, dict) and t.get("type") in (None, "custom"):
                validate_tool_def(i, t, tool, req["model"], NO_PTC_MODELS)
        if not counting:
            validate_results(self.emu, req, msgs, tool)
        if not counting and req.get("container") is None and tool \
                and last_turn_used_container(msgs) \
                and not history_container_gone(self.emu, msgs):
            raise APIError(400, "container: the previous assistant turn ran in a container; "
                                "send its id as container to continue")
        uploads, refs = [], []
        for m in msgs:
            if isinstance(m.get("content"), list):
                collect_file_refs(m["content"], uploads, refs)
        if uploads and not tool:
            raise APIError(400, "container_upload blocks require the code execution tool in tools")
        if not model_served(req["model"]):
            raise APIError(404, f"model: {req['model']}")
        for t in web.values():
            if req["model"] in NO_PTC_MODELS and t["type"].rsplit("_", 1)[1] >= "20260209" \
                    and t.get("allowed_callers") != ["direct"]:
                raise APIError(400, f"{t['type']} runs through code execution by default, which "
                                    f"{req['model']} does not support; set "
                                    '"allowed_callers": ["direct"] on the tool')
        if think and think.get("type") == "enabled" and req["model"] not in THINKING_ENABLED_MODELS:
            raise APIError(400, '"thinking.type.enabled" is not supported for this model; '
                                'use "thinking.type.adaptive"')
        for fid in uploads + refs:
            rec = self.emu.get_file(fid)
            if rec is None:
                raise APIError(404, f"File not found: {fid}")
            if rec.expired():
                raise APIError(404, f"File {fid} has expired", code="file_expired")
        for path, kind, fid in file_blocks(msgs):
            rec = self.emu.get_file(fid)
            ok = IMAGE_TYPES if kind == "image" else DOCUMENT_TYPES
            if rec.mime_type not in ok:
                raise APIError(400, f"{path}: file {fid} is {rec.mime_type}; "
                                    f"a{'n' if kind == 'image' else ''} {kind} block takes "
                                    + ", ".join(ok) + " (use container_upload for other files)")
        self.emu.check_thinking(msgs)
        self.req_info = {"web": web, "mcp": servers, "toolsets": mcp, "skills": skills,
                         "format": fmt, "thinking": think}
        return tool, uploads

    def validate_message(self, i, m):
        if not isinstance(m, dict):
            raise APIError(400, f"messages.{i}: Input should be a valid dictionary")
        if m.get("role") not in ("user", "assistant", "system"):
            raise APIError(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
        c = m.get("content")
        if isinstance(c, str):
            return
        if not isinstance(c, list):
            raise APIError(400, f"messages.{i}.content: Input should be a string or a list of blocks")
        for j, b in enumerate(c):
            where = f"messages.{i}.content.{j}"
            if not isinstance(b, dict) or not isinstance(b.get("type"), str):
                raise APIError(400, f"{where}: a block must be an object with a type")
            if self.version == "2026-10-21":
                if m["role"] == "assistant" and b["type"] == "document":
                    raise APIError(400, f"{where}: document blocks are not "
                                        "permitted in assistant messages")
                if (m["role"] == "user" and b["type"] == "text"
                        and isinstance(b.get("citations"), list) and b["citations"]):
                    raise APIError(400, f"{where}.citations: citations are not "
                                        "permitted on user text blocks")
            check_file_block(where, b)

    def validate_tools(self, tools, betas):
        """The code execution tool type, the web tools {name: tool} and the
        MCP toolsets {server name: tool} of a request's tools."""
        tool, web, mcp = None, {}, {}
        if tools is None:
            return tool, web, mcp
        if not isinstance(tools, list):
            raise APIError(400, "tools: Input should be a valid list")
        for i, t in enumerate(tools):
            if not isinstance(t, dict):
                raise APIError(400, f"tools.{i}: Input should be a valid dictionary")
            ty = t.get("type")
            if ty in CODE_TOOL_TYPES:
                extra_fields(f"tools.{i}", t, TOOL_COMMON)
                if t.get("name") != "code_execution":
                    raise APIError(400, f"tools.{i}.name: Input should be 'code_execution'")
                tool = tool or ty
            elif ty in (None, "custom"):
                extra_fields(f"tools.{i}", t, CUSTOM_FIELDS)
                if not isinstance(t.get("name"), str) or not isinstance(t.get("input_schema"), dict):
                    raise APIError(400, f"tools.{i}: a custom tool needs name and input_schema")
            elif ty in WEB_SEARCH_TYPES or ty in WEB_FETCH_TYPES:
                name = validate_web_tool(i, t)
                if name in web:
                    raise APIError(400, f"tools.{i}: a second {name} tool")
                web[name] = t
            elif ty == "mcp_toolset":
                if not betas & set(MCP_BETAS):
                    raise APIError(400, f"tools.{i}: mcp_toolset needs the anthropic-beta "
                                        "mcp-client-2025-11-20")
                extra_fields(f"tools.{i}", t, MCP_TOOLSET_FIELDS)
                sn = t.get("mcp_server_name")
                if not isinstance(sn, str) or not sn:
                    raise APIError(400, f"tools.{i}.mcp_server_name: Field required")
                if sn in mcp:
                    raise APIError(400, f"tools.{i}: MCP server {sn} is referenced by "
                                        "more than one mcp_toolset")
                mcp[sn] = t
            else:
                raise APIError(400, f"tools.{i}: Input tag '{ty}' found using 'type' does not "
                                    "match any of the expected tags: "
                                    + ", ".join(("custom",) + CODE_TOOL_TYPES + WEB_SEARCH_TYPES
                                                + WEB_FETCH_TYPES + ("mcp_toolset",)))
        new_web = [t["type"] for t in web.values() if t["type"].rsplit("_", 1)[1] >= "20260209"]
        if new_web and tool in ("code_execution_20250522", "code_execution_20250825"):
            raise APIError(400, f"tools: {new_web[0]} requires code_execution_20260120 or later "
                                f"as its code execution version, not {tool}")
        return tool, web, mcp

    def validate_container_field(self, req, tool, counting):
        """The object form of container: {id?, skills?}.  Returns the
        skills list (or None)."""
        c = req.get("container")
        if counting or not isinstance(c, dict):
            return None
        extra_fields("container", c, ("id", "skills"))
        skills = c.get("skills")
        if skills is None:
            return None
        if not isinstance(skills, list):
            raise APIError(400, "container.skills: Input should be a valid list")
        if len(skills) > 8:
            raise APIError(400, "container.skills: at most 8 skills per request")
        if skills and not tool:
            raise APIError(400, "container.skills: skills need the code execution tool in tools")
        seen = set()
        for k, s in enumerate(skills):
            where = f"container.skills.{k}"
            if not isinstance(s, dict):
                raise APIError(400, f"{where}: Input should be a valid dictionary")
            extra_fields(where, s, ("type", "skill_id", "version"))
            if s.get("type") not in ("anthropic", "custom"):
                raise APIError(400, f"{where}.type: Input should be 'anthropic' or 'custom'")
            for f in ("skill_id", "version"):
                v = s.get(f)
                if (f == "skill_id" or v is not None) and \
                        (not isinstance(v, str) or not 1 <= len(v) <= 64):
                    raise APIError(400, f"{where}.{f}: a string of 1 to 64 characters")
            if s["type"] == "anthropic" and s["skill_id"] not in ANTHROPIC_SKILLS:
                raise APIError(404, f"{where}.skill_id: skill {s['skill_id']} not found")
            if s["type"] == "custom":
                check_custom(self.emu, where, s)
            if s["skill_id"] in seen:
                raise APIError(400, f"{where}: skill {s['skill_id']} is listed twice")
            seen.add(s["skill_id"])
        return skills
