/*
 * ca-batch: submit request records as Message Batches, collect the
 * batches that batch records name, and write the transcript ca-exec
 * writes: each request record, then its response or error records.
 *
 * The whole input is read first (a refusal must come before anything
 * is sent).  Request records and the results that follow them live in a
 * spool file, unlinked at once; memory holds an index of them only, so
 * 100,000 requests and their results pass through in bounded memory.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "ca.h"

#define BATCH_REQUESTS	100000L			/* the API's limits */
#define BATCH_BYTES	((size_t)256 << 20)
#define POLL_MAX	60.0
#define PAGE_MAX	((size_t)64 << 20)
#define PAGES_MAX	100000
#define BODY_HEAD	"{\"requests\":["
#define BODY_TAIL	"]}"

enum estate {
	E_NEW,		/* a request to submit */
	E_PENDING,	/* waiting for its batch's result */
	E_CONT,		/* paused: to continue */
	E_DONE,		/* complete, not yet written */
	E_WRITTEN
};

/* One request (or one record passed through) in output order. */
struct ent {
	char	*id;		/* custom_id; NULL for a passed record */
	long	 bat;		/* its batch, or -1 */
	off_t	 off;		/* its lines in the spool */
	size_t	 len;
	size_t	 reqlen;	/* of which its request record (0: none) */
	size_t	 isize;		/* its item's size in a create body */
	int	 group;		/* betas group of a new request */
	int	 parts;		/* response records so far */
	enum estate state;
};

struct bat {
	char	*id;
	char	*objtxt;	/* the MessageBatch as last seen, compact */
	cJSON	*obj;
	cJSON	*ids;		/* custom_ids, in input order */
	cJSON	*betas;
	char	*betas_h;	/* anthropic-beta value, or NULL */
	char	*raw;		/* its input record, to write back unchanged */
	char	*written;	/* processing_status last written, or NULL */
	char	*counts;	/* request_counts last shown */
	long	 pending;	/* entries waiting on it */
	double	 due, interval;
	int	 fresh;		/* created by this run */
	int	 done;		/* collected, or failed for good */
};

struct group {
	char	*h;		/* anthropic-beta value, or NULL */
	cJSON	*arr;
};

static struct {
	struct ca_api	 api;
	CURLSH		*share;
	int		 nowait, unordered, cancel, list, sync_cont;
	long		 max_requests;
	size_t		 max_bytes;
	double		 poll;
	int		 max_parts;
	int		 retries;
	struct ent	*e;
	long		 ne, ecap, next;
	struct bat	*b;
	long		 nb;
	struct group	*gr;
	int		 ngr;
	long		*cont;		/* entries to continue */
	long		 ncont;
	struct ca_map	 bykey;		/* batch_id US custom_id -> entry */
	struct ca_map	 byid;		/* custom_id -> last held entry */
	struct ca_map	 present;	/* results passed through */
	struct ca_map	 newids;	/* custom_ids to submit */
	struct ca_map	 bats;		/* batch id -> index */
	struct ca_map	 groups;	/* anthropic-beta value -> group */
	int		 spool, body;	/* temporary files */
	off_t		 spend;
	struct ca_status st;
	int		 refuse;
	int		 progress;
	volatile sig_atomic_t sig;
} g;

static void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fputs("usage: ca-batch [-uv] [--no-wait] [--poll seconds] "
	    "[--max-requests n] [--max-bytes n]\n"
	    "                [--max-continues n] [--sync-continue] "
	    "[-r retries]\n"
	    "       ca-batch --cancel [-v]\n"
	    "       ca-batch --list [-v]\n", fp);
	if (status == 0)
		fputs("  -h, --help             print this and exit\n"
		    "  -r, --retries N        retries of a failed API call "
		    "(default 2)\n"
		    "  -u, --unordered        results in arrival order, not "
		    "input order\n"
		    "  -v, --verbose          say what is sent and polled\n"
		    "      --cancel           cancel the batches that batch "
		    "records name\n"
		    "      --list             write a batch record for each "
		    "batch in the workspace\n"
		    "      --max-bytes N      create bodies of at most N bytes "
		    "(default 256 MiB)\n"
		    "      --max-continues N  pause_turn continuations "
		    "(default 10)\n"
		    "      --max-requests N   requests per batch at most "
		    "(default 100000)\n"
		    "      --no-wait          never wait: write what is "
		    "pending, exit 75\n"
		    "      --poll SECONDS     first interval between polls "
		    "(default 5; up to 60)\n"
		    "      --sync-continue    continue paused results with "
		    "direct Messages calls\n", fp);
	exit(status);
}

static void
out(const char *p, size_t n)
{
	if ((n > 0 && fwrite(p, 1, n, stdout) != n) || fflush(stdout) == EOF) {
		if (errno == EPIPE)
			exit(CA_EX_FAIL);
		ca_die(CA_EX_FAIL, "write error on standard output:");
	}
}

/* Spool ------------------------------------------------------------------ */

