/*
 * html.c: the HTML back end, a report in one file.  Untrusted text is
 * escaped for HTML after clean(); the page's Content-Security-Policy
 * allows no script and no fetch.  Images are embedded as data: URIs,
 * but only regular files inside the directory -d names (emb_file), of
 * the type their bytes prove; anything else is linked, with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca-render.h"

static int intext;			/* inside a text div */

static void
html_esc(const char *s, size_t n)
{
	size_t i, run = 0;
	const char *e;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			continue;
		}
		render_out(s + run, i - run);
		render_outs(e);
		run = i + 1;
	}
	render_out(s + run, n - run);
}

static void html_text_end(void);

static void
html_start(void)
{
	render_outs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>ca session report</title>\n<style>\n"
	    "body{font:15px/1.45 system-ui,sans-serif;max-width:62rem;"
	    "margin:1rem auto;padding:0 1rem;color:#1b1b1b;background:#fff}\n"
	    "h2{border-bottom:2px solid #ccd;padding-bottom:.2rem;"
	    "margin-top:2.2rem}\n"
	    "h3{color:#445;font-size:1rem}\n"
	    ".text{white-space:pre-wrap;margin:.7rem 0}\n"
	    ".blk{margin:.5rem 0;border-left:3px solid #99a;padding-left:.6rem}"
	    "\n.blk .label{font-size:.8rem;color:#556;font-weight:600}\n"
	    ".blk.code,.blk.diff,.blk.input{border-color:#2a7ab0}\n"
	    ".blk.stderr{border-color:#c33}.blk.stderr .label{color:#c33}\n"
	    ".blk.prompt{border-color:#7a5;background:#f4f8f0}\n"
	    "pre{margin:.2rem 0;white-space:pre-wrap;word-break:break-word;"
	    "font:13px/1.35 ui-monospace,monospace}\n"
	    ".note{margin:.3rem 0;color:#333}\n.note.dim{color:#777;"
	    "font-size:.85rem}\n.note.err{color:#b00}\n.note.warn{color:#a60}\n"
	    ".note.call{color:#2a7ab0}\n.note.ok{color:#280}\n"
	    "code{font:13px ui-monospace,monospace;background:#f2f2f5;"
	    "padding:0 .2rem}\n"
	    "pre code{background:none;padding:0}\n"
	    "figure{margin:.6rem 0}img{max-width:100%;border:1px solid #ddd}\n"
	    "figcaption{font-size:.8rem;color:#556}\n"
	    "</style>\n</head>\n<body>\n<h1>ca session report</h1>\n");
}

static void
html_finish(void)
{
	html_text_end();
	render_outs("</body>\n</html>\n");
}

static void
html_clean(const char *s, size_t n, int oneline)
{
	clean(s, n, oneline, html_esc);
}

static void
html_heading(int level, const char *lit, const char *val)
{
	html_text_end();
	render_outf("<h%d>", level);
	html_esc(lit, strlen(lit));
	if (val != NULL) {
		render_outs("<code>");
		html_clean(val, strlen(val), 1);
		render_outs("</code>");
	}
	render_outf("</h%d>\n", level);
}

static void
html_text(const char *s, size_t n)
{
	if (!intext)
		render_outs("<div class=\"text\">");
	intext = 1;
	html_clean(s, n, 0);
}

static void
html_text_end(void)
{
	if (intext)
		render_outs("</div>\n");
	intext = 0;
}

static void
html_line(enum tone t)
{
	static const char *cls[] = {
		"", " dim", " head", " call", " ok", " warn", " err"
	};

	html_text_end();
	render_outf("<p class=\"note%s\">", cls[t]);
}

static void
html_lit(const char *s)
{
	html_esc(s, strlen(s));
}

static void
html_val(const char *s)
{
	html_clean(s, strlen(s), 1);
}

static void
html_code(const char *s)
{
	render_outs("<code>");
	html_clean(s, strlen(s), 1);
	render_outs("</code>");
}

static void
html_eol(void)
{
	render_outs("</p>\n");
}

static void
html_block(enum bk k, const char *label, const char *lang, const char *s,
    size_t n)
{
	static const char *cls[] = {
		"prompt", "code", "input", "stdout", "stderr", "content", "diff"
	};

	html_text_end();
	render_outf("<div class=\"blk %s\"><div class=\"label\">", cls[k]);
	html_esc(label, strlen(label));
	render_outs("</div><pre><code");
	if (lang != NULL)
		render_outf(" class=\"language-%s\"", lang);
	render_outs(">");
	html_clean(s, n, 0);
	render_outs("</code></pre></div>\n");
}

