#!/usr/bin/env python3
"""Check request records against the official SDK's request shapes.

Reads request records (NDJSON) on stdin and checks each record's params
against MessageCreateParamsNonStreaming as the official TypeScript SDK
types it (the beta variant where the record's betas select a beta field,
mcp_servers), field by field: names, types, enums and the documented
rules between fields.  Prints one line per problem, "custom_id: path:
why", and exits 1 if there was any, else 0.  Records of other types are
skipped.
"""
import json
import sys

CODE_TOOLS = ("code_execution_20250522", "code_execution_20250825",
              "code_execution_20260120", "code_execution_20260521")
WEB_SEARCH = ("web_search_20250305", "web_search_20260209", "web_search_20260318")
WEB_FETCH = ("web_fetch_20250910", "web_fetch_20260209", "web_fetch_20260309",
             "web_fetch_20260318")
CALLERS = ("direct",) + CODE_TOOLS[1:]
TOP = {
    "model": str, "max_tokens": int, "messages": list, "system": (str, list),
    "tools": list, "tool_choice": dict, "container": (str, dict, type(None)),
    "thinking": dict, "output_config": dict, "cache_control": dict,
    "metadata": dict, "service_tier": str, "stop_sequences": list,
    "inference_geo": (str, type(None)), "speed": (str, type(None)),
    "diagnostics": (dict, type(None)), "stream": bool,
}
BETA_TOP = {"mcp_servers": list}
MCP_BETAS = ("mcp-client-2025-04-04", "mcp-client-2025-11-20", "mcp-client-2026-09-15")


