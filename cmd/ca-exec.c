/*
 * ca-exec: send each request record to the Messages API and write what
 * came back: the request, then response records (one per API response
 * of the turn, pause_turn continuations included) or an error record.
 * All transfers run on one libcurl multi handle.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

enum jstate { J_WAIT, J_RUN, J_DONE };

/* Input records held behind an unfinished one, beyond the jobs. */
#define SLOTS_MAX	4096
/*
 * Bytes of output held behind an unfinished request (ca-exec(1) says
 * so): past this, input is not read until the head is done.  Records
 * of up to CA_LINE_MAX each would otherwise pile up by the gigabyte.
 */
#define HOLD_MAX	((size_t)256 << 20)

/* Output of one input record, kept in input order. */
struct slot {
	struct ca_buf	 out;
	int		 done;
	struct slot	*next;
};

struct job {
	struct slot	*slot;
	char		*id;		/* custom_id */
	cJSON		*params;	/* grows with pause_turn continuations */
	cJSON		*turn;		/* assistant content of this turn */
	char		*betas;		/* comma-joined, or NULL */
	int		 part;		/* API responses so far, 1-based */
	int		 attempt;	/* attempts at the current part */
	int		 emitted;	/* output of this attempt written */
	enum jstate	 state;
	double		 due;
	CURL		*h;
	struct curl_slist *hdrs;
	char		*body;
	struct ca_resp	 resp;
	struct ca_retry	 retry;
	struct ca_sse	*sse;
	struct ca_msg	*msg;
	int		 streaming;	/* this response is an event stream */
	int		 stopped;	/* message_stop seen */
	char		 serr[256];	/* stream failure, if any */
	cJSON		*serrobj;	/* error event's object */
	char		**secrets;	/* MCP tokens in params: never shown */
	int		 nsecrets;
	struct job	*next;
};

static struct {
	struct ca_api	 api;
	CURLM		*multi;
	int		 jobs;
	int		 unordered;
	int		 stream;
	int		 retries;
	double		 budget;
	int		 max_parts;
	const char	*version;
	long		 connect_ms, timeout_ms, idle_ms;
	double		 hold_until;	/* a 429 pauses every new attempt */
	struct slot	*head, *tail;
	int		 nslots;	/* input records not yet written */
	size_t		 held;		/* bytes in the slots' buffers */
	struct job	*jlist;
	int		 active;
	struct ca_status st;	/* the exit-status rule's tally */
	int		 count;		/* --count: count_tokens instead */
	double		 max_cost;	/* --max-cost; < 0 none */
	double		 spent;		/* estimated so far */
	struct ca_strset containers;	/* charged their minimum */
	int		 noprice;	/* warned of a model without price */
} g;

/* The progress line: for a person at a terminal, with more than one
 * request; never where stderr is a file. */
static struct {
	int	 on;
	long	 nreq, ndone, nfailed;
	int	 shown;		/* a line is on the screen */
	char	 last[160];	/* what it says */
} prog;

static void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fputs("usage: ca-exec [-suv] [-j jobs] [-r retries] [-t seconds] "
	    "[--api-version version]\n"
	    "               [--connect-timeout seconds] [--idle-timeout "
	    "seconds]\n"
	    "               [--max-continues n] [--retry-max-time seconds]\n"
	    "               [--count] [--max-cost usd]\n"
	    "       ca-exec --version\n", fp);
	if (status == 0)
		fputs("  -j, --jobs N              requests in flight at once "
		    "(default 1)\n"
		    "  -r, --retries N           retries of a failed attempt "
		    "(default 2)\n"
		    "  -s, --stream              stream: write each event as "
		    "it arrives\n"
		    "  -t, --timeout SECONDS     time for one attempt "
		    "(default 600)\n"
		    "  -u, --unordered           completion order instead of "
		    "input order\n"
		    "  -v, --verbose             say what is retried and "
		    "continued\n"
		    "      --api-version V       anthropic-version (default "
		    "2026-10-21)\n"
		    "      --connect-timeout S   time to connect (default "
		    "10)\n"
		    "      --count               count input tokens instead: "
		    "count records\n"
		    "      --idle-timeout S      silence that ends a stream "
		    "(default 120)\n"
		    "      --max-continues N     pause_turn continuations "
		    "(default 10)\n"
		    "      --max-cost USD        start nothing once this much "
		    "is spent (estimated)\n"
		    "      --retry-max-time S    total retry wait (default "
		    "60)\n"
		    "      --version             print the version and exit\n",
		    fp);
	exit(status);
}

