/*
 * ca_batch.c: the span of one member in a JSON object's text, so that a
 * server's value can be copied as it came rather than re-printed
 * through cJSON.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

static size_t
skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	return i;
}

/* The end of the string starting at p[i] == '"', past its closing quote. */
static size_t
skip_string(const char *p, size_t n, size_t i)
{
	for (i++; i < n && p[i] != '"'; i++)
		if (p[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

/* The end of the value starting at p[i]. */
static size_t
skip_value(const char *p, size_t n, size_t i)
{
	int depth = 0;

	if (i < n && p[i] == '"')
		return skip_string(p, n, i);
	for (; i < n; i++) {
		switch (p[i]) {
		case '"':
			i = skip_string(p, n, i) - 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			if (depth == 0)
				return i;
			break;
		}
	}
	return n;
}

int
ca_jmember(const char *p, size_t n, const char *key, size_t *ms,
    size_t *vs, size_t *ve)
{
	size_t i = skip_ws(p, n, 0), k, klen = strlen(key);
	int match;

	if (i >= n || p[i] != '{')
		return -1;
	for (i = skip_ws(p, n, i + 1); i < n && p[i] == '"';) {
		k = i;
		i = skip_string(p, n, i);
		/* The key matches when its text is exactly "key". */
		match = i - k == klen + 2 && memcmp(p + k + 1, key, klen) == 0;
		i = skip_ws(p, n, i);
		if (i >= n || p[i] != ':')
			return -1;
		i = skip_ws(p, n, i + 1);
		if (match) {
			*ms = k;
			*vs = i;
			*ve = skip_value(p, n, i);
			return 0;
		}
		i = skip_ws(p, n, skip_value(p, n, i));
		if (i < n && p[i] == ',')
			i = skip_ws(p, n, i + 1);
	}
	return -1;
}
