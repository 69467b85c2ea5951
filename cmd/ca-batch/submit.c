/*
 * submit.c: taking in the records read, checking new requests as the
 * API would (before anything is sent), and creating batches within the
 * limits, the create body built in a temporary file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-batch.h"

/* Submission ------------------------------------------------------------- */

static int
is_custom_id(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n >= 1 && n <= 64 && s[n] == '\0';
}

/* A batch id is safe in a path: the API's are msgbatch_ and letters. */
int
is_batch_id(const char *s)
{
	return *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s);
}

/*
 * The params that continue entry i's paused turn: its request's params
 * with everything the turn produced so far appended verbatim as one
 * assistant message, in the same container (as ca-exec continues).
 */
cJSON *
cont_params(long i)
{
	const struct ent *e = &g.e[i];
	char *t = ent_text(e), *line, *nl;
	cJSON *req, *p, *r;
	struct ca_turnlog log;

	req = ca_jparse(t, e->reqlen - 1);
	p = cJSON_Duplicate(ca_jobj(req, "params"), 1);
	cJSON_Delete(req);
	/* Its responses, and the client tool calls answered between. */
	ca_turnlog_init(&log);
	for (line = t + e->reqlen; line < t + e->len; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		if ((r = ca_jparse(line, (size_t)(nl - line))) == NULL)
			continue;
		ca_turnlog_add(&log, r);
		cJSON_Delete(r);
	}
	free(t);
	if (ca_turnlog_continue(&log, p) == -1) {
		cJSON_Delete(p);
		p = NULL;
	}
	ca_turnlog_free(&log);
	return p;
}

/* One create-body item, {"custom_id":...,"params":...}, for entry e
 * whose params are the text p (n bytes). */
static int
item(struct ca_buf *b, const char *id, const char *p, size_t n)
{
	ca_buf_addstr(b, "{\"custom_id\":");
	add_jstring(b, id);
	ca_buf_addstr(b, ",\"params\":");
	if (ca_jcompact(b, p, n) == -1)
		return -1;
	return ca_buf_addstr(b, "}");
}

/* The params of a new request record's line as an item. */
static int
new_item(struct ca_buf *b, const char *id, const char *line, size_t n)
{
	size_t ms, vs, ve;

	if (ca_jmember(line, n, "params", &ms, &vs, &ve) == -1)
		return -1;
	return item(b, id, line + vs, ve - vs);
}

static void
refuse(const struct ca_rec *rec, const char *id, const char *why)
{
	char *s = ca_sanitize(id != NULL ? id : "(none)", 80);

	ca_reader_warn(rec->from, rec->lineno, "request %s: %s", s, why);
	free(s);
	g.refuse = 1;
}

int
group_of(const cJSON *betas, const char *h)
{
	long i = ca_map_get(&g.groups, h != NULL ? h : "");

	if (i >= 0)
		return (int)i;
	g.gr = ca_xrealloc(g.gr, (size_t)(g.ngr + 1) * sizeof(*g.gr));
	g.gr[g.ngr].h = h != NULL ? ca_xstrdup(h) : NULL;
	g.gr[g.ngr].arr = betas != NULL ? cJSON_Duplicate(betas, 1) :
	    cJSON_CreateArray();
	ca_map_put(&g.groups, h != NULL ? h : "", g.ngr);
	return g.ngr++;
}

/* Why the API would refuse a new request record, or NULL. */
static const char *
check_new(const struct ca_rec *rec, const char *id)
{
	const cJSON *p = ca_jobj(rec->json, "params"), *v;

	if (id == NULL || !is_custom_id(id))
		return "custom_id must match ^[a-zA-Z0-9_-]{1,64}$";
	if (ca_map_get(&g.newids, id) >= 0)
		return "duplicate custom_id in the input";
	ca_map_put(&g.newids, id, 1);
	if (p == NULL)
		return "request record without params";
	/* Never silently without the token ca-exec would send. */
	v = cJSON_GetObjectItemCaseSensitive(rec->json, "mcp_token_env");
	if (v != NULL && !cJSON_IsNull(v) && !(cJSON_IsObject(v) &&
	    v->child == NULL))
		return "mcp_token_env: ca-batch sends no MCP token; "
		    "send this request with ca-exec --mcp-token-env";
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "stream")))
		return "stream: true is not allowed in a batch";
	if (tools_check(p) != NULL)
		return tools_check(p);
	v = cJSON_GetObjectItemCaseSensitive(p, "max_tokens");
	if (cJSON_IsNumber(v) && v->valuedouble == 0)
		return "max_tokens: 0 is not allowed in a batch";
	return NULL;
}

