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
 * object and a look at its top-level "type" will do, without building
 * a tree.  The scan is strict: whatever it accepts, cJSON accepts too,
 * with the same "type" (there is only one).  Anything it is not sure
 * of (escapes in the type, surrogate escapes, deep nesting, what strict
 * JSON forbids but cJSON might take) goes to the full parse, which then
 * decides and reports as before.
 */
struct scan {
	const unsigned char	*p;
	const unsigned char	*end;
	int			 depth;
};

static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hexdig(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static unsigned
hexval(int c)
{
	if (c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/* Is p (before end) a \uXXXX escape? */
static int
hex4(const unsigned char *p, const unsigned char *end)
{
	return end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hexdig(p[2]) &&
	    hexdig(p[3]) && hexdig(p[4]) && hexdig(p[5]);
}

/* The \uXXXX at p: 1 a high surrogate, 2 a low one, else 0. */
static int
surrogate(const unsigned char *p)
{
	if (p[2] != 'd' && p[2] != 'D')
		return 0;
	if (strchr("89abAB", p[3]) != NULL)
		return 1;
	if (strchr("cdefCDEF", p[3]) != NULL)
		return 2;
	return 0;
}

/* Bytes that end the plain run of a string: '"', '\\' and controls. */
static const unsigned char special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1
};

/* A string at s->p (its '"'); *plain: it had no escapes. */
static int
scan_string(struct scan *s, int *plain)
{
	const unsigned char *p = s->p + 1;

	*plain = 1;
	for (;;) {
		/* Most of a record is string bytes: this loop is the scan. */
		while (s->end - p >= 4 && !special[p[0]] && !special[p[1]] &&
		    !special[p[2]] && !special[p[3]])
			p += 4;
		while (p < s->end && !special[*p])
			p++;
		if (p >= s->end || *p < 0x20)
			return 0;
		if (*p == '"')
			break;
		*plain = 0;
		if (p + 1 >= s->end)
			return 0;
		if (p[1] == 'u') {
			if (!hex4(p, s->end))
				return 0;
			/* cJSON's rule: a high surrogate, then a low one. */
			if (surrogate(p) == 2)
				return 0;
			if (surrogate(p) == 1) {
				if (!hex4(p + 6, s->end) ||
				    surrogate(p + 6) != 2)
					return 0;
				p += 6;
			}
			p += 6;
		} else if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0')
			p += 2;
		else
			return 0;
	}
	s->p = p + 1;
	return 1;
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

static int
scan_digits(struct scan *s)
{
	const unsigned char *p = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > p;
}

static int
scan_number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!scan_digits(s))
		return 0;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!scan_digits(s))
			return 0;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return 0;
	}
	return 1;
}

static int	scan_value(struct scan *);

static int
scan_word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/*
 * An object or array at s->p.  With type set (the top level), the
 * "type" member's value, a plain string, goes to *type and *typelen;
 * a record with two is left to the full parse.
 */
static int
scan_container(struct scan *s, const unsigned char **type, size_t *typelen)
{
	int obj = *s->p == '{', plain;
	const unsigned char *k, *v;

	if (++s->depth > DEPTH_MAX)
		return 0;
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
		s->p++;
		s->depth--;
		return 1;
	}
	for (;;) {
		if (obj) {
			if (s->p >= s->end || *s->p != '"')
				return 0;
			k = s->p;
			if (!scan_string(s, &plain))
				return 0;
			if (type != NULL && is_type_key(k + 1, s->p - 1)) {
				/* A second "type": the last wins in the
				 * full parse, so let it decide. */
				if (*type != NULL)
					return 0;
				k = NULL;	/* this is the one */
			}
			scan_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return 0;
			scan_ws(s);
			v = s->p;
			if (s->p >= s->end || !scan_value(s))
				return 0;
			if (k == NULL) {
				if (*v != '"' || *(s->p - 1) != '"')
					return 0;
				/* A plain string: no escapes inside. */
				if (memchr(v + 1, '\\', (size_t)(s->p - v - 2)))
					return 0;
				*type = v + 1;
				*typelen = (size_t)(s->p - v - 2);
			}
		} else if (s->p >= s->end || !scan_value(s))
			return 0;
		scan_ws(s);
		if (s->p >= s->end)
			return 0;
		if (*s->p == ',') {
			s->p++;
			scan_ws(s);
			continue;
		}
		if (*s->p++ != (obj ? '}' : ']'))
			return 0;
		s->depth--;
		return 1;
	}
}

/* One value at s->p (not at the end). */
static int
scan_value(struct scan *s)
{
	int plain;

	switch (*s->p) {
	case '"':
		return scan_string(s, &plain);
	case '{':
	case '[':
		return scan_container(s, NULL, NULL);
	case 't':
		return scan_word(s, "true");
	case 'f':
		return scan_word(s, "false");
	case 'n':
		return scan_word(s, "null");
	default:
		return (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) &&
		    scan_number(s);
	}
}

/*
 * Is line (n bytes) one valid JSON object with a plain, non-empty string
 * "type" no longer than TYPE_MAX?  Then 1, with the type copied into
 * type; else 0: let the full parse decide.
 */
static int
scan_type(const char *line, size_t n, char type[TYPE_MAX + 1])
{
	struct scan s;
	const unsigned char *t = NULL;
	size_t tlen = 0;

	s.p = (const unsigned char *)line;
	s.end = s.p + n;
	s.depth = 0;
	scan_ws(&s);
	if (s.p >= s.end || *s.p != '{' || !scan_container(&s, &t, &tlen))
		return 0;
	scan_ws(&s);
	if (s.p != s.end || t == NULL || tlen == 0 || tlen > TYPE_MAX ||
	    memchr(t, '\0', tlen) != NULL)
		return 0;
	memcpy(type, t, tlen);
	type[tlen] = '\0';
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
	ca_die(CA_EX_FAIL, "write error on standard output:");
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
		if (errno != EPIPE)
			ca_warn("write error on standard output:");
		return status ? status : CA_EX_FAIL;
	}
	return status;
}
