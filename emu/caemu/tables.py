"""What the API accepts: versions, betas, models, request and tool fields.
Anything outside these tables is answered as the API answers it (400 or
404), so a misspelt name fails a test.
"""


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
))

# Model ids the API serves: the SDK's Model list and the code execution
# tool's supported models.  Any other name is 404 not_found_error.
KNOWN_MODELS = frozenset((
    "claude-fable-5-2", "claude-mythos-5-2", "claude-haiku-5-5", "claude-sonnet-5-5",
    "claude-fable-5-1", "claude-opus-5-5", "claude-mythos-5-1", "claude-sonnet-5",
    "claude-fable-5", "claude-mythos-5", "claude-opus-5", "claude-opus-4-8",
    "claude-opus-4-7", "claude-mythos-preview", "claude-opus-4-6", "claude-sonnet-4-6",
    "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-opus-4-5",
    "claude-opus-4-5-20251101", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929",
))

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
BETA_FIELDS = {"mcp_servers": MCP_BETAS, "context_management": None,
               "output_format": None, "billing_policy": None, "compaction": None}
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
THINKING_ENABLED_MODELS = frozenset((
    "claude-opus-4-6", "claude-sonnet-4-6", "claude-mythos-preview", "claude-haiku-4-5",
    "claude-haiku-4-5-20251001", "claude-opus-4-5", "claude-opus-4-5-20251101",
    "claude-sonnet-4-5", "claude-sonnet-4-5-20250929",
))
# Models without programmatic tool calling: web tools from _20260209 on
# default to being called from code, so these need allowed_callers direct.
NO_PTC_MODELS = frozenset(("claude-haiku-4-5", "claude-haiku-4-5-20251001"))
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENT_TYPES = ("application/pdf", "text/plain")


SCHEMA_KEYS = ("type", "properties", "required", "additionalProperties", "items", "enum",
               "const", "description", "title", "format", "anyOf", "allOf", "$ref", "$defs",
               "definitions", "default", "minItems", "pattern", "$schema")
UNSUPPORTED_SCHEMA = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                      "multipleOf", "minLength", "maxLength", "maxItems", "uniqueItems")


CODE_CALL_NAMES = ("code_execution", "bash_code_execution", "text_editor_code_execution")