/* One record's bytes, flushed: the reader may be a live pipeline. */
static void
out(const char *p, size_t n)
{
	ca_out(p, n);
	ca_out_flush();
}

/* Take the progress line away, before a message or at the end. */
static void
progress_clear(void)
{
	if (prog.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		prog.shown = 0;
		prog.last[0] = '\0';
	}
}

/* Draw it again when what it says changed. */
static void
progress(int eof)
{
	const struct job *j;
	long retrying = 0;
	char buf[sizeof(prog.last)];

	if (!prog.on || prog.nreq < 2)
		return;
	for (j = g.jlist; j != NULL; j = j->next)
		if (j->state == J_WAIT && j->attempt > 0)
			retrying++;
	snprintf(buf, sizeof(buf), "%s: %ld/%ld%s done, %ld failed, %ld "
	    "retrying", ca_prog, prog.ndone, prog.nreq, eof ? "" : "+",
	    prog.nfailed, retrying);
	if (strcmp(buf, prog.last) == 0)
		return;
	fprintf(stderr, "\r%s\033[K", buf);
	fflush(stderr);
	memcpy(prog.last, buf, sizeof(buf));
	prog.shown = 1;
}

static struct slot *
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
static void
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

static void
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

static void
emit(struct job *j, cJSON *rec)
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
static void
emit_wrapped(struct job *j, cJSON *head, const char *key,
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
static int
compact(struct ca_buf *b, const char *json, size_t len)
{
	b->max = (size_t)-1 / 2;
	return ca_jcompact(b, json, len);
}

static cJSON *
record(const char *type, const struct job *j)
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

static void
job_fail(struct job *j, long status, cJSON *err, int temporary)
{
	cJSON *r = record("error", j);
	char *type, *msg;

	scrub(j, err);
	type = ca_sanitize(ca_jstr(err, "type"), 64);
	msg = ca_sanitize(ca_jstr(err, "message"), 300);

	cJSON_AddNumberToObject(r, "part", j->part);
	if (status > 0)
		cJSON_AddNumberToObject(r, "status", status);
	else
		cJSON_AddNullToObject(r, "status");
	if (j->resp.request_id[0] != '\0')
		cJSON_AddStringToObject(r, "request_id", j->resp.request_id);
	else
		cJSON_AddNullToObject(r, "request_id");
	cJSON_AddNumberToObject(r, "attempts", j->attempt);
	cJSON_AddItemToObject(r, "error", err);
	if (status > 0 && j->resp.request_id[0] != '\0')
		ca_warn("%s: %ld %s: %s (request-id %s)", j->id ? j->id :
		    "request", status, type, msg, j->resp.request_id);
	else if (status > 0)
		ca_warn("%s: %ld %s: %s", j->id ? j->id : "request", status,
		    type, msg);
	else
		ca_warn("%s: %s: %s", j->id ? j->id : "request", type, msg);
	free(type);
	free(msg);
	emit(j, r);
	ca_status_add(&g.st, temporary ? CA_EX_TEMPFAIL : CA_EX_FAIL);
	prog.nfailed++;
	j->state = J_DONE;
}

static cJSON *
errobj(const char *type, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "message", msg);
	return e;
}

