/*
 * check.c: a skill's directory, checked as the API checks an upload,
 * before anything is sent: SKILL.md at the top with a name and a
 * description within the rules, the directory named like the skill,
 * the size limit; and what a directory of files cannot be sent as:
 * links leaving it, special files, names a part header cannot carry.
 * Then the content digest the cache is keyed by.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-skills.h"

#define DEPTH_MAX	64
#define MD_MAX		65536		/* what is read of SKILL.md */

struct walk {
	struct skdir	*d;
	char		*root;		/* realpath of the directory */
	char		*why;
	size_t		 whylen;
};

static int CA_PRINTF(2, 3)
refuse(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

void
skdir_add(struct skdir *d, const char *rel, const char *path, long long size)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 32;
		d->f = ca_xrealloc(d->f, d->cap * sizeof(*d->f));
	}
	d->f[d->n].rel = ca_xstrdup(rel);
	d->f[d->n].path = ca_xstrdup(path);
	d->f[d->n].size = size;
	d->n++;
	d->total += size;
}

/* A name a Content-Disposition filename carries as it is. */
int
skname_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' ||
		    *s == '\\')
			return 0;
	return 1;
}

/* A symbolic link: followed only to a regular file inside the tree. */
static int
take_link(struct walk *w, const char *rel, const char *path)
{
	char *real = realpath(path, NULL);
	size_t n = strlen(w->root);
	struct stat st;
	int rc = 0;

	if (real == NULL || strncmp(real, w->root, n) != 0 ||
	    real[n] != '/')
		rc = refuse(w, "%s: a symbolic link leading out of the "
		    "directory", rel);
	else if (stat(real, &st) == -1 || !S_ISREG(st.st_mode))
		rc = refuse(w, "%s: a symbolic link to something other than "
		    "a regular file", rel);
	else
		skdir_add(w->d, rel, real, (long long)st.st_size);
	free(real);
	return rc;
}

static int
walk(struct walk *w, const char *path, const char *rel, int depth)
{
	DIR *dp;
	struct dirent *de;
	struct stat st;
	char *p, *r;
	int rc = 0;

	if (depth > DEPTH_MAX)
		return refuse(w, "%s: nested more than %d deep", rel, DEPTH_MAX);
	if ((dp = opendir(path)) == NULL)
		return refuse(w, "%s: %s", *rel ? rel : ".", strerror(errno));
	while (rc == 0 && (errno = 0, de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = ca_xmalloc(strlen(path) + strlen(de->d_name) + 2);
		sprintf(p, "%s/%s", path, de->d_name);
		r = ca_xmalloc(strlen(rel) + strlen(de->d_name) + 2);
		sprintf(r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (!skname_ok(de->d_name))
			rc = refuse(w, "%s: a file name with a control "
			    "character, '\"' or '\\'", r);
		else if (lstat(p, &st) == -1)
			rc = refuse(w, "%s: %s", r, strerror(errno));
		else if (S_ISDIR(st.st_mode)) {
			/* Made by running the code, or by git: not content. */
			if (strcmp(de->d_name, "__pycache__") != 0 &&
			    strcmp(de->d_name, ".git") != 0)
				rc = walk(w, p, r, depth + 1);
		} else if (S_ISLNK(st.st_mode))
			rc = take_link(w, r, p);
		else if (S_ISREG(st.st_mode))
			skdir_add(w->d, r, p, (long long)st.st_size);
		else
			rc = refuse(w, "%s: a special file (FIFO, socket or "
			    "device)", r);
		free(p);
		free(r);
	}
	if (rc == 0 && errno != 0)
		rc = refuse(w, "%s: %s", *rel ? rel : ".", strerror(errno));
	closedir(dp);
	return rc;
}

/* The value of a frontmatter key: plain, quoted, or folded (> or |). */
static char *
fm_value(char **lines, size_t n, size_t i, const char *v)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	size_t k;
	char *s;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v != '\0' && *v != '>' && *v != '|') {
		s = ca_xstrdup(v);
		k = strlen(s);
		while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\r'))
			s[--k] = '\0';
		if (k >= 2 && (s[0] == '"' || s[0] == '\'') &&
		    s[k - 1] == s[0]) {
			memmove(s, s + 1, k - 2);
			s[k - 2] = '\0';
		}
		return s;
	}
	/* A block: the indented lines that follow, joined by spaces. */
	for (k = i + 1; k < n && (lines[k][0] == ' ' || lines[k][0] == '\t');
	    k++) {
		const char *t = lines[k] + strspn(lines[k], " \t");

		if (b.len > 0)
			ca_buf_addstr(&b, " ");
		ca_buf_add(&b, t, strcspn(t, "\r"));
	}
	if (b.p == NULL)
		ca_buf_addstr(&b, "");
	return b.p;
}