/*
 * A request record without batch_id: to submit, once checked as the API
 * would.  A refused one is kept too: on refusal the input is written
 * back as it came.
 */
void
take_new(const struct ca_rec *rec)
{
	const char *id = ca_jstr(rec->json, "custom_id"), *bad;
	struct ca_buf b = { NULL, 0, 0, (size_t)-1 / 2 };
	char *h = NULL;
	long i;

	if ((bad = check_new(rec, id)) == NULL)
		h = ca_req_betas(cJSON_GetObjectItemCaseSensitive(rec->json,
		    "betas"), &bad);
	if (bad == NULL && new_item(&b, id, rec->raw, rec->len) == -1)
		bad = "params cannot be read";
	if (bad == NULL && b.len + strlen(BODY_HEAD BODY_TAIL) > g.max_bytes)
		bad = "larger than a batch may be (--max-bytes)";
	if (bad != NULL)
		refuse(rec, id, bad);
	i = ent_new(id != NULL ? id : "", rec->raw, rec->len);
	g.e[i].reqlen = g.e[i].len;
	g.e[i].isize = b.len;
	g.e[i].group = bad != NULL ? 0 : group_of(
	    cJSON_GetObjectItemCaseSensitive(rec->json, "betas"), h);
	g.e[i].state = E_NEW;
	ca_buf_free(&b);
	free(h);
}

/* A record this tool cannot take: say why, count it, pass it on. */
static void
pass_bad(const struct ca_rec *rec, const char *why)
{
	ca_reader_warn(rec->from, rec->lineno, "%s; passed through", why);
	ca_status_add(&g.st, CA_EX_FAIL);
	batch_pass(rec);
}

/* A request record with batch_id: submitted before; hold it. */
void
take_held(const struct ca_rec *rec, const char *bid)
{
	const char *id = ca_jstr(rec->json, "custom_id");
	char *k;
	long i;

	if (id == NULL || !is_batch_id(bid)) {
		pass_bad(rec, "request record with a bad batch_id or no "
		    "custom_id");
		return;
	}
	i = ent_new(id, rec->raw, rec->len);
	g.e[i].reqlen = g.e[i].len;
	g.e[i].bat = bat_find(bid, 1);
	g.e[i].state = E_PENDING;
	g.b[g.e[i].bat].pending++;
	k = batch_key(bid, id);
	ca_map_put(&g.bykey, k, i);
	free(k);
	ca_map_put(&g.byid, id, i);
}

/* A response or error record of a batch: an earlier part of a held
 * request, its result, or a result to pass through. */
void
take_result(const struct ca_rec *rec, const char *bid, const char *id)
{
	long i = ca_map_get(&g.byid, id), b;
	const char *stop;
	struct ent *e;
	char *k;

	ca_status_rec(&g.st, rec->json);
	k = batch_key(bid, id);
	ca_map_put(&g.present, k, 1);
	free(k);
	if (i < 0 || g.e[i].state != E_PENDING) {
		batch_pass(rec);
		return;
	}
	e = &g.e[i];
	ent_append(e, rec->raw, rec->len);
	ent_append(e, "\n", 1);
	if (strcmp(rec->type, "response") == 0)
		e->parts++;
	b = e->bat;
	if (strcmp(g.b[b].id, bid) != 0)
		return;
	/* Its batch's result: done, unless it paused and may go on (a
	 * continuation an earlier run could not submit, or more
	 * --max-continues than that run had). */
	g.b[b].pending--;
	e->state = E_DONE;
	stop = ca_jstr(ca_jobj(rec->json, "message"), "stop_reason");
	if (strcmp(rec->type, "response") == 0 && e->parts < g.max_parts &&
	    stop != NULL && strcmp(stop, "pause_turn") == 0)
		e->state = E_CONT;
}

/* Submit the continuations of paused turns found in the input, by the
 * betas of the batch each paused in. */