/* Stream events: each one is written the moment it is complete. */
static int
on_event(void *ctx, const char *event, const char *data, size_t len)
{
	struct job *j = ctx;
	struct ca_buf b = { NULL, 0, 0, 0 };
	cJSON *d, *r;
	int rv;

	if (strcmp(event, "ping") == 0)
		return 0;
	if (len == 0) {
		/* A bare event name carries nothing to write down. */
		rv = ca_msg_event(j->msg, event, NULL);
		if (rv == 1)
			j->stopped = 1;
		if (rv == -1)
			snprintf(j->serr, sizeof(j->serr), "%s",
			    ca_msg_error(j->msg));
		return rv == -1;
	}
	if (compact(&b, data, len) == -1 ||
	    (d = ca_jparse(b.p, b.len)) == NULL) {
		ca_buf_free(&b);
		snprintf(j->serr, sizeof(j->serr), "invalid JSON in the data "
		    "of a %.40s event", event);
		return 1;
	}
	rv = ca_msg_event(j->msg, event, d);
	cJSON_Delete(d);
	r = record("event", j);
	cJSON_AddNumberToObject(r, "part", j->part);
	emit_wrapped(j, r, "event", &b);
	ca_buf_free(&b);
	j->emitted = 1;
	if (rv == 1)
		j->stopped = 1;
	if (rv == -1) {
		snprintf(j->serr, sizeof(j->serr), "%s", ca_msg_error(j->msg));
		if (ca_msg_errobj(j->msg) != NULL)
			j->serrobj = cJSON_Duplicate(ca_msg_errobj(j->msg), 1);
		return 1;
	}
	return 0;
}

static size_t
on_stream(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct job *j = ctx;
	size_t n = size * nmemb;
	long code = 0;

	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	if (!j->streaming) {
		/* Errors, and servers that ignored stream:true, send JSON. */
		j->streaming = code >= 200 && code < 300 &&
		    strncmp(j->resp.content_type, "text/event-stream", 17) == 0;
		if (!j->streaming)
			return ca_buf_add(&j->resp.body, p, n) == -1 ? 0 : n;
	}
	if (ca_sse_feed(j->sse, p, n) == -1) {
		if (j->serr[0] == '\0')
			snprintf(j->serr, sizeof(j->serr), "%s",
			    ca_sse_error(j->sse));
		return 0;
	}
	return n;
}

/*
 * count_tokens takes the request less what only creating a message
 * means: no max_tokens, container, metadata and the like.
 */
static char *
count_body(const cJSON *params)
{
	static const char *const drop[] = { "max_tokens", "stream",
	    "container", "metadata", "stop_sequences", "service_tier",
	    "inference_geo", "diagnostics", NULL };
	cJSON *p = cJSON_Duplicate(params, 1);
	char *s;
	int i;

	for (i = 0; drop[i] != NULL; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(p, drop[i]);
	s = ca_jprint(p);
	cJSON_Delete(p);
	return s;
}

static void
start(struct job *j)
{
	cJSON_DeleteItemFromObject(j->params, "stream");
	if (g.stream)
		cJSON_AddTrueToObject(j->params, "stream");
	free(j->body);
	j->body = g.count ? count_body(j->params) : ca_jprint(j->params);
	if (j->hdrs == NULL) {
		j->hdrs = ca_api_headers(&g.api, j->betas);
		j->hdrs = curl_slist_append(j->hdrs,
		    "content-type: application/json");
	}
	ca_resp_reset(&j->resp);
	j->h = ca_api_easy(&g.api, "POST", g.count ?
	    "/v1/messages/count_tokens" : "/v1/messages", j->hdrs, &j->resp);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->body);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	/* Over TLS, wait to multiplex on HTTP/2 rather than open more
	 * connections; plain HTTP/1.1 has nothing to wait for. */
	if (!g.api.plain)
		curl_easy_setopt(j->h, CURLOPT_PIPEWAIT, 1L);
	if (g.stream) {
		ca_sse_free(j->sse);
		ca_msg_free(j->msg);
		j->sse = ca_sse_new(CA_LINE_MAX, on_event, j);
		j->msg = ca_msg_new();
		j->streaming = j->stopped = 0;
		j->serr[0] = '\0';
		curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_stream);
		curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
		/* A stream may rightly last long; the idle limit guards it. */
		curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, 0L);
	}
	j->attempt++;
	j->emitted = 0;
	j->state = J_RUN;
	curl_multi_add_handle(g.multi, j->h);
}

static void
job_free(struct job *j)
{
	free(j->id);
	free(j->betas);
	while (j->nsecrets > 0)
		free(j->secrets[--j->nsecrets]);
	free(j->secrets);
	free(j->body);
	cJSON_Delete(j->params);
	cJSON_Delete(j->turn);
	cJSON_Delete(j->serrobj);
	curl_slist_free_all(j->hdrs);
	ca_buf_free(&j->resp.body);
	ca_sse_free(j->sse);
	ca_msg_free(j->msg);
	free(j);
}

