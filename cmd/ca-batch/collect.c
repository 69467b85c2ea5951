/*
 * collect.c: polling batches until they end, streaming their results
 * into the entries, and continuing paused turns.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca-batch.h"

/* Continuation ----------------------------------------------------------- */

/* A response record for entry i, the message being the server's text
 * (n bytes) compacted as it came. */
static void
ent_response(long i, const char *bid, const char *rid, const char *msg,
    size_t n)
{
	struct ent *e = &g.e[i];
	struct ca_buf b = { NULL, 0, 0, (size_t)-1 / 2 };
	char num[32];

	ca_buf_addstr(&b, "{\"type\":\"response\",\"custom_id\":");
	add_jstring(&b, e->id);
	snprintf(num, sizeof(num), ",\"part\":%d", e->parts + 1);
	ca_buf_addstr(&b, num);
	if (bid != NULL) {
		ca_buf_addstr(&b, ",\"batch_id\":");
		add_jstring(&b, bid);
	}
	if (rid != NULL) {
		ca_buf_addstr(&b, ",\"request_id\":");
		add_jstring(&b, rid);
		ca_buf_addstr(&b, ",\"attempts\":1");
	}
	ca_buf_addstr(&b, ",\"message\":");
	if (ca_jcompact(&b, msg, n) == -1)
		ca_die(CA_EX_FAIL, "cannot compact the server's JSON text");
	ca_buf_addstr(&b, "}\n");
	ent_append(e, b.p, b.len);
	ca_buf_free(&b);
	e->parts++;
}

/* After a message: continue a paused turn, or finish. */
static void
after_message(long i, const cJSON *msg)
{
	struct ent *e = &g.e[i];
	const char *stop = ca_jstr(msg, "stop_reason");
	char *id;
	int tool = stop != NULL && strcmp(stop, "tool_use") == 0 &&
	    e->parts < g.max_parts && tools_answer(i, msg);

	if (!tool && (stop == NULL || strcmp(stop, "pause_turn") != 0)) {
		ent_done(i);
		return;
	}
	if (e->reqlen > 0 && e->parts < g.max_parts) {
		id = ca_sanitize(e->id, 80);
		ca_note("%s: %s; continuing (part %d)", id, tool ?
		    "tool calls answered" : "pause_turn", e->parts + 1);
		free(id);
		e->state = E_CONT;
		if (g.ncont == g.contcap) {
			g.contcap = g.contcap ? g.contcap * 2 : 64;
			g.cont = ca_xrealloc(g.cont, (size_t)g.contcap *
			    sizeof(*g.cont));
		}
		g.cont[g.ncont++] = i;
		return;
	}
	id = ca_sanitize(e->id, 80);
	if (e->reqlen == 0)
		ca_warn("%s: paused, but its request record is not in the "
		    "input; cannot continue", id);
	else
		ca_warn("%s: still paused after %d continuations; giving up",
		    id, g.max_parts - 1);
	free(id);
	ca_status_add(&g.st, CA_EX_FAIL);
	ent_done(i);
}

/* --sync-continue: continue entry i with Messages calls until done. */
static void
sync_continue(long i, const char *betas)
{
	struct ca_resp resp;
	struct curl_slist *hdrs;
	cJSON *p, *msg;
	char *body;
	CURL *h;
	int rc;

	memset(&resp, 0, sizeof(resp));
	while (g.e[i].state == E_CONT && !g.sig) {
		if ((p = cont_params(i)) == NULL) {
			ent_error(i, 0, NULL, ca_errobj("invalid_record",
			    "cannot build the continuation"), NULL, 0);
			break;
		}
		body = ca_jprint(p);
		cJSON_Delete(p);
		ca_resp_reset(&resp);
		hdrs = ca_api_headers(&g.api, betas);
		hdrs = curl_slist_append(hdrs,
		    "content-type: application/json");
		h = ca_api_easy(&g.api, "POST", "/v1/messages", hdrs, &resp);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		rc = ca_call(h, &resp, NULL, NULL, NULL, g.e[i].id);
		curl_easy_cleanup(h);
		curl_slist_free_all(hdrs);
		free(body);
		msg = rc == 0 ? ca_jparse(resp.body.p, resp.body.len) : NULL;
		if (rc != 0)
			ent_error(i, resp.status, resp.request_id,
			    ca_resp_error(&resp), NULL, rc == CA_EX_TEMPFAIL);
		else if (ca_jarr(msg, "content") == NULL)
			ent_error(i, resp.status, resp.request_id,
			    ca_errobj("invalid_response", "the response is not a "
			    "message"), NULL, 0);
		else {
			ent_response(i, NULL, resp.request_id, resp.body.p,
			    resp.body.len);
			g.e[i].state = E_PENDING;
			after_message(i, msg);
			if (g.e[i].state == E_CONT)
				g.ncont--;	/* continued here */
		}
		cJSON_Delete(msg);
	}
	ca_buf_free(&resp.body);
}

