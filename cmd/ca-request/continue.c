/*
 * continue.c: ca-request's standard input.  Without --continue every
 * record passes through and file records are attached; with it, stdin
 * is a transcript and the next turn is built on its last answered one.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca-request.h"

/*
 * A request ends when the next one starts (or the input ends): if it was
 * answered it becomes the base a continuation builds on, otherwise a
 * failed turn to skip.
 */
static void
settle(struct input *in)
{
	if (in->last_req == NULL)
		return;
	if (in->nresp > 0) {
		cJSON_Delete(in->base);
		cJSON_Delete(in->base_turn);
		cJSON_Delete(in->skipped);
		in->base = cJSON_Duplicate(in->last_req, 1);
		in->base_turn = cJSON_Duplicate(in->log.turn, 1);
		cJSON_Delete(in->base_prior);
		in->base_prior = cJSON_Duplicate(in->log.prior, 1);
		in->skipped = NULL;
		return;
	}
	if (in->skipped == NULL)
		in->skipped = cJSON_CreateArray();
	cJSON_AddItemToArray(in->skipped, cJSON_Duplicate(in->last_req, 1));
}

/* Remember the last request and the assistant content answering it. */
static void
take_transcript(struct input *in, const char *type, const cJSON *rec,
    long lineno)
{
	const cJSON *msg, *c;
	int bad;

	if (strcmp(type, "request") == 0) {
		settle(in);
		cJSON_Delete(in->last_req);
		ca_turnlog_free(&in->log);
		ca_turnlog_init(&in->log);
		in->last_req = cJSON_Duplicate(rec, 1);
		in->nresp = 0;
		return;
	}
	if (in->last_req == NULL || !cJSON_Compare(cJSON_GetObjectItem(rec,
	    "custom_id"), cJSON_GetObjectItem(in->last_req, "custom_id"), 1))
		return;
	/* Calls and their results become messages of the history. */
	ca_turnlog_add(&in->log, rec);
	if (strcmp(type, "response") != 0)
		return;
	msg = ca_jobj(rec, "message");
	/* The API refuses an edited compaction block: say where it is. */
	if ((bad = ca_compact_check(ca_jarr(msg, "content"),
	    cJSON_GetObjectItem(rec, "compaction_prints"))) != 0)
		ca_die(CA_EX_FAIL, CA_STDIN ":%ld: compaction block %d of the "
		    "response is not as it came from the API; it must be sent "
		    "back unchanged", lineno, bad);
	if ((c = ca_jobj(msg, "container")) != NULL) {
		cJSON_Delete(in->container);
		in->container = cJSON_Duplicate(c, 1);
	}
	in->nresp++;
}

/*
 * An error record in the new input: a file that did not upload, a
 * request that failed, a tool that refused to run.  Remember the first for the message.
 */
static void
take_error(struct input *in, const struct ca_rec *rec)
{
	const char *what = ca_jstr(rec->json, "path");
	const char *msg = ca_jstr(ca_jobj(rec->json, "error"), "message");
	char *sw, *sm;

	ca_status_rec(&in->up, rec->json);
	if (in->errwhat != NULL)
		return;
	if (what == NULL)
		what = ca_jstr(rec->json, "custom_id");
	if (what == NULL)	/* a tool that refused to run */
		what = ca_jstr(rec->json, "tool");
	sw = ca_sanitize(what != NULL ? what : "?", 200);
	sm = ca_sanitize(msg != NULL ? msg : "?", 300);
	in->errwhat = ca_xmalloc(strlen(sw) + strlen(sm) + 3);
	sprintf(in->errwhat, "%s: %s", sw, sm);
	free(sw);
	free(sm);
	in->errline = rec->lineno;
}

static int
is_transcript(const char *type)
{
	return strcmp(type, "request") == 0 || strcmp(type, "response") == 0 ||
	    strcmp(type, "event") == 0 || strcmp(type, "error") == 0 ||
	    strcmp(type, "fetched") == 0 || strcmp(type, "tool_call") == 0;
}

/*
 * Without --continue every record passes through and file records are
 * attached.  With it, stdin is a transcript: its turns are history and
 * are not passed on; only the records after the last request are new
 * (file records among them are attached), held back, then passed on in
 * order before the new request.
 */
