/*
 * jobs.c: one request record's life in ca-exec: taken from the input,
 * started on the multi handle, its stream written event by event,
 * retried or failed, finished.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-exec.h"

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
	if (exec_compact(&b, data, len) == -1 ||
	    (d = ca_jparse(b.p, b.len)) == NULL) {
		ca_buf_free(&b);
		snprintf(j->serr, sizeof(j->serr), "invalid JSON in the data "
		    "of a %.40s event", event);
		return 1;
	}
	rv = ca_msg_event(j->msg, event, d);
	cJSON_Delete(d);
	r = exec_record("event", j);
	cJSON_AddNumberToObject(r, "part", j->part);
	exec_emit_wrapped(j, r, "event", &b);
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

/*
 * The bound on held output (HOLD_MAX) counts streams still arriving
 * too, whose message grows as their events are held (g.inflight, the
 * bytes received of streams not at the head, until they end): past
 * it, a stream whose output would only be held waits, its
 * transfer paused, until the held output goes out.  The head slot's
 * stream writes straight through and never waits, and unordered (where
 * every slot holds its lines until done) one stream, the lead, goes on,
 * so that something always finishes.
 */
int
job_must_wait(struct job *j)
{
	if (g.held + g.inflight < HOLD_MAX)
		return 0;
	if (!g.unordered)
		return j->slot != g.head;
	if (g.lead == NULL)
		g.lead = j;
	return j != g.lead;
}

/* Let paused streams go on when there is room again, or their turn. */
void
jobs_resume(void)
{
	struct job *j;

	for (j = g.jlist; j != NULL && g.npaused > 0; j = j->next) {
		if (!j->paused || job_must_wait(j))
			continue;
		j->paused = j->resp.paused = 0;
		g.npaused--;
		/* May call on_stream at once, which may pause it again. */
		curl_easy_pause(j->h, CURLPAUSE_CONT);
	}
}

static size_t
on_stream(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct job *j = ctx;
	size_t n = size * nmemb;
	long code = 0;

	if (j->paused)
		return CURL_WRITEFUNC_PAUSE;
	if (j->streaming && job_must_wait(j)) {
		j->paused = j->resp.paused = 1;
		g.npaused++;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (g.unordered || j->slot != g.head) {
		j->fed += n;
		g.inflight += n;
	}

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

/*
 * Send j: its message, or its count_tokens request with --count, or
 * first (--count-first) to learn the input tokens the limiter charges.
 */
void
exec_start(struct job *j)
{
	int count = g.count || (g.count_first && !j->counted);

	cJSON_DeleteItemFromObject(j->params, "stream");
	if (g.stream)
		cJSON_AddTrueToObject(j->params, "stream");
	free(j->body);
	j->body = count ? count_body(j->params) : ca_jprint(j->params);
	if (j->hdrs == NULL) {
		j->hdrs = ca_api_headers(&g.api, j->betas);
		j->hdrs = curl_slist_append(j->hdrs,
		    "content-type: application/json");
	}
	ca_resp_reset(&j->resp);
	j->h = ca_api_easy(&g.api, "POST", count ?
	    "/v1/messages/count_tokens" : "/v1/messages", j->hdrs, &j->resp);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->body);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	/* Over TLS, wait to multiplex on HTTP/2 rather than open more
	 * connections; plain HTTP/1.1 has nothing to wait for. */
	if (!g.api.plain)
		curl_easy_setopt(j->h, CURLOPT_PIPEWAIT, 1L);
	if (!g.count && count) {
		/* Not an attempt at the message: the limiter and the
		 * retries count only those. */
		j->counting = 1;
		j->state = J_RUN;
		curl_multi_add_handle(g.multi, j->h);
		return;
	}
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
	pace_sent(j);
	curl_multi_add_handle(g.multi, j->h);
}

void
job_free(struct job *j)
{
	free(j->id);
	free(j->betas);
	free(j->lost);
	while (j->nsecrets > 0)
		free(j->secrets[--j->nsecrets]);
	free(j->secrets);
	free(j->body);
	cJSON_Delete(j->params);
	cJSON_Delete(j->turn);
	cJSON_Delete(j->ctools);
	cJSON_Delete(j->serrobj);
	curl_slist_free_all(j->hdrs);
	ca_buf_free(&j->resp.body);
	ca_sse_free(j->sse);
	ca_msg_free(j->msg);
	free(j);
}

/* The rate limit is spent: hold every new attempt until it resets. */
static void
pace(const struct job *j)
{
	double w = ca_ratelimit_wait(&j->resp);

	if (w > 0 && ca_now() + w > g.hold_until) {
		g.hold_until = ca_now() + w;
		ca_note("%s: request rate limit reached; holding new requests "
		    "for %.0f s", job_name(j), w);
	}
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
		job_fail(j, j->resp.status, ca_errobj("stream_error", j->serr),
		    0);
	else if (j->stopped) {
		/* Everything arrived; a fault after message_stop loses nothing. */
		if (j->resp.cc != CURLE_OK)
			ca_note("%s: after message_stop: %s", job_name(j),
			    curl_easy_strerror(j->resp.cc));
		got_message(j, ca_msg_take(j->msg), NULL);
	} else if (j->resp.cc != CURLE_OK) {
		/* ca_resp_result left libcurl's words in errbuf. */
		snprintf(m, sizeof(m), "stream interrupted: %s",
		    j->resp.errbuf);
		job_fail(j, j->resp.status, ca_errobj(j->resp.cc ==
		    CURLE_OPERATION_TIMEDOUT ? "timeout_error" :
		    "connection_error", m), 1);
	} else
		job_fail(j, j->resp.status, ca_errobj("incomplete_stream",
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
			ca_note("%s: not retrying: %s", job_name(j), why);
		return 0;
	}
	ca_resp_errmsg(&j->resp, m, sizeof(m));
	ca_note("%s: %s; retry %d of %d in %.2f s", job_name(j), m,
	    j->attempt, j->retry.max, d / 1000.0);
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

	/* A count is a whole number, 0 or more: never passed on else. */
	if (!ca_jtokens(n)) {
		cJSON_Delete(b);
		job_fail(j, j->resp.status, ca_errobj("invalid_response", n ==
		    NULL ? "the count_tokens answer has no input_tokens" :
		    "the count_tokens answer's input_tokens is not a count "
		    "of tokens (a whole number, 0 or more)"), 0);
		return;
	}
	r = exec_record("count", j);
	cJSON_AddNumberToObject(r, "input_tokens", n->valuedouble);
	exec_emit(j, r);
	cJSON_Delete(b);
	j->state = J_DONE;
}

void
finished(struct job *j, CURLcode cc)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	cJSON *msg = NULL;

	j->resp.cc = ca_resp_result(&j->resp, cc);
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->resp.status);
	if (!j->counting) {
		pace_seen(j);		/* pace.c */
		if (!g.pace.on)
			pace(j);
	}
	curl_multi_remove_handle(g.multi, j->h);
	curl_easy_cleanup(j->h);
	j->h = NULL;
	if (j->paused) {
		j->paused = j->resp.paused = 0;
		g.npaused--;
	}
	if (g.lead == j)
		g.lead = NULL;
	g.inflight -= j->fed;
	j->fed = 0;
	if (j->counting) {
		pace_counted(j, cc);
		return;
	}
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
		if (exec_compact(&b, j->resp.body.p, j->resp.body.len) == -1 ||
		    (msg = ca_jparse(b.p, b.len)) == NULL ||
		    ca_jarr(msg, "content") == NULL) {
			cJSON_Delete(msg);
			ca_buf_free(&b);
			job_fail(j, j->resp.status, ca_errobj(
			    "invalid_response", "the response is not a "
			    "message"), 0);
			return;
		}
		got_message(j, msg, &b);
		ca_buf_free(&b);
		return;
	}
	if (maybe_retry(j) || expire_retry(j, NULL))
		return;
	job_fail(j, j->resp.status, ca_resp_error(&j->resp),
	    ca_resp_temporary(&j->resp));
}