static void
continue_paused(long bi)
{
	long i, n;
	int gi;

	if (g.ncont == 0)
		return;
	if (g.sync_cont) {
		n = g.ncont;
		for (i = 0; i < n; i++) {
			g.ncont = 0;
			sync_continue(g.cont[i], g.b[bi].betas_h);
		}
	} else {
		gi = group_of(g.b[bi].betas, g.b[bi].betas_h);
		submit(g.cont, g.ncont, gi);
	}
	g.ncont = 0;
}

/* Collection ------------------------------------------------------------- */

static void
got_result(long bi, long i, const char *line, size_t n, const cJSON *res)
{
	const char *type = ca_jstr(res, "type");
	const cJSON *eo = ca_jobj(res, "error"), *inner = ca_jobj(eo, "error");
	size_t ms, rs, re, vs, ve;

	if (strcmp(type, "succeeded") == 0 && ca_jobj(res, "message") &&
	    ca_jmember(line, n, "result", &ms, &rs, &re) == 0 &&
	    ca_jmember(line + rs, re - rs, "message", &ms, &vs, &ve) == 0) {
		ent_response(i, g.b[bi].id, NULL, line + rs + vs, ve - vs);
		g.b[bi].pending--;
		after_message(i, ca_jobj(res, "message"));
	} else if (strcmp(type, "errored") == 0)
		ent_error(i, 0, ca_jstr(eo, "request_id"), inner != NULL &&
		    ca_jstr(inner, "type") != NULL ? cJSON_Duplicate(inner, 1) :
		    ca_errobj("api_error", "errored, without an error object"),
		    "errored", inner != NULL &&
		    ca_error_temporary(0, ca_jstr(inner, "type")));
	else if (strcmp(type, "canceled") == 0)
		ent_error(i, 0, NULL, ca_errobj("batch_canceled", "the batch was "
		    "canceled before this request was processed; submit it "
		    "again"), "canceled", 1);
	else if (strcmp(type, "expired") == 0)
		ent_error(i, 0, NULL, ca_errobj("batch_expired", "the batch "
		    "expired before this request was processed; submit it "
		    "again later"), "expired", 1);
	else
		ent_error(i, 0, NULL, ca_errobj("invalid_response", "a result "
		    "of an unknown type"), type, 0);
}

/* One line of a batch's results. */
static void
result_line(long bi, const char *line, size_t n)
{
	cJSON *o;
	const cJSON *res;
	const char *id;
	char *k, *s;
	long i;

	while (n > 0 && strchr(" \t\r", line[n - 1]) != NULL)
		n--;
	if (n == 0)
		return;
	o = ca_jparse(line, n);
	id = ca_jstr(o, "custom_id");
	res = ca_jobj(o, "result");
	if (id == NULL || ca_jstr(res, "type") == NULL) {
		s = ca_sanitize(g.b[bi].id, 80);
		ca_warn("%s: a results line that is not a result", s);
		free(s);
		ca_status_add(&g.st, CA_EX_FAIL);
		cJSON_Delete(o);
		return;
	}
	k = batch_key(g.b[bi].id, id);
	i = ca_map_get(&g.bykey, k);
	if (i < 0 && ca_map_get(&g.present, k) < 0) {
		s = ca_sanitize(id, 80);
		ca_note("a result for %s, which this input does not hold", s);
		free(s);
	}
	free(k);
	/* Already written (a retried download, or a repeated line). */
	if (i >= 0 && g.e[i].state == E_PENDING && g.e[i].bat == bi)
		got_result(bi, i, line, n, res);
	cJSON_Delete(o);
}