/* pause_turn: send the turn so far back, in the same container. */
static int
continue_turn(struct job *j, const cJSON *msg)
{
	cJSON *msgs = ca_jarr(j->params, "messages"), *last, *a, *b;
	const char *cid = ca_jstr(ca_jobj(msg, "container"), "id");

	/* Never continue in a container named by a prefix of its id. */
	if (ca_jnulstr(cJSON_GetObjectItemCaseSensitive(ca_jobj(msg,
	    "container"), "id"))) {
		ca_warn("%s: the container id holds a NUL (\\u0000); not "
		    "continuing", j->id ? j->id : "request");
		return -1;
	}

	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		cJSON_AddItemToArray(j->turn, cJSON_Duplicate(b, 1));
	if (j->part >= g.max_parts) {
		ca_warn("%s: still paused after %d continuations; giving up",
		    j->id ? j->id : "request", g.max_parts - 1);
		return -1;
	}
	/* The turn's first pause adds the assistant message; later ones
	 * replace it with the longer one. */
	last = msgs != NULL ? cJSON_GetArrayItem(msgs,
	    cJSON_GetArraySize(msgs) - 1) : NULL;
	if (j->part > 1 && last != NULL &&
	    strcmp(ca_jstr(last, "role") ? ca_jstr(last, "role") : "",
	    "assistant") == 0)
		cJSON_DeleteItemFromArray(msgs, cJSON_GetArraySize(msgs) - 1);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "role", "assistant");
	cJSON_AddItemToObject(a, "content", cJSON_Duplicate(j->turn, 1));
	cJSON_AddItemToArray(msgs, a);
	if (cid != NULL) {
		cJSON_DeleteItemFromObject(j->params, "container");
		cJSON_AddStringToObject(j->params, "container", cid);
	}
	ca_note("%s: pause_turn; continuing (part %d)", j->id ? j->id :
	    "request", j->part + 1);
	j->part++;
	j->attempt = 0;
	j->state = J_WAIT;
	j->due = ca_now();
	return 0;
}

/* The rate limit is spent: hold every new attempt until it resets. */
static void
pace(const struct job *j)
{
	double w = ca_ratelimit_wait(&j->resp);

	if (w > 0 && ca_now() + w > g.hold_until) {
		g.hold_until = ca_now() + w;
		ca_note("%s: request rate limit reached; holding new requests "
		    "for %.0f s", j->id ? j->id : "request", w);
	}
}

/* --max-cost: what ca-render would estimate, containers included. */
static void
spend(const cJSON *msg)
{
	double usd = ca_price_msg(msg);
	const char *cid = ca_jstr(ca_jobj(msg, "container"), "id");

	if (usd < 0 && !g.noprice) {
		ca_warn("no price for model %s: its cost is not counted "
		    "against --max-cost", ca_jstr(msg, "model") ?
		    ca_jstr(msg, "model") : "(none)");
		g.noprice = 1;
	}
	if (usd > 0)
		g.spent += usd;
	if (cid != NULL && ca_strset_add(&g.containers, cid) == 0)
		g.spent += ca_price_containers(1);
}

/* A message arrived: write it (from raw, the body as it came, compacted,
 * when there is one), then continue a paused turn or finish. */
static void
got_message(struct job *j, cJSON *msg, const struct ca_buf *raw)
{
	cJSON *r = record("response", j);
	const char *stop = ca_jstr(msg, "stop_reason");
	int pause = stop != NULL && strcmp(stop, "pause_turn") == 0;

	spend(msg);
	cJSON_AddNumberToObject(r, "part", j->part);
	cJSON_AddStringToObject(r, "request_id", j->resp.request_id);
	cJSON_AddNumberToObject(r, "attempts", j->attempt);
	if (raw != NULL)
		emit_wrapped(j, r, "message", raw);
	else {
		cJSON_AddItemToObject(r, "message", cJSON_Duplicate(msg, 1));
		emit(j, r);
	}
	if (!(pause && continue_turn(j, msg) == 0)) {
		if (pause) {
			ca_status_add(&g.st, CA_EX_FAIL);
			prog.nfailed++;
		}
		j->state = J_DONE;
	}
	cJSON_Delete(msg);
}