static int
tempfd(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/ca-batch.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		ca_die(CA_EX_FAIL, "cannot make a temporary file in %s:",
		    dir != NULL && *dir != '\0' ? dir : "/tmp");
	unlink(path);
	return fd;
}

static void
spool_put(off_t off, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = pwrite(g.spool, c, n, off)) == -1) {
			if (errno == EINTR)
				continue;
			ca_die(CA_EX_FAIL, "spool file:");
		}
		c += w;
		off += w;
		n -= (size_t)w;
	}
}

static void
spool_get(off_t off, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		if ((r = pread(g.spool, c, n, off)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			ca_die(CA_EX_FAIL, "spool file: short read");
		}
		c += r;
		off += r;
		n -= (size_t)r;
	}
}

/* The entry's lines, into a NUL-terminated buffer (the caller frees). */
static char *
ent_text(const struct ent *e)
{
	char *p = ca_xmalloc(e->len + 1);

	spool_get(e->off, p, e->len);
	p[e->len] = '\0';
	return p;
}

/* Add a line to an entry; its lines stay contiguous in the spool. */
static void
ent_append(struct ent *e, const char *p, size_t n)
{
	char buf[65536];
	size_t k, m;

	if (e->len > 0 && e->off + (off_t)e->len != g.spend) {
		for (k = 0; k < e->len; k += m) {
			m = e->len - k < sizeof(buf) ? e->len - k : sizeof(buf);
			spool_get(e->off + (off_t)k, buf, m);
			spool_put(g.spend + (off_t)k, buf, m);
		}
		e->off = g.spend;
		g.spend += (off_t)e->len;
	}
	if (e->len == 0)
		e->off = g.spend;
	spool_put(g.spend, p, n);
	g.spend += (off_t)n;
	e->len += n;
}

static long
ent_new(const char *id, const char *line, size_t n)
{
	struct ent *e;

	if (g.ne == g.ecap) {
		g.ecap = g.ecap ? g.ecap * 2 : 1024;
		g.e = ca_xrealloc(g.e, (size_t)g.ecap * sizeof(*g.e));
	}
	e = &g.e[g.ne];
	memset(e, 0, sizeof(*e));
	e->id = id != NULL ? ca_xstrdup(id) : NULL;
	e->bat = -1;
	e->state = E_DONE;
	if (n > 0) {
		ent_append(e, line, n);
		ent_append(e, "\n", 1);
	}
	return g.ne++;
}

static char *
key(const char *bid, const char *cid)
{
	size_t a = strlen(bid), b = strlen(cid);
	char *k = ca_xmalloc(a + b + 2);

	memcpy(k, bid, a);
	k[a] = '\x1f';
	memcpy(k + a + 1, cid, b + 1);
	return k;
}

/* Output ----------------------------------------------------------------- */

static void
copy_out(off_t off, size_t n)
{
	char buf[65536];
	size_t m;

	for (; n > 0; n -= m, off += (off_t)m) {
		m = n < sizeof(buf) ? n : sizeof(buf);
		spool_get(off, buf, m);
		out(buf, m);
	}
}

/*
 * A request record with "batch_id" set to bid: the line as read, with
 * any old batch_id member taken out and the new one added at the end,
 * so everything else stays byte for byte.
 */
static void
out_request(char *p, size_t n, const char *bid)
{
	struct ca_buf b = { NULL, 0, 0, (size_t)-1 / 2 };
	size_t ms, vs, ve, a, z;
	cJSON *s;
	char *q;

	if (ca_jmember(p, n, "batch_id", &ms, &vs, &ve) == 0) {
		if (ve - vs == strlen(bid) + 2 && memcmp(p + vs + 1, bid,
		    strlen(bid)) == 0) {
			out(p, n);
			return;
		}
		for (a = ms; a > 0 && strchr(" \t\r\n", p[a - 1]) != NULL;)
			a--;
		z = ve;
		if (a > 0 && p[a - 1] == ',')
			a--;
		else {
			while (z < n && strchr(" \t\r\n", p[z]) != NULL)
				z++;
			if (z < n && p[z] == ',')
				z++;
		}
		memmove(p + a, p + z, n - z);
		n -= z - a;
	}
	while (n > 0 && p[n - 1] != '}')
		n--;
	if (n == 0)
		return;
	ca_buf_add(&b, p, n - 1);
	s = cJSON_CreateString(bid);
	q = ca_jprint(s);
	ca_buf_addstr(&b, ",\"batch_id\":");
	ca_buf_addstr(&b, q);
	ca_buf_addstr(&b, "}\n");
	out(b.p, b.len);
	free(q);
	cJSON_Delete(s);
	ca_buf_free(&b);
}

static void
write_ent(struct ent *e)
{
	char *p;

	if (e->reqlen > 0 && e->bat >= 0 && e->state != E_NEW) {
		p = ca_xmalloc(e->reqlen);
		spool_get(e->off, p, e->reqlen);
		out_request(p, e->reqlen, g.b[e->bat].id);
		free(p);
		copy_out(e->off + (off_t)e->reqlen, e->len - e->reqlen);
	} else
		copy_out(e->off, e->len);
	e->state = E_WRITTEN;
}

