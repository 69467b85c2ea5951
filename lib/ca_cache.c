/*
 * ca_cache.c: the cache directory and its entries: one small file per
 * key, holding a JSON object (a file's or a skill's metadata as the
 * API gave it).  No libcrypto here, so that a tool without HTTP can
 * read an entry (ca-request resolving a skill's name).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

#define ENTRY_MAX	65536

char *
ca_cache_dir(const char *sub)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *p;

	/* The XDG spec says to ignore a relative XDG_CACHE_HOME. */
	if (xdg != NULL && xdg[0] == '/') {
		p = ca_xmalloc(strlen(xdg) + strlen(sub) + 8);
		sprintf(p, "%s/ca/%s", xdg, sub);
	} else if (home != NULL && home[0] == '/') {
		p = ca_xmalloc(strlen(home) + strlen(sub) + 16);
		sprintf(p, "%s/.cache/ca/%s", home, sub);
	} else
		return NULL;
	return p;
}

static void
trouble(struct ca_upcache *c, const char *what)
{
	/* Once per run: a read-only home should not drown the output. */
	if (!c->warned)
		ca_warn("cache %s: %s %s; going on without the cache",
		    c->dir, what, strerror(errno));
	c->warned = 1;
}

static char *
entry(const struct ca_upcache *c, const char *key)
{
	char *p = ca_xmalloc(strlen(c->dir) + strlen(key) + 2);

	sprintf(p, "%s/%s", c->dir, key);
	return p;
}

cJSON *
ca_cache_get(struct ca_upcache *c, const char *key)
{
	char *path = entry(c, key);
	char buf[ENTRY_MAX];
	ssize_t n;
	cJSON *j = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			trouble(c, "cannot read it:");
		return NULL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0)
		j = ca_jparse(buf, (size_t)n);
	if (j != NULL && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	if (j == NULL)
		ca_note("cache entry %s is damaged; ignoring it", key);
	return j;
}

char *
ca_upcache_load(struct ca_upcache *c, const char *key)
{
	cJSON *j = ca_cache_get(c, key);
	const char *s = ca_jstr(j, "id");
	char *id = NULL;

	if (s != NULL && *s != '\0')
		id = ca_xstrdup(s);
	else if (j != NULL)
		ca_note("cache entry %s is damaged; ignoring it", key);
	cJSON_Delete(j);
	return id;
}

/*
 * Temp file, rename: concurrent writers cannot interleave; the last
 * rename wins.  No fsync: after a crash an entry may be empty, and
 * ca_cache_get ignores a damaged entry, so the cost is one upload.
 */
void
ca_cache_put(struct ca_upcache *c, const char *key, const cJSON *meta)
{
	char *tmp, *dst, *s;
	size_t n;
	int fd, ok;

	if (ca_mkdirs(c->dir, 0700) == -1) {
		trouble(c, "cannot create it:");
		return;
	}
	tmp = ca_xmalloc(strlen(c->dir) + 16);
	sprintf(tmp, "%s/.tmp.XXXXXX", c->dir);
	if ((fd = mkstemp(tmp)) == -1) {
		trouble(c, "cannot write to it:");
		free(tmp);
		return;
	}
	s = ca_jprint(meta);
	n = strlen(s);
	s[n] = '\n';
	ok = fchmod(fd, 0600) == 0 && write(fd, s, n + 1) == (ssize_t)(n + 1);
	free(s);
	if (close(fd) == -1)
		ok = 0;
	dst = entry(c, key);
	if (!ok || rename(tmp, dst) == -1) {
		trouble(c, "cannot write to it:");
		unlink(tmp);
	}
	free(dst);
	free(tmp);
}

void
ca_upcache_store(struct ca_upcache *c, const char *key, const cJSON *meta)
{
	ca_cache_put(c, key, meta);
}

void
ca_cache_del(struct ca_upcache *c, const char *key)
{
	char *path = entry(c, key);

	if (unlink(path) == -1 && errno != ENOENT)
		trouble(c, "cannot remove an entry from it:");
	free(path);
}

/*
 * "skill-NAME-HHHHHHHHHHHHHHHH": the name in clear, the server by its
 * FNV-1a hash.  Not a digest: the entry holds the base and the name,
 * and ca_skcache_get checks both, so a collision is only a miss.
 */
void
ca_skcache_key(const char *base, const char *name, char key[CA_SKKEY_MAX])
{
	unsigned long long h = 14695981039346656037ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)base; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	snprintf(key, CA_SKKEY_MAX, "skill-%.64s-%016llx", name, h);
}

int
ca_skill_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

cJSON *
ca_skcache_get(struct ca_upcache *c, const char *base, const char *name)
{
	char key[CA_SKKEY_MAX];
	cJSON *j;
	const char *b, *n;

	if (c->dir == NULL || !ca_skill_name_ok(name))
		return NULL;
	ca_skcache_key(base, name, key);
	if ((j = ca_cache_get(c, key)) == NULL)
		return NULL;
	b = ca_jstr(j, "base");
	n = ca_jstr(j, "name");
	if (b == NULL || n == NULL || strcmp(b, base) != 0 ||
	    strcmp(n, name) != 0 || ca_jstr(ca_jobj(j, "skill"), "id") == NULL ||
	    ca_jstr(j, "version") == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}