static void
stream_done(struct job *j)
{
	char m[512];

	if (j->serrobj != NULL) {
		cJSON *e = j->serrobj;

		j->serrobj = NULL;
		job_fail(j, j->resp.status, e, ca_error_temporary(0,
		    ca_jstr(e, "type")));
	} else if (j->serr[0] != '\0')
		job_fail(j, j->resp.status, errobj("stream_error", j->serr), 0);
	else if (j->stopped) {
		/* Everything arrived; a fault after message_stop loses nothing. */
		if (j->resp.cc != CURLE_OK)
			ca_note("%s: after message_stop: %s", j->id ? j->id :
			    "request", curl_easy_strerror(j->resp.cc));
		got_message(j, ca_msg_take(j->msg), NULL);
	} else if (j->resp.cc != CURLE_OK) {
		snprintf(m, sizeof(m), "stream interrupted: %s",
		    j->resp.errbuf[0] ? j->resp.errbuf :
		    curl_easy_strerror(j->resp.cc));
		job_fail(j, j->resp.status, errobj(j->resp.cc ==
		    CURLE_OPERATION_TIMEDOUT ? "timeout_error" :
		    "connection_error", m), 1);
	} else
		job_fail(j, j->resp.status, errobj("incomplete_stream",
		    "stream ended before message_stop"), 1);
}

/* Retry when the policy allows and nothing of this attempt was written. */
static int
maybe_retry(struct job *j)
{
	char m[512], why[128] = "";
	long d;

	if (j->emitted)
		return 0;
	d = ca_retry_next(&j->retry, &j->resp, j->attempt - 1, why,
	    sizeof(why));
	if (d < 0) {
		if (why[0] != '\0')
			ca_note("%s: not retrying: %s", j->id ? j->id :
			    "request", why);
		return 0;
	}
	ca_resp_errmsg(&j->resp, m, sizeof(m));
	ca_note("%s: %s; retry %d of %d in %.2f s", j->id ? j->id : "request",
	    m, j->attempt, j->retry.max, d / 1000.0);
	j->due = ca_now() + d / 1000.0;
	if (j->resp.status == 429 && j->due > g.hold_until)
		g.hold_until = j->due;
	j->state = J_WAIT;
	return 1;
}

/* --count: {"type":"count","custom_id":...,"input_tokens":N} */
static void
got_count(struct job *j)
{
	cJSON *b = ca_jparse(j->resp.body.p, j->resp.body.len), *r;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(b, "input_tokens");

	if (!cJSON_IsNumber(n)) {
		cJSON_Delete(b);
		job_fail(j, j->resp.status, errobj("invalid_response",
		    "the count_tokens answer has no input_tokens"), 0);
		return;
	}
	r = record("count", j);
	cJSON_AddNumberToObject(r, "input_tokens", n->valuedouble);
	emit(j, r);
	cJSON_Delete(b);
	j->state = J_DONE;
}

static void
finished(struct job *j, CURLcode cc)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	cJSON *msg = NULL;

	j->resp.cc = ca_resp_result(&j->resp, cc);
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->resp.status);
	pace(j);
	curl_multi_remove_handle(g.multi, j->h);
	curl_easy_cleanup(j->h);
	j->h = NULL;
	if (j->streaming) {
		stream_done(j);
		return;
	}
	if (g.count && cc == CURLE_OK && j->resp.status >= 200 &&
	    j->resp.status < 300) {
		got_count(j);
		return;
	}
	if (cc == CURLE_OK && j->resp.status >= 200 && j->resp.status < 300) {
		if (compact(&b, j->resp.body.p, j->resp.body.len) == -1 ||
		    (msg = ca_jparse(b.p, b.len)) == NULL ||
		    ca_jarr(msg, "content") == NULL) {
			cJSON_Delete(msg);
			ca_buf_free(&b);
			job_fail(j, j->resp.status, errobj("invalid_response",
			    "the response is not a message"), 0);
			return;
		}
		got_message(j, msg, &b);
		ca_buf_free(&b);
		return;
	}
	if (maybe_retry(j))
		return;
	job_fail(j, j->resp.status, ca_resp_error(&j->resp),
	    ca_resp_temporary(&j->resp));
}