void
read_input(struct input *in, const struct opts *o)
{
	struct ca_reader *r = ca_reader_new(stdin, CA_STDIN);
	struct ca_rec rec;
	int rv;

	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			in->bad = 1;
			continue;
		}
		if (strcmp(rec.type, "request") == 0) {
			in->nrequests++;
			if (o->cont) {
				cJSON_Delete(in->files);
				in->files = cJSON_CreateArray();
				ca_buf_reset(&in->held);
				/* Errors before it are history. */
				memset(&in->up, 0, sizeof(in->up));
				free(in->errwhat);
				in->errwhat = NULL;
			}
		}
		/*
		 * With --continue, an error of a turn (it has a custom_id)
		 * is history; one without (an upload) is new input.
		 */
		if (strcmp(rec.type, "error") == 0 && (!o->cont ||
		    !cJSON_IsString(cJSON_GetObjectItem(rec.json,
		    "custom_id"))))
			take_error(in, &rec);
		else if (o->cont && is_transcript(rec.type)) {
			take_transcript(in, rec.type, rec.json,
			    rec.lineno);
			continue;
		}
		if (strcmp(rec.type, "file") == 0) {
			cJSON *f = ca_jobj(rec.json, "file");

			if (f == NULL || ca_jstr(f, "id") == NULL) {
				ca_reader_warn(r, rec.lineno, "file record "
				    "without file.id, skipped");
				in->bad = 1;
				continue;
			}
			cJSON_AddItemToArray(in->files, cJSON_Duplicate(f, 1));
		}
		if (strcmp(rec.type, "skill") == 0 && take_skill(in, &rec) == -1) {
			in->bad = 1;
			continue;
		}
		if (o->cont) {
			/* Held, in order, until we know it follows the last
			 * request; a later request makes it history. */
			ca_buf_add(&in->held, rec.raw, rec.len);
			ca_buf_add(&in->held, "\n", 1);
			continue;
		}
		ca_emit_raw(&rec);
	}
	if (ca_reader_failed(r))
		in->bad = 1;
	ca_reader_free(r);
}

/* Is an RFC 3339 UTC time in the past? */
static int
expired(const char *when)
{
	char buf[32];
	time_t now = time(NULL);

	if (when == NULL)
		return 0;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", gmtime(&now));
	/* RFC 3339 UTC timestamps of one format order as strings. */
	return strncmp(when, buf, 19) < 0;
}

/* The file id a user content block carries, or NULL. */
static const char *
block_file_id(const cJSON *b)
{
	const char *id = ca_jstr(b, "file_id");

	return id != NULL ? id : ca_jstr(ca_jobj(b, "source"), "file_id");
}

static int
has_file_block(const cJSON *blocks, const char *id)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, blocks)
		if (block_file_id(b) != NULL &&
		    strcmp(block_file_id(b), id) == 0)
			return 1;
	return 0;
}

static cJSON *
last_message(const cJSON *params)
{
	const cJSON *msgs = ca_jarr(params, "messages");

	return cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
}

/*
 * Skip the failed turns after the base: their prompts are dropped (the
 * person asks again), but the files they attached never reached the
 * model, so they ride along with the new turn.
 */
static void
skip_failed(struct input *in)
{
	struct ca_buf ids = { NULL, 0, 0, 0 };
	const cJSON *r, *m, *b;
	char *s;

	in->again = cJSON_CreateArray();
	cJSON_ArrayForEach(r, in->skipped) {
		s = ca_sanitize(ca_jstr(r, "custom_id") != NULL ?
		    ca_jstr(r, "custom_id") : "?", 64);
		if (ids.len > 0)
			ca_buf_addstr(&ids, ", ");
		ca_buf_addstr(&ids, s);
		free(s);
		m = last_message(ca_jobj(r, "params"));
		if (ca_jstr(m, "role") == NULL ||
		    strcmp(ca_jstr(m, "role"), "user") != 0)
			continue;
		cJSON_ArrayForEach(b, ca_jarr(m, "content"))
			if (block_file_id(b) != NULL &&
			    !has_file_block(in->again, block_file_id(b)))
				cJSON_AddItemToArray(in->again,
				    cJSON_Duplicate(b, 1));
	}
	if (ids.len > 0) {
		s = ca_sanitize(in->base != NULL &&
		    ca_jstr(in->base, "custom_id") != NULL ?
		    ca_jstr(in->base, "custom_id") : "?", 64);
		ca_warn("--continue: skipped the failed turn%s %s (no "
		    "response); continuing from %s",
		    cJSON_GetArraySize(in->skipped) > 1 ? "s" : "", ids.p,
		    in->base != NULL ? s : "the start");
		free(s);
	}
	ca_buf_free(&ids);
}

