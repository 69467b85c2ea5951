/*
 * out.c: ca-exec's output.  Each input record has a slot; the head slot
 * writes straight through, later ones hold their lines until every
 * earlier one is done, so the output keeps the input's order.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-exec.h"

struct exec_g g;

/* One record's bytes, flushed: the reader may be a live pipeline. */
static void
out(const char *p, size_t n)
{
	ca_out(p, n);
	ca_out_flush();
}

struct slot *
slot_new(void)
{
	struct slot *s = ca_xcalloc(1, sizeof(*s));

	s->out.max = (size_t)-1 / 2;
	g.nslots++;
	if (g.tail != NULL)
		g.tail->next = s;
	else
		g.head = s;
	g.tail = s;
	return s;
}

/*
 * The head slot writes straight through, so a stream is live; later
 * slots hold their lines until every earlier one is done.  Unordered,
 * a slot writes when it is done: completion order.
 */
void
slot_write(struct slot *s, const char *p, size_t n)
{
	if (s == g.head && !g.unordered)
		out(p, n);
	else if (ca_buf_add(&s->out, p, n) == 0)
		g.held += n;
}

/* Write what a slot held, and let its memory go. */
static void
slot_flush(struct slot *s)
{
	if (s->out.len > 0)
		out(s->out.p, s->out.len);
	g.held -= s->out.len;
	ca_buf_free(&s->out);
}

void
slot_done(struct slot *s)
{
	struct slot *n;

	s->done = 1;
	if (g.unordered)
		slot_flush(s);
	while (g.head != NULL && g.head->done) {
		n = g.head->next;
		slot_flush(g.head);
		free(g.head);
		g.nslots--;
		g.head = n;
		if (n == NULL)
			g.tail = NULL;
		else if (!g.unordered)
			slot_flush(n);
	}
}

/* A job as messages name it: its custom_id. */
const char *
job_name(const struct job *j)
{
	return j->id != NULL ? j->id : "request";
}

void
exec_emit(struct job *j, cJSON *rec)
{
	char *s = ca_jprint(rec);
	size_t n = strlen(s);

	s[n] = '\n';
	slot_write(j->slot, s, n + 1);
	free(s);
	cJSON_Delete(rec);
}

/*
 * Write head (a record without its last field) with key set to the
 * server's own JSON text, as ca_jcompact put it onto one line: cJSON
 * cannot hold a \u0000 inside a string, so a reprint could cut it.
 */
void
exec_emit_wrapped(struct job *j, cJSON *head, const char *key,
    const struct ca_buf *json)
{
	struct ca_buf b = { NULL, 0, 0, (size_t)-1 / 2 };
	char *h = ca_jprint(head);

	h[strlen(h) - 1] = '\0';	/* drop the closing brace */
	ca_buf_addstr(&b, h);
	ca_buf_addstr(&b, ",\"");
	ca_buf_addstr(&b, key);
	ca_buf_addstr(&b, "\":");
	ca_buf_add(&b, json->p, json->len);
	ca_buf_addstr(&b, "}\n");
	slot_write(j->slot, b.p, b.len);
	ca_buf_free(&b);
	free(h);
	cJSON_Delete(head);
}

/*
 * The server's text on one line, or -1 if it is not strict JSON: no
 * text that another parser could read differently, or that could break
 * a line, reaches stdout.
 */
int
exec_compact(struct ca_buf *b, const char *json, size_t len)
{
	b->max = (size_t)-1 / 2;
	return ca_jcompact(b, json, len);
}

cJSON *
exec_record(const char *type, const struct job *j)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "type", type);
	if (j->id != NULL)
		cJSON_AddStringToObject(r, "custom_id", j->id);
	else
		cJSON_AddNullToObject(r, "custom_id");
	return r;
}

/* A server that quotes an MCP token back must not make us show it. */
static void
scrub(const struct job *j, cJSON *err)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
	struct ca_buf b = { NULL, 0, 0, 0 };
	const char *p;
	int i, found;

	if (!cJSON_IsString(m) || j->nsecrets == 0)
		return;
	for (p = m->valuestring; *p != '\0'; ) {
		found = 0;
		for (i = 0; i < j->nsecrets && !found; i++)
			if (strncmp(p, j->secrets[i],
			    strlen(j->secrets[i])) == 0) {
				ca_buf_addstr(&b, "[redacted]");
				p += strlen(j->secrets[i]);
				found = 1;
			}
		if (!found)
			ca_buf_add(&b, p++, 1);
	}
	cJSON_SetValuestring(m, b.p != NULL ? b.p : "");
	ca_buf_free(&b);
}

void
job_fail(struct job *j, long status, cJSON *err, int temporary)
{
	cJSON *r = exec_record("error", j);

	scrub(j, err);
	cJSON_AddNumberToObject(r, "part", j->part);
	cJSON_AddNumberToObject(r, "attempts", j->attempt);
	/* A bad input line was reported with its line number: once. */
	if (j->told)
		ca_error_fill(r, status, j->resp.request_id, err);
	else
		ca_error_rec(r, job_name(j), status, j->resp.request_id, err);
	exec_emit(j, r);
	ca_status_add(&g.st, temporary ? CA_EX_TEMPFAIL : CA_EX_FAIL);
	g.prog.nfailed++;
	j->state = J_DONE;
}
