/*
 * ca_digest.c: SHA-256 through OpenSSL's libcrypto (which libcurl loads
 * anyway, and which uses the CPU's SHA instructions where there are
 * some), and a cache of the digests of files that have not changed.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ca.h"

#define HASH_CHUNK	65536		/* read size for hashing */

/*
 * A file whose ctime is this close to the moment its bytes were read
 * could change again within the same timestamp tick (the kernel stamps
 * files from a clock that lags by up to a jiffy), unseen by stat.
 */
#define RACY_NS		50000000LL
/* Smaller files are hashed faster than their entry is read and written. */
#define STATCACHE_MIN	((off_t)1 << 20)

void
ca_sha256_init(struct ca_sha256 *s)
{
	if ((s->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
		ca_die(CA_EX_FAIL, "cannot set up SHA-256 (libcrypto)");
}

void
ca_sha256_update(struct ca_sha256 *s, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(s->ctx, p, n) != 1)
		ca_die(CA_EX_FAIL, "SHA-256 failed (libcrypto)");
}

void
ca_sha256_final(struct ca_sha256 *s, char hex[65])
{
	static const char x[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_DigestFinal_ex(s->ctx, md, &n) != 1 || n != 32)
		ca_die(CA_EX_FAIL, "SHA-256 failed (libcrypto)");
	for (i = 0; i < 32; i++) {
		hex[2 * i] = x[md[i] >> 4];
		hex[2 * i + 1] = x[md[i] & 15];
	}
	hex[64] = '\0';
	ca_sha256_free(s);
}

void
ca_sha256_free(struct ca_sha256 *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

/*
 * The stat cache: one small file per inode under ca_cache_dir("stat"),
 * holding the device, inode, size, mtime and ctime (in nanoseconds) the
 * digest was taken at.  Any difference in these is a miss, so a stale
 * entry costs one read of the file, never a wrong digest.
 */
static long long
ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* The entry's text for st: everything but the digest. */
static void
statcache_line(const struct stat *st, char *buf, size_t n)
{
	snprintf(buf, n, "ca-stat v1 %llu %llu %lld %lld %lld ",
	    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	    (long long)st->st_size, ns(&st->st_mtim), ns(&st->st_ctim));
}

static char *
statcache_file(const char *dir, const struct stat *st)
{
	char *p = ca_xmalloc(strlen(dir) + 48);

	sprintf(p, "%s/%llx-%llx", dir, (unsigned long long)st->st_dev,
	    (unsigned long long)st->st_ino);
	return p;
}

int
ca_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    ns(&a->st_mtim) == ns(&b->st_mtim) &&
	    ns(&a->st_ctim) == ns(&b->st_ctim);
}

int
ca_statcache_get(const struct stat *st, char hex[65])
{
	char want[160], buf[256], *dir, *path;
	size_t k;
	ssize_t n;
	int fd;

	if (!S_ISREG(st->st_mode) || st->st_size < STATCACHE_MIN ||
	    (dir = ca_cache_dir("stat")) == NULL)
		return -1;
	path = statcache_file(dir, st);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	free(path);
	free(dir);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	statcache_line(st, want, sizeof(want));
	k = strlen(want);
	if (n != (ssize_t)(k + 65) || memcmp(buf, want, k) != 0 ||
	    buf[k + 64] != '\n' || strspn(buf + k, "0123456789abcdef") != 64)
		return -1;
	memcpy(hex, buf + k, 64);
	hex[64] = '\0';
	return 0;
}

void
ca_statcache_put(const struct stat *st, const char *hex,
    const struct timespec *read_at)
{
	char line[256], *dir, *tmp, *dst;
	size_t n;
	int fd, ok;

	/* Too fresh to trust: a later write could keep every field. */
	if (!S_ISREG(st->st_mode) || st->st_size < STATCACHE_MIN ||
	    ns(&st->st_ctim) > ns(read_at) - RACY_NS ||
	    ns(&st->st_mtim) > ns(read_at) - RACY_NS ||
	    (dir = ca_cache_dir("stat")) == NULL)
		return;
	/* A cache, not a record: failing to keep it is no error. */
	if (ca_mkdirs(dir, 0700) == -1) {
		free(dir);
		return;
	}
	tmp = ca_xmalloc(strlen(dir) + 16);
	sprintf(tmp, "%s/.tmp.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) != -1) {
		statcache_line(st, line, sizeof(line));
		n = strlen(line);
		snprintf(line + n, sizeof(line) - n, "%s\n", hex);
		n = strlen(line);
		ok = write(fd, line, n) == (ssize_t)n;
		if (close(fd) == -1)
			ok = 0;
		dst = statcache_file(dir, st);
		/* Whole or absent, whatever runs beside us. */
		if (!ok || rename(tmp, dst) == -1)
			unlink(tmp);
		free(dst);
	}
	free(tmp);
	free(dir);
}

/*
 * Does the regular file name in dirfd hold exactly these bytes?  The
 * stat cache spares reading a file that has not changed since a run
 * last did.
 */
int
ca_file_holds(int dirfd, const char *name, const struct stat *st,
    long long size, const char *hex)
{
	struct ca_sha256 c;
	struct timespec t0;
	struct stat st2, st3;
	char buf[65536], h[65];
	ssize_t n;
	int fd, same = 0;

	if (!S_ISREG(st->st_mode) || st->st_size != size)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st2) == 0 && st2.st_dev == st->st_dev &&
	    st2.st_ino == st->st_ino) {
		if (ca_statcache_get(&st2, h) == 0) {
			close(fd);
			return strcmp(h, hex) == 0;
		}
		clock_gettime(CLOCK_REALTIME, &t0);
		ca_sha256_init(&c);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			ca_sha256_update(&c, buf, (size_t)n);
		if (n == 0) {
			ca_sha256_final(&c, h);
			same = strcmp(h, hex) == 0;
			if (fstat(fd, &st3) == 0 && ca_stat_same(&st2, &st3))
				ca_statcache_put(&st2, h, &t0);
		} else
			ca_sha256_free(&c);
	}
	close(fd);
	return same;
}

int
ca_sha256_fd(int fd, long long size, char hex[65])
{
	static unsigned char buf[HASH_CHUNK];
	struct ca_sha256 s;
	long long off = 0;
	ssize_t r;
	size_t want;

	ca_sha256_init(&s);
	while (off < size) {
		want = size - off < HASH_CHUNK ? (size_t)(size - off) :
		    HASH_CHUNK;
		r = pread(fd, buf, want, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			ca_sha256_free(&s);
			return r == 0 ? -2 : -1;
		}
		ca_sha256_update(&s, buf, (size_t)r);
		off += r;
	}
	ca_sha256_final(&s, hex);
	return 0;
}
