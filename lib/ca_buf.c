/*
 * ca_buf.c: growable byte buffers that refuse to grow past a cap, and a
 * string-keyed hash map with a set of strings on it.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int
ca_buf_add(struct ca_buf *b, const void *p, size_t n)
{
	size_t max = b->max ? b->max : CA_BODY_MAX;
	size_t ncap;

	if (n > max || b->len > max - n)
		return -1;
	if (b->p == NULL || b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		b->p = ca_xrealloc(b->p, ncap);
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
ca_buf_addstr(struct ca_buf *b, const char *s)
{
	return ca_buf_add(b, s, strlen(s));
}

void
ca_buf_reset(struct ca_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
ca_buf_free(struct ca_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

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

int
ca_strset_add(struct ca_strset *s, const char *str)
{
	if (ca_map_get(&s->m, str) >= 0)
		return 1;
	ca_map_put(&s->m, str, 1);
	return 0;
}

void
ca_strset_free(struct ca_strset *s)
{
	ca_map_free(&s->m);
}