static char *
join_betas(const cJSON *betas, const char **bad)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	const cJSON *e;

	*bad = NULL;
	cJSON_ArrayForEach(e, betas) {
		if (!cJSON_IsString(e) || !ca_header_safe(e->valuestring) ||
		    strchr(e->valuestring, ',') != NULL) {
			*bad = "a beta name that is not a plain string";
			break;
		}
		if (b.len > 0)
			ca_buf_addstr(&b, ",");
		ca_buf_addstr(&b, e->valuestring);
	}
	return b.p;
}

/*
 * The request names, per MCP server, the environment variable that
 * holds its token; the token goes only into the body we send.
 */
static int
mcp_tokens(struct job *j, const cJSON *env, long lineno)
{
	cJSON *srv;
	const char *name, *var, *tok;
	char m[256];

	cJSON_ArrayForEach(srv, ca_jarr(j->params, "mcp_servers")) {
		name = ca_jstr(srv, "name");
		var = name != NULL ? ca_jstr(env, name) : NULL;
		if (var == NULL)
			continue;
		if ((tok = getenv(var)) == NULL || *tok == '\0') {
			snprintf(m, sizeof(m), "the MCP server %.64s needs a "
			    "token in $%.64s, which is not set", name, var);
			ca_warn("<stdin>:%ld: %s", lineno, m);
			job_fail(j, 0, errobj("mcp_token_missing", m), 0);
			return -1;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(srv,
		    "authorization_token");
		cJSON_AddStringToObject(srv, "authorization_token", tok);
		j->secrets = ca_xrealloc(j->secrets,
		    (size_t)(j->nsecrets + 1) * sizeof(char *));
		j->secrets[j->nsecrets++] = ca_xstrdup(tok);
	}
	return 0;
}

static void
add_request(const struct ca_rec *rec, struct slot *s)
{
	struct job *j = ca_xcalloc(1, sizeof(*j));
	const char *id = ca_jstr(rec->json, "custom_id"), *bad = NULL;
	cJSON *p = ca_jobj(rec->json, "params");

	j->slot = s;
	j->id = id != NULL ? ca_xstrdup(id) : NULL;
	prog.nreq++;
	j->part = 1;
	j->turn = cJSON_CreateArray();
	j->resp.content_length = -1;
	ca_retry_init(&j->retry);
	j->retry.max = g.retries;
	j->retry.budget_s = g.budget;
	j->next = g.jlist;
	g.jlist = j;
	g.active++;
	slot_write(s, rec->raw, rec->len);
	slot_write(s, "\n", 1);
	j->betas = join_betas(cJSON_GetObjectItem(rec->json, "betas"), &bad);
	/* Never a prefix of the id for the id. */
	if (ca_jnulstr(cJSON_GetObjectItemCaseSensitive(rec->json,
	    "custom_id")))
		bad = "a custom_id that holds a NUL (\\u0000)";
	if (p == NULL || bad != NULL) {
		ca_warn("<stdin>:%ld: %s", rec->lineno, p == NULL ?
		    "request record without params" : bad);
		job_fail(j, 0, errobj("invalid_record", p == NULL ?
		    "request record without params" : bad), 0);
		return;
	}
	j->params = cJSON_Duplicate(p, 1);
	if (mcp_tokens(j, cJSON_GetObjectItem(rec->json, "mcp_token_env"),
	    rec->lineno) == -1)
		return;
	j->state = J_WAIT;
	j->due = ca_now();
}

/* Is there room to take another input record? */
static int
room(void)
{
	return g.active < g.jobs && g.nslots < g.jobs + SLOTS_MAX &&
	    g.held < HOLD_MAX;
}

static int
stdin_ready(void)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

	return poll(&pfd, 1, 0) > 0;
}

/*
 * Take input records while there is room for more requests.  Only whole
 * lines are taken, and stdin is read once per call at most, so a writer
 * that stalls mid-line never stalls the transfers.  Records waiting
 * behind a slow request are bounded too, in number and in bytes.
 */
