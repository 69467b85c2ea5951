/*
 * spool.c: the spool file, and the entries that live in it in output
 * order: each request record with the records of its result, held
 * until it can be written.  Memory holds the index only.  Also the
 * batch records and the HTTP calls every part makes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-batch.h"

struct batch_g g;

/* s as a JSON string, quoted, onto b. */
void
add_jstring(struct ca_buf *b, const char *s)
{
	cJSON *j = cJSON_CreateString(s);
	char *p = ca_jprint(j);

	ca_buf_addstr(b, p);
	free(p);
	cJSON_Delete(j);
}

/* Records leave as they are made: a later run may need them. */
static void
out(const char *p, size_t n)
{
	ca_out(p, n);
	ca_out_flush();
}

/* Spool ------------------------------------------------------------------ */

int
tempfd(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/ca-batch.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		ca_die(CA_EX_IOERR, "cannot make a temporary file in %s:",
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
			ca_die(CA_EX_IOERR, "spool file:");
		}
		c += w;
		off += w;
		n -= (size_t)w;
	}
}

void
spool_get(off_t off, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		if ((r = pread(g.spool, c, n, off)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			ca_die(CA_EX_IOERR, "spool file: short read");
		}
		c += r;
		off += r;
		n -= (size_t)r;
	}
}

/* The entry's lines, into a NUL-terminated buffer (the caller frees). */
char *
ent_text(const struct ent *e)
{
	char *p = ca_xmalloc(e->len + 1);

	spool_get(e->off, p, e->len);
	p[e->len] = '\0';
	return p;
}

/* Add a line to an entry; its lines stay contiguous in the spool. */
void
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

long
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

char *
batch_key(const char *bid, const char *cid)
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

void
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

void
ent_done(long i)
{
	g.e[i].state = E_DONE;
	if (g.unordered)
		write_ent(&g.e[i]);
	flush_ready();
}

/* A record this run does not own, or a result already present. */
void
batch_pass(const struct ca_rec *rec)
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

/*
 * An error record for entry i: the API's error object err (taken),
 * with status and request id when a response said so, and the batch
 * and result kind when a batch said so.
 */
void
ent_error(long i, long status, const char *rid, cJSON *err,
    const char *result, int temporary)
{
	struct ent *e = &g.e[i];
	cJSON *r = cJSON_CreateObject();
	char *id = ca_sanitize(e->id, 80);

	cJSON_AddStringToObject(r, "type", "error");
	cJSON_AddStringToObject(r, "custom_id", e->id);
	cJSON_AddNumberToObject(r, "part", e->parts + 1);
	/* The batch it waited on, so that a later run reading this
	 * finds the request's result present and does not wait again. */
	if (e->bat >= 0 && e->state != E_NEW)
		cJSON_AddStringToObject(r, "batch_id", g.b[e->bat].id);
	if (result != NULL)
		cJSON_AddStringToObject(r, "result", result);
	ca_error_rec(r, id, status, rid, err);
	free(id);
	ent_record(e, r);
	ca_status_add(&g.st, temporary ? CA_EX_TEMPFAIL : CA_EX_FAIL);
	if (e->state == E_PENDING && e->bat >= 0)
		g.b[e->bat].pending--;
	ent_done(i);
}

/* Batches ---------------------------------------------------------------- */

long
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

/*
 * A batch's custom_ids: as its input record listed them, or, for one
 * this run created (or knows only from its requests), those of the
 * entries it holds, which are in input order.  Not keeping a list for
 * each created batch keeps memory down to the index.
 */
static void
add_ids(struct ca_buf *o, const struct bat *b)
{
	long bi = (long)(b - g.b), i, n = 0;
	char *s;

	if (b->ids != NULL) {
		s = ca_jprint(b->ids);
		ca_buf_addstr(o, s);
		free(s);
		return;
	}
	ca_buf_addstr(o, "[");
	for (i = 0; i < g.ne; i++)
		if (g.e[i].bat == bi && g.e[i].id != NULL) {
			if (n++ > 0)
				ca_buf_addstr(o, ",");
			add_jstring(o, g.e[i].id);
		}
	ca_buf_addstr(o, "]");
}

/* Write a batch record: the MessageBatch as the API sent it, compact. */
void
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
	add_ids(&o, b);
	ca_buf_addstr(&o, ",\"betas\":");
	if (b->betas != NULL) {
		s = ca_jprint(b->betas);
		ca_buf_addstr(&o, s);
		free(s);
	} else
		ca_buf_addstr(&o, "[]");
	ca_buf_addstr(&o, "}\n");
	out(o.p, o.len);
	ca_buf_free(&o);
	free(b->written);
	b->written = ca_xstrdup(st != NULL ? st : "");
}

/* Take a MessageBatch body (n bytes of JSON) as b's state, if it is
 * b's: an answer about another batch would file its results under b. */
int
bat_set(struct bat *b, const char *p, size_t n)
{
	struct ca_buf c = { NULL, 0, 0, (size_t)-1 / 2 };
	cJSON *o = ca_jparse(p, n);

	if (o == NULL || ca_jstr(o, "id") == NULL ||
	    strcmp(ca_jstr(o, "id"), b->id) != 0 ||
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

char *
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