/* Write what is due: in input order, every complete entry up to the
 * first that is not; unordered, each as it completes. */
static void
flush_ready(void)
{
	while (g.next < g.ne && (g.e[g.next].state == E_DONE ||
	    g.e[g.next].state == E_WRITTEN)) {
		if (g.e[g.next].state == E_DONE)
			write_ent(&g.e[g.next]);
		g.next++;
	}
}

static void
ent_done(long i)
{
	g.e[i].state = E_DONE;
	if (g.unordered)
		write_ent(&g.e[i]);
	flush_ready();
}

/* A record this run does not own, or a result already present. */
static void
pass(const struct ca_rec *rec)
{
	if (g.unordered || g.next == g.ne) {
		ca_emit_raw(rec);
		return;
	}
	ent_new(NULL, rec->raw, rec->len);
}

/* Add a record (cJSON) to an entry's lines. */
static void
ent_record(struct ent *e, cJSON *rec)
{
	char *s = ca_jprint(rec);
	size_t n = strlen(s);

	s[n] = '\n';
	ent_append(e, s, n + 1);
	free(s);
	cJSON_Delete(rec);
}

static cJSON *
errobj(const char *type, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "message", msg);
	return e;
}

/*
 * An error record for entry i: the API's error object err (taken),
 * with status and request id when a response said so, and the batch
 * and result kind when a batch said so.
 */
static void
ent_error(long i, long status, const char *rid, cJSON *err,
    const char *result, int temporary)
{
	struct ent *e = &g.e[i];
	cJSON *r = cJSON_CreateObject();
	char *id = ca_sanitize(e->id, 80);
	char *type = ca_sanitize(ca_jstr(err, "type"), 64);
	char *msg = ca_sanitize(ca_jstr(err, "message"), 300);

	cJSON_AddStringToObject(r, "type", "error");
	cJSON_AddStringToObject(r, "custom_id", e->id);
	cJSON_AddNumberToObject(r, "part", e->parts + 1);
	if (result != NULL && e->bat >= 0) {
		cJSON_AddStringToObject(r, "batch_id", g.b[e->bat].id);
		cJSON_AddStringToObject(r, "result", result);
	}
	if (status > 0)
		cJSON_AddNumberToObject(r, "status", status);
	else
		cJSON_AddNullToObject(r, "status");
	if (rid != NULL && *rid != '\0')
		cJSON_AddStringToObject(r, "request_id", rid);
	else
		cJSON_AddNullToObject(r, "request_id");
	cJSON_AddItemToObject(r, "error", err);
	ca_warn("%s: %s: %s", id, type, msg);
	free(id);
	free(type);
	free(msg);
	ent_record(e, r);
	ca_status_add(&g.st, temporary ? CA_EX_TEMPFAIL : CA_EX_FAIL);
	if (e->state == E_PENDING && e->bat >= 0)
		g.b[e->bat].pending--;
	ent_done(i);
}

/* Batches ---------------------------------------------------------------- */

static long
bat_find(const char *id, int make)
{
	long i = ca_map_get(&g.bats, id);
	struct bat *b;

	if (i >= 0 || !make)
		return i;
	g.b = ca_xrealloc(g.b, (size_t)(g.nb + 1) * sizeof(*g.b));
	b = &g.b[g.nb];
	memset(b, 0, sizeof(*b));
	b->id = ca_xstrdup(id);
	b->interval = g.poll;
	ca_map_put(&g.bats, id, g.nb);
	return g.nb++;
}

static char *
join_betas(const cJSON *betas, const char **bad)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	const cJSON *e;

	*bad = NULL;
	if (betas != NULL && !cJSON_IsArray(betas)) {
		*bad = "betas is not an array";
		return NULL;
	}
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

/* Write a batch record: the MessageBatch as the API sent it, compact. */
static void
write_bat(struct bat *b)
{
	struct ca_buf o = { NULL, 0, 0, (size_t)-1 / 2 };
	const char *st = ca_jstr(b->obj, "processing_status");
	char *s;

	if (b->objtxt == NULL) {
		if (b->raw != NULL) {
			ca_buf_addstr(&o, b->raw);
			ca_buf_addstr(&o, "\n");
			out(o.p, o.len);
			ca_buf_free(&o);
		}
		return;
	}
	ca_buf_addstr(&o, "{\"type\":\"batch\",\"batch\":");
	ca_buf_addstr(&o, b->objtxt);
	ca_buf_addstr(&o, ",\"custom_ids\":");
	s = ca_jprint(b->ids);
	ca_buf_addstr(&o, s);
	free(s);
	ca_buf_addstr(&o, ",\"betas\":");
	s = ca_jprint(b->betas);
	ca_buf_addstr(&o, s);
	free(s);
	ca_buf_addstr(&o, "}\n");
	out(o.p, o.len);
	ca_buf_free(&o);
	free(b->written);
	b->written = ca_xstrdup(st != NULL ? st : "");
}