/* Attach the files of skipped turns that the new turn lacks. */
void
reattach(cJSON *params, const struct input *in)
{
	cJSON *content = ca_jarr(last_message(params), "content");
	const cJSON *b;

	cJSON_ArrayForEach(b, in->again)
		if (content != NULL &&
		    !has_file_block(content, block_file_id(b)))
			cJSON_AddItemToArray(content, cJSON_Duplicate(b, 1));
}

/*
 * The params of the next turn: the last answered request's, with its
 * answer as the assistant message.  When no turn was answered, the last
 * request's settings with the history it was built on (its messages but
 * the failed prompt).
 */
cJSON *
continue_params(struct input *in, const struct opts *o, const char **tool)
{
	cJSON *params, *msgs, *a, *t;
	const char *cid, *exp;

	if (in->last_req == NULL)
		ca_usage("--continue: no request record in the "
		    "transcript on standard input");
	settle(in);
	skip_failed(in);
	if (in->base != NULL)
		params = cJSON_Duplicate(ca_jobj(in->base, "params"), 1);
	else
		params = cJSON_Duplicate(ca_jobj(in->last_req, "params"), 1);
	if (params == NULL)
		ca_die(CA_EX_FAIL, "--continue: the last request has no params");
	cJSON_DeleteItemFromObject(params, "stream");
	msgs = ca_jarr(params, "messages");
	if (msgs == NULL)
		msgs = cJSON_AddArrayToObject(params, "messages");
	if (in->base != NULL) {
		while (in->base_prior != NULL &&
		    cJSON_GetArraySize(in->base_prior) > 0)
			cJSON_AddItemToArray(msgs, cJSON_DetachItemFromArray(
			    in->base_prior, 0));
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "role", "assistant");
		cJSON_AddItemToObject(a, "content", in->base_turn);
		in->base_turn = NULL;
		cJSON_AddItemToArray(msgs, a);
	} else if (cJSON_GetArraySize(msgs) > 0)
		cJSON_DeleteItemFromArray(msgs, cJSON_GetArraySize(msgs) - 1);
	*tool = NULL;
	cJSON_ArrayForEach(t, ca_jarr(params, "tools")) {
		const char *ty = ca_jstr(t, "type");

		if (ty != NULL && strncmp(ty, "code_execution_", 15) == 0)
			*tool = ty;
	}
	/* Not a prefix of the id, nor silently a fresh container. */
	if (o->container == NULL && ca_jnulstr(
	    cJSON_GetObjectItemCaseSensitive(in->container, "id")))
		ca_die(CA_EX_FAIL, "--continue: the transcript's container id "
		    "holds a NUL (\\u0000)");
	cid = ca_jstr(in->container, "id");
	exp = ca_jstr(in->container, "expires_at");
	cJSON_DeleteItemFromObject(params, "container");
	if (o->container != NULL)
		cJSON_AddStringToObject(params, "container", o->container);
	else if (cid != NULL && expired(exp)) {
		if (!o->fresh)
			ca_die(CA_EX_FAIL, "container %s expired at %s; use "
			    "--fresh-container to start a new one", cid, exp);
		ca_warn("container %s expired at %s; starting a fresh one "
		    "(earlier files are gone)", cid, exp);
	} else if (cid != NULL)
		cJSON_AddStringToObject(params, "container", cid);
	return params;
}

void
input_free(struct input *in)
{
	cJSON_Delete(in->files);
	cJSON_Delete(in->last_req);
	ca_turnlog_free(&in->log);
	cJSON_Delete(in->base_prior);
	cJSON_Delete(in->container);
	cJSON_Delete(in->base);
	cJSON_Delete(in->base_turn);
	cJSON_Delete(in->skipped);
	cJSON_Delete(in->again);
	ca_buf_free(&in->held);
	free(in->errwhat);
}
