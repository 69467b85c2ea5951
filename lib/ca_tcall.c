/*
 * ca_tcall.c: answering client tool calls, for every tool that sends
 * requests (ca-exec one by one, ca-batch in batches): which calls run
 * (the rule that a record never chooses a command), running them, the
 * tool_call records, the tool_result blocks; and the history of a turn
 * with calls, rebuilt from its records.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

/* Calls run at once, at most; all are answered within ANSWER_S. */
#define TOOL_JOBS	8
#define ANSWER_S	((double)CA_CTOOL_TIMEOUT_MAX)

struct call {
	const cJSON	*use;		/* the tool_use block */
	const struct ca_ctool *tool;	/* what runs, or NULL */
	char		 why[256];	/* why it does not run */
	char		*input;		/* its input as JSON text */
	struct ca_run	 run;
};

int
ca_tcall_count(const cJSON *msg)
{
	const cJSON *b;
	int n = 0;

	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		if (ca_jstr(b, "type") != NULL &&
		    strcmp(ca_jstr(b, "type"), "tool_use") == 0 &&
		    ca_jstr(b, "id") != NULL)
			n++;
	return n;
}

/* Is name one of the request's own (custom) tools? */
static int
declared(const cJSON *params, const char *name)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, ca_jarr(params, "tools"))
		if ((ca_jstr(t, "type") == NULL ||
		    strcmp(ca_jstr(t, "type"), "custom") == 0) &&
		    ca_jstr(t, "name") != NULL &&
		    strcmp(ca_jstr(t, "name"), name) == 0)
			return 1;
	return 0;
}

/*
 * The rule: a command runs only when one of the user's own tool files
 * names the tool, and the record, if it names a command for it, names
 * that one.  A record is data: it never chooses what runs.
 */
static void
allow(const struct ca_tcall *tc, struct call *c)
{
	const char *name = ca_jstr(c->use, "name");
	const cJSON *l;
	int i;

	if (name == NULL || !declared(tc->params, name)) {
		snprintf(c->why, sizeof(c->why), "tool %.64s is not declared "
		    "in this request", name != NULL ? name : "(none)");
		return;
	}
	for (i = 0; i < tc->ntools; i++)
		if (strcmp(tc->tools[i].name, name) == 0)
			break;
	if (i == tc->ntools) {
		snprintf(c->why, sizeof(c->why), "%s was not given "
		    "--client-tool for %.64s; not run", ca_prog, name);
		return;
	}
	cJSON_ArrayForEach(l, tc->local)
		if (ca_jstr(l, "name") != NULL &&
		    strcmp(ca_jstr(l, "name"), name) == 0 &&
		    !ca_ctool_same(&tc->tools[i], l)) {
			snprintf(c->why, sizeof(c->why), "the record's command "
			    "for %.64s is not the one in %s's --client-tool "
			    "%.64s; not run", name, ca_prog,
			    tc->tools[i].file);
			return;
		}
	c->tool = &tc->tools[i];
}

/* What went wrong with a call that ran, if anything, into c->why. */
static void
outcome(struct call *c)
{
	struct ca_run *r = &c->run;
	char *tail = NULL, *nl;

	if (c->tool == NULL)
		return;
	if (r->errtext.len > 0) {
		while (r->errtext.len > 0 &&
		    r->errtext.p[r->errtext.len - 1] == '\n')
			r->errtext.p[--r->errtext.len] = '\0';
		nl = strrchr(r->errtext.p, '\n');
		tail = ca_sanitize(nl != NULL ? nl + 1 : r->errtext.p, 160);
	}
	if (r->late)
		snprintf(c->why, sizeof(c->why), "not run: no time left to "
		    "answer within the API's limit");
	else if (r->err != 0)
		snprintf(c->why, sizeof(c->why), "could not start: %s",
		    strerror(r->err));
	else if (r->timed_out)
		snprintf(c->why, sizeof(c->why), "timed out after %g s; "
		    "killed", c->tool->timeout);
	else if (r->status != 0)
		snprintf(c->why, sizeof(c->why), "exit status %d%s%s",
		    r->status, tail != NULL ? ": " : "",
		    tail != NULL ? tail : "");
	free(tail);
}

