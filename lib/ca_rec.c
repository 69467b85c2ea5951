/*
 * ca_rec.c: NDJSON records in and out.  Lines are bounded: a line over
 * CA_LINE_MAX is reported and skipped, never slurped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

#define TYPE_MAX	64	/* longer types take the full parse */
#define DEPTH_MAX	200	/* deeper records take the full parse */


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
	size_t	 consumed;	/* bytes of buf read as records already */
	const char *const *own;	/* types to parse; NULL: all */
	char	 type[TYPE_MAX + 1];	/* an unparsed record's type */
};

struct ca_reader *
ca_reader_new(FILE *fp, const char *name)
{
	struct ca_reader *r = ca_xcalloc(1, sizeof(*r));

	r->fp = fp;
	r->name = ca_xstrdup(name);
	return r;
}

void
ca_reader_own(struct ca_reader *r, const char *const *types)
{
	r->own = types;
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
	ca_out_flush();
	compact(r);
	return fill(r);
}

/*
 * Find the next line, at r->buf + r->consumed on return; returns its
 * length (without '\n') and sets *nl to the bytes to consume, or -1
 * when the line is over the cap (it is then discarded up to its end),
 * or -2 at end of input.  Unread bytes move to the front of the buffer
 * only when it must be filled, not once per line.
 */
