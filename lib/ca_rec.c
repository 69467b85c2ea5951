/*
 * ca_rec.c: NDJSON records in and out.  Lines are bounded: a line over
 * CA_LINE_MAX is reported and skipped, never slurped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

struct ca_reader {
	FILE	*fp;
	char	*name;
	char	*buf;		/* buf[0..len) holds unread bytes */
	size_t	 len;
	size_t	 cap;
	size_t	 scan;		/* buf[consumed..scan) holds no '\n' */
	long	 lineno;
	int	 eof;
	int	 failed;
	int	 skipping;	/* the line at consumed began overlong */
	cJSON	*json;
	size_t	 consumed;	/* bytes of buf the last record used */
};

struct ca_reader *
ca_reader_new(FILE *fp, const char *name)
{
	struct ca_reader *r = ca_xcalloc(1, sizeof(*r));

	r->fp = fp;
	r->name = ca_xstrdup(name);
	return r;
}

/*
 * Called after every read of a slow pipe: it looks only at the bytes
 * it has not seen, so a long line costs linear time, not quadratic.
 */
int
ca_reader_pending(struct ca_reader *r)
{
	size_t from;
	char *p;

	if (r->buf == NULL)
		return r->eof;
	from = r->scan > r->consumed ? r->scan : r->consumed;
	p = from < r->len ? memchr(r->buf + from, '\n', r->len - from) : NULL;
	r->scan = p != NULL ? (size_t)(p - r->buf) : r->len;
	/*
	 * An overlong line without its end yet: drop what there is and
	 * remember, rather than make ca_reader_next wait for the end;
	 * it reports the line once the end is there.
	 */
	if (p == NULL && r->len - r->consumed > CA_LINE_MAX) {
		r->skipping = 1;
		r->len = r->scan = r->consumed;
	}
	return r->eof || p != NULL;
}

int
ca_reader_failed(const struct ca_reader *r)
{
	return r->failed;
}

void
ca_reader_free(struct ca_reader *r)
{
	if (r == NULL)
		return;
	cJSON_Delete(r->json);
	free(r->buf);
	free(r->name);
	free(r);
}

/* Drop the bytes the previous record used. */
static void
compact(struct ca_reader *r)
{
	if (r->consumed == 0)
		return;
	memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
	r->len -= r->consumed;
	r->scan = r->scan > r->consumed ? r->scan - r->consumed : 0;
	r->consumed = 0;
}

static int
fill(struct ca_reader *r)
{
	ssize_t n;

	if (r->eof)
		return 0;
	if (r->cap - r->len < 65536) {
		r->cap = r->cap ? r->cap * 2 : 131072;
		r->buf = ca_xrealloc(r->buf, r->cap);
	}
	/*
	 * read(2), not fread(3): a pipe delivers what the writer flushed,
	 * and a live pipeline must not wait for a full buffer.
	 */
	do
		n = read(fileno(r->fp), r->buf + r->len, r->cap - r->len - 1);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		if (n == -1) {
			ca_warn("%s: read error:", r->name);
			r->failed = 1;
		}
		r->eof = 1;
		return 0;
	}
	r->len += (size_t)n;
	return (int)n;
}

int
ca_reader_fill(struct ca_reader *r)
{
	compact(r);
	return fill(r);
}

/*
 * Find the next line; returns its length (without '\n') and sets *nl to
 * the bytes to consume, or -1 when the line is over the cap (it is then
 * discarded up to its end), or -2 at end of input.
 */
static long long
nextline(struct ca_reader *r, size_t *nl)
{
	char *p;
	int toolong = r->skipping;

	r->skipping = 0;
	for (;;) {
		p = r->len > r->scan ? memchr(r->buf + r->scan, '\n',
		    r->len - r->scan) : NULL;
		if (p != NULL) {
			size_t n = (size_t)(p - r->buf);

			*nl = n + 1;
			/* One read(2) of a regular file can bring a whole
			 * overlong line, '\n' and all. */
			return toolong || n > CA_LINE_MAX ? -1 : (long long)n;
		}
		r->scan = r->len;
		if (r->len > CA_LINE_MAX) {
			toolong = 1;
			r->len = r->scan = 0;	/* discard, keep looking */
		}
		if (fill(r) == 0) {
			if (r->len == 0)
				return toolong ? -1 : -2;
			*nl = r->len;		/* last line, no '\n' */
			return toolong || r->len > CA_LINE_MAX ? -1 :
			    (long long)r->len;
		}
	}
}

static int
blank(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++, n--;
	return n == 0;
}

int
ca_reader_next(struct ca_reader *r, struct ca_rec *rec)
{
	long long n;
	size_t nl = 0;
	const cJSON *t;

	cJSON_Delete(r->json);
	r->json = NULL;
	for (;;) {
		compact(r);
		n = nextline(r, &nl);
		if (n == -2)
			return 0;
		r->lineno++;
		r->consumed = nl;
		if (n == -1) {
			ca_warn("%s:%ld: record longer than %zu bytes, skipped",
			    r->name, r->lineno, CA_LINE_MAX);
			return -1;
		}
		if (!blank(r->buf, (size_t)n))
			break;
	}
	rec->raw = r->buf;
	rec->len = (size_t)n;
	rec->lineno = r->lineno;
	rec->json = r->json = ca_jparse(r->buf, (size_t)n);
	if (r->json == NULL || !cJSON_IsObject(r->json)) {
		ca_warn("%s:%ld: not a JSON object, skipped", r->name,
		    r->lineno);
		return -1;
	}
	t = cJSON_GetObjectItemCaseSensitive(r->json, "type");
	if (!cJSON_IsString(t) || *t->valuestring == '\0') {
		ca_warn("%s:%ld: record has no \"type\", skipped", r->name,
		    r->lineno);
		return -1;
	}
	rec->type = t->valuestring;
	return 1;
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

void
ca_emit(const cJSON *rec)
{
	char *s = ca_jprint(rec);
	size_t n = strlen(s);

	s[n] = '\n';		/* cJSON's buffer has room for its NUL */
	out(s, n + 1);
	free(s);
}

void
ca_emit_raw(const struct ca_rec *rec)
{
	char *p = (char *)rec->raw;
	char c = p[rec->len];

	/* The line's own '\n' (or its end) follows it in the buffer. */
	p[rec->len] = '\n';
	out(p, rec->len + 1);
	p[rec->len] = c;
}

int
ca_finish(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		if (errno != EPIPE)
			ca_warn("write error on standard output:");
		return status ? status : CA_EX_FAIL;
	}
	return status;
}