static int
admit(struct ca_reader *r, int *eof)
{
	struct ca_rec rec;
	struct slot *s;
	int rv, bad = 0, filled = 0;

	while (!*eof && room()) {
		if (!ca_reader_pending(r)) {
			if (filled || !stdin_ready())
				break;
			ca_reader_fill(r);
			filled = 1;
			continue;
		}
		rv = ca_reader_next(r, &rec);
		if (rv == 0) {
			*eof = 1;
			if (ca_reader_failed(r))
				bad = 1;
			break;
		}
		if (rv == -1) {
			bad = 1;
			continue;
		}
		s = slot_new();
		/* An error that passes through is this tool's failure too. */
		ca_status_rec(&g.st, rec.json);
		if (strcmp(rec.type, "request") == 0)
			add_request(&rec, s);
		else {
			slot_write(s, rec.raw, rec.len);
			slot_write(s, "\n", 1);
			slot_done(s);
		}
	}
	return bad;
}

/*
 * --max-cost: a new request or continuation starts only while the
 * estimate is under the cap; a retry of a started one still runs.
 */
static int
over_budget(struct job *j)
{
	char m[160];

	if (g.max_cost < 0 || g.spent < g.max_cost)
		return 0;
	snprintf(m, sizeof(m), "not sent: an estimated $%.4f spent reaches "
	    "--max-cost $%.4f", g.spent, g.max_cost);
	job_fail(j, 0, errobj("budget_exceeded", m), 0);
	return 1;
}

/* Start what is due; returns ms until the next job falls due (or -1). */
static long
launch(void)
{
	struct job *j;
	double t = ca_now(), next = -1;

	for (j = g.jlist; j != NULL; j = j->next) {
		if (j->state != J_WAIT)
			continue;
		if (j->due <= t && g.hold_until <= t && j->attempt == 0 &&
		    over_budget(j))
			continue;
		if (j->due <= t && g.hold_until <= t)
			start(j);
		else {
			double d = j->due > g.hold_until ? j->due :
			    g.hold_until;

			if (next < 0 || d < next)
				next = d;
		}
	}
	return next < 0 ? -1 : (long)ceil((next - t) * 1000);
}

/* Forget finished jobs, and let their slots go out. */
static void
reap(void)
{
	struct job **jp = &g.jlist, *j;

	while ((j = *jp) != NULL) {
		if (j->state == J_DONE) {
			prog.ndone++;
			*jp = j->next;
			slot_done(j->slot);
			job_free(j);
			g.active--;
		} else
			jp = &j->next;
	}
}

static void
loop(void)
{
	struct ca_reader *r = ca_reader_new(stdin, "<stdin>");
	struct curl_waitfd wfd;
	CURLMsg *m;
	int eof = 0, running, left, bad = 0, want;
	long wait;

	for (;;) {
		bad |= admit(r, &eof);
		launch();
		if (eof && g.jlist == NULL)
			break;
		curl_multi_perform(g.multi, &running);
		while ((m = curl_multi_info_read(g.multi, &left)) != NULL) {
			struct job *j;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&j);
			finished(j, m->data.result);
		}
		reap();
		progress(eof);
		if (eof && g.jlist == NULL)
			break;
		/* Start what finishing made due (a continuation, a retry
		 * without delay); wake for the next one. */
		wait = launch();
		if (wait < 0 || wait > 1000)
			wait = 1000;
		want = !eof && room();
		if (want && ca_reader_pending(r))
			wait = 0;
		wfd.fd = STDIN_FILENO;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		curl_multi_poll(g.multi, &wfd, want ? 1 : 0, (int)wait, NULL);
	}
	if (bad)
		ca_status_add(&g.st, CA_EX_FAIL);
	progress_clear();
	ca_reader_free(r);
}

/* A sum of dollars: a plain non-negative decimal number. */
static double
cost_arg(const char *s)
{
	char *end;
	double v;

	if (*s == '$')
		s++;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= 0) ||
	    v > 1e9 || strspn(s, "0123456789.") != strlen(s))
		ca_die(CA_EX_USAGE, "--max-cost wants a sum in US dollars "
		    "such as 2.50, not %s", s);
	return v;
}