struct rctx {
	long		 bat;
	CURL		*h;
	struct ca_resp	*resp;
	struct ca_buf	 line;
	int		 over;	/* the line is past CA_LINE_MAX: the rest of
				 * it is dropped, its head kept */
};

/* The custom_id at the head of a results line (the API writes it
 * first), into id; -1 if there is none that looks right. */
static int
head_id(const char *p, size_t n, char id[CA_ID_MAX])
{
	static const char key[] = "\"custom_id\"";
	size_t k, m, klen = sizeof(key) - 1;

	if (n > 4096)
		n = 4096;
	for (k = 0; k + klen <= n && memcmp(p + k, key, klen) != 0; k++)
		;
	if (k + klen > n)
		return -1;
	for (k += klen; k < n && (p[k] == ' ' || p[k] == ':'); k++)
		;
	if (k >= n || p[k++] != '"')
		return -1;
	for (m = 0; k + m < n && m < CA_ID_MAX - 1 && p[k + m] != '"'; m++)
		;
	if (k + m >= n || p[k + m] != '"')
		return -1;
	memcpy(id, p + k, m);
	id[m] = '\0';
	return ca_id_ok(id) ? 0 : -1;
}

/*
 * A results line longer than CA_LINE_MAX: its request alone fails (the
 * others of the batch go on), named by the head of the line if it can
 * be; otherwise it is missing at the end, as a result never sent.
 */
static void
long_line(long bi, const char *head, size_t n)
{
	char id[CA_ID_MAX], *k;
	long i = -1;

	if (head_id(head, n, id) == 0) {
		k = batch_key(g.b[bi].id, id);
		i = ca_map_get(&g.bykey, k);
		free(k);
	}
	ca_warn("%s: a results line over %zu MiB, for %s; not read",
	    g.b[bi].id, CA_LINE_MAX >> 20, i >= 0 ? id : "a request not "
	    "named at its start");
	if (i >= 0 && g.e[i].state == E_PENDING && g.e[i].bat == bi)
		ent_error(i, 0, NULL, ca_errobj("invalid_response", "the "
		    "result is over 64 MiB, more than ca-batch reads"), NULL, 0);
	else
		ca_status_add(&g.st, CA_EX_FAIL);
}

static void
end_line(struct rctx *r)
{
	if (r->over)
		long_line(r->bat, r->line.p, r->line.len);
	else
		result_line(r->bat, r->line.p, r->line.len);
	ca_buf_reset(&r->line);
	r->over = 0;
}

static size_t
on_results(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct rctx *r = ctx;
	size_t n = size * nmemb, k, m;
	long code = 0;
	char *nl;

	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300)
		return ca_buf_add(&r->resp->body, p, n) == -1 ? 0 : n;
	for (k = 0; k < n; k += m) {
		nl = memchr(p + k, '\n', n - k);
		m = nl != NULL ? (size_t)(nl - (p + k)) + 1 : n - k;
		if (!r->over && ca_buf_add(&r->line, p + k, nl != NULL ? m - 1 :
		    m) == -1)
			r->over = 1;
		if (nl != NULL)
			end_line(r);
	}
	return n;
}

static int
results_rewind(void *ctx)
{
	struct rctx *r = ctx;

	ca_buf_reset(&r->line);
	r->over = 0;
	return g.sig ? -1 : 0;	/* no retry after a signal */
}

/* libcurl calls this about once a second even when nothing moves. */
static int
on_xfer(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	(void)ctx;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return g.sig != 0;
}

/*
 * A signal ends a transfer that reads (a poll, a download that never
 * ends), so that what is pending is written at once.  Creates are not
 * cut short: a batch made without our knowing would run, and be paid
 * for, twice.  ca-batch sets no idle limit, whose check this replaces.
 */
