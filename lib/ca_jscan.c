/*
 * ca_jscan.c: the one place that decides what a JSON text is, and
 * ca_jcompact on it.
 *
 * A recursive descent over the JSON grammar, so it knows at every byte
 * whether it is inside a string (cJSON_Minify does not: it loses track
 * of a string that ends in a backslash and stops at a NUL).  Numbers,
 * escapes and literals are always RFC 8259's.  Two rules differ:
 *
 * CA_JWS_STRICT, for records passed on unparsed: what both RFC 8259 and
 * cJSON accept.  White space is space, tab, LF and CR; a raw control
 * byte in a string is refused; a surrogate escape must be a high one
 * followed by a low one, as cJSON requires.  Whatever it accepts, cJSON
 * reads, and reads the same.
 *
 * CA_JWS_CJSON, for compaction and for walking a text cJSON has read:
 * cJSON's leniencies.  White space is any byte up to space, and a raw
 * control byte in a string is taken as itself (compaction writes it as
 * its \u00XX escape, the same value); surrogate escapes are not paired.
 *
 * When it writes (s->out set), it writes each token as it came, with no
 * white space between, and checks the UTF-8 of strings: what it writes
 * is strict JSON on one line, read the same by cJSON, jq and Python.
 */
#include <string.h>

#include "ca.h"

/* As deep as cJSON nests, so what we accept it can read. */
#define JDEPTH	1000

/* Bytes that end the plain run of a string: '"', '\\' and controls. */
static const unsigned char stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1
};

/* The same, and every byte of a UTF-8 sequence, to check it. */
static const unsigned char stop_utf8[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
	[0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};

void
ca_jscan_init(struct ca_jscan *s, const char *p, size_t n, int ws)
{
	memset(s, 0, sizeof(*s));
	s->p = (const unsigned char *)p;
	s->end = s->p + n;
	s->ws = ws;
	s->maxdepth = JDEPTH;
}

/* White space under each rule: bit 1 << CA_JWS_STRICT, 1 << CA_JWS_CJSON. */
static const unsigned char wstab[256] = {
	2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 2, 2, 3, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	3
};

static inline int
isws(const struct ca_jscan *s, int ch)
{
	return wstab[ch] >> s->ws & 1;
}

void
ca_jscan_ws(struct ca_jscan *s)
{
	while (s->p < s->end && isws(s, *s->p))
		s->p++;
}

static int
put(struct ca_jscan *s, const void *p, size_t n)
{
	return s->out == NULL ? 0 : ca_buf_add(s->out, p, n);
}

static int
ishex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/* Is p (before end) a \uXXXX escape? */
static int
hex4(const unsigned char *p, const unsigned char *end)
{
	return end - p >= 6 && p[0] == '\\' && p[1] == 'u' && ishex(p[2]) &&
	    ishex(p[3]) && ishex(p[4]) && ishex(p[5]);
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

/* The escapes other than \u, by the byte after the backslash. */
static const unsigned char simple[256] = {
	['"'] = 2, ['\\'] = 2, ['/'] = 2, ['b'] = 2, ['f'] = 2, ['n'] = 2,
	['r'] = 2, ['t'] = 2
};

/* The length of the \u escape at p, or 0 if it is bad. */
static size_t
escape(struct ca_jscan *s, const unsigned char *p)
{
	if (!hex4(p, s->end))
		return 0;
	if (memcmp(p + 2, "0000", 4) == 0)
		s->seen |= CA_JSEEN_NUL;
	if (s->ws != CA_JWS_STRICT || surrogate(p) == 0)
		return 6;
	/* cJSON's rule: a high surrogate, then a low one. */
	if (surrogate(p) == 2 || !hex4(p + 6, s->end) || surrogate(p + 6) != 2)
		return 0;
	return 12;
}

/* A raw control byte at p, as its escape. */
static int
control(struct ca_jscan *s, const unsigned char *p)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6];

	memcpy(esc, "\\u00", 4);
	esc[4] = hex[*p >> 4];
	esc[5] = hex[*p & 0xf];
	return put(s, esc, 6);
}

/* Past the plain bytes from p on, those that tab does not stop at. */
static inline const unsigned char *
plain(const unsigned char *tab, const unsigned char *p,
    const unsigned char *end)
{
	/* Most of a record is string bytes: this loop is the scan. */
	while (end - p >= 4 && !tab[p[0]] && !tab[p[1]] && !tab[p[2]] &&
	    !tab[p[3]])
		p += 4;
	while (p < end && !tab[*p])
		p++;
	return p;
}