static void
parse_opts(int argc, char **argv)
{
	enum { O_VER = 256, O_CONN, O_IDLE, O_MAXC, O_BUDGET, O_VERSION,
	    O_COUNT, O_COST };
	static const struct option lopts[] = {
		{ "api-version",	required_argument, NULL, O_VER },
		{ "connect-timeout",	required_argument, NULL, O_CONN },
		{ "count",		no_argument,	   NULL, O_COUNT },
		{ "max-cost",		required_argument, NULL, O_COST },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "idle-timeout",	required_argument, NULL, O_IDLE },
		{ "jobs",		required_argument, NULL, 'j' },
		{ "max-continues",	required_argument, NULL, O_MAXC },
		{ "retries",		required_argument, NULL, 'r' },
		{ "retry-max-time",	required_argument, NULL, O_BUDGET },
		{ "stream",		no_argument,	   NULL, 's' },
		{ "timeout",		required_argument, NULL, 't' },
		{ "unordered",		no_argument,	   NULL, 'u' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "version",		no_argument,	   NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "hj:r:st:uv", lopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(0);
			break;
		case 'j':
			g.jobs = (int)ca_strtonum(optarg, 1, 1000, "jobs");
			break;
		case 'r':
			g.retries = (int)ca_strtonum(optarg, 0, 100, "retries");
			break;
		case 's':
			g.stream = 1;
			break;
		case 't':
			g.timeout_ms = (long)(ca_seconds(optarg, "timeout") *
			    1000);
			break;
		case 'u':
			g.unordered = 1;
			break;
		case 'v':
			ca_verbose++;
			break;
		case O_VER:
			if (!ca_header_safe(optarg) || *optarg == '\0')
				ca_die(CA_EX_USAGE, "bad API version");
			g.version = optarg;
			break;
		case O_CONN:
			g.connect_ms = (long)(ca_seconds(optarg,
			    "connect timeout") * 1000);
			break;
		case O_IDLE:
			g.idle_ms = (long)(ca_seconds(optarg,
			    "idle timeout") * 1000);
			break;
		case O_MAXC:
			g.max_parts = (int)ca_strtonum(optarg, 0, 1000,
			    "max continues") + 1;
			break;
		case O_BUDGET:
			g.budget = ca_seconds(optarg, "retry max time");
			break;
		case O_VERSION:
			ca_version(ca_http_libs());
		case O_COUNT:
			g.count = 1;
			break;
		case O_COST:
			g.max_cost = cost_arg(optarg);
			break;
		default:
			usage(CA_EX_USAGE);
		}
	}
}

int
main(int argc, char *argv[])
{
	const char *ver = getenv("CA_API_VERSION");
	int rv;

	ca_setprog(argv[0]);
	argv[0] = (char *)ca_prog;	/* getopt names it in its messages */
	g.jobs = 1;
	g.retries = 2;
	g.budget = 60;
	g.max_parts = 11;
	g.connect_ms = 10000;
	g.timeout_ms = 600000;
	g.idle_ms = 120000;
	g.version = ver != NULL && *ver != '\0' ? ver : "2026-10-21";
	g.max_cost = -1;
	parse_opts(argc, argv);
	if (optind < argc)
		usage(CA_EX_USAGE);
	if (g.count && g.stream)
		ca_die(CA_EX_USAGE, "--count and --stream exclude each other");
	if (!ca_header_safe(g.version))
		ca_die(CA_EX_USAGE, "bad API version");
	if ((rv = ca_api_init(&g.api)) != 0)
		return rv;
	g.api.version = g.version;
	g.api.connect_ms = g.connect_ms;
	g.api.timeout_ms = g.timeout_ms;
	/* A plain request is silent until it is done; only a stream can
	 * be told idle, since the server pings it. */
	g.api.idle_ms = g.stream ? g.idle_ms : 0;
	prog.on = isatty(STDERR_FILENO);
	/* Messages go on lines of their own, not after the progress. */
	ca_warn_hook = progress_clear;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	g.multi = curl_multi_init();
	curl_multi_setopt(g.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)g.jobs);
	loop();
	curl_multi_cleanup(g.multi);
	curl_global_cleanup();
	ca_api_free(&g.api);
	ca_strset_free(&g.containers);
	return ca_finish(ca_status_exit(&g.st));
}
