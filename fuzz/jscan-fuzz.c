/*
 * libFuzzer harness: ca_jscan's two white-space rules against each other
 * and against cJSON.  What the strict rule accepts, cJSON reads whole,
 * the cJSON rule accepts too, and (its UTF-8 valid) ca_jcompact writes
 * unchanged but for white space between tokens.  What the cJSON rule
 * accepts and the strict one refuses holds a byte only cJSON's rule
 * takes (a control byte: between tokens, or raw in a string) or a
 * surrogate escape.
 * What ca_jcompact writes of a text cJSON reads, the strict rule takes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
scan(const char *p, size_t n, int ws)
{
	struct ca_jscan s;

	ca_jscan_init(&s, p, n, ws);
	return ca_jscan_whole(&s) == 0;
}

/* Does cJSON read all of p, but for white space? */
static int
cjson(const char *p, size_t n)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(p, n, &end, 0);

	if (j == NULL)
		return 0;
	cJSON_Delete(j);
	while (end < p + n && *(const unsigned char *)end <= 0x20)
		end++;
	return end == p + n;
}

static int
utf8(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t l;

	for (; n > 0; u += l, n -= l)
		if (*u < 0x80)
			l = 1;
		else if ((l = ca_utf8_len(u, n)) == 0)
			return 0;
	return 1;
}

/* Does p hold what only the cJSON rule takes? */
static int
lenient(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x20)
			return 1;
		if (p[i] == '\\' && i + 2 < n && p[i + 1] == 'u' &&
		    (p[i + 2] == 'd' || p[i + 2] == 'D'))
			return 1;
	}
	return 0;
}

/* a without the white space between its tokens is b. */
static void
same_tokens(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i, j = 0;
	int in = 0;

	for (i = 0; i < an; i++) {
		if (!in && (a[i] == ' ' || a[i] == '\t' || a[i] == '\n' ||
		    a[i] == '\r'))
			continue;
		if (j >= bn || a[i] != b[j++])
			abort();
		if (in && a[i] == '\\') {
			if (++i >= an || j >= bn || a[i] != b[j++])
				abort();
		} else if (a[i] == '"')
			in = !in;
	}
	if (j != bn)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_buf out = { NULL, 0, 0, 0 };
	const char *in = (const char *)data;
	int strict = scan(in, size, CA_JWS_STRICT);
	int loose = scan(in, size, CA_JWS_CJSON);
	int ok = cjson(in, size);
	int compact = ca_jcompact(&out, in, size) == 0;

	if (strict && (!loose || !ok))
		abort();
	if (loose && !strict && !lenient(in, size))
		abort();
	if (strict && utf8(in, size) != compact)
		abort();
	if (strict && compact)
		same_tokens(in, size, out.p, out.len);
	if (compact && ok && !scan(out.p, out.len, CA_JWS_STRICT))
		abort();
	ca_buf_free(&out);
	return 0;
}