int
ca_jscan_string(struct ca_jscan *s)
{
	const unsigned char *p = s->p + 1, *run = s->p, *end = s->end;
	size_t l;

	s->seen = 0;
	if (s->p >= end || *s->p != '"')
		return -1;
	for (;;) {
		/* Two calls, so that each is compiled for its table. */
		if (s->out == NULL)
			p = plain(stop, p, end);
		else
			p = plain(stop_utf8, p, end);
		if (p >= end)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			s->seen |= CA_JSEEN_ESC;
			l = end - p >= 2 && p[1] != 'u' ? simple[p[1]] :
			    escape(s, p);
			if (l == 0)
				return -1;
		} else if (*p < 0x20) {
			if (s->ws == CA_JWS_STRICT)
				return -1;
			if (*p == '\0')
				s->seen |= CA_JSEEN_NUL;
			if (s->out != NULL && (put(s, run, (size_t)(p - run)) ==
			    -1 || control(s, p) == -1))
				return -1;
			run = ++p;
			continue;
		} else if ((l = ca_utf8_len(p, (size_t)(end - p))) == 0)
			return -1;
		p += l;
	}
	p++;
	if (put(s, run, (size_t)(p - run)) == -1)
		return -1;
	s->p = p;
	return 0;
}

static int
digits(struct ca_jscan *s)
{
	const unsigned char *p = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > p ? 0 : -1;
}

static int
peek(const struct ca_jscan *s)
{
	return s->p < s->end ? *s->p : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct ca_jscan *s)
{
	const unsigned char *p = s->p;

	if (peek(s) == '-')
		s->p++;
	if (peek(s) == '0')
		s->p++;
	else if (digits(s) == -1)
		return -1;
	if (peek(s) == '.') {
		s->p++;
		if (digits(s) == -1)
			return -1;
	}
	if (peek(s) == 'e' || peek(s) == 'E') {
		s->p++;
		if (peek(s) == '+' || peek(s) == '-')
			s->p++;
		if (digits(s) == -1)
			return -1;
	}
	return put(s, p, (size_t)(s->p - p));
}

static int
literal(struct ca_jscan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return put(s, word, n);
}

/* The separator sep at s->p, white space around it dropped. */
static inline int
sep(struct ca_jscan *s, int ch)
{
	ca_jscan_ws(s);
	if (peek(s) != ch || put(s, s->p, 1) == -1)
		return -1;
	s->p++;
	ca_jscan_ws(s);
	return 0;
}

/* An object or array: open, members separated by commas, close. */
static int
container(struct ca_jscan *s)
{
	int close = *s->p == '{' ? '}' : ']';
	const unsigned char *k, *ke, *v;

	if (++s->depth > s->maxdepth || put(s, s->p, 1) == -1)
		return -1;
	s->p++;
	ca_jscan_ws(s);
	if (peek(s) != close)
		for (;;) {
			k = ke = s->p;
			if (close == '}') {
				if (ca_jscan_string(s) == -1)
					return -1;
				ke = s->p;
				if (sep(s, ':') == -1)
					return -1;
			}
			v = s->p;
			if (ca_jscan_value(s) == -1)
				return -1;
			if (close == '}' && s->depth == 1 && s->member !=
			    NULL && s->member(s, k, ke, v, s->p) == -1)
				return -1;
			ca_jscan_ws(s);
			if (peek(s) == close)
				break;
			if (sep(s, ',') == -1)
				return -1;
		}
	s->p++;
	s->depth--;
	return put(s, close == '}' ? "}" : "]", 1);
}

int
ca_jscan_value(struct ca_jscan *s)
{
	switch (peek(s)) {
	case '{':
	case '[':
		return container(s);
	case '"':
		return ca_jscan_string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return number(s);
	}
}

/*
 * Step over a value of a text a parser has accepted already: its
 * strings decide where it ends, the rest need not be checked (and
 * cJSON's numbers, such as 01 or +1, would not pass).
 */
int
ca_jscan_skip(struct ca_jscan *s)
{
	int depth = 0;

	while (s->p < s->end) {
		switch (*s->p) {
		case '"':
			if (ca_jscan_string(s) == -1)
				return -1;
			if (depth == 0)
				return 0;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return 0;
			if (--depth == 0) {
				s->p++;
				return 0;
			}
			break;
		case ',':
			if (depth == 0)
				return 0;
			break;
		default:
			if (depth == 0 && isws(s, *s->p))
				return 0;
		}
		s->p++;
	}
	return depth == 0 ? 0 : -1;
}

int
ca_jscan_whole(struct ca_jscan *s)
{
	ca_jscan_ws(s);
	if (ca_jscan_value(s) == -1)
		return -1;
	ca_jscan_ws(s);
	return s->p == s->end ? 0 : -1;
}

int
ca_jcompact(struct ca_buf *out, const char *src, size_t n)
{
	struct ca_jscan s;
	size_t len = out->len;

	ca_jscan_init(&s, src, n, CA_JWS_CJSON);
	s.out = out;
	if (ca_jscan_whole(&s) == 0)
		return 0;
	/* Leave out as it was. */
	out->len = len;
	if (out->p != NULL)
		out->p[len] = '\0';
	return -1;
}