/*
 * The MCP tokens: only from the variables our command line allows
 * (ca_mcp_apply); each goes only into the body we send.
 */
static int
mcp_tokens(struct job *j, const cJSON *env, const struct ca_rec *rec)
{
	cJSON *err;

	err = ca_mcp_apply(&g.mcp_env, j->params, env, &j->secrets,
	    &j->nsecrets);
	if (err == NULL)
		return 0;
	ca_reader_warn(rec->from, rec->lineno, "%s",
	    ca_jstr(err, "message"));
	j->told = 1;
	job_fail(j, 0, err, 0);
	return -1;
}

void
add_request(const struct ca_rec *rec, struct slot *s)
{
	struct job *j = ca_xcalloc(1, sizeof(*j));
	const char *id = ca_jstr(rec->json, "custom_id"), *bad = NULL;
	cJSON *p = ca_jobj(rec->json, "params");

	j->slot = s;
	j->id = id != NULL ? ca_xstrdup(id) : NULL;
	g.prog.nreq++;
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
	j->betas = ca_req_betas(cJSON_GetObjectItem(rec->json, "betas"),
	    &bad);
	/* Never a prefix of the id for the id. */
	if (ca_jnulstr(cJSON_GetObjectItemCaseSensitive(rec->json,
	    "custom_id")))
		bad = "a custom_id that holds a NUL (\\u0000)";
	if (p == NULL || bad != NULL) {
		ca_reader_warn(rec->from, rec->lineno, "%s", p == NULL ?
		    "request record without params" : bad);
		j->told = 1;
		job_fail(j, 0, ca_errobj("invalid_record", p == NULL ?
		    "request record without params" : bad), 0);
		return;
	}
	j->params = cJSON_Duplicate(p, 1);
	if (ca_jarr(rec->json, "client_tools") != NULL)
		j->ctools = cJSON_Duplicate(ca_jarr(rec->json,
		    "client_tools"), 1);
	if (mcp_tokens(j, cJSON_GetObjectItem(rec->json, "mcp_token_env"),
	    rec) == -1)
		return;
	if (g.done != NULL && resume_job(j))	/* resume.c: done before */
		return;
	j->state = J_WAIT;
	j->due = ca_now();
}