static void
b64(const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char o[4 * 1024];
	size_t i, k = 0;

	for (i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		o[k++] = tab[v >> 18 & 63];
		o[k++] = tab[v >> 12 & 63];
		o[k++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		o[k++] = i + 2 < n ? tab[v & 63] : '=';
		if (k == sizeof(o)) {
			render_out(o, k);
			k = 0;
		}
	}
	render_out(o, k);
}

/* Read up to n bytes, retrying short reads; -1 on error. */
static ssize_t
readfull(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void
html_note(const char *why, const struct finfo *fi)
{
	html_text_end();
	render_outs("<p class=\"note warn\">");
	html_esc(why, strlen(why));
	render_outs(": <a href=\"");
	pct_path(fi->path);
	render_outs("\">");
	html_clean(fi->path, strlen(fi->path), 1);
	render_outs("</a></p>\n");
}

/*
 * -d: the one directory whose files a report may embed.  A record may
 * name any path ("../", "/home/u/.ssh/id_ed25519", a symbolic link out),
 * and a report is made to be shared.
 */
static struct {
	const char	*dir;		/* as given */
	int		 fd;		/* -1: not opened (yet) */
	int		 err;		/* why it could not be */
	char		*real;		/* its canonical absolute name */
	char		*lex;		/* the name the shell knows it by */
	char		*cwd;		/* the current directory, both ways */
	char		*pwd;
} emb = { ".", -1, 0, NULL, NULL, NULL, NULL };

/*
 * Absolute a joined with b (NULL: none), without empty or "."
 * components, so that prefixes compare as names; "/" becomes "".
 * ".." stays, to be refused on the way down.
 */
static char *
emb_norm(const char *a, const char *b)
{
	const char *part[2], *p, *e;
	char *s = ca_xmalloc(strlen(a) + (b != NULL ? strlen(b) : 0) + 2);
	size_t n, o = 0;
	int i;

	part[0] = a;
	part[1] = b;
	for (i = 0; i < 2 && part[i] != NULL; i++)
		for (p = part[i]; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
			e = strchr(p, '/');
			e = e != NULL ? e : p + strlen(p);
			n = (size_t)(e - p);
			if (n == 0 || (n == 1 && *p == '.'))
				continue;
			s[o++] = '/';
			memcpy(s + o, p, n);
			o += n;
		}
	s[o] = '\0';
	return s;
}

static int
emb_open(void)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;
	char *r;

	if (emb.fd != -1 || emb.err != 0)
		return emb.fd;
	if ((emb.fd = open(emb.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		emb.err = errno;
		return -1;
	}
	if ((r = realpath(emb.dir, NULL)) != NULL) {
		emb.real = emb_norm(r, NULL);
		free(r);
	}
	if ((r = realpath(".", NULL)) != NULL) {
		emb.cwd = emb_norm(r, NULL);
		free(r);
	}
	/* Records carry names as ca-fetch was given them: maybe $PWD/... */
	if (pwd != NULL && pwd[0] == '/' && stat(pwd, &a) == 0 &&
	    stat(".", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		emb.pwd = emb_norm(pwd, NULL);
	if (emb.dir[0] == '/')
		emb.lex = emb_norm(emb.dir, NULL);
	else if (emb.pwd != NULL)
		emb.lex = emb_norm(emb.pwd, emb.dir);
	return emb.fd;
}

void
emb_close(void)
{
	if (emb.fd != -1)
		close(emb.fd);
	free(emb.real);
	free(emb.lex);
	free(emb.cwd);
	free(emb.pwd);
	emb.fd = -1;
	emb.err = 0;
	emb.real = emb.lex = emb.cwd = emb.pwd = NULL;
}

/* -d: embed from dir from now on; -1, with errno set, if it won't open. */
int
emb_dir(const char *dir)
{
	emb_close();
	emb.dir = dir;
	if (emb_open() == -1) {
		errno = emb.err;
		return -1;
	}
	return 0;
}

/* The rest of path (normalized) under root, or NULL. */
static const char *
emb_under(const char *path, const char *root)
{
	size_t n;

	if (root == NULL)
		return NULL;
	n = strlen(root);
	return strncmp(path, root, n) == 0 && path[n] == '/' ? path + n + 1 :
	    NULL;
}

/*
 * path relative to the directory, or NULL if it does not lie under it.
 * A relative path is taken from the current directory, as ca-fetch
 * wrote it.
 */
static char *
emb_rel(const char *path)
{
	const char *base[2], *r;
	char *full, *rel = NULL;
	int i;

	base[0] = path[0] == '/' ? "/" : emb.cwd;
	base[1] = path[0] == '/' ? NULL : emb.pwd;
	for (i = 0; i < 2 && rel == NULL; i++) {
		if (base[i] == NULL)
			continue;
		full = emb_norm(base[i], path);
		if ((r = emb_under(full, emb.real)) != NULL ||
		    (r = emb_under(full, emb.lex)) != NULL)
			rel = ca_xstrdup(r);
		free(full);
	}
	return rel;
}

/* Why component name of dir could not be opened. */
static const char *
emb_why(int dir, const char *name, int last)
{
	int saved = errno;
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return last ? "a symbolic link; not embedded" :
		    "a symbolic link in its path; not embedded";
	return strerror(saved);
}

/* Close fd unless it is the directory itself; return next. */
static int
emb_next(int dir, int fd, int next)
{
	if (fd != dir)
		close(fd);
	return next;
}

/* One step down, from fd into the directory name; -1 with why. */
static int
emb_descend(int dir, int fd, const char *name, const char **why)
{
	int sub;

	if (strcmp(name, "..") == 0) {
		*why = "a .. in its path; not embedded";
		return emb_next(dir, fd, -1);
	}
	if (*name == '\0' || strcmp(name, ".") == 0)
		return fd;
	sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (sub == -1)
		*why = emb_why(fd, name, 0);
	return emb_next(dir, fd, sub);
}

/* The last step: the regular file name in fd, or -1 with why. */
static int
emb_leaf(int dir, int fd, const char *name, const char **why)
{
	struct stat st;
	int f = -1;

	/* Look before opening: opening a device or a FIFO may act. */
	if (strcmp(name, "..") == 0)
		*why = "a .. in its path; not embedded";
	else if (*name == '\0' || strcmp(name, ".") == 0)
		*why = "not a regular file; not embedded";
	else if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		*why = strerror(errno);
	else if (S_ISLNK(st.st_mode))
		*why = "a symbolic link; not embedded";
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file; not embedded";
	else if ((f = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1)
		*why = emb_why(fd, name, 1);
	return emb_next(dir, fd, f);
}

/*
 * Open path for embedding only if it lies inside the directory: relative
 * to it, or absolute under it.  It is opened one component at a time
 * with O_NOFOLLOW from the directory, so that no "..", no symbolic link
 * and no rename of a parent leads out; only a regular file is opened.
 * -1, with why set, otherwise.
 */
static int
emb_file(const char *path, const char **why)
{
	char *rel, *c, *next;
	int dir, fd;

	if ((dir = emb_open()) == -1) {
		*why = "the directory to embed from cannot be opened; "
		    "not embedded";
		return -1;
	}
	if ((rel = emb_rel(path)) == NULL) {
		*why = "outside the directory to embed from; not embedded";
		return -1;
	}
	fd = dir;
	for (c = rel; fd != -1 && (next = strchr(c, '/')) != NULL;
	    c = next + 1) {
		*next = '\0';
		fd = emb_descend(dir, fd, c, why);
	}
	if (fd != -1)
		fd = emb_leaf(dir, fd, c, why);
	free(rel);
	return fd;
}

/*
 * An image goes in as a data: URI so the report is one file.  Only a
 * regular file inside the directory (emb_file) that the record's size
 * describes is read; anything else is linked, with the reason.
 */
/* Do the first bytes of fd prove an image of this type? */
static int
image_bytes(int fd, const char *mime)
{
	unsigned char b[1024];
	ssize_t n = pread(fd, b, sizeof(b), 0);
	const char *t;

	return n >= 12 && (t = ca_magic_type(b, (size_t)n)) != NULL &&
	    strcmp(t, mime) == 0;
}

static void
html_image(const struct finfo *fi, const char *mime)
{
	static unsigned char buf[3 * 16384];
	const char *why = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	if (strcmp(mime, "image/svg+xml") == 0) {
		/* SVG has no magic and may hold scripts: never inline it. */
		html_note("an SVG image is linked, never embedded", fi);
		return;
	}
	if ((fd = emb_file(fi->path, &why)) == -1) {
		html_note(why, fi);
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		html_note("not a regular file; not embedded", fi);
		close(fd);
		return;
	}
	if ((long long)st.st_size > EMBED_MAX) {
		html_note("too large to embed", fi);
		close(fd);
		return;
	}
	if (fi->size >= 0 && (long long)st.st_size != fi->size) {
		html_note("changed since it was fetched; not embedded", fi);
		close(fd);
		return;
	}
	if (!image_bytes(fd, mime)) {
		/* A record may name any file: embed only what is one. */
		html_note("not an image of its type; not embedded", fi);
		close(fd);
		return;
	}
	render_outs("<figure><img alt=\"");
	html_clean(fi->name != NULL ? fi->name : fi->id,
	    strlen(fi->name != NULL ? fi->name : fi->id), 1);
	render_outf("\" src=\"data:%s;base64,", mime);
	while ((n = readfull(fd, buf, sizeof(buf))) > 0)
		b64(buf, (size_t)n);
	render_outs("\"><figcaption>");
	html_clean(fi->path, strlen(fi->path), 1);
	if (n == -1)
		render_outs(" (read error; the image may be cut short)");
	render_outs("</figcaption></figure>\n");
	close(fd);
}

static void
html_file(struct finfo *fi)
{
	const char *mime;
	const char *name = fi->name != NULL ? fi->name : fi->id;

	html_text_end();
	if (is_image(fi, &mime)) {
		html_image(fi, mime);
		return;
	}
	render_outs("<p class=\"note\">file <a href=\"");
	pct_path(fi->path);
	render_outs("\">");
	html_clean(name, strlen(name), 1);
	render_outs("</a> <code>");
	html_clean(fi->path, strlen(fi->path), 1);
	render_outs("</code></p>\n");
}

const struct fmt fmt_html = {
	.name = "html",
	.brief = 0,
	.start = html_start,
	.finish = html_finish,
	.heading = html_heading,
	.text = html_text,
	.text_end = html_text_end,
	.line = html_line,
	.lit = html_lit,
	.val = html_val,
	.code = html_code,
	.eol = html_eol,
	.block = html_block,
	.file = html_file
};
