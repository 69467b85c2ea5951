/*
 * ca_json.c: small cJSON conveniences, and the two places where cJSON's
 * reading of a text differs from other parsers' made right.
 *
 * cJSON keeps a string as a C string, so "a\u0000b" would read as "a":
 * a file id "file_\u0000evil" as "file_", a text cut short when printed
 * again.  ca_jparse puts each string that held a NUL into the tree as a
 * raw node holding its exact JSON text instead: printing writes it back
 * unchanged, and ca_jstr, which wants a string, never sees a prefix.
 * An object key that held a NUL cannot be kept that way, and could
 * collide with another key, so such a text is refused.
 *
 * cJSON finds the first of duplicate keys; jq and Python take the last.
 * ca_jparse drops the earlier ones, so the last wins here too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

/* Step over the string at s->p; 1 if it held a NUL, -1 if malformed. */
static int
nulstring(struct ca_jscan *s)
{
	if (ca_jscan_string(s) == -1)
		return -1;
	return (s->seen & CA_JSEEN_NUL) != 0;
}

/* A raw node for the string text from p to s->p, compacted. */
static cJSON *
rawstring(const unsigned char *p, const struct ca_jscan *s)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	cJSON *r = NULL;

	if (ca_jcompact(&b, (const char *)p, (size_t)(s->p - p)) == 0)
		r = cJSON_CreateRaw(b.p);
	ca_buf_free(&b);
	return r;
}

static int	keepnul(cJSON *, cJSON *, struct ca_jscan *);

/* The members of an object or array, beside the text that gave them. */
static int
keepnul_members(cJSON *j, struct ca_jscan *s)
{
	cJSON *c, *next;

	s->p++;
	for (c = j->child; c != NULL; c = next) {
		next = c->next;
		ca_jscan_ws(s);
		if (cJSON_IsObject(j)) {
			if (nulstring(s) != 0)
				return -1;	/* a NUL in a key */
			ca_jscan_ws(s);
			if (s->p == s->end || *s->p != ':')
				return -1;
			s->p++;
			ca_jscan_ws(s);
		}
		if (keepnul(j, c, s) == -1)
			return -1;
		ca_jscan_ws(s);
		if (s->p < s->end && *s->p == ',')
			s->p++;
	}
	ca_jscan_ws(s);
	if (s->p == s->end)
		return -1;
	s->p++;
	return 0;
}

/*
 * Walk the text s beside j, which cJSON made of it (so it is well formed
 * and in the same order), and swap each string that held a NUL for a
 * raw node.
 */
static int
keepnul(cJSON *parent, cJSON *j, struct ca_jscan *s)
{
	const unsigned char *p = s->p;
	cJSON *r;
	int nul;

	if (cJSON_IsObject(j) || cJSON_IsArray(j))
		return keepnul_members(j, s);
	if (cJSON_IsString(j)) {
		if ((nul = nulstring(s)) <= 0)
			return nul;
		if (parent == NULL || (r = rawstring(p, s)) == NULL)
			return -1;
		r->string = j->string;	/* the key moves over */
		r->type |= j->type & cJSON_StringIsConst;
		j->string = NULL;
		return cJSON_ReplaceItemViaPointer(parent, j, r) ? 0 : -1;
	}
	/* A number, true, false or null, as cJSON took it. */
	return ca_jscan_skip(s);
}

/* Could the text hold a NUL in a string (raw, or as \u0000)? */
static int
maybenul(const char *p, size_t n)
{
	const char *q;

	if (memchr(p, '\0', n) != NULL)
		return 1;
	for (q = p; (q = memchr(q, '\\', n - (size_t)(q - p))) != NULL; q++)
		if ((size_t)(p + n - q) >= 6 && memcmp(q, "\\u0000", 6) == 0)
			return 1;
	return 0;
}

struct member {
	cJSON	*item;
	size_t	 pos;
};

static int
bykey(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->item->string, y->item->string);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Drop all but the last of each set of equal keys, everywhere in j. */
static void
lastwins(cJSON *j)
{
	struct member *v;
	cJSON *c;
	size_t n = 0, i;

	for (c = j->child; c != NULL; c = c->next, n++)
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			lastwins(c);
	if (!cJSON_IsObject(j) || n < 2)
		return;
	v = ca_xcalloc(n, sizeof(*v));
	for (n = 0, c = j->child; c != NULL; c = c->next, n++) {
		v[n].item = c;
		v[n].pos = n;
	}
	qsort(v, n, sizeof(*v), bykey);
	for (i = 0; i + 1 < n; i++)
		if (strcmp(v[i].item->string, v[i + 1].item->string) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(j, v[i].item));
	free(v);
}