/* Take a MessageBatch body (n bytes of JSON) as b's state. */
static int
bat_set(struct bat *b, const char *p, size_t n)
{
	struct ca_buf c = { NULL, 0, 0, (size_t)-1 / 2 };
	cJSON *o = ca_jparse(p, n);

	if (o == NULL || ca_jstr(o, "id") == NULL ||
	    ca_jstr(o, "processing_status") == NULL ||
	    ca_jcompact(&c, p, n) == -1) {
		cJSON_Delete(o);
		ca_buf_free(&c);
		return -1;
	}
	cJSON_Delete(b->obj);
	free(b->objtxt);
	b->obj = o;
	b->objtxt = c.p;
	return 0;
}

/* HTTP ------------------------------------------------------------------- */

static CURL *
easy(const char *method, const char *path, struct curl_slist *hdrs,
    struct ca_resp *resp)
{
	CURL *h = ca_api_easy(&g.api, method, path, hdrs, resp);

	curl_easy_setopt(h, CURLOPT_SHARE, g.share);
	return h;
}

/* Perform with retries; on failure say why (naming what) and return
 * CA_EX_FAIL or CA_EX_TEMPFAIL. */
static int
perform(CURL *h, struct ca_resp *resp, int (*rw)(void *), void *ctx,
    const char *what)
{
	struct ca_retry rp;
	char msg[700], *w;
	int rc;

	ca_retry_init(&rp);
	rp.max = g.retries;
	if ((rc = ca_perform(h, resp, &rp, rw, ctx)) != 0) {
		w = ca_sanitize(what, 100);
		if (resp->cc == CURLE_OK && resp->status >= 300 &&
		    resp->status < 400)
			ca_warn("%s: redirected (%ld); redirects are not "
			    "followed", w, resp->status);
		else {
			ca_resp_errmsg(resp, msg, sizeof(msg));
			ca_warn("%s: %s", w, msg);
		}
		free(w);
	}
	return rc;
}

static char *
bat_path(const char *id, const char *tail)
{
	char *esc = ca_path_escape(id), *p;
	size_t n;

	if (esc == NULL)
		return NULL;
	n = strlen(esc) + strlen(tail) + 32;
	p = ca_xmalloc(n);
	snprintf(p, n, "/v1/messages/batches/%s%s", esc, tail);
	free(esc);
	return p;
}

/* Submission ------------------------------------------------------------- */

static int
is_custom_id(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n >= 1 && n <= 64 && s[n] == '\0';
}

/* A batch id is safe in a path: the API's are msgbatch_ and letters. */
static int
is_batch_id(const char *s)
{
	return *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s);
}

static void
add_jstring(struct ca_buf *b, const char *s)
{
	cJSON *j = cJSON_CreateString(s);
	char *p = ca_jprint(j);

	ca_buf_addstr(b, p);
	free(p);
	cJSON_Delete(j);
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

	ca_warn("<stdin>:%ld: request %s: %s", rec->lineno, s, why);
	free(s);
	g.refuse = 1;
}

