/*
 * ca_jcompact.c: one JSON text onto one line, its value unchanged.
 *
 * cJSON_Minify cannot be trusted with a server's text: it loses track of
 * a string that ends in a backslash and stops at a NUL.  This is a
 * recursive descent over the JSON grammar instead, so it knows at every
 * byte whether it is inside a string.  It writes only what the grammar
 * allows: white space between tokens is dropped, a raw control byte
 * inside a string (which a lenient parser takes as itself) becomes its
 * \u00XX escape, the same value, and anything else that is not strict
 * JSON (a number such as +1 or 01, a bad escape, malformed UTF-8) makes
 * it fail rather than pass on a line that another parser reads
 * differently.  So no newline can reach the output, and what it writes
 * is read the same by cJSON, jq and Python.
 */
#include <string.h>

#include "ca.h"

/* As deep as cJSON nests, so what we accept it can read. */
#define JDEPTH	1000

struct jc {
	const unsigned char	*p, *end;
	struct ca_buf		*out;
	int			 depth;
};

static int	value(struct jc *);

static int
put(struct jc *c, const void *p, size_t n)
{
	return ca_buf_add(c->out, p, n);
}

/* cJSON takes any byte up to space between tokens; so do we. */
static void
skipws(struct jc *c)
{
	while (c->p < c->end && *c->p <= 0x20)
		c->p++;
}

static int
peek(const struct jc *c)
{
	return c->p < c->end ? *c->p : -1;
}

static int
ishex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/* One escape at c->p (a backslash), copied as it is. */
static int
escape(struct jc *c)
{
	size_t n = 2, i;

	if (c->end - c->p < 2)
		return -1;
	switch (c->p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n':
	case 'r': case 't':
		break;
	case 'u':
		n = 6;
		if (c->end - c->p < 6)
			return -1;
		for (i = 2; i < 6; i++)
			if (!ishex(c->p[i]))
				return -1;
		break;
	default:
		return -1;
	}
	if (put(c, c->p, n) == -1)
		return -1;
	c->p += n;
	return 0;
}

static int
string(struct jc *c)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *run;
	char esc[6];
	size_t l;

	if (put(c, "\"", 1) == -1)
		return -1;
	c->p++;
	for (;;) {
		/* Plain ASCII goes out in runs. */
		for (run = c->p; c->p < c->end && *c->p >= 0x20 &&
		    *c->p < 0x80 && *c->p != '"' && *c->p != '\\'; c->p++)
			;
		if (put(c, run, (size_t)(c->p - run)) == -1)
			return -1;
		if (c->p == c->end)
			return -1;
		if (*c->p == '"') {
			c->p++;
			return put(c, "\"", 1);
		}
		if (*c->p == '\\') {
			if (escape(c) == -1)
				return -1;
		} else if (*c->p < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*c->p >> 4];
			esc[5] = hex[*c->p & 0xf];
			if (put(c, esc, 6) == -1)
				return -1;
			c->p++;
		} else {
			if ((l = ca_utf8_len(c->p, (size_t)(c->end -
			    c->p))) == 0 || put(c, c->p, l) == -1)
				return -1;
			c->p += l;
		}
	}
}

static int
digits(struct jc *c)
{
	const unsigned char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct jc *c)
{
	const unsigned char *s = c->p;

	if (peek(c) == '-')
		c->p++;
	if (peek(c) == '0')
		c->p++;
	else if (digits(c) == -1)
		return -1;
	if (peek(c) == '.') {
		c->p++;
		if (digits(c) == -1)
			return -1;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->p++;
		if (peek(c) == '+' || peek(c) == '-')
			c->p++;
		if (digits(c) == -1)
			return -1;
	}
	return put(c, s, (size_t)(c->p - s));
}

static int
literal(struct jc *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return -1;
	c->p += n;
	return put(c, word, n);
}

/* An object or array: open, members separated by commas, close. */
static int
container(struct jc *c, int close)
{
	if (++c->depth > JDEPTH || put(c, c->p, 1) == -1)
		return -1;
	c->p++;
	skipws(c);
	if (peek(c) != close) {
		for (;;) {
			if (close == '}') {
				if (peek(c) != '"' || string(c) == -1)
					return -1;
				skipws(c);
				if (peek(c) != ':' || put(c, ":", 1) == -1)
					return -1;
				c->p++;
				skipws(c);
			}
			if (value(c) == -1)
				return -1;
			skipws(c);
			if (peek(c) != ',')
				break;
			if (put(c, ",", 1) == -1)
				return -1;
			c->p++;
			skipws(c);
		}
		if (peek(c) != close)
			return -1;
	}
	c->p++;
	c->depth--;
	return put(c, close == '}' ? "}" : "]", 1);
}

static int
value(struct jc *c)
{
	switch (peek(c)) {
	case '{':
		return container(c, '}');
	case '[':
		return container(c, ']');
	case '"':
		return string(c);
	case 't':
		return literal(c, "true");
	case 'f':
		return literal(c, "false");
	case 'n':
		return literal(c, "null");
	default:
		return number(c);
	}
}

int
ca_jcompact(struct ca_buf *out, const char *src, size_t n)
{
	struct jc c;
	size_t len = out->len;

	c.p = (const unsigned char *)src;
	c.end = c.p + n;
	c.out = out;
	c.depth = 0;
	skipws(&c);
	if (value(&c) == 0) {
		skipws(&c);
		if (c.p == c.end)
			return 0;
	}
	/* Leave out as it was. */
	out->len = len;
	if (out->p != NULL)
		out->p[len] = '\0';
	return -1;
}