cJSON *
ca_jparse(const char *p, size_t n)
{
	const unsigned char *start;
	const char *end = NULL;
	struct ca_jscan s;
	cJSON *j;

	if (p == NULL)
		return NULL;
	j = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (j == NULL)
		return NULL;
	/* Trailing garbage other than white space (any byte up to space,
	 * as cJSON reads it between tokens) makes it invalid. */
	while (end != NULL && end < p + n && *(const unsigned char *)end <=
	    0x20)
		end++;
	if (end != NULL && end < p + n)
		goto bad;
	if (maybenul(p, n)) {
		ca_jscan_init(&s, p, n, CA_JWS_CJSON);
		ca_jscan_ws(&s);
		start = s.p;
		if (cJSON_IsString(j)) {
			if (nulstring(&s) == 1) {
				cJSON_Delete(j);
				return rawstring(start, &s);
			}
		} else if (keepnul(NULL, j, &s) == -1)
			goto bad;	/* a NUL in a key */
	}
	lastwins(j);
	return j;
bad:
	cJSON_Delete(j);
	return NULL;
}

int
ca_jstr_esc(struct ca_buf *out, const cJSON *v)
{
	size_t at = out->len;
	char *s;
	int rv;

	if (ca_jnulstr(v))
		return ca_buf_add(out, v->valuestring + 1,
		    strlen(v->valuestring) - 2);
	if (!cJSON_IsString(v))
		return -1;
	/* Strict, as a raw node is: cJSON keeps malformed UTF-8. */
	s = ca_jprint(v);
	rv = ca_jcompact(out, s, strlen(s));
	free(s);
	if (rv == -1)
		return -1;
	memmove(out->p + at, out->p + at + 1, out->len - at - 2);
	out->len -= 2;
	out->p[out->len] = '\0';
	return 0;
}

int
ca_jnulstr(const cJSON *v)
{
	return cJSON_IsRaw(v) && v->valuestring != NULL &&
	    v->valuestring[0] == '"';
}

int
ca_jnulkey(const cJSON *j, const char *key)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j) {
		if (c->string != NULL && strcmp(c->string, key) == 0 &&
		    ca_jnulstr(c))
			return 1;
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    ca_jnulkey(c, key))
			return 1;
	}
	return 0;
}

const char *
ca_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double
ca_jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

cJSON *
ca_jobj(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

cJSON *
ca_jarr(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsArray(v) ? v : NULL;
}

char *
ca_jprint(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s == NULL)
		ca_die(CA_EX_FAIL, "out of memory printing JSON");
	return s;
}

/*
 * The span of one member in a valid JSON object's text, so that a
 * server's value can be copied as it came rather than re-printed
 * through cJSON.
 */
int
ca_jmember(const char *p, size_t n, const char *key, size_t *ms,
    size_t *vs, size_t *ve)
{
	struct ca_jscan s;
	const unsigned char *k, *v, *start = (const unsigned char *)p;
	size_t klen = strlen(key);
	int match;

	ca_jscan_init(&s, p, n, CA_JWS_CJSON);
	ca_jscan_ws(&s);
	if (s.p == s.end || *s.p != '{')
		return -1;
	s.p++;
	for (ca_jscan_ws(&s); s.p < s.end && *s.p == '"';) {
		k = s.p;
		if (ca_jscan_string(&s) == -1)
			return -1;
		/* The key matches when its text is exactly "key". */
		match = (size_t)(s.p - k) == klen + 2 &&
		    memcmp(k + 1, key, klen) == 0;
		ca_jscan_ws(&s);
		if (s.p == s.end || *s.p != ':')
			return -1;
		s.p++;
		ca_jscan_ws(&s);
		v = s.p;
		if (ca_jscan_skip(&s) == -1)
			return -1;
		if (match) {
			*ms = (size_t)(k - start);
			*vs = (size_t)(v - start);
			*ve = (size_t)(s.p - start);
			return 0;
		}
		ca_jscan_ws(&s);
		if (s.p < s.end && *s.p == ',')
			s.p++;
		ca_jscan_ws(&s);
	}
	return -1;
}

int
ca_jfinite(const cJSON *v)
{
	const cJSON *c;

	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble);
	for (c = v != NULL ? v->child : NULL; c != NULL; c = c->next)
		if (!ca_jfinite(c))
			return 0;
	return 1;
}

int
ca_jtokens(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble <= 1e15 &&
	    v->valuedouble == floor(v->valuedouble);
}
