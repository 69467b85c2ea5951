/*
 * ca_walk.c: the one place that knows the content block types of a
 * Message, so ca-fetch and ca-render agree on what a block is.
 */
#include <string.h>

#include "ca.h"

static const struct {
	const char	*type;
	enum ca_blk	 kind;
} kinds[] = {
	{ "text",				CA_BLK_TEXT },
	{ "thinking",				CA_BLK_THINKING },
	{ "redacted_thinking",			CA_BLK_REDACTED_THINKING },
	{ "tool_use",				CA_BLK_TOOL_USE },
	{ "server_tool_use",			CA_BLK_SERVER_TOOL_USE },
	{ "code_execution_tool_result",		CA_BLK_CODE_RESULT },
	{ "bash_code_execution_tool_result",	CA_BLK_BASH_RESULT },
	{ "text_editor_code_execution_tool_result", CA_BLK_EDITOR_RESULT },
	{ "container_upload",			CA_BLK_CONTAINER_UPLOAD },
	{ "web_search_tool_result",		CA_BLK_WEB_SEARCH_RESULT },
	{ "web_fetch_tool_result",		CA_BLK_WEB_FETCH_RESULT },
	{ "tool_search_tool_result",		CA_BLK_TOOL_SEARCH_RESULT },
	{ "mcp_tool_use",			CA_BLK_MCP_TOOL_USE },
	{ "mcp_tool_result",			CA_BLK_MCP_TOOL_RESULT },
	{ "compaction",				CA_BLK_COMPACTION },
};

enum ca_blk
ca_blk_kind(const cJSON *block)
{
	const char *t = ca_jstr(block, "type");
	size_t i;

	if (t == NULL)
		return CA_BLK_OTHER;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].type, t) == 0)
			return kinds[i].kind;
	return CA_BLK_OTHER;
}

const char *
ca_blk_error_code(const cJSON *block)
{
	const cJSON *c = ca_jobj(block, "content");
	const char *t = ca_jstr(c, "type");
	size_t n;

	if (t == NULL)
		return NULL;
	n = strlen(t);
	if (n > 6 && strcmp(t + n - 6, "_error") == 0) {
		const char *code = ca_jstr(c, "error_code");

		return code != NULL ? code : "unknown";
	}
	return NULL;
}

static const struct {
	const char *code, *text;
} errtexts[] = {
	{ "invalid_tool_input", "the tool was called with invalid input" },
	{ "unavailable", "the code execution service was unavailable" },
	{ "too_many_requests", "too many code executions; rate limited" },
	{ "execution_time_exceeded", "the code ran past its time limit" },
	{ "output_file_too_large", "an output file was too large to keep" },
	{ "file_not_found", "the file does not exist in the container" },
	{ "container_expired", "the container has expired" },
	{ "string_not_found", "the text to replace was not found" },
};

const char *
ca_tool_error_text(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < sizeof(errtexts) / sizeof(errtexts[0]);
	    i++)
		if (strcmp(errtexts[i].code, code) == 0)
			return errtexts[i].text;
	return "the tool reported an error";
}

/* Output files sit in content.content[] of a code or bash result. */
static int
result_files(const cJSON *block, ca_file_fn fn, void *ctx)
{
	const cJSON *c = ca_jobj(block, "content"), *f;
	int n = 0;

	cJSON_ArrayForEach(f, ca_jarr(c, "content")) {
		const char *t = ca_jstr(f, "type"), *id = ca_jstr(f, "file_id");

		if (t == NULL || id == NULL)
			continue;
		if (strcmp(t, "code_execution_output") == 0 ||
		    strcmp(t, "bash_code_execution_output") == 0) {
			fn(ctx, id, block);
			n++;
		}
	}
	return n;
}

int
ca_walk_files(const cJSON *msg, ca_file_fn fn, void *ctx)
{
	const cJSON *b;
	int n = 0;

	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		switch (ca_blk_kind(b)) {
		case CA_BLK_CODE_RESULT:
		case CA_BLK_BASH_RESULT:
			n += result_files(b, fn, ctx);
			break;
		default:
			break;
		}
	}
	return n;
}
