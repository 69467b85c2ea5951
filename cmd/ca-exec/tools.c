/*
 * tools.c: client tools in ca-exec.  A response that stops for
 * tool_use has calls the client answers (lib/ca_tcall.c: the rule of
 * what may run, running, the tool_call records); the answers go back as
 * one user message of tool_result blocks, in the same container, with
 * the same tools, and the turn goes on.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-exec.h"

/* Does this request answer tool_use itself? */
int
tools_on(const struct job *j)
{
	return g.nctools > 0 || j->ctools != NULL;
}

static cJSON *
head(void *ctx)
{
	struct job *j = ctx;
	cJSON *r = exec_record("tool_call", j);

	cJSON_AddNumberToObject(r, "part", j->part);
	return r;
}

static void
emit(void *ctx, cJSON *rec)
{
	exec_emit(ctx, rec);
}

/* The turn so far, then a user message of only the tool results. */
static int
send_back(struct job *j, const cJSON *msg, cJSON *results)
{
	const cJSON *c = ca_jobj(msg, "container"), *b;
	cJSON *u;

	if (ca_jnulstr(cJSON_GetObjectItemCaseSensitive(c, "id"))) {
		ca_warn("%s: the container id holds a NUL (\\u0000); not "
		    "continuing", job_name(j));
		cJSON_Delete(results);
		return -1;
	}
	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		cJSON_AddItemToArray(j->turn, cJSON_Duplicate(b, 1));
	if (ca_req_continue(j->params, j->turn, ca_jstr(c, "id"),
	    j->part > 1) == -1) {
		cJSON_Delete(results);
		return -1;
	}
	u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "role", "user");
	cJSON_AddItemToObject(u, "content", results);
	cJSON_AddItemToArray(ca_jarr(j->params, "messages"), u);
	/* What the model says next is a new assistant message. */
	cJSON_Delete(j->turn);
	j->turn = cJSON_CreateArray();
	j->part++;
	j->attempt = 0;
	j->state = J_WAIT;
	j->due = ca_now();
	return 0;
}

int
tools_answer(struct job *j, const cJSON *msg)
{
	struct ca_tcall tc = { j->params, j->ctools, g.ctools, g.nctools,
	    head, emit, j };
	int n = ca_tcall_count(msg);
	char m[160];

	if (n == 0)
		return 0;
	if (j->ncalls + n > g.max_calls) {
		snprintf(m, sizeof(m), "%d more tool calls would pass "
		    "--max-tool-calls %d; not answered", n, g.max_calls);
		job_fail(j, 0, ca_errobj("tool_call_limit", m), 0);
		return -1;
	}
	j->ncalls += n;
	if (send_back(j, msg, ca_tcall_answer(&tc, msg)) == -1) {
		job_fail(j, 0, ca_errobj("invalid_record", "the request has "
		    "no messages to continue"), 0);
		return -1;
	}
	ca_note("%s: tool_use; %d call%s answered (part %d)", job_name(j), n,
	    n > 1 ? "s" : "", j->part);
	return 1;
}