static int
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
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "stream")))
		return "stream: true is not allowed in a batch";
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
static void
take_new(const struct ca_rec *rec)
{
	const char *id = ca_jstr(rec->json, "custom_id"), *bad;
	struct ca_buf b = { NULL, 0, 0, (size_t)-1 / 2 };
	char *h = NULL;
	long i;

	if ((bad = check_new(rec, id)) == NULL)
		h = join_betas(cJSON_GetObjectItemCaseSensitive(rec->json,
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

/* A request record with batch_id: submitted before; hold it. */
static void
take_held(const struct ca_rec *rec, const char *bid)
{
	const char *id = ca_jstr(rec->json, "custom_id");
	char *k;
	long i;

	if (id == NULL) {
		ca_warn("<stdin>:%ld: request record with batch_id but no "
		    "custom_id; passed through", rec->lineno);
		ca_status_add(&g.st, CA_EX_FAIL);
		pass(rec);
		return;
	}
	i = ent_new(id, rec->raw, rec->len);
	g.e[i].reqlen = g.e[i].len;
	g.e[i].bat = bat_find(bid, 1);
	g.e[i].state = E_PENDING;
	g.b[g.e[i].bat].pending++;
	k = key(bid, id);
	ca_map_put(&g.bykey, k, i);
	free(k);
	ca_map_put(&g.byid, id, i);
}

/* A response or error record of a batch: an earlier part of a held
 * request, its result, or a result to pass through. */
static void
take_result(const struct ca_rec *rec, const char *bid, const char *id)
{
	long i = ca_map_get(&g.byid, id), b;
	struct ent *e;
	char *k;

	ca_status_rec(&g.st, rec->json);
	k = key(bid, id);
	ca_map_put(&g.present, k, 1);
	free(k);
	if (i < 0 || g.e[i].state != E_PENDING) {
		pass(rec);
		return;
	}
	e = &g.e[i];
	ent_append(e, rec->raw, rec->len);
	ent_append(e, "\n", 1);
	if (strcmp(rec->type, "response") == 0)
		e->parts++;
	b = e->bat;
	if (strcmp(g.b[b].id, bid) == 0) {
		g.b[b].pending--;
		e->state = E_DONE;
	}
}

static void
take_batch(const struct ca_rec *rec)
{
	const cJSON *o = ca_jobj(rec->json, "batch");
	const char *id = ca_jstr(o, "id"), *bad;
	struct bat *b;
	long bi;

	if (id == NULL) {
		ca_warn("<stdin>:%ld: batch record without batch.id; passed "
		    "through", rec->lineno);
		ca_status_add(&g.st, CA_EX_FAIL);
		pass(rec);
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
	b->betas_h = join_betas(b->betas, &bad);
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
	ssize_t w;

	while (n > 0) {
		if ((w = write(g.body, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			ca_die(CA_EX_FAIL, "body file:");
		}
		p += w;
		n -= (size_t)w;
	}
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
	h = easy("POST", "/v1/messages/batches", hdrs, &resp);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, body_read);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	body_rewind(NULL);
	ca_note("creating a batch of %ld requests (%zu bytes)", n, size);
	rc = perform(h, &resp, body_rewind, NULL, "create a batch");
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
			b->ids = cJSON_CreateArray();
			b->betas = cJSON_Duplicate(g.gr[gi].arr, 1);
			b->betas_h = g.gr[gi].h ? ca_xstrdup(g.gr[gi].h) :
			    NULL;
			b->fresh = 1;
			b->due = ca_now() + g.poll;
			for (i = 0; i < n; i++) {
				struct ent *e = &g.e[v[i]];

				cJSON_AddItemToArray(b->ids,
				    cJSON_CreateString(e->id));
				e->bat = bi;
				e->state = E_PENDING;
				k = key(id, e->id);
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
			if (temp && g.nowait && g.e[v[i]].state == E_NEW) {
				ca_status_add(&g.st, CA_EX_TEMPFAIL);
				continue;
			}
			ent_error(v[i], resp.status, resp.request_id,
			    resp.status > 0 ? ca_resp_error(&resp) :
			    errobj("invalid_response", "the response to "
			    "creating a batch is not a batch"), NULL, temp);
		}
	}
	ca_buf_free(&resp.body);
}

/* The item for entry i: its own params, or its continuation's. */
static cJSON *cont_params(long i);

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
static void
submit(const long *v, long n, int gi)
{
	struct ca_buf it = { NULL, 0, 0, (size_t)-1 / 2 };
	long *c = ca_xmalloc(((size_t)n + 1) * sizeof(*c)), i, count = 0;
	size_t size = 0, ht = strlen(BODY_HEAD BODY_TAIL);

	for (i = 0; i < n && !g.sig; i++) {
		ca_buf_reset(&it);
		if (ent_item(v[i], &it) == -1) {
			ent_error(v[i], 0, NULL, errobj("invalid_record",
			    "cannot build the request"), NULL, 0);
			continue;
		}
		if (it.len + ht > g.max_bytes) {
			ent_error(v[i], 0, NULL, errobj("request_too_large",
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
				ca_die(CA_EX_FAIL, "body file:");
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

static void
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

/* Continuation ----------------------------------------------------------- */

/*
 * The params that continue entry i's paused turn: its request's params
 * with everything the turn produced so far appended verbatim as one
 * assistant message, in the same container (as ca-exec continues).
 */
static cJSON *
cont_params(long i)
{
	const struct ent *e = &g.e[i];
	char *t = ent_text(e), *line, *nl;
	cJSON *req, *p, *turn = cJSON_CreateArray(), *r, *a;
	const cJSON *b, *msg;
	char *cid = NULL;

	req = ca_jparse(t, e->reqlen - 1);
	p = cJSON_Duplicate(ca_jobj(req, "params"), 1);
	cJSON_Delete(req);
	for (line = t + e->reqlen; line < t + e->len; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		if ((r = ca_jparse(line, (size_t)(nl - line))) == NULL)
			continue;
		msg = ca_jobj(r, "message");
		if (strcmp(ca_jstr(r, "type") ? ca_jstr(r, "type") : "",
		    "response") == 0 && msg != NULL) {
			cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
				cJSON_AddItemToArray(turn,
				    cJSON_Duplicate(b, 1));
			if (ca_jstr(ca_jobj(msg, "container"), "id") != NULL) {
				free(cid);
				cid = ca_xstrdup(ca_jstr(ca_jobj(msg,
				    "container"), "id"));
			}
		}
		cJSON_Delete(r);
	}
	free(t);
	if (ca_jarr(p, "messages") == NULL) {
		cJSON_Delete(p);
		cJSON_Delete(turn);
		free(cid);
		return NULL;
	}
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "role", "assistant");
	cJSON_AddItemToObject(a, "content", turn);
	cJSON_AddItemToArray(ca_jarr(p, "messages"), a);
	if (cid != NULL) {
		cJSON_DeleteItemFromObject(p, "container");
		cJSON_AddStringToObject(p, "container", cid);
	}
	free(cid);
	return p;
}

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

	if (stop == NULL || strcmp(stop, "pause_turn") != 0) {
		ent_done(i);
		return;
	}
	if (e->reqlen > 0 && e->parts < g.max_parts) {
		ca_note("%s: pause_turn; continuing (part %d)", e->id,
		    e->parts + 1);
		e->state = E_CONT;
		g.cont = ca_xrealloc(g.cont, ((size_t)g.ncont + 1) *
		    sizeof(*g.cont));
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
			ent_error(i, 0, NULL, errobj("invalid_record",
			    "cannot build the continuation"), NULL, 0);
			break;
		}
		body = ca_jprint(p);
		cJSON_Delete(p);
		ca_resp_reset(&resp);
		hdrs = ca_api_headers(&g.api, betas);
		hdrs = curl_slist_append(hdrs, "content-type: application/json");
		h = easy("POST", "/v1/messages", hdrs, &resp);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		rc = perform(h, &resp, NULL, NULL, g.e[i].id);
		curl_easy_cleanup(h);
		curl_slist_free_all(hdrs);
		free(body);
		msg = rc == 0 ? ca_jparse(resp.body.p, resp.body.len) : NULL;
		if (rc != 0)
			ent_error(i, resp.status, resp.request_id,
			    ca_resp_error(&resp), NULL, rc == CA_EX_TEMPFAIL);
		else if (ca_jarr(msg, "content") == NULL)
			ent_error(i, resp.status, resp.request_id,
			    errobj("invalid_response", "the response is not a "
			    "message"), NULL, 0);
		else {
			ent_response(i, NULL, resp.request_id, resp.body.p,
			    resp.body.len);
			g.e[i].state = E_PENDING;
			after_message(i, msg);
			if (g.e[i].state == E_CONT)
				g.ncont--;	/* continued here, not batched */
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
		    errobj("api_error", "errored, without an error object"),
		    "errored", inner != NULL &&
		    ca_error_temporary(0, ca_jstr(inner, "type")));
	else if (strcmp(type, "canceled") == 0)
		ent_error(i, 0, NULL, errobj("batch_canceled", "the batch was "
		    "canceled before this request was processed; submit it "
		    "again"), "canceled", 1);
	else if (strcmp(type, "expired") == 0)
		ent_error(i, 0, NULL, errobj("batch_expired", "the batch "
		    "expired before this request was processed; submit it "
		    "again later"), "expired", 1);
	else
		ent_error(i, 0, NULL, errobj("invalid_response", "a result "
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
	k = key(g.b[bi].id, id);
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
};

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
		if (ca_buf_add(&r->line, p + k, nl != NULL ? m - 1 : m) == -1)
			return 0;
		if (nl != NULL) {
			result_line(r->bat, r->line.p, r->line.len);
			ca_buf_reset(&r->line);
		}
	}
	return n;
}

static int
results_rewind(void *ctx)
{
	struct rctx *r = ctx;

	ca_buf_reset(&r->line);
	return 0;
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
	h = easy("GET", "/", hdrs, &resp);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_results);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	/* Results may be large; only silence ends the transfer. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	r.h = h;
	ca_note("GET the results of %s", g.b[bi].id);
	rc = perform(h, &resp, results_rewind, &r, g.b[bi].id);
	if (rc == 0 && r.line.len > 0)
		result_line(bi, r.line.p, r.line.len);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(url);
	if (rc == CA_EX_TEMPFAIL) {
		/* Try again at the next poll (or the next run). */
		g.b[bi].due = ca_now() + g.b[bi].interval;
	} else if (rc != 0) {
		fail_pending(bi, &resp, ca_resp_error(&resp), 0);
		g.b[bi].done = 1;
	} else {
		fail_pending(bi, NULL, errobj("missing_result", "the batch "
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
	char line[512], *id;

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
	id = ca_sanitize(b->id, 80);
	fprintf(stderr, "%s: %s: %s\n", ca_prog, id, line);
	free(id);
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
		fail_pending(bi, NULL, errobj("invalid_record", "not a batch "
		    "id"), 0);
		b->done = 1;
		curl_slist_free_all(hdrs);
		return;
	}
	memset(&resp, 0, sizeof(resp));
	ca_resp_reset(&resp);
	h = easy("GET", path, hdrs, &resp);
	ca_note("GET %s", path);
	rc = perform(h, &resp, NULL, NULL, b->id);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(path);
	if (rc == 0 && bat_set(b, resp.body.p, resp.body.len) == -1) {
		ca_warn("%s: the response is not a batch", b->id);
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
		ra = resp.retry_after[0] != '\0' ? atof(resp.retry_after) : 0;
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
static void
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
static void
add_orphans(void)
{
	const cJSON *v;
	char *k;
	long bi, i;

	for (bi = 0; bi < g.nb; bi++) {
		cJSON_ArrayForEach(v, g.b[bi].ids) {
			if (!cJSON_IsString(v))
				continue;
			k = key(g.b[bi].id, v->valuestring);
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

static void
read_input(void)
{
	struct ca_reader *r = ca_reader_new(stdin, "<stdin>");
	struct ca_rec rec;
	const char *bid, *id;
	int rv;

	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			ca_status_add(&g.st, CA_EX_FAIL);
			continue;
		}
		bid = ca_jstr(rec.json, "batch_id");
		id = ca_jstr(rec.json, "custom_id");
		if (strcmp(rec.type, "request") == 0 && bid != NULL)
			take_held(&rec, bid);
		else if (strcmp(rec.type, "request") == 0)
			take_new(&rec);
		else if (strcmp(rec.type, "batch") == 0)
			take_batch(&rec);
		else if ((strcmp(rec.type, "response") == 0 ||
		    strcmp(rec.type, "error") == 0) && bid != NULL &&
		    id != NULL)
			take_result(&rec, bid, id);
		else {
			ca_status_rec(&g.st, rec.json);
			pass(&rec);
		}
	}
	if (ca_reader_failed(r))
		ca_status_add(&g.st, CA_EX_FAIL);
	ca_reader_free(r);
}

/* Write what is left: entries still waiting, as they stand, after the
 * records of their batches, so that a later run can pick them up. */
static void
finish_out(void)
{
	long i;

	for (i = 0; i < g.nb; i++)
		if (!g.b[i].done && g.b[i].pending > 0 &&
		    g.b[i].written == NULL)
			write_bat(&g.b[i]);
	for (i = 0; i < g.ne; i++) {
		if (g.e[i].state == E_DONE || g.e[i].state == E_WRITTEN)
			continue;
		if (!g.refuse)
			ca_status_add(&g.st, CA_EX_TEMPFAIL);
		if (g.e[i].state == E_CONT)
			g.e[i].state = E_PENDING;
	}
	for (i = g.unordered ? 0 : g.next; i < g.ne; i++)
		if (g.e[i].state != E_WRITTEN)
			write_ent(&g.e[i]);
	g.next = g.ne;
}

/* --cancel and --list ---------------------------------------------------- */

static void
cancel_input(void)
{
	struct ca_reader *r = ca_reader_new(stdin, "<stdin>");
	struct ca_resp resp;
	struct curl_slist *hdrs = ca_api_headers(&g.api, NULL);
	struct ca_rec rec;
	struct bat *b;
	char *path;
	CURL *h;
	int rv, rc;

	memset(&resp, 0, sizeof(resp));
	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			ca_status_add(&g.st, CA_EX_FAIL);
			continue;
		}
		ca_status_rec(&g.st, rec.json);
		if (strcmp(rec.type, "batch") != 0 || (path = bat_path(
		    ca_jstr(ca_jobj(rec.json, "batch"), "id") ? ca_jstr(
		    ca_jobj(rec.json, "batch"), "id") : "", "/cancel")) ==
		    NULL) {
			ca_emit_raw(&rec);
			continue;
		}
		take_batch(&rec);
		b = &g.b[bat_find(ca_jstr(ca_jobj(rec.json, "batch"), "id"),
		    0)];
		ca_resp_reset(&resp);
		h = easy("POST", path, hdrs, &resp);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		ca_note("POST %s", path);
		rc = perform(h, &resp, NULL, NULL, b->id);
		curl_easy_cleanup(h);
		free(path);
		if (rc == 0 && bat_set(b, resp.body.p, resp.body.len) == -1) {
			ca_warn("%s: the response is not a batch", b->id);
			rc = CA_EX_FAIL;
		}
		ca_status_add(&g.st, rc);
		if (rc == 0)
			write_bat(b);
		else
			ca_emit_raw(&rec);
	}
	if (ca_reader_failed(r))
		ca_status_add(&g.st, CA_EX_FAIL);
	ca_reader_free(r);
	curl_slist_free_all(hdrs);
	ca_buf_free(&resp.body);
}

static void
list(void)
{
	struct ca_resp resp;
	struct curl_slist *hdrs = ca_api_headers(&g.api, NULL);
	char *after = NULL, path[512], *e;
	const cJSON *m;
	cJSON *page, *rec;
	CURL *h;
	int n, rc;

	memset(&resp, 0, sizeof(resp));
	resp.body.max = PAGE_MAX;
	for (n = 0; n < PAGES_MAX; n++) {
		ca_resp_reset(&resp);
		if (after == NULL)
			snprintf(path, sizeof(path),
			    "/v1/messages/batches?limit=100");
		else {
			e = curl_easy_escape(NULL, after, 0);
			snprintf(path, sizeof(path),
			    "/v1/messages/batches?limit=100&after_id=%.400s",
			    e);
			curl_free(e);
		}
		h = easy("GET", path, hdrs, &resp);
		ca_note("GET %s", path);
		rc = perform(h, &resp, NULL, NULL, "list");
		curl_easy_cleanup(h);
		ca_status_add(&g.st, rc);
		if (rc != 0)
			break;
		page = ca_jparse(resp.body.p, resp.body.len);
		if (ca_jarr(page, "data") == NULL) {
			ca_warn("list: malformed response");
			ca_status_add(&g.st, CA_EX_FAIL);
			cJSON_Delete(page);
			break;
		}
		cJSON_ArrayForEach(m, ca_jarr(page, "data")) {
			rec = cJSON_CreateObject();
			cJSON_AddStringToObject(rec, "type", "batch");
			cJSON_AddItemToObject(rec, "batch",
			    cJSON_Duplicate(m, 1));
			ca_emit(rec);
			cJSON_Delete(rec);
		}
		free(after);
		after = NULL;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page,
		    "has_more")) && ca_jstr(page, "last_id") != NULL)
			after = ca_xstrdup(ca_jstr(page, "last_id"));
		cJSON_Delete(page);
		if (after == NULL)
			break;
	}
	free(after);
	curl_slist_free_all(hdrs);
	ca_buf_free(&resp.body);
}

/* Main ------------------------------------------------------------------- */

static void
on_signal(int sig)
{
	g.sig = sig;
}

static void
parse_opts(int argc, char **argv)
{
	enum { O_NOWAIT = 256, O_POLL, O_MAXR, O_MAXB, O_MAXC, O_SYNC,
	    O_CANCEL, O_LIST };
	static const struct option lopts[] = {
		{ "cancel",		no_argument,	   NULL, O_CANCEL },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "list",		no_argument,	   NULL, O_LIST },
		{ "max-bytes",		required_argument, NULL, O_MAXB },
		{ "max-continues",	required_argument, NULL, O_MAXC },
		{ "max-requests",	required_argument, NULL, O_MAXR },
		{ "no-wait",		no_argument,	   NULL, O_NOWAIT },
		{ "poll",		required_argument, NULL, O_POLL },
		{ "retries",		required_argument, NULL, 'r' },
		{ "sync-continue",	no_argument,	   NULL, O_SYNC },
		{ "unordered",		no_argument,	   NULL, 'u' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "hr:uv", lopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
			break;
		case 'r':
			g.retries = (int)ca_strtonum(optarg, 0, 100, "retries");
			break;
		case 'u':
			g.unordered = 1;
			break;
		case 'v':
			ca_verbose++;
			break;
		case O_NOWAIT:
			g.nowait = 1;
			break;
		case O_POLL:
			g.poll = ca_seconds(optarg, "poll interval");
			break;
		case O_MAXR:
			g.max_requests = ca_strtonum(optarg, 1, BATCH_REQUESTS,
			    "max requests");
			break;
		case O_MAXB:
			g.max_bytes = (size_t)ca_strtonum(optarg, 64,
			    (long)BATCH_BYTES, "max bytes");
			break;
		case O_MAXC:
			g.max_parts = (int)ca_strtonum(optarg, 0, 1000,
			    "max continues") + 1;
			break;
		case O_SYNC:
			g.sync_cont = 1;
			break;
		case O_CANCEL:
			g.cancel = 1;
			break;
		case O_LIST:
			g.list = 1;
			break;
		default:
			usage(CA_EX_USAGE);
		}
	}
	if (optind < argc || (g.cancel && g.list))
		usage(CA_EX_USAGE);
}

int
main(int argc, char *argv[])
{
	const char *ver = getenv("CA_API_VERSION");
	struct sigaction sa;
	int rv;

	ca_setprog(argv[0]);
	g.max_requests = BATCH_REQUESTS;
	g.max_bytes = BATCH_BYTES;
	g.poll = 5;
	g.max_parts = 11;
	g.retries = 2;
	parse_opts(argc, argv);
	if ((rv = ca_api_init(&g.api)) != 0)
		return rv;
	g.api.version = ver != NULL && *ver != '\0' ? ver : "2026-10-21";
	if (!ca_header_safe(g.api.version))
		ca_die(CA_EX_USAGE, "bad API version");
	g.api.connect_ms = 10000;
	g.api.timeout_ms = 600000;
	g.progress = ca_verbose > 0 || isatty(STDERR_FILENO);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	g.share = ca_api_share();
	if (g.list)
		list();
	else if (g.cancel)
		cancel_input();
	else {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		g.spool = tempfd();
		g.body = tempfd();
		read_input();
		ca_map_free(&g.newids);	/* only for finding duplicates */
		if (g.refuse)
			ca_warn("nothing was sent; the input is written back "
			    "unchanged");
		else {
			add_orphans();
			submit_new();
			collect_all();
		}
		finish_out();
		if (g.refuse)
			ca_status_add(&g.st, CA_EX_FAIL);
	}
	curl_share_cleanup(g.share);
	curl_global_cleanup();
	ca_api_free(&g.api);
	if (g.sig)
		return ca_finish(128 + g.sig);
	return ca_finish(ca_status_exit(&g.st));
}