static long long
nextline(struct ca_reader *r, size_t *nl)
{
	char *p;
	int toolong = r->skipping;

	r->skipping = 0;
	for (;;) {
		if (r->scan < r->consumed)
			r->scan = r->consumed;
		p = r->len > r->scan ? memchr(r->buf + r->scan, '\n',
		    r->len - r->scan) : NULL;
		if (p != NULL) {
			size_t n = (size_t)(p - (r->buf + r->consumed));

			*nl = n + 1;
			/* One read(2) of a regular file can bring a whole
			 * overlong line, '\n' and all. */
			return toolong || n > CA_LINE_MAX ? -1 : (long long)n;
		}
		r->scan = r->len;
		if (r->len - r->consumed > CA_LINE_MAX) {
			toolong = 1;
			/* discard, keep looking */
			r->len = r->scan = r->consumed;
		}
		compact(r);
		ca_out_flush();
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

/*
 * The type scan.  A tool parses only the records it owns; the rest it
 * passes through, and for them a check that the line is one valid JSON
 * object (ca_jscan's strict rule: whatever it accepts, cJSON accepts
 * too) and a look at its top-level "type" will do, without building a
 * tree.  Anything it is not sure of (escapes in the type, two types,
 * deep nesting, what strict JSON forbids but cJSON might take) goes to
 * the full parse, which then decides and reports as before.
 */
struct typescan {
	const unsigned char	*t;
	size_t			 len;
};

static unsigned
hexval(int c)
{
	if (c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/*
 * Does the key between p and end (a valid string's inside) say "type",
 * escapes decoded as cJSON would?
 */
static int
is_type_key(const unsigned char *p, const unsigned char *end)
{
	static const char want[] = "type";
	unsigned c;
	size_t i;

	for (i = 0; p < end; i++) {
		if (i == 4)
			return 0;
		c = *p++;
		if (c == '\\' && *p == 'u') {
			c = hexval(p[1]) << 12 | hexval(p[2]) << 8 |
			    hexval(p[3]) << 4 | hexval(p[4]);
			p += 5;
		} else if (c == '\\')
			c = *p++ == '/' ? '/' : 0;	/* none is a letter */
		if (c != (unsigned char)want[i])
			return 0;
	}
	return i == 4;
}

/* A top-level member: is it the "type", a plain string? */
static int
typemember(struct ca_jscan *s, const unsigned char *k,
    const unsigned char *ke, const unsigned char *v, const unsigned char *ve)
{
	struct typescan *ts = s->arg;

	if (!is_type_key(k + 1, ke - 1))
		return 0;
	/* A second "type": the last wins in the full parse, so let it
	 * decide; likewise a type that is not a plain string. */
	if (ts->t != NULL || *v != '"' || memchr(v + 1, '\\',
	    (size_t)(ve - v - 2)) != NULL)
		return -1;
	ts->t = v + 1;
	ts->len = (size_t)(ve - v - 2);
	return 0;
}

/*
 * Is line (n bytes) one valid JSON object with a plain, non-empty string
 * "type" no longer than TYPE_MAX?  Then 1, with the type copied into
 * type; else 0: let the full parse decide.
 */
static int
scan_type(const char *line, size_t n, char type[TYPE_MAX + 1])
{
	struct ca_jscan s;
	struct typescan ts = { NULL, 0 };

	ca_jscan_init(&s, line, n, CA_JWS_STRICT);
	s.maxdepth = DEPTH_MAX;
	s.member = typemember;
	s.arg = &ts;
	ca_jscan_ws(&s);
	if (s.p >= s.end || *s.p != '{' || ca_jscan_value(&s) == -1)
		return 0;
	ca_jscan_ws(&s);
	if (s.p != s.end || ts.t == NULL || ts.len == 0 ||
	    ts.len > TYPE_MAX || memchr(ts.t, '\0', ts.len) != NULL)
		return 0;
	memcpy(type, ts.t, ts.len);
	type[ts.len] = '\0';
	return 1;
}

/*
 * Does the caller parse records of this type?  Error records always:
 * every tool counts those that pass it for its exit status.
 */
static int
owned(const struct ca_reader *r, const char *type)
{
	const char *const *t;

	if (r->own == NULL || strcmp(type, "error") == 0)
		return 1;
	for (t = r->own; *t != NULL; t++)
		if (strcmp(*t, type) == 0)
			return 1;
	return 0;
}

void
ca_reader_warn(const struct ca_reader *r, long lineno, const char *fmt, ...)
{
	char small[512], *msg = small;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		small[0] = '\0';
	else if ((size_t)n >= sizeof(small)) {
		msg = ca_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (lineno > 0)
		ca_warn("%s:%ld: %s", r->name, lineno, msg);
	else
		ca_warn("%s: %s", r->name, msg);
	if (msg != small)
		free(msg);
}

int
ca_reader_next(struct ca_reader *r, struct ca_rec *rec)
{
	long long n;
	size_t nl = 0;
	const cJSON *t;
	char *line;

	cJSON_Delete(r->json);
	r->json = NULL;
	for (;;) {
		n = nextline(r, &nl);
		if (n == -2)
			return 0;
		r->lineno++;
		line = r->buf + r->consumed;
		r->consumed += nl;
		if (n == -1) {
			ca_reader_warn(r, r->lineno, "record longer than %zu "
			    "bytes, skipped", CA_LINE_MAX);
			return -1;
		}
		if (!blank(line, (size_t)n))
			break;
	}
	rec->raw = line;
	rec->len = (size_t)n;
	rec->lineno = r->lineno;
	rec->from = r;
	if (r->own != NULL && scan_type(line, (size_t)n, r->type) &&
	    !owned(r, r->type)) {
		rec->json = NULL;
		rec->type = r->type;
		return 1;
	}
	/* Nothing passed through waits while the tool works. */
	ca_out_flush();
	rec->json = r->json = ca_jparse(line, (size_t)n);
	if (r->json == NULL || !cJSON_IsObject(r->json)) {
		ca_reader_warn(r, r->lineno, "not a JSON object, skipped");
		return -1;
	}
	t = cJSON_GetObjectItemCaseSensitive(r->json, "type");
	if (!cJSON_IsString(t) || *t->valuestring == '\0') {
		ca_reader_warn(r, r->lineno, "record has no \"type\", "
		    "skipped");
		return -1;
	}
	rec->type = t->valuestring;
	return 1;
}

static void
out_error(void)
{
	if (errno == EPIPE)
		exit(CA_EX_FAIL);
	ca_die(CA_EX_IOERR, "write error on standard output:");
}

void
ca_out_flush(void)
{
	if (fflush(stdout) == EOF)
		out_error();
}

void
ca_out(const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, stdout) != n)
		out_error();
}

void
ca_emit(const cJSON *rec)
{
	char *s = ca_jprint(rec);
	size_t n = strlen(s);

	s[n] = '\n';		/* cJSON's buffer has room for its NUL */
	ca_out(s, n + 1);
	ca_out_flush();
	free(s);
}

void
ca_emit_raw(const struct ca_rec *rec)
{
	char *p = (char *)rec->raw;
	char c = p[rec->len];

	/*
	 * The line's own '\n' (or its end) follows it in the buffer.  A
	 * record the reader passed unparsed waits in stdio only while the
	 * reader has the next line at hand: it flushes before it blocks
	 * for input and before it hands over a record the tool acts on.
	 */
	p[rec->len] = '\n';
	ca_out(p, rec->len + 1);
	if (rec->json != NULL)
		ca_out_flush();
	p[rec->len] = c;
}

int
ca_finish(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		/* The output is not complete, whatever else happened:
		 * a caller must not take it for the whole (ca(7)). */
		if (errno != EPIPE) {
			ca_warn("write error on standard output:");
			return CA_EX_IOERR;
		}
		return status ? status : CA_EX_FAIL;
	}
	return status;
}
