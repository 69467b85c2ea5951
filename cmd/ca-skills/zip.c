/*
 * zip.c: a zip of a skill's directory, checked before it is sent as
 * the directory would be: from the central directory, every entry
 * under one top-level directory named like the skill, no absolute or
 * ".." paths, no links or special files, the size limit on the
 * uncompressed total; and SKILL.md, inflated, through the same
 * frontmatter rules.  The zip goes as one part; its digest is of its
 * bytes.  Only the plain format is read: zip64 and archives split
 * over disks are refused, not guessed at.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ca-skills.h"

#define EOCD_MIN	22
#define EOCD_MAX	(EOCD_MIN + 65535)	/* with the longest comment */
#define CD_MAX		(16L << 20)	/* a central directory read whole */
#define CDH_LEN		46
#define LFH_LEN		30
#define MD_MAX		65536		/* what is read of SKILL.md */
#define HOST_UNIX	3

struct zr {
	int		 fd;
	char		*why;
	size_t		 whylen;
};

static int CA_PRINTF(2, 3)
zrefuse(struct zr *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->why, z->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static unsigned
le16(const unsigned char *p)
{
	return p[0] | (unsigned)p[1] << 8;
}

static unsigned long
le32(const unsigned char *p)
{
	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	    (unsigned long)p[3] << 24;
}

static int
readat(struct zr *z, void *buf, size_t n, off_t off)
{
	ssize_t got;
	size_t done = 0;

	while (done < n) {
		got = pread(z->fd, (char *)buf + done, n - done,
		    off + (off_t)done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return zrefuse(z, "%s", strerror(errno));
		if (got == 0)
			return zrefuse(z, "not a zip file: cut short");
		done += (size_t)got;
	}
	return 0;
}

/* The central directory, read whole: its offset, size and count. */
static unsigned char *
read_cd(struct zr *z, off_t size, size_t *cdlen, unsigned *count)
{
	size_t n = size < EOCD_MAX ? (size_t)size : EOCD_MAX, i;
	unsigned char *tail, *e = NULL, *cd;
	unsigned long off, len;

	if (size < EOCD_MIN) {
		zrefuse(z, "not a zip file: too short");
		return NULL;
	}
	tail = ca_xmalloc(n);
	if (readat(z, tail, n, size - (off_t)n) == -1)
		goto bad;
	for (i = n - EOCD_MIN + 1; i-- > 0; )
		if (le32(tail + i) == 0x06054b50UL) {
			e = tail + i;
			break;
		}
	if (e == NULL) {
		zrefuse(z, "not a zip file: no end of central directory");
		goto bad;
	}
	if ((e - tail >= 20 && le32(e - 20) == 0x07064b50UL) ||
	    le16(e + 10) == 0xffff || le32(e + 12) == 0xffffffffUL ||
	    le32(e + 16) == 0xffffffffUL) {
		zrefuse(z, "a zip64 archive: not supported");
		goto bad;
	}
	if (le16(e + 4) != 0 || le16(e + 6) != 0 ||
	    le16(e + 8) != le16(e + 10)) {
		zrefuse(z, "a zip archive split over disks: not supported");
		goto bad;
	}
	*count = le16(e + 10);
	len = le32(e + 12);
	off = le32(e + 16);
	free(tail);
	if (len > CD_MAX || (off_t)(off + len) > size) {
		zrefuse(z, "not a zip file: a bad central directory");
		return NULL;
	}
	cd = ca_xmalloc(len + 1);
	if (readat(z, cd, len, (off_t)off) == -1) {
		free(cd);
		return NULL;
	}
	*cdlen = len;
	return cd;
bad:
	free(tail);
	return NULL;
}

/* An entry's name: under one top-level directory, no "..", no '\'. */
static int
check_name(struct zr *z, const char *name, char **top)
{
	const char *p, *c;
	size_t n;

	if (*name == '/' || strchr(name, '\\') != NULL || !skname_ok(name))
		return zrefuse(z, "%.200s: an absolute path, or a name with a "
		    "backslash, control character or '\"'", name);
	for (c = name; *c != '\0'; c = *p != '\0' ? p + 1 : p) {
		p = c + strcspn(c, "/");
		if ((p - c == 2 && strncmp(c, "..", 2) == 0) ||
		    (p - c == 1 && *c == '.') || (p == c && *p == '/'))
			return zrefuse(z, "%.200s: a path with a \"..\", \".\" "
			    "or empty component", name);
	}
	if ((p = strchr(name, '/')) == NULL)
		return zrefuse(z, "%.200s: not in the zip's one top-level "
		    "directory", name);
	n = (size_t)(p - name);
	if (*top == NULL) {
		*top = ca_xmalloc(n + 1);
		memcpy(*top, name, n);
		(*top)[n] = '\0';
	} else if (strlen(*top) != n || strncmp(*top, name, n) != 0)
		return zrefuse(z, "%.200s: a second top-level directory "
		    "(all files must be under \"%s\")", name, *top);
	return 0;
}

/* A link or a special file, from a Unix host's mode bits. */
static int
check_mode(struct zr *z, const unsigned char *h, const char *name)
{
	unsigned long mode = le32(h + 38) >> 16;

	if ((le16(h + 4) >> 8) != HOST_UNIX || (mode & S_IFMT) == 0)
		return 0;
	if (S_ISLNK(mode))
		return zrefuse(z, "%.200s: a symbolic link", name);
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return zrefuse(z, "%.200s: a special file (FIFO, socket or "
		    "device)", name);
	return 0;
}

/* Up to MD_MAX - 1 bytes of an entry, stored or deflated, in buf. */
static int
read_entry(struct zr *z, const unsigned char *h, char *buf)
{
	unsigned char lfh[LFH_LEN], in[16384];
	unsigned long csize = le32(h + 20), left;
	off_t off = (off_t)le32(h + 42);
	unsigned method = le16(h + 10);
	z_stream s;
	size_t n;
	int zr = Z_OK;

	if (le16(h + 8) & 1)
		return zrefuse(z, "SKILL.md: encrypted");
	if (readat(z, lfh, LFH_LEN, off) == -1)
		return -1;
	if (le32(lfh) != 0x04034b50UL)
		return zrefuse(z, "SKILL.md: no local header where the central "
		    "directory says");
	off += LFH_LEN + le16(lfh + 26) + le16(lfh + 28);
	if (method == 0) {
		n = csize < MD_MAX - 1 ? csize : MD_MAX - 1;
		if (readat(z, buf, n, off) == -1)
			return -1;
		buf[n] = '\0';
		return 0;
	}
	if (method != 8)
		return zrefuse(z, "SKILL.md: compression method %u (only "
		    "stored or deflated are read)", method);
	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, -15) != Z_OK)
		return zrefuse(z, "SKILL.md: inflate: out of memory");
	s.next_out = (Bytef *)buf;
	s.avail_out = MD_MAX - 1;
	for (left = csize; zr == Z_OK && s.avail_out > 0 && left > 0; ) {
		n = left < sizeof(in) ? left : sizeof(in);
		if (readat(z, in, n, off) == -1) {
			inflateEnd(&s);
			return -1;
		}
		off += (off_t)n;
		left -= n;
		s.next_in = in;
		s.avail_in = (uInt)n;
		while (zr == Z_OK && s.avail_in > 0 && s.avail_out > 0)
			zr = inflate(&s, Z_NO_FLUSH);
	}
	buf[MD_MAX - 1 - s.avail_out] = '\0';
	inflateEnd(&s);
	if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
		return zrefuse(z, "SKILL.md: bad deflate data");
	return 0;
}

