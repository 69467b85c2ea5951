"""What the API accepts: versions, betas, models, request and tool fields.
Anything outside these tables is answered as the API answers it (400 or
404), so a misspelt name fails a test.
"""

import os
import time


CODE_TOOL_TYPES = (
    "code_execution_20250522",
    "code_execution_20250825",
    "code_execution_20260120",
    "code_execution_20260521",
)
API_VERSIONS = ("2023-06-01", "2026-10-21")
FILES_BETA = "files-api-2025-04-14"
SKILLS_BETA = "skills-2025-10-02"
MCP_BETAS = ("mcp-client-2025-04-04", "mcp-client-2025-11-20", "mcp-client-2026-09-15")

# Every anthropic-beta value the API is known to accept; anything else is
# 400, as the API answers, so a misspelt beta fails a test.  Current ones
# first, then those the SDK calls deprecated but "the API still accepts".
KNOWN_BETAS = frozenset((
    "code-execution-2025-05-22", "code-execution-2025-08-25",
    "code-execution-web-tools-2026-02-09", "web-fetch-2025-09-10",
    FILES_BETA, SKILLS_BETA, *MCP_BETAS, "inline-tools-2026-09-15",
    "structured-outputs-2025-11-13", "structured-outputs-2025-12-15",
    "thinking-display-updates-2026-08-18", "thinking-token-count-2026-05-13",
    "task-budgets-2026-03-13", "message-batches-2024-09-24",
    "prompt-caching-2024-07-31", "pdfs-2024-09-25", "token-counting-2024-11-01",
    "token-efficient-tools-2025-02-19", "extended-cache-ttl-2025-04-11",
    "cache-diagnosis-2026-04-07", "ce-user-management-2026-07-13",
    "compact-2026-01-12", "compact-2026-09-04", "context-management-2025-06-27",
))

# The models: lib/models.tsv, the one table the ca tools (built into
# them), their completion and this emulator read.  Installed, it sits
# beside this package (LIBDIR/models.tsv); in the tree, in lib/.
def _read_models():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "..", "models.tsv"),
                 os.path.join(here, "..", "..", "lib", "models.tsv")):
        if os.path.isfile(path):
            break
    else:
        raise SystemExit("caemu: the model table models.tsv is missing")
    models = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, _tools, _in, _out, feats, eol = line.rstrip("\n").split("\t")
            models[name] = (set(feats.split(",")) - {"-"}, eol)
    return models


MODELS = _read_models()


def model_served(name):
    """Does the API serve this model today?  Not an unknown one, nor one
    past its end of life (today is $CA_TODAY if set, as for ca-request):
    requests naming a retired model fail with 404, as the API's do."""
    if name not in MODELS:
        return False
    eol = MODELS[name][1]
    if eol == "retired":
        return False
    today = os.environ.get("CA_TODAY") or time.strftime("%Y-%m-%d", time.gmtime())
    return eol == "-" or today < eol


# Top-level fields of a Messages request (GA) and of count_tokens, and those
# that exist only in the beta types: a BETA_FIELDS entry with betas is 400
# without one of them (None: accepted; no source names the beta it needs).
MESSAGE_FIELDS = frozenset((
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences",
    "stream", "temperature", "top_p", "top_k", "tools", "tool_choice", "container",
    "thinking", "service_tier", "speed", "inference_geo", "cache_control",
    "diagnostics", "output_config",
))
COUNT_FIELDS = frozenset((
    "model", "messages", "system", "tools", "tool_choice", "thinking",
    "output_config", "cache_control", "speed",
))
BETA_FIELDS = {"mcp_servers": MCP_BETAS,
               "context_management": ("compact-2026-01-12", "context-management-2025-06-27"),
               "output_format": None, "billing_policy": None,
               "compaction": ("compact-2026-09-04",)}
SAMPLING = ("temperature", "top_p", "top_k")

WEB_SEARCH_TYPES = ("web_search_20250305", "web_search_20260209", "web_search_20260318")
WEB_FETCH_TYPES = ("web_fetch_20250910", "web_fetch_20260209", "web_fetch_20260309",
                   "web_fetch_20260318")
CALLERS = ("direct", "code_execution_20250825", "code_execution_20260120",
           "code_execution_20260521")
TOOL_COMMON = ("type", "name", "allowed_callers", "cache_control", "defer_loading", "strict")
CUSTOM_FIELDS = TOOL_COMMON + ("description", "input_schema", "input_examples",
                               "eager_input_streaming")
MCP_TOOLSET_FIELDS = ("type", "mcp_server_name", "default_config", "configs",
                      "cache_control", "tools")
ANTHROPIC_SKILLS = ("pptx", "xlsx", "docx", "pdf")
# Models that still take thinking {type: "enabled"} (4.7 and later refuse it).
THINKING_ENABLED_MODELS = frozenset(n for n, (feats, _) in MODELS.items() if "think" in feats)
# Models without programmatic tool calling: web tools from _20260209 on
# default to being called from code, so these need allowed_callers direct.
NO_PTC_MODELS = frozenset(n for n, (feats, _) in MODELS.items() if "ptc" not in feats)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENT_TYPES = ("application/pdf", "text/plain")


SCHEMA_KEYS = ("type", "properties", "required", "additionalProperties", "items", "enum",
               "const", "description", "title", "format", "anyOf", "allOf", "$ref", "$defs",
               "definitions", "default", "minItems", "pattern", "$schema")
UNSUPPORTED_SCHEMA = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                      "multipleOf", "minLength", "maxLength", "maxItems", "uniqueItems")


CODE_CALL_NAMES = ("code_execution", "bash_code_execution", "text_editor_code_execution")
