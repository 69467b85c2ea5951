/*
 * libFuzzer harness: ca_jcompact and ca_jparse, with their promises
 * checked.  Whatever ca_jcompact accepts it writes as one line of strict
 * JSON, compact already, that reads as the same value as the input; a
 * tree ca_jparse built prints as a text it reads back the same; and
 * what cJSON prints of it (valid UTF-8 provided) ca_jcompact accepts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), l;

	for (; n > 0; p += l, n -= l)
		if ((l = ca_utf8_len(p, n)) == 0)
			return 0;
	return 1;
}

/*
 * Both fail, or both give equal values: equal as cJSON prints them,
 * which is stricter than cJSON_Compare and, unlike it, takes 1e999 (an
 * infinity, printed as null) as equal to itself.
 */
static void
same(const char *a, size_t an, const char *b, size_t bn)
{
	cJSON *x = ca_jparse(a, an), *y = ca_jparse(b, bn);
	char *xs, *ys;

	if ((x == NULL) != (y == NULL))
		abort();
	if (x != NULL) {
		xs = ca_jprint(x);
		ys = ca_jprint(y);
		if (strcmp(xs, ys) != 0)
			abort();
		free(xs);
		free(ys);
	}
	cJSON_Delete(x);
	cJSON_Delete(y);
}

static void
compacted(const char *in, size_t n, const struct ca_buf *out)
{
	struct ca_buf again = { NULL, 0, 0, 0 };
	size_t i;

	for (i = 0; i < out->len; i++)
		if ((unsigned char)out->p[i] < 0x20)
			abort();	/* a newline, or not strict JSON */
	if (ca_jcompact(&again, out->p, out->len) == -1 ||
	    again.len != out->len || memcmp(again.p, out->p, out->len) != 0)
		abort();	/* not strict, or not compact */
	ca_buf_free(&again);
	same(in, n, out->p, out->len);
}

static int
finite(const cJSON *j)
{
	const cJSON *c;

	if (cJSON_IsNumber(j))
		return isfinite(j->valuedouble);
	cJSON_ArrayForEach(c, j)
		if (!finite(c))
			return 0;
	return 1;
}

/* A tree prints as what reads back the same, and compacts. */
static void
reprinted(const char *in, size_t n)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	cJSON *j = ca_jparse(in, n);
	char *s;

	if (j == NULL)
		return;
	s = ca_jprint(j);
	if (finite(j))	/* 1e999 prints as null */
		same(in, n, s, strlen(s));
	if (ca_jcompact(&b, s, strlen(s)) == -1 ? utf8(s) :
	    strcmp(b.p, s) != 0)
		abort();
	ca_buf_free(&b);
	free(s);
	cJSON_Delete(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_buf out = { NULL, 0, 0, 0 };
	const char *in = (const char *)data;

	if (ca_jcompact(&out, in, size) == 0)
		compacted(in, size, &out);
	else if (out.len != 0)
		abort();	/* out not left as it was */
	ca_buf_free(&out);
	reprinted(in, size);
	return 0;
}