void
submit_paused(void)
{
	long *v = ca_xmalloc(((size_t)g.ne + 1) * sizeof(*v)), n, i;
	int gi;

	for (i = 0; i < g.ne; i++)
		if (g.e[i].state == E_CONT)
			g.e[i].group = group_of(g.b[g.e[i].bat].betas,
			    g.b[g.e[i].bat].betas_h);
	for (gi = 0; gi < g.ngr && !g.sig; gi++) {
		for (n = 0, i = 0; i < g.ne; i++)
			if (g.e[i].state == E_CONT && g.e[i].group == gi)
				v[n++] = i;
		if (n > 0)
			submit(v, n, gi);
	}
	free(v);
}

void
take_batch(const struct ca_rec *rec)
{
	const cJSON *o = ca_jobj(rec->json, "batch");
	const char *id = ca_jstr(o, "id"), *bad;
	struct bat *b;
	long bi;

	/* Batch ids go into paths and messages: only the API's letters. */
	if (id == NULL || !is_batch_id(id)) {
		pass_bad(rec, "batch record without a good batch.id");
		return;
	}
	bi = bat_find(id, 1);		/* may move g.b */
	b = &g.b[bi];
	cJSON_Delete(b->obj);
	cJSON_Delete(b->ids);
	cJSON_Delete(b->betas);
	free(b->betas_h);
	free(b->objtxt);
	free(b->raw);
	b->obj = cJSON_Duplicate(o, 1);
	b->objtxt = NULL;
	b->ids = cJSON_Duplicate(ca_jarr(rec->json, "custom_ids"), 1);
	if (b->ids == NULL)
		b->ids = cJSON_CreateArray();
	b->betas = cJSON_Duplicate(ca_jarr(rec->json, "betas"), 1);
	if (b->betas == NULL)
		b->betas = cJSON_CreateArray();
	b->betas_h = ca_req_betas(b->betas, &bad);
	b->raw = ca_xmalloc(rec->len + 1);
	memcpy(b->raw, rec->raw, rec->len);
	b->raw[rec->len] = '\0';
}

static int
body_rewind(void *ctx)
{
	(void)ctx;
	return lseek(g.body, 0, SEEK_SET) == -1 ? -1 : 0;
}