static void
interruptible(CURL *h)
{
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

static int
same_origin(const char *a, const char *b)
{
	static const CURLUPart part[] = { CURLUPART_SCHEME, CURLUPART_HOST,
	    CURLUPART_PORT };
	CURLU *ua = curl_url(), *ub = curl_url();
	char *x, *y;
	size_t i;
	int same = curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;

	for (i = 0; same && i < sizeof(part) / sizeof(part[0]); i++) {
		x = y = NULL;
		same = curl_url_get(ua, part[i], &x, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK && curl_url_get(ub, part[i], &y,
		    CURLU_DEFAULT_PORT) == CURLUE_OK && strcasecmp(x, y) == 0;
		curl_free(x);
		curl_free(y);
	}
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* Where the results are: the batch's results_url only on the API's own
 * origin, since the key goes with the request. */
static char *
results_url(const struct bat *b)
{
	const char *u = ca_jstr(b->obj, "results_url");
	char *p, *url, *s;

	if (u != NULL && same_origin(u, g.api.base))
		return ca_xstrdup(u);
	if (u != NULL) {
		s = ca_sanitize(u, 200);
		ca_note("results_url %s is not on the API's origin; not using "
		    "it", s);
		free(s);
	}
	if ((p = bat_path(b->id, "/results")) == NULL)
		return NULL;
	url = ca_xmalloc(strlen(g.api.base) + strlen(p) + 1);
	strcpy(url, g.api.base);
	strcat(url, p);
	free(p);
	return url;
}

/* Fail every entry still waiting on batch bi. */
static void
fail_pending(long bi, const struct ca_resp *resp, cJSON *err, int temp)
{
	long i;

	for (i = 0; i < g.ne; i++)
		if (g.e[i].bat == bi && g.e[i].state == E_PENDING)
			ent_error(i, resp ? resp->status : 0, resp ?
			    resp->request_id : NULL, cJSON_Duplicate(err, 1),
			    resp ? NULL : "missing", temp);
	cJSON_Delete(err);
}

static void
collect(long bi)
{
	struct ca_resp resp;
	struct curl_slist *hdrs = ca_api_headers(&g.api, NULL);
	struct rctx r;
	char *url = results_url(&g.b[bi]);
	CURL *h;
	int rc;

	memset(&resp, 0, sizeof(resp));
	ca_resp_reset(&resp);
	memset(&r, 0, sizeof(r));
	r.bat = bi;
	r.resp = &resp;
	r.line.max = CA_LINE_MAX;
	h = ca_api_easy(&g.api, "GET", "/", hdrs, &resp);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_results);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	/* Results may be large; only silence ends the transfer. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	r.h = h;
	interruptible(h);
	ca_note("GET the results of %s", g.b[bi].id);
	rc = ca_call(h, &resp, NULL, results_rewind, &r, NULL);
	if (rc == 0 && (r.line.len > 0 || r.over))
		end_line(&r);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(url);
	if (rc != 0 && !g.sig)
		ca_call_report(g.b[bi].id, &resp);
	if (rc != 0 && g.sig) {
		/* Interrupted: its entries are written as pending. */
	} else if (rc == CA_EX_TEMPFAIL) {
		/* Try again at the next poll (or the next run). */
		g.b[bi].due = ca_now() + g.b[bi].interval;
	} else if (rc != 0) {
		fail_pending(bi, &resp, ca_resp_error(&resp), 0);
		g.b[bi].done = 1;
	} else {
		fail_pending(bi, NULL, ca_errobj("missing_result", "the batch "
		    "returned no result for this request"), 0);
		g.b[bi].done = 1;
		continue_paused(bi);
	}
	ca_buf_free(&r.line);
	ca_buf_free(&resp.body);
}

static void
show_progress(struct bat *b)
{
	const cJSON *c = ca_jobj(b->obj, "request_counts");
	char line[512];

	snprintf(line, sizeof(line), "%s: %.0f processing, %.0f succeeded, "
	    "%.0f errored, %.0f canceled, %.0f expired",
	    ca_jstr(b->obj, "processing_status"),
	    ca_jnum(c, "processing", 0), ca_jnum(c, "succeeded", 0),
	    ca_jnum(c, "errored", 0), ca_jnum(c, "canceled", 0),
	    ca_jnum(c, "expired", 0));
	if (!g.progress || (b->counts != NULL && strcmp(b->counts, line) ==
	    0))
		return;
	free(b->counts);
	b->counts = ca_xstrdup(line);
	/* The status is the server's text: through the one cleaner. */
	ca_warn("%s: %s", b->id, line);
}

/*
 * The server's retry-after for the next poll, in seconds, at most
 * POLL_MAX: a server asking for years must not put a run to sleep
 * for them in silence (a cron job never sleeps past its slot).
 */
static double
poll_after(const struct bat *b, const struct ca_resp *resp)
{
	char *end;
	double ra;

	if (resp->retry_after[0] == '\0')
		return 0;
	ra = strtod(resp->retry_after, &end);
	if (end == resp->retry_after || !(ra > 0))
		return 0;
	if (ra > POLL_MAX) {
		ca_note("%s: retry-after %s; polling again in %g s instead",
		    b->id, resp->retry_after, POLL_MAX);
		ra = POLL_MAX;
	}
	return ra;
}

static void
poll_bat(long bi)
{
	struct ca_resp resp;
	struct curl_slist *hdrs = ca_api_headers(&g.api, NULL);
	struct bat *b = &g.b[bi];
	char *path = bat_path(b->id, "");
	const char *st;
	double ra;
	CURL *h;
	int rc;

	if (path == NULL) {
		fail_pending(bi, NULL, ca_errobj("invalid_record", "not a batch "
		    "id"), 0);
		b->done = 1;
		curl_slist_free_all(hdrs);
		return;
	}
	memset(&resp, 0, sizeof(resp));
	ca_resp_reset(&resp);
	h = ca_api_easy(&g.api, "GET", path, hdrs, &resp);
	interruptible(h);
	ca_note("GET %s", path);
	rc = ca_call(h, &resp, NULL, NULL, NULL, NULL);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(path);
	if (rc != 0 && g.sig) {
		ca_buf_free(&resp.body);
		return;		/* interrupted: still pending */
	}
	if (rc != 0)
		ca_call_report(b->id, &resp);
	if (rc == 0 && bat_set(b, resp.body.p, resp.body.len) == -1) {
		ca_warn("%s: the response is not this batch", b->id);
		rc = CA_EX_TEMPFAIL;
	}
	if (rc == CA_EX_FAIL) {
		fail_pending(bi, &resp, ca_resp_error(&resp), 0);
		b->done = 1;
	} else if (rc == 0) {
		st = ca_jstr(b->obj, "processing_status");
		show_progress(b);
		if (b->written == NULL || strcmp(b->written, st) != 0)
			write_bat(b);
		if (strcmp(st, "ended") == 0) {
			collect(bi);
			b = &g.b[bi];
		}
	}
	if (!b->done) {
		ra = poll_after(b, &resp);
		b->due = ca_now() + (ra > b->interval ? ra : b->interval);
		b->interval = b->interval * 2 > POLL_MAX ? POLL_MAX :
		    b->interval * 2;
	}
	ca_buf_free(&resp.body);
}

static void
nap(double until)
{
	while (!g.sig && ca_now() < until)
		ca_sleep_ms(100);
}

/* Poll every batch with entries waiting on it until it has ended and
 * its results are in; under --no-wait, look at each once. */
void
collect_all(void)
{
	double now, next;
	int active;
	long i;

	for (;;) {
		active = 0;
		now = ca_now();
		next = now + POLL_MAX;
		for (i = 0; i < g.nb && !g.sig; i++) {
			if (g.b[i].done || g.b[i].pending <= 0 ||
			    (g.nowait && g.b[i].fresh))
				continue;
			active = 1;
			if (g.b[i].due <= now)
				poll_bat(i);
		}
		if (g.nowait || !active || g.sig)
			break;
		/* What is left to wait for, after this pass. */
		for (active = 0, i = 0; i < g.nb; i++)
			if (!g.b[i].done && g.b[i].pending > 0) {
				active = 1;
				if (g.b[i].due < next)
					next = g.b[i].due;
			}
		if (!active)
			break;
		nap(next);
	}
}

/* After the input: batches whose results are all present are done;
 * requests a batch holds but the input does not get an entry each. */
void
add_orphans(void)
{
	const cJSON *v;
	char *k;
	long bi, i;

	for (bi = 0; bi < g.nb; bi++) {
		cJSON_ArrayForEach(v, g.b[bi].ids) {
			if (!cJSON_IsString(v))
				continue;
			k = batch_key(g.b[bi].id, v->valuestring);
			if (ca_map_get(&g.bykey, k) < 0 &&
			    ca_map_get(&g.present, k) < 0) {
				i = ent_new(v->valuestring, NULL, 0);
				g.e[i].bat = bi;
				g.e[i].state = E_PENDING;
				g.b[bi].pending++;
				ca_map_put(&g.bykey, k, i);
			}
			free(k);
		}
		if (g.b[bi].pending == 0) {
			write_bat(&g.b[bi]);
			g.b[bi].done = 1;
		}
	}
}