/* The tool_call record's fields after its head. */
static void
record(cJSON *r, const struct call *c, int err, const char *text)
{
	const cJSON *caller = ca_jobj(c->use, "caller");

	cJSON_AddStringToObject(r, "tool_use_id", ca_jstr(c->use, "id"));
	cJSON_AddStringToObject(r, "name", ca_jstr(c->use, "name") != NULL ?
	    ca_jstr(c->use, "name") : "");
	cJSON_AddStringToObject(r, "caller", ca_jstr(caller, "type") != NULL ?
	    ca_jstr(caller, "type") : "direct");
	cJSON_AddItemToObject(r, "input", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(c->use, "input"), 1));
	cJSON_AddBoolToObject(r, "ran", c->tool != NULL && !c->run.late &&
	    c->run.err == 0);
	if (c->tool != NULL && c->run.status >= 0)
		cJSON_AddNumberToObject(r, "exit", c->run.status);
	else
		cJSON_AddNullToObject(r, "exit");
	cJSON_AddBoolToObject(r, "timed_out", c->run.timed_out);
	cJSON_AddBoolToObject(r, "truncated", c->run.truncated);
	cJSON_AddNumberToObject(r, "duration_ms", (double)(long)(c->run.secs *
	    1000));
	cJSON_AddNumberToObject(r, "bytes", (double)c->run.bytes);
	cJSON_AddBoolToObject(r, "is_error", err);
	if (err)
		cJSON_AddStringToObject(r, "error", text + 7);
	cJSON_AddStringToObject(r, "result", text);
}

/* The tool_result block of one call; its record goes to tc->emit. */
static cJSON *
answer(const struct ca_tcall *tc, struct call *c)
{
	struct ca_buf text = { NULL, 0, 0, 0 };
	cJSON *b = cJSON_CreateObject(), *r;
	int err = c->why[0] != '\0';
	char cut[128];

	if (err) {
		ca_buf_addstr(&text, "Error: ");
		ca_utf8_clean(&text, c->why, strlen(c->why));
	} else {
		ca_utf8_clean(&text, c->run.out.p != NULL ? c->run.out.p : "",
		    c->run.out.len);
		if (c->run.truncated) {
			snprintf(cut, sizeof(cut), "\n[cut: the tool printed "
			    "%zu bytes; the first %zu are kept]",
			    c->run.bytes, c->tool->max_output);
			ca_buf_addstr(&text, cut);
		}
	}
	cJSON_AddStringToObject(b, "type", "tool_result");
	cJSON_AddStringToObject(b, "tool_use_id", ca_jstr(c->use, "id"));
	cJSON_AddStringToObject(b, "content", text.p);
	if (err)
		cJSON_AddTrueToObject(b, "is_error");
	r = tc->head(tc->ctx);
	record(r, c, err, text.p);
	tc->emit(tc->ctx, r);
	ca_buf_free(&text);
	return b;
}

static void
run_calls(struct call *v, int n)
{
	struct ca_run *runs = ca_xcalloc((size_t)n, sizeof(*runs));
	double limit = ca_now() + ANSWER_S;
	int i, k = 0, *map = ca_xcalloc((size_t)n, sizeof(int));

	for (i = 0; i < n; i++) {
		if (v[i].tool == NULL)
			continue;
		runs[k].argv = v[i].tool->argv;
		runs[k].in = v[i].input;
		runs[k].inlen = strlen(v[i].input);
		runs[k].timeout = v[i].tool->timeout;
		runs[k].max = v[i].tool->max_output;
		runs[k].limit = limit;
		map[k++] = i;
	}
	if (k > 0) {
		ca_note("running %d client tool call%s", k, k > 1 ? "s" : "");
		ca_run_all(runs, k, TOOL_JOBS);
	}
	for (i = 0; i < k; i++)
		v[map[i]].run = runs[i];
	free(runs);
	free(map);
}

