/*
 * ca_buf.c: growable byte buffers that refuse to grow past a cap, and a
 * small set of strings.
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

int
ca_strset_add(struct ca_strset *s, const char *str)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	if ((s->n & (s->n - 1)) == 0)
		s->v = ca_xrealloc(s->v, (s->n ? s->n * 2 : 8) *
		    sizeof(*s->v));
	s->v[s->n++] = ca_xstrdup(str);
	return 0;
}

void
ca_strset_free(struct ca_strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
