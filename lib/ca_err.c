/* ca_err.c: one way to complain, for every tool. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

const char *ca_prog = "ca";
int ca_verbose;
void (*ca_warn_hook)(void);

/*
 * Messages name records, server answers, file names and environment
 * variables; any of them may carry terminal escapes.  Rather than trust
 * every call site, the whole line is made printable on its way out.
 */
struct safeout {
	char	 b[512];
	size_t	 n;
};

static void
safe_flush(struct safeout *o)
{
	if (o->n > 0)
		fwrite(o->b, 1, o->n, stderr);
	o->n = 0;
}

/* Length of the character at p (of n bytes), and whether it is unsafe. */
static size_t
safe_char(const unsigned char *p, size_t n, int *bad)
{
	size_t l = ca_utf8_len(p, n);

	*bad = l == 0 || (l == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
	    (l == 2 && p[0] == 0xc2 && p[1] < 0xa0);
	return l ? l : 1;
}

/* Append s (n bytes) to out, unsafe bytes as \xNN; returns the length. */
static size_t
safe_copy(char *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, k, l, o = 0;
	int bad;

	for (i = 0; i < n; i += l) {
		l = safe_char(p + i, n - i, &bad);
		for (k = 0; bad && k < l; k++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i + k] >> 4];
			out[o++] = hex[p[i + k] & 15];
		}
		if (!bad) {
			memcpy(out + o, p + i, l);
			o += l;
		}
	}
	return o;
}

static void
safe_puts(struct safeout *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, l;
	int bad;

	for (i = 0; i < n; i += l) {
		l = safe_char(p + i, n - i, &bad);
		if (o->n + 4 * l > sizeof(o->b))
			safe_flush(o);
		o->n += safe_copy(o->b + o->n, p + i, l);
	}
}

static void
vwarn(const char *fmt, va_list ap)
{
	int saved = errno, len;
	size_t n = strlen(fmt);
	char small[1024], *msg = small, *big = NULL;
	struct safeout o;
	va_list cp;

	if (ca_warn_hook != NULL)
		ca_warn_hook();
	/* No ca_xmalloc here: it reports its own failure through us. */
	va_copy(cp, ap);
	len = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (len < 0)
		small[0] = '\0';
	else if ((size_t)len >= sizeof(small) &&
	    (big = malloc((size_t)len + 1)) != NULL) {
		vsnprintf(big, (size_t)len + 1, fmt, ap);
		msg = big;
	}
	o.n = 0;
	safe_puts(&o, ca_prog);
	safe_puts(&o, ": ");
	safe_puts(&o, msg);
	if (n > 0 && fmt[n - 1] == ':') {
		safe_puts(&o, " ");
		safe_puts(&o, strerror(saved));
	}
	if (o.n == sizeof(o.b))
		safe_flush(&o);
	o.b[o.n++] = '\n';	/* the line in one write, if it fits */
	safe_flush(&o);
	free(big);
	errno = saved;
}

void
ca_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
ca_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	vsnprintf(buf, len, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':') {
		n = strlen(buf);
		snprintf(buf + n, len - n, " %s", strerror(saved));
	}
	errno = saved;
}

void
ca_note(const char *fmt, ...)
{
	va_list ap;

	if (!ca_verbose)
		return;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
ca_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void *
ca_xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		ca_die(CA_EX_FAIL, "malloc:");
	return p;
}

void *
ca_xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		ca_die(CA_EX_FAIL, "calloc:");
	return p;
}

void *
ca_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		ca_die(CA_EX_FAIL, "realloc:");
	return p;
}

char *
ca_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(ca_xmalloc(n), s, n);
}

size_t
ca_utf8_len(const unsigned char *p, size_t n)
{
	unsigned long cp;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Text from the server or the model can carry terminal escapes; anything
 * we echo to stderr goes through here first.  C0 and C1 controls, DEL
 * and malformed UTF-8 become \xNN; some terminals act on C1 (U+009B is
 * a CSI), so valid UTF-8 is not enough.
 */
char *
ca_sanitize(const char *s, size_t maxlen)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), o;
	char *out;

	if (maxlen && n > maxlen)
		n = maxlen;
	out = ca_xmalloc(n * 4 + 4);
	o = safe_copy(out, p, n);
	if (p[n] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

size_t
ca_utf8_bad(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n && (l = ca_utf8_len(p + i, n - i)) > 0)
		i += l;
	return i;
}
