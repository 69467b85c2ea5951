/*
 * tools.c: client tools in ca-exec.  A response that stops for
 * tool_use has calls the client answers: each declared tool whose
 * command the user allowed on ca-exec's own command line (--client-tool
 * FILE) runs with the call's input as JSON on stdin; every call is
 * written down as a tool_call record; the answers go back as one user
 * message of tool_result blocks, in the same container, with the same
 * tools, and the turn goes on.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-exec.h"

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

/* Does this request answer tool_use itself? */
int
tools_on(const struct job *j)
{
	return g.nctools > 0 || j->ctools != NULL;
}

/* Is name one of the request's own (custom) tools? */
static int
declared(const struct job *j, const char *name)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, ca_jarr(j->params, "tools"))
		if ((ca_jstr(t, "type") == NULL ||
		    strcmp(ca_jstr(t, "type"), "custom") == 0) &&
		    ca_jstr(t, "name") != NULL &&
		    strcmp(ca_jstr(t, "name"), name) == 0)
			return 1;
	return 0;
}

/*
 * The rule: a command runs only when ca-exec's own --client-tool file
 * names the tool, and the record, if it names a command for it, names
 * that one.  A record is data: it never chooses what runs.
 */
static void
allow(const struct job *j, struct call *c)
{
	const char *name = ca_jstr(c->use, "name");
	const cJSON *l;
	int i;

	if (name == NULL || !declared(j, name)) {
		snprintf(c->why, sizeof(c->why), "tool %.64s is not declared "
		    "in this request", name != NULL ? name : "(none)");
		return;
	}
	for (i = 0; i < g.nctools; i++)
		if (strcmp(g.ctools[i].name, name) == 0)
			break;
	if (i == g.nctools) {
		snprintf(c->why, sizeof(c->why), "ca-exec was not given "
		    "--client-tool for %.64s; not run", name);
		return;
	}
	cJSON_ArrayForEach(l, j->ctools)
		if (ca_jstr(l, "name") != NULL &&
		    strcmp(ca_jstr(l, "name"), name) == 0 &&
		    !ca_ctool_same(&g.ctools[i], l)) {
			snprintf(c->why, sizeof(c->why), "the record's command "
			    "for %.64s is not the one in ca-exec's "
			    "--client-tool %.64s; not run", name,
			    g.ctools[i].file);
			return;
		}
	c->tool = &g.ctools[i];
}

/* What went wrong with a call that ran, or "" if nothing did. */
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

/* The tool_result block, and the tool_call record, of one call. */
static cJSON *
answer(struct job *j, struct call *c)
{
	struct ca_buf text = { NULL, 0, 0, 0 };
	cJSON *b = cJSON_CreateObject(), *r = exec_record("tool_call", j);
	const cJSON *caller = ca_jobj(c->use, "caller");
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

	cJSON_AddNumberToObject(r, "part", j->part);
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
		cJSON_AddStringToObject(r, "error", text.p + 7);
	cJSON_AddStringToObject(r, "result", text.p);
	exec_emit(j, r);
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
	const cJSON *b;
	struct call *v = NULL;
	cJSON *results;
	char m[160];
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
			n++;
		}
	if (n == 0 || j->ncalls + n > g.max_calls) {
		if (n > 0) {
			snprintf(m, sizeof(m), "%d more tool calls would pass "
			    "--max-tool-calls %d; not answered", n,
			    g.max_calls);
			job_fail(j, 0, ca_errobj("tool_call_limit", m), 0);
		}
		for (i = 0; i < n; i++)
			free(v[i].input);
		free(v);
		return n == 0 ? 0 : -1;
	}
	j->ncalls += n;
	for (i = 0; i < n; i++)
		allow(j, &v[i]);
	run_calls(v, n);
	results = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		outcome(&v[i]);
		cJSON_AddItemToArray(results, answer(j, &v[i]));
		ca_run_free(&v[i].run);
		free(v[i].input);
	}
	free(v);
	if (send_back(j, msg, results) == -1) {
		job_fail(j, 0, ca_errobj("invalid_record", "the request has "
		    "no messages to continue"), 0);
		return -1;
	}
	ca_note("%s: tool_use; %d call%s answered (part %d)", job_name(j), n,
	    n > 1 ? "s" : "", j->part);
	return 1;
}