/* name and description from SKILL.md's frontmatter; -1 refused. */
static int
frontmatter(struct walk *w, char *text, char **name, char **desc)
{
	char *lines[512], *p, *save = NULL;
	size_t n = 0, i;

	for (p = strtok_r(text, "\n", &save); p != NULL && n < 512;
	    p = strtok_r(NULL, "\n", &save))
		lines[n++] = p;
	if (n == 0 || strncmp(lines[0], "---", 3) != 0 ||
	    lines[0][3 + strspn(lines[0] + 3, " \r")] != '\0')
		return refuse(w, "SKILL.md: does not start with YAML "
		    "frontmatter (a --- line)");
	for (i = 1; i < n; i++) {
		if (strncmp(lines[i], "---", 3) == 0)
			return 0;
		if (strncmp(lines[i], "name:", 5) == 0 && *name == NULL)
			*name = fm_value(lines, n, i, lines[i] + 5);
		else if (strncmp(lines[i], "description:", 12) == 0 &&
		    *desc == NULL)
			*desc = fm_value(lines, n, i, lines[i] + 12);
	}
	return refuse(w, "SKILL.md: the frontmatter has no closing --- line");
}

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* The rules the API gives SKILL.md's name and description. */
static int
check_meta(struct walk *w, const char *name, const char *desc)
{
	const char *lt;

	if (name == NULL || *name == '\0')
		return refuse(w, "SKILL.md: the frontmatter has no name");
	if (!ca_skill_name_ok(name))
		return refuse(w, "SKILL.md: name \"%.80s\": at most 64 "
		    "lowercase letters, digits and hyphens", name);
	if (strstr(name, "anthropic") != NULL || strstr(name, "claude") != NULL)
		return refuse(w, "SKILL.md: name \"%s\" holds a reserved word "
		    "(anthropic, claude)", name);
	if (desc == NULL || *desc == '\0')
		return refuse(w, "SKILL.md: the frontmatter has no "
		    "description");
	if (utf8_chars(desc) > 1024)
		return refuse(w, "SKILL.md: the description is longer than "
		    "1024 characters");
	if ((lt = strchr(desc, '<')) != NULL && strchr(lt, '>') != NULL)
		return refuse(w, "SKILL.md: the description holds an XML tag");
	return 0;
}

/* The directory's name must be the skill's, case and '_' aside. */
static int
same_name(const char *top, const char *name)
{
	for (; *top != '\0' && *name != '\0'; top++, name++) {
		int c = *top >= 'A' && *top <= 'Z' ? *top - 'A' + 'a' : *top;

		if (c == '_')
			c = '-';
		if (c != *name)
			return 0;
	}
	return *top == *name;
}

/*
 * SKILL.md's text (NUL-terminated, changed here) checked against the
 * rules, and top, the directory holding it, named like the skill.
 */
int
skill_md_check(char *text, const char *top, char **name, char *why,
    size_t whylen)
{
	struct walk w = { NULL, NULL, why, whylen };
	char *desc = NULL;
	int rc = -1;

	*name = NULL;
	if (frontmatter(&w, text, name, &desc) == -1 ||
	    check_meta(&w, *name, desc) == -1)
		goto out;
	if (!same_name(top, *name)) {
		refuse(&w, "the directory \"%s\" is not named like the skill "
		    "(SKILL.md's name \"%s\")", top, *name);
		goto out;
	}
	rc = 0;
out:
	free(desc);
	if (rc != 0) {
		free(*name);
		*name = NULL;
	}
	return rc;
}

static int
read_md(struct walk *w, char *buf, size_t n)
{
	char *p = ca_xmalloc(strlen(w->root) + 10);
	struct stat st;
	ssize_t got;
	int fd;

	sprintf(p, "%s/SKILL.md", w->root);
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	free(p);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fd != -1)
			close(fd);
		return refuse(w, "SKILL.md: no such regular file at the top "
		    "of the directory");
	}
	got = read(fd, buf, n - 1);
	close(fd);
	if (got < 0)
		return refuse(w, "SKILL.md: %s", strerror(errno));
	buf[got] = '\0';
	return 0;
}

static int
cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct skfile *)a)->rel,
	    ((const struct skfile *)b)->rel);
}

/* Of the sorted names and their bytes' digests: order-independent. */
static int
digest(struct walk *w)
{
	struct skdir *d = w->d;
	struct ca_sha256 s;
	char hex[65];
	size_t i;
	int fd, rc;

	qsort(d->f, d->n, sizeof(*d->f), cmp_rel);
	ca_sha256_init(&s);
	ca_sha256_update(&s, "ca-skill v1", 12);
	for (i = 0; i < d->n; i++) {
		if ((fd = open(d->f[i].path, O_RDONLY | O_CLOEXEC)) == -1) {
			ca_sha256_free(&s);
			return refuse(w, "%s: %s", d->f[i].rel,
			    strerror(errno));
		}
		rc = ca_sha256_fd(fd, d->f[i].size, hex);
		close(fd);
		if (rc != 0) {
			ca_sha256_free(&s);
			return refuse(w, "%s: %s", d->f[i].rel, rc == -2 ?
			    "changed while it was read" : strerror(errno));
		}
		ca_sha256_update(&s, d->f[i].rel, strlen(d->f[i].rel) + 1);
		ca_sha256_update(&s, hex, 65);
	}
	ca_sha256_final(&s, d->digest);
	return 0;
}

int
skdir_load(const char *dir, struct skdir *d, char *why, size_t whylen)
{
	struct walk w = { d, NULL, why, whylen };
	char *md = ca_xmalloc(MD_MAX), *name = NULL, *slash;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	d->dir = ca_xstrdup(dir);
	if ((w.root = realpath(dir, NULL)) == NULL) {
		refuse(&w, "%s", strerror(errno));
		goto out;
	}
	slash = strrchr(w.root, '/');
	d->top = ca_xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1 :
	    w.root);
	if (read_md(&w, md, MD_MAX) == -1 ||
	    skill_md_check(md, d->top, &name, why, whylen) == -1)
		goto out;
	if (!skname_ok(d->top) || walk(&w, w.root, "", 0) == -1)
		goto out;
	if (d->total > SKILL_MAX) {
		refuse(&w, "%lld bytes in all, over the limit of %lld bytes",
		    d->total, SKILL_MAX);
		goto out;
	}
	if (digest(&w) == -1)
		goto out;
	d->name = name;
	name = NULL;
	rc = 0;
out:
	free(name);
	free(md);
	free(w.root);
	return rc;
}

void
skdir_free(struct skdir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->f[i].rel);
		free(d->f[i].path);
	}
	free(d->f);
	free(d->dir);
	free(d->top);
	free(d->name);
	memset(d, 0, sizeof(*d));
}
