/*
 * tools.c: client tools in ca-batch.  A result that stops for tool_use
 * with direct calls has them answered here (lib/ca_tcall.c), and the
 * follow-up goes out like a pause_turn continuation: in the next batch,
 * or with --sync-continue as a Messages call.  Calls from code cannot
 * wait for a batch (the API gives them about 270 s): a request that
 * lets code call its tools is refused before anything is sent.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-batch.h"

/* Why a request cannot go in a batch for its tools, or NULL. */
const char *
tools_check(const cJSON *params)
{
	const cJSON *t, *c;

	cJSON_ArrayForEach(t, ca_jarr(params, "tools")) {
		if (ca_jstr(t, "type") != NULL &&
		    strcmp(ca_jstr(t, "type"), "custom") != 0)
			continue;
		cJSON_ArrayForEach(c, ca_jarr(t, "allowed_callers"))
			if (cJSON_IsString(c) &&
			    strncmp(c->valuestring, "code_execution_", 15) == 0)
				return "a client tool that code may call "
				    "(programmatic tool calling) cannot wait "
				    "for a batch; give the tool file "
				    "\"callers\": [\"direct\"], or use ca-exec";
	}
	return NULL;
}

struct tctx {
	long	 i;
};

static cJSON *
head(void *ctx)
{
	struct tctx *t = ctx;
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "type", "tool_call");
	cJSON_AddStringToObject(r, "custom_id", g.e[t->i].id);
	cJSON_AddNumberToObject(r, "part", g.e[t->i].parts);
	return r;
}

static void
emit(void *ctx, cJSON *rec)
{
	struct tctx *t = ctx;
	char *s = ca_jprint(rec);
	size_t n = strlen(s);

	s[n] = '\n';
	ent_append(&g.e[t->i], s, n + 1);
	free(s);
	cJSON_Delete(rec);
}

int
tools_answer(long i, const cJSON *msg)
{
	struct ent *e = &g.e[i];
	struct tctx t = { i };
	struct ca_tcall tc;
	char *text;
	cJSON *req, *res;

	if (e->reqlen == 0 || ca_tcall_count(msg) == 0)
		return 0;
	text = ent_text(e);
	req = ca_jparse(text, e->reqlen - 1);
	free(text);
	if (req == NULL)
		return 0;
	if (g.nctools == 0 && ca_jarr(req, "client_tools") == NULL) {
		cJSON_Delete(req);
		return 0;
	}
	tc.params = ca_jobj(req, "params");
	tc.local = ca_jarr(req, "client_tools");
	tc.tools = g.ctools;
	tc.ntools = g.nctools;
	tc.head = head;
	tc.emit = emit;
	tc.ctx = &t;
	res = ca_tcall_answer(&tc, msg);
	cJSON_Delete(res);	/* the tool_call records hold them */
	cJSON_Delete(req);
	return 1;
}