cJSON *
ca_tcall_answer(const struct ca_tcall *tc, const cJSON *msg)
{
	const cJSON *b;
	struct call *v = NULL;
	cJSON *results = cJSON_CreateArray();
	int i, n = 0;

	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		if (ca_jstr(b, "type") != NULL &&
		    strcmp(ca_jstr(b, "type"), "tool_use") == 0 &&
		    ca_jstr(b, "id") != NULL) {
			v = ca_xrealloc(v, (size_t)(n + 1) * sizeof(*v));
			memset(&v[n], 0, sizeof(*v));
			v[n].use = b;
			v[n].input = ca_jprint(cJSON_GetObjectItemCaseSensitive(
			    b, "input"));
			allow(tc, &v[n]);
			n++;
		}
	run_calls(v, n);
	for (i = 0; i < n; i++) {
		outcome(&v[i]);
		cJSON_AddItemToArray(results, answer(tc, &v[i]));
		ca_run_free(&v[i].run);
		free(v[i].input);
	}
	free(v);
	return results;
}

/* ---- A turn's history, from its records ---- */

void
ca_turnlog_init(struct ca_turnlog *t)
{
	memset(t, 0, sizeof(*t));
	t->prior = cJSON_CreateArray();
	t->turn = cJSON_CreateArray();
}

void
ca_turnlog_free(struct ca_turnlog *t)
{
	cJSON_Delete(t->prior);
	cJSON_Delete(t->turn);
	cJSON_Delete(t->results);
	free(t->cid);
	memset(t, 0, sizeof(*t));
}

/* The calls were answered: the turn so far, then the answers. */
static void
place_results(struct ca_turnlog *t)
{
	cJSON *m;

	if (t->results == NULL)
		return;
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "assistant");
	cJSON_AddItemToObject(m, "content", t->turn);
	cJSON_AddItemToArray(t->prior, m);
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddItemToObject(m, "content", t->results);
	cJSON_AddItemToArray(t->prior, m);
	t->turn = cJSON_CreateArray();
	t->results = NULL;
}

void
ca_turnlog_add(struct ca_turnlog *t, const cJSON *rec)
{
	const char *type = ca_jstr(rec, "type");
	const cJSON *msg = ca_jobj(rec, "message"), *b;
	cJSON *r;

	if (type != NULL && strcmp(type, "tool_call") == 0) {
		if (t->results == NULL)
			t->results = cJSON_CreateArray();
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "type", "tool_result");
		cJSON_AddStringToObject(r, "tool_use_id",
		    ca_jstr(rec, "tool_use_id") != NULL ?
		    ca_jstr(rec, "tool_use_id") : "");
		cJSON_AddStringToObject(r, "content",
		    ca_jstr(rec, "result") != NULL ? ca_jstr(rec, "result") :
		    "");
		if (cJSON_IsTrue(cJSON_GetObjectItem(rec, "is_error")))
			cJSON_AddTrueToObject(r, "is_error");
		cJSON_AddItemToArray(t->results, r);
		return;
	}
	if (type == NULL || strcmp(type, "response") != 0 || msg == NULL)
		return;
	place_results(t);
	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		cJSON_AddItemToArray(t->turn, cJSON_Duplicate(b, 1));
	if (ca_jstr(ca_jobj(msg, "container"), "id") != NULL) {
		free(t->cid);
		t->cid = ca_xstrdup(ca_jstr(ca_jobj(msg, "container"), "id"));
	}
	t->nresp++;
}

int
ca_turnlog_continue(struct ca_turnlog *t, cJSON *params)
{
	cJSON *msgs = ca_jarr(params, "messages");

	if (msgs == NULL)
		return -1;
	place_results(t);
	while (cJSON_GetArraySize(t->prior) > 0)
		cJSON_AddItemToArray(msgs, cJSON_DetachItemFromArray(t->prior,
		    0));
	if (cJSON_GetArraySize(t->turn) > 0)
		return ca_req_continue(params, t->turn, t->cid, 0);
	/* It ends on the answers: only the container is left to name. */
	ca_req_container(params, t->cid);
	return 0;
}