/* Every entry checked; SKILL.md's text in md; *top set. */
static int
check_entries(struct zr *z, const unsigned char *cd, size_t len,
    unsigned count, char *md, char **top, long long *total)
{
	const unsigned char *h = cd, *mdh = NULL;
	char *name, *want;
	unsigned i, nl;
	int rc = 0;

	for (i = 0; rc == 0 && i < count; i++) {
		if ((size_t)(h - cd) + CDH_LEN > len ||
		    le32(h) != 0x02014b50UL || (size_t)(h - cd) + CDH_LEN +
		    le16(h + 28) + le16(h + 30) + le16(h + 32) > len)
			return zrefuse(z, "not a zip file: a bad central "
			    "directory entry");
		nl = le16(h + 28);
		name = ca_xmalloc(nl + 1);
		memcpy(name, h + CDH_LEN, nl);
		name[nl] = '\0';
		if (strlen(name) != nl)
			rc = zrefuse(z, "%.200s: a name with a NUL", name);
		else if ((rc = check_name(z, name, top)) == 0 &&
		    (rc = check_mode(z, h, name)) == 0) {
			*total += (long long)le32(h + 24);
			want = ca_xmalloc(strlen(*top) + 10);
			sprintf(want, "%s/SKILL.md", *top);
			if (strcmp(name, want) == 0)
				mdh = h;
			free(want);
		}
		free(name);
		h += CDH_LEN + le16(h + 28) + le16(h + 30) + le16(h + 32);
	}
	if (rc != 0)
		return rc;
	if (*top == NULL)
		return zrefuse(z, "an empty zip");
	if (*total > SKILL_MAX)
		return zrefuse(z, "%lld bytes in all, uncompressed, over the "
		    "limit of %lld bytes", *total, SKILL_MAX);
	if (mdh == NULL)
		return zrefuse(z, "%s/SKILL.md: no such file at the top of the "
		    "directory", *top);
	return read_entry(z, mdh, md);
}

int
skzip_load(const char *zip, struct skdir *d, char *why, size_t whylen)
{
	struct zr z = { -1, why, whylen };
	unsigned char *cd = NULL;
	char *md = ca_xmalloc(MD_MAX), *top = NULL, *name = NULL;
	const char *base;
	struct stat st;
	long long total = 0;
	unsigned count;
	size_t len;
	int rc = -1, hr;

	memset(d, 0, sizeof(*d));
	d->dir = ca_xstrdup(zip);
	d->zip = 1;
	if ((z.fd = open(zip, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(z.fd, &st) == -1) {
		zrefuse(&z, "%s", strerror(errno));
		goto out;
	}
	base = strrchr(zip, '/') != NULL ? strrchr(zip, '/') + 1 : zip;
	if (!skname_ok(base)) {
		zrefuse(&z, "a file name with a control character, '\"' or "
		    "'\\'");
		goto out;
	}
	if ((cd = read_cd(&z, st.st_size, &len, &count)) == NULL ||
	    check_entries(&z, cd, len, count, md, &top, &total) == -1 ||
	    skill_md_check(md, top, &name, why, whylen) == -1)
		goto out;
	if ((hr = ca_sha256_fd(z.fd, (long long)st.st_size, d->digest)) != 0) {
		zrefuse(&z, "%s", hr == -2 ? "changed while it was read" :
		    strerror(errno));
		goto out;
	}
	d->top = top;
	top = NULL;
	d->name = name;
	name = NULL;
	skdir_add(d, base, zip, (long long)st.st_size);
	rc = 0;
out:
	if (z.fd != -1)
		close(z.fd);
	free(cd);
	free(md);
	free(top);
	free(name);
	return rc;
}