static size_t
body_read(char *p, size_t size, size_t nmemb, void *ctx)
{
	ssize_t r;

	(void)ctx;
	while ((r = read(g.body, p, size * nmemb)) == -1 && errno == EINTR)
		;
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static void
body_write(const char *p, size_t n)
{
	if (ca_write_all(g.body, p, n) == -1)
		ca_die(CA_EX_IOERR, "body file:");
}

/*
 * POST the body file as a new batch of the entries v[0..n-1], with the
 * betas of group gi.  On success they wait on it; on failure they get
 * error records (or, a temporary failure under --no-wait, stay as they
 * were, to be submitted by a later run).
 */
static void
create(const long *v, long n, size_t size, int gi)
{
	struct ca_resp resp;
	struct curl_slist *hdrs;
	struct bat *b;
	CURL *h;
	long i, bi;
	char *k;
	int rc;

	memset(&resp, 0, sizeof(resp));
	ca_resp_reset(&resp);
	hdrs = ca_api_headers(&g.api, g.gr[gi].h);
	hdrs = curl_slist_append(hdrs, "content-type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	h = ca_api_easy(&g.api, "POST", "/v1/messages/batches", hdrs, &resp);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, body_read);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	body_rewind(NULL);
	ca_note("creating a batch of %ld requests (%zu bytes)", n, size);
	rc = ca_call(h, &resp, NULL, body_rewind, NULL, "create a batch");
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (rc == 0) {
		cJSON *o = ca_jparse(resp.body.p, resp.body.len);
		const char *id = ca_jstr(o, "id");

		if (id == NULL || !is_batch_id(id)) {
			ca_warn("create a batch: the response is not a batch");
			rc = CA_EX_FAIL;
			resp.status = 0;
		} else {
			bi = bat_find(id, 1);
			b = &g.b[bi];
			if (bat_set(b, resp.body.p, resp.body.len) == -1)
				ca_die(CA_EX_FAIL, "cannot compact a batch");
			b->betas = cJSON_Duplicate(g.gr[gi].arr, 1);
			b->betas_h = g.gr[gi].h ? ca_xstrdup(g.gr[gi].h) :
			    NULL;
			b->fresh = 1;
			b->due = ca_now() + g.poll;
			for (i = 0; i < n; i++) {
				struct ent *e = &g.e[v[i]];

				e->bat = bi;
				e->state = E_PENDING;
				k = batch_key(id, e->id);
				ca_map_put(&g.bykey, k, v[i]);
				free(k);
			}
			b->pending = n;
			write_bat(b);
		}
		cJSON_Delete(o);
	}
	if (rc != 0) {
		int temp = rc == CA_EX_TEMPFAIL;

		for (i = 0; i < n; i++) {
			/* Under --no-wait, the next run tries again. */
			if (temp && g.nowait && (g.e[v[i]].state == E_NEW ||
			    g.e[v[i]].state == E_CONT)) {
				ca_status_add(&g.st, CA_EX_TEMPFAIL);
				continue;
			}
			ent_error(v[i], resp.status, resp.request_id,
			    resp.status > 0 ? ca_resp_error(&resp) :
			    ca_errobj("invalid_response", "the response to "
			    "creating a batch is not a batch"), NULL, temp);
		}
	}
	ca_buf_free(&resp.body);
}

/* The item for entry i: its own params, or its continuation's. */
static int
ent_item(long i, struct ca_buf *b)
{
	struct ent *e = &g.e[i];
	cJSON *p;
	char *line, *s;
	int rv;

	if (e->state == E_NEW) {
		line = ca_xmalloc(e->reqlen);
		spool_get(e->off, line, e->reqlen);
		rv = new_item(b, e->id, line, e->reqlen - 1);
		free(line);
		return rv;
	}
	if ((p = cont_params(i)) == NULL)
		return -1;
	s = ca_jprint(p);
	rv = item(b, e->id, s, strlen(s));
	free(s);
	cJSON_Delete(p);
	return rv;
}

static void
send_chunk(const long *c, long count, size_t size, int gi)
{
	body_write(BODY_TAIL, strlen(BODY_TAIL));
	create(c, count, size + strlen(BODY_TAIL), gi);
}

/* Submit entries v[0..n-1] (all of group gi) in batches within the
 * limits, in input order. */
void
submit(const long *v, long n, int gi)
{
	struct ca_buf it = { NULL, 0, 0, (size_t)-1 / 2 };
	long *c = ca_xmalloc(((size_t)n + 1) * sizeof(*c)), i, count = 0;
	size_t size = 0, ht = strlen(BODY_HEAD BODY_TAIL);

	for (i = 0; i < n && !g.sig; i++) {
		ca_buf_reset(&it);
		if (ent_item(v[i], &it) == -1) {
			ent_error(v[i], 0, NULL, ca_errobj("invalid_record",
			    "cannot build the request"), NULL, 0);
			continue;
		}
		if (it.len + ht > g.max_bytes) {
			ent_error(v[i], 0, NULL, ca_errobj("request_too_large",
			    "the continuation is larger than a batch may be"),
			    NULL, 0);
			continue;
		}
		if (count > 0 && (count + 1 > g.max_requests ||
		    size + 1 + it.len + strlen(BODY_TAIL) > g.max_bytes)) {
			send_chunk(c, count, size, gi);
			count = 0;
		}
		if (count == 0) {
			if (ftruncate(g.body, 0) == -1 ||
			    lseek(g.body, 0, SEEK_SET) == -1)
				ca_die(CA_EX_IOERR, "body file:");
			body_write(BODY_HEAD, strlen(BODY_HEAD));
			size = strlen(BODY_HEAD);
		} else {
			body_write(",", 1);
			size++;
		}
		body_write(it.p, it.len);
		size += it.len;
		c[count++] = v[i];
	}
	if (count > 0)
		send_chunk(c, count, size, gi);
	free(c);
	ca_buf_free(&it);
}

void
submit_new(void)
{
	long *v = ca_xmalloc(((size_t)g.ne + 1) * sizeof(*v)), n, i;
	int gi;

	for (gi = 0; gi < g.ngr && !g.sig; gi++) {
		for (n = 0, i = 0; i < g.ne; i++)
			if (g.e[i].state == E_NEW && g.e[i].group == gi)
				v[n++] = i;
		submit(v, n, gi);
	}
	free(v);
}