class Checker:
    def __init__(self, cid):
        self.cid = cid
        self.errors = []

    def bad(self, path, why):
        self.errors.append(f"{self.cid}: {path}: {why}")

    def typed(self, path, v, t):
        if t is int and (isinstance(v, bool) or not isinstance(v, int)):
            self.bad(path, f"expected an integer, got {json.dumps(v)}")
            return False
        if not isinstance(v, t):
            self.bad(path, f"expected {t}, got {json.dumps(v)}")
            return False
        return True

    def keys(self, path, obj, allowed):
        for k in obj:
            if k not in allowed:
                self.bad(f"{path}.{k}", "not a field of this type")

    def strings(self, path, v):
        if self.typed(path, v, list):
            for i, s in enumerate(v):
                self.typed(f"{path}.{i}", s, str)

    def cache_control(self, path, v):
        if v is None:
            return
        if self.typed(path, v, dict):
            self.keys(path, v, ("type", "ttl"))
            if v.get("type") != "ephemeral":
                self.bad(f"{path}.type", "must be 'ephemeral'")
            if "ttl" in v and v["ttl"] not in ("5m", "1h"):
                self.bad(f"{path}.ttl", "must be '5m' or '1h'")

    def params(self, p, betas):
        if not self.typed("params", p, dict):
            return
        for k in ("model", "max_tokens", "messages"):
            if k not in p:
                self.bad(f"params.{k}", "required")
        mcp_ok = any(b in MCP_BETAS for b in betas)
        for k, v in p.items():
            if k in TOP:
                self.typed(f"params.{k}", v, TOP[k])
            elif k in BETA_TOP:
                if not mcp_ok:
                    self.bad(f"params.{k}", "a beta field, but no mcp-client beta")
                self.typed(f"params.{k}", v, BETA_TOP[k])
            else:
                self.bad(f"params.{k}", "not a field of MessageCreateParams")
        self.messages(p.get("messages"))
        self.container(p.get("container"))
        self.tools(p.get("tools") or [], p.get("mcp_servers"))
        self.thinking(p.get("thinking"), p.get("max_tokens"))
        self.output_config(p.get("output_config"))
        self.cache_control("params.cache_control", p.get("cache_control"))
        md = p.get("metadata")
        if isinstance(md, dict):
            self.keys("params.metadata", md, ("user_id",))
        if "service_tier" in p and p["service_tier"] not in ("auto", "standard_only"):
            self.bad("params.service_tier", "must be 'auto' or 'standard_only'")
        if "stop_sequences" in p:
            self.strings("params.stop_sequences", p["stop_sequences"])

    def messages(self, msgs):
        if not isinstance(msgs, list) or not msgs:
            self.bad("params.messages", "must be a non-empty list")
            return
        for i, m in enumerate(msgs):
            path = f"params.messages.{i}"
            if not self.typed(path, m, dict):
                continue
            self.keys(path, m, ("role", "content"))
            if m.get("role") not in ("user", "assistant"):
                self.bad(f"{path}.role", "must be 'user' or 'assistant'")
            c = m.get("content")
            if isinstance(c, str):
                continue
            if not self.typed(f"{path}.content", c, list):
                continue
            for j, b in enumerate(c):
                if not isinstance(b, dict) or not isinstance(b.get("type"), str):
                    self.bad(f"{path}.content.{j}", "a block needs a type")
                elif b["type"] == "thinking" and not (
                        isinstance(b.get("thinking"), str) and isinstance(b.get("signature"), str)):
                    self.bad(f"{path}.content.{j}", "a thinking block needs thinking and signature")

    def container(self, c):
        if not isinstance(c, dict):
            return
        self.keys("params.container", c, ("id", "skills"))
        if "id" in c and c["id"] is not None:
            self.typed("params.container.id", c["id"], str)
        sk = c.get("skills")
        if sk is None:
            return
        if not self.typed("params.container.skills", sk, list):
            return
        if len(sk) > 8:
            self.bad("params.container.skills", "at most 8 skills")
        for i, s in enumerate(sk):
            path = f"params.container.skills.{i}"
            if not self.typed(path, s, dict):
                continue
            self.keys(path, s, ("skill_id", "type", "version"))
            if s.get("type") not in ("anthropic", "custom"):
                self.bad(f"{path}.type", "must be 'anthropic' or 'custom'")
            for k in ("skill_id", "version"):
                if k in s and not (isinstance(s[k], str) and 1 <= len(s[k]) <= 64):
                    self.bad(f"{path}.{k}", "1 to 64 characters")
            if "skill_id" not in s:
                self.bad(f"{path}.skill_id", "required")

    def tools(self, tools, servers):
        code = None
        newweb = False
        toolsets = []
        for i, t in enumerate(tools):
            path = f"params.tools.{i}"
            if not self.typed(path, t, dict):
                continue
            ty = t.get("type")
            common = ("type", "name", "allowed_callers", "cache_control",
                      "defer_loading", "strict")
            if ty in CODE_TOOLS:
                code = ty
                self.keys(path, t, common)
                if t.get("name") != "code_execution":
                    self.bad(f"{path}.name", "must be 'code_execution'")
            elif ty in WEB_SEARCH or ty in WEB_FETCH:
                search = ty in WEB_SEARCH
                allowed = common + ("max_uses", "allowed_domains", "blocked_domains")
                allowed += ("user_location",) if search else (
                    "citations", "max_content_tokens", "url_sources")
                if ty >= "web_fetch_20260309" and not search:
                    allowed += ("use_cache",)
                if ty.endswith("20260318"):
                    allowed += ("response_inclusion",)
                self.keys(path, t, allowed)
                if t.get("name") != ("web_search" if search else "web_fetch"):
                    self.bad(f"{path}.name", "wrong name for the type")
                if ty[-8:] >= "20260209":
                    newweb = True
                if "max_uses" in t:
                    self.typed(f"{path}.max_uses", t["max_uses"], int)
                for k in ("allowed_domains", "blocked_domains"):
                    if k in t:
                        self.strings(f"{path}.{k}", t[k])
                        for d in t[k] if isinstance(t[k], list) else ():
                            if isinstance(d, str) and "://" in d:
                                self.bad(f"{path}.{k}", "no scheme in domains")
                if "allowed_domains" in t and "blocked_domains" in t:
                    self.bad(path, "allowed_domains and blocked_domains together")
                if "allowed_callers" in t:
                    self.strings(f"{path}.allowed_callers", t["allowed_callers"])
                    for c in t["allowed_callers"]:
                        if c not in CALLERS:
                            self.bad(f"{path}.allowed_callers", f"unknown caller {c!r}")
            elif ty == "mcp_toolset":
                self.keys(path, t, ("type", "mcp_server_name", "default_config",
                                    "configs", "cache_control", "tools"))
                if not isinstance(t.get("mcp_server_name"), str):
                    self.bad(f"{path}.mcp_server_name", "required string")
                toolsets.append(t.get("mcp_server_name"))
            elif ty in (None, "custom"):
                if not isinstance(t.get("name"), str) or not isinstance(t.get("input_schema"), dict):
                    self.bad(path, "a custom tool needs name and input_schema")
            else:
                self.bad(f"{path}.type", f"unknown tool type {ty!r}")
            self.cache_control(f"{path}.cache_control", t.get("cache_control"))
        if newweb and code in CODE_TOOLS[:2]:
            self.bad("params.tools", f"web tools _20260209+ beside {code}")
        names = []
        for i, s in enumerate(servers or []):
            path = f"params.mcp_servers.{i}"
            if not self.typed(path, s, dict):
                continue
            self.keys(path, s, ("type", "url", "name", "authorization_token",
                                "tool_configuration"))
            if s.get("type") != "url":
                self.bad(f"{path}.type", "must be 'url'")
            if not str(s.get("url", "")).startswith("https://"):
                self.bad(f"{path}.url", "must start with https://")
            if not isinstance(s.get("name"), str):
                self.bad(f"{path}.name", "required string")
            names.append(s.get("name"))
        if len(set(names)) != len(names):
            self.bad("params.mcp_servers", "names must be unique")
        for n in names:
            if toolsets.count(n) != 1:
                self.bad("params.tools", f"server {n!r} needs exactly one mcp_toolset")
        for n in toolsets:
            if n not in names:
                self.bad("params.tools", f"mcp_toolset names no server {n!r}")

    def thinking(self, t, max_tokens):
        if t is None:
            return
        ty = t.get("type")
        if ty == "enabled":
            self.keys("params.thinking", t, ("type", "budget_tokens", "display"))
            b = t.get("budget_tokens")
            if self.typed("params.thinking.budget_tokens", b, int):
                if b < 1024 or (isinstance(max_tokens, int) and b >= max_tokens):
                    self.bad("params.thinking.budget_tokens", ">= 1024 and < max_tokens")
        elif ty in ("adaptive", "disabled", "between_tools"):
            self.keys("params.thinking", t, ("type", "display"))
        else:
            self.bad("params.thinking.type", f"unknown type {ty!r}")
        if t.get("display") not in (None, "summarized", "omitted"):
            self.bad("params.thinking.display", "summarized, omitted or null")

    def output_config(self, oc):
        if oc is None:
            return
        self.keys("params.output_config", oc, ("effort", "format"))
        if oc.get("effort") not in (None, "low", "medium", "high", "xhigh", "max"):
            self.bad("params.output_config.effort", "low, medium, high, xhigh or max")
        f = oc.get("format")
        if f is not None:
            if not self.typed("params.output_config.format", f, dict):
                return
            self.keys("params.output_config.format", f, ("type", "schema"))
            if f.get("type") != "json_schema":
                self.bad("params.output_config.format.type", "must be 'json_schema'")
            self.typed("params.output_config.format.schema", f.get("schema"), dict)


def main():
    errors = []
    n = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("type") != "request":
            continue
        n += 1
        c = Checker(rec.get("custom_id"))
        c.params(rec.get("params"), rec.get("betas") or [])
        errors += c.errors
    for e in errors:
        print(e)
    if n == 0:
        print("no request record")
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
