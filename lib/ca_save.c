/*
 * ca_save.c: saving files under names that came from elsewhere.  A
 * server's name is never trusted: only a cleaned base name is used, the
 * bytes go to a temporary file created with O_EXCL|O_NOFOLLOW inside an
 * open directory, and the file appears under its final name only once
 * it is complete (ca_tmp_publish).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

#define NAME_MAX_BYTES	200		/* a saved name, at most */
#define EXT_MAX_BYTES	16		/* an extension worth keeping */

static const struct {
	const char *mime, *ext;
} mime_exts[] = {
	{ "application/json", ".json" },
	{ "application/pdf", ".pdf" },
	{ "application/vnd.ms-excel", ".xls" },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	    "presentation", ".pptx" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    ".xlsx" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	    "document", ".docx" },
	{ "application/zip", ".zip" },
	{ "image/gif", ".gif" },
	{ "image/jpeg", ".jpg" },
	{ "image/png", ".png" },
	{ "image/svg+xml", ".svg" },
	{ "image/webp", ".webp" },
	{ "text/csv", ".csv" },
	{ "text/html", ".html" },
	{ "text/markdown", ".md" },
	{ "text/plain", ".txt" },
};

/* A name made from the file id, for when the server's cannot be used. */
char *
ca_name_from_id(const char *id, const char *mime)
{
	const char *ext = "";
	char *out, *o;
	size_t i;

	for (i = 0; mime != NULL && i < sizeof(mime_exts) /
	    sizeof(mime_exts[0]); i++)
		if (strcmp(mime_exts[i].mime, mime) == 0)
			ext = mime_exts[i].ext;
	o = out = ca_xmalloc(strlen(id) + 32);
	if (strncmp(id, "file_", 5) != 0)
		o += sprintf(o, "file_");
	for (i = 0; i < 100 && id[i] != '\0'; i++)
		*o++ = (strchr("-_", id[i]) != NULL ||
		    (id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z')) ? id[i] : '_';
	strcpy(o, ext);
	return out;
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * The base name to save a server-named file under, or NULL if nothing
 * safe is left of it: only the last component, no control bytes or
 * invalid UTF-8, no leading dots (no dotfiles, no "." or ".."), bounded
 * length with the extension kept.
 */
char *
ca_name_clean(const char *fname)
{
	const unsigned char *p, *b;
	char *out, *ext;
	size_t n, k, extlen, stem;
	int blank = 1;

	if (fname == NULL)
		return NULL;
	for (b = p = (const unsigned char *)fname; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	while (*b == '.')
		b++;
	n = strlen((const char *)b);
	out = ca_xmalloc(n + 1);
	for (p = b, k = 0; *p != '\0'; ) {
		size_t l = ca_utf8_len(p, n - (size_t)(p - b));

		if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f ||
		    *p == ':')) || (l == 2 && *p == 0xc2 && p[1] < 0xa0)) {
			/* Controls, C1 included, and broken UTF-8. */
			out[k++] = '_';
			p++;
			continue;
		}
		if (*p != ' ')
			blank = 0;
		memcpy(out + k, p, l);
		k += l;
		p += l;
	}
	out[k] = '\0';
	if (k == 0 || blank) {
		free(out);
		return NULL;
	}
	if (out[0] == '-')
		out[0] = '_';	/* "rm *" in the directory must not see -rf */
	if (k > NAME_MAX_BYTES) {
		ext = strrchr(out, '.');
		extlen = ext != NULL ? strlen(ext) : 0;
		if (ext == NULL || ext == out || extlen > EXT_MAX_BYTES)
			extlen = 0;
		stem = utf8_cut(out, k - extlen, NAME_MAX_BYTES - extlen);
		memmove(out + stem, out + k - extlen, extlen + 1);
	}
	return out;
}

/*
 * A name not yet given out in this run: generated files in different
 * directories of the container (outputs/a/chart.png, outputs/b/
 * chart.png) reach us with the same base name, and the second must not
 * replace the first.  It becomes chart-2.png (chart-3.png, ...), the
 * same on every run over the same input.  Takes name; returns the one
 * to use.
 */
char *
ca_name_unique(struct ca_strset *given, char *name)
{
	const char *ext = strrchr(name, '.');
	size_t stem = ext != NULL && ext != name ? (size_t)(ext - name) :
	    strlen(name);
	char *n = name;
	long i;

	for (i = 2; ca_strset_add(given, n); i++) {
		if (n != name)
			free(n);
		n = ca_xmalloc(strlen(name) + 24);
		sprintf(n, "%.*s-%ld%s", (int)stem, name, i, name + stem);
	}
	if (n != name)
		free(name);
	return n;
}

/*
 * The temporary file being written, for the signal
 * handler: it may only look at these.
 */
static volatile sig_atomic_t tmp_live;
static int tmp_dirfd = -1;
static char tmp_name[32];

static void
on_signal(int sig)
{
	if (tmp_live)
		unlinkat(tmp_dirfd, tmp_name, 0);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Clean up on the signals a user or a job runner sends, unless ignored. */
void
ca_tmp_catch(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
	/*
	 * Past a file size limit (ulimit -f) write(2) then fails with
	 * EFBIG, which is reported and cleaned up like any write error,
	 * instead of SIGXFSZ killing us with the temporary left behind.
	 */
	signal(SIGXFSZ, SIG_IGN);
}

static void
tmp_newname(const char *prefix)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long ctr;
	unsigned char r[12];
	unsigned long x;
	size_t n;
	int fd, i, ok = 0;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		ok = read(fd, r, sizeof(r)) == (ssize_t)sizeof(r);
		close(fd);
	}
	if (!ok) {
		x = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16)
		    ^ ++ctr * 2654435761UL;
		for (i = 0; i < (int)sizeof(r); i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			r[i] = (unsigned char)(x >> 33);
		}
	}
	n = strlen(prefix);
	if (n > sizeof(tmp_name) - sizeof(r) - 1)
		n = sizeof(tmp_name) - sizeof(r) - 1;
	memcpy(tmp_name, prefix, n);
	for (i = 0; i < (int)sizeof(r); i++)
		tmp_name[n + (size_t)i] = chars[r[i] % (sizeof(chars) - 1)];
	tmp_name[n + sizeof(r)] = '\0';
}

/*
 * Create the temporary file in dirfd.  O_EXCL|O_NOFOLLOW: a name
 * planted there, symbolic link or not, makes us pick another one.
 * tmp_live is set first, so a signal from here on removes it.
 */
int
ca_tmp_open(int dirfd, const char *prefix)
{
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		tmp_newname(prefix);
		tmp_dirfd = dirfd;
		tmp_live = 1;
		fd = openat(dirfd, tmp_name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			return fd;
		tmp_live = 0;
		if (errno != EEXIST)
			break;
	}
	return -1;
}

void
ca_tmp_remove(void)
{
	if (tmp_live)
		unlinkat(tmp_dirfd, tmp_name, 0);
	tmp_live = 0;
}

int
ca_tmp_publish(int dirfd, const char *name, int replace)
{
	if (replace) {
		if (renameat(dirfd, tmp_name, dirfd, name) == -1)
			return -1;
	} else if (linkat(dirfd, tmp_name, dirfd, name, 0) == 0)
		ca_tmp_remove();
	else if ((errno == EPERM || errno == ENOTSUP || errno == ENOSYS ||
	    errno == EMLINK) && renameat(dirfd, tmp_name, dirfd, name) == 0)
		;	/* no hard links here: a plain rename will do */
	else
		return -1;
	tmp_live = 0;
	/* The new name must survive a crash too. */
	fsync(dirfd);
	return 0;
}
