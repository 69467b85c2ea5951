/* ca_err.c: one way to complain, for every tool. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

const char *ca_prog = "ca";
int ca_verbose;
void (*ca_warn_hook)(void);

void
ca_setprog(const char *argv0)
{
	const char *p;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	ca_prog = p != NULL ? p + 1 : argv0;
}

static void
vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	if (ca_warn_hook != NULL)
		ca_warn_hook();
	fprintf(stderr, "%s: ", ca_prog);
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
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
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i, l, k, o = 0;
	char *out;

	if (maxlen && n > maxlen)
		n = maxlen;
	out = ca_xmalloc(n * 4 + 4);
	for (i = 0; i < n; i += l) {
		l = ca_utf8_len(p + i, n - i);
		if (l == 0 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			for (k = 0; k < (l ? l : 1); k++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[p[i + k] >> 4];
				out[o++] = hex[p[i + k] & 15];
			}
			l = l ? l : 1;
		} else {
			memcpy(out + o, p + i, l);
			o += l;
		}
	}
	if (p[n] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

long
ca_strtonum(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		ca_die(CA_EX_USAGE, "%s must be a number from %ld to %ld: %s",
		    what, lo, hi, s);
	return v;
}

double
ca_seconds(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !isfinite(v) || v < 0 || v > 1e7)
		ca_die(CA_EX_USAGE, "%s must be a number of seconds: %s", what,
		    s);
	return v;
}
