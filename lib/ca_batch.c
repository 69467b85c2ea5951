/*
 * ca_batch.c: mechanism for tools that handle many requests at once: a
 * string-keyed hash map (ca_strset is a list, too slow for 100,000 ids),
 * and the span of one member in a JSON object's text, so that a server's
 * value can be copied as it came rather than re-printed through cJSON.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

static size_t
hash(const char *s)
{
	size_t h = 2166136261u;		/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct ca_map_ent *
slot(const struct ca_map *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);

	while (m->v[i].key != NULL && strcmp(m->v[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

long
ca_map_get(const struct ca_map *m, const char *key)
{
	const struct ca_map_ent *e;

	if (m->cap == 0)
		return -1;
	e = slot(m, key);
	return e->key != NULL ? e->val : -1;
}

static void
grow(struct ca_map *m)
{
	struct ca_map old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->v = ca_xcalloc(m->cap, sizeof(*m->v));
	for (i = 0; i < old.cap; i++)
		if (old.v[i].key != NULL)
			*slot(m, old.v[i].key) = old.v[i];
	free(old.v);
}

void
ca_map_put(struct ca_map *m, const char *key, long val)
{
	struct ca_map_ent *e;

	/* At most half full, so probe runs stay short. */
	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	e = slot(m, key);
	if (e->key == NULL) {
		e->key = ca_xstrdup(key);
		m->n++;
	}
	e->val = val;
}

void
ca_map_free(struct ca_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

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
