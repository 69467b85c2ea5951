/*
 * ca_upcache.c: the upload cache, so that a cron job running the same
 * pipeline every hour does not upload the same bytes every hour.  One
 * small file per key, holding the file's metadata as the API gave it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

#define ENTRY_MAX	65536

static void
trouble(struct ca_upcache *c, const char *what)
{
	/* Once per run: a read-only home should not drown the output. */
	if (!c->warned)
		ca_warn("cache %s: %s %s; uploads go on without the cache",
		    c->dir, what, strerror(errno));
	c->warned = 1;
}

/*
 * The key names everything that makes an uploaded file what it is for a
 * container: the server, the bytes, the name, the type and the expiry.
 */
void
ca_upcache_key(const char *base, const char *digest, const char *name,
    const char *type, long expires, char key[65])
{
	struct ca_sha256 s;
	char exp[32];

	snprintf(exp, sizeof(exp), "%ld", expires);
	ca_sha256_init(&s);
	ca_sha256_update(&s, "ca-upload cache v1", 19);
	ca_sha256_update(&s, base, strlen(base) + 1);
	ca_sha256_update(&s, digest, 65);
	ca_sha256_update(&s, name, strlen(name) + 1);
	ca_sha256_update(&s, type, strlen(type) + 1);
	ca_sha256_update(&s, exp, strlen(exp) + 1);
	ca_sha256_final(&s, key);
}

static char *
entry(const struct ca_upcache *c, const char *key)
{
	char *p = ca_xmalloc(strlen(c->dir) + 70);

	sprintf(p, "%s/%s", c->dir, key);
	return p;
}

/* The cached metadata's file id, or NULL on a miss. */
char *
ca_upcache_load(struct ca_upcache *c, const char *key)
{
	char *path = entry(c, key), *id = NULL;
	char buf[ENTRY_MAX];
	ssize_t n;
	cJSON *j;
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
	if (n > 0 && (j = ca_jparse(buf, (size_t)n)) != NULL) {
		const char *s = ca_jstr(j, "id");

		if (s != NULL && *s != '\0')
			id = ca_xstrdup(s);
		cJSON_Delete(j);
	}
	if (id == NULL)
		ca_note("cache entry %s is damaged; ignoring it", key);
	return id;
}

/*
 * Temp file, rename: concurrent writers cannot interleave; the last
 * rename wins.  No fsync: after a crash an entry may be empty, and
 * ca_upcache_load ignores a damaged entry, so the cost is one upload.
 */
void
ca_upcache_store(struct ca_upcache *c, const char *key, const cJSON *meta)
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
