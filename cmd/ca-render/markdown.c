/*
 * markdown.c: the markdown back end, a report written once the input
 * ends.  Untrusted text is escaped where markdown would read it as
 * markup, and fenced with more backticks than it holds.  Fetched files
 * are linked relative to the report (pct_path, which html.c shares).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-render.h"

static void
md_escape(const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (strchr("\\`*_[]<>#|~&", s[i]) == NULL)
			continue;
		render_out(s + run, i - run);
		render_out("\\", 1);
		run = i;
	}
	render_out(s + run, n - run);
}

/*
 * Model text is markdown and stays so, but markdown viewers also render
 * raw HTML (<script>, <img onerror=...>) and follow any link: outside
 * code, '<' and '&' become entities (so no tag and no entity-spelled
 * scheme survives), and a link or reference target whose scheme is
 * javascript:, vbscript: or data: gets a '#' before it, which makes it
 * a harmless fragment.  Code spans and fenced blocks show as they are.
 */
static struct {
	char	 fence;		/* '`' or '~' inside a fenced block, else 0 */
	size_t	 flen;		/* its length */
} mdt;

static int
bad_scheme(const char *s, size_t n)
{
	static const char *const bad[] = { "javascript:", "vbscript:",
	    "data:", NULL };
	char w[16];
	size_t i, k = 0;
	int b;

	/* URL parsers drop tabs and newlines, and ignore case. */
	for (i = 0; i < n && k < sizeof(w) - 1; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		w[k++] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i];
		if (s[i] == ':')
			break;
	}
	w[k] = '\0';
	for (b = 0; bad[b] != NULL; b++)
		if (strcmp(w, bad[b]) == 0)
			return 1;
	return 0;
}

/* One line outside a fenced block. */
static void
md_text_line(const char *s, size_t n)
{
	size_t i = 0, run = 0, k, j, t;

	while (i < n) {
		if (s[i] == '`') {
			for (k = 0; i + k < n && s[i + k] == '`'; k++)
				;
			/* A code span: to the same run of backticks. */
			for (j = i + k; j < n; j++) {
				if (s[j] != '`')
					continue;
				for (t = 0; j + t < n && s[j + t] == '`'; t++)
					;
				if (t == k)
					break;
				j += t - 1;
			}
			i = j < n ? j + k : i + k;
			continue;
		}
		if (s[i] == '<' || s[i] == '&') {
			clean(s + run, i - run, 0, render_out);
			render_outs(s[i] == '<' ? "&lt;" : "&amp;");
			run = ++i;
			continue;
		}
		if (s[i] == ']' && i + 1 < n && (s[i + 1] == '(' ||
		    s[i + 1] == ':')) {
			for (j = i + 2; j < n && (s[j] == ' ' ||
			    s[j] == '\t'); j++)
				;
			if (bad_scheme(s + j, n - j)) {
				clean(s + run, j - run, 0, render_out);
				render_out("#", 1);
				run = i = j;
				continue;
			}
		}
		i++;
	}
	clean(s + run, n - run, 0, render_out);
}

/* A line that opens or closes a fence: ``` or ~~~, 3 spaces at most. */
static int
fence_line(const char *s, size_t n)
{
	size_t i = 0, k = 0;

	while (i < n && i < 3 && s[i] == ' ')
		i++;
	if (i >= n || (s[i] != '`' && s[i] != '~'))
		return 0;
	while (i + k < n && s[i + k] == s[i])
		k++;
	if (k < 3)
		return 0;
	if (mdt.fence == 0) {
		mdt.fence = s[i];
		mdt.flen = k;
	} else if (s[i] == mdt.fence && k >= mdt.flen)
		mdt.fence = 0;
	else
		return 0;
	return 1;
}

static void
md_text(const char *s, size_t n)
{
	const char *nl;
	size_t len;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		len = nl != NULL ? (size_t)(nl - s) + 1 : n;
		if (fence_line(s, len) || mdt.fence != 0)
			clean(s, len, 0, render_out);
		else
			md_text_line(s, len);
		s += len;
		n -= len;
	}
}

static void
md_text_end(void)
{
	/* A fence the model left open ends with its text. */
	if (mdt.fence != 0) {
		newline();
		for (; mdt.flen > 0; mdt.flen--)
			render_out(&mdt.fence, 1);
		mdt.fence = 0;
	}
	blankline();
}

static void
md_start(void)
{
	render_outs("# ca session report\n\n");
}

static void
md_codespan(const char *s)
{
	size_t n = strlen(s), k = longest_run(s, n, '`') + 1, i;
	int pad = n > 0 && (s[0] == '`' || s[n - 1] == '`');

	for (i = 0; i < k; i++)
		render_out("`", 1);
	if (pad)
		render_out(" ", 1);
	clean(s, n, 1, render_out);
	if (pad)
		render_out(" ", 1);
	for (i = 0; i < k; i++)
		render_out("`", 1);
}

static void
md_heading(int level, const char *lit, const char *val)
{
	int i;

	blankline();
	for (i = 0; i < level; i++)
		render_out("#", 1);
	render_out(" ", 1);
	render_outs(lit);
	if (val != NULL)
		md_codespan(val);
	render_outs("\n\n");
}

static void
md_line(enum tone t)
{
	(void)t;
	blankline();
}

static void
md_val(const char *s)
{
	clean(s, strlen(s), 1, md_escape);
}

static void
md_eol(void)
{
	render_outs("\n\n");
}

static void
md_block(enum bk k, const char *label, const char *lang, const char *s,
    size_t n)
{
	size_t f = longest_run(s, n, '`') + 1, i;

	blankline();
	if (k == BK_PROMPT) {
		clean_indented("> ", s, n);
		newline();
		render_outs("\n");
		return;
	}
	render_outf("**%s**\n\n", label);
	if (f < 3)
		f = 3;
	for (i = 0; i < f; i++)
		render_out("`", 1);
	render_outs(lang != NULL ? lang : "text");
	render_out("\n", 1);
	out_text(s, n);
	newline();
	for (i = 0; i < f; i++)
		render_out("`", 1);
	render_outs("\n\n");
}

/*
 * p made absolute (from the working directory) with "." and ".."
 * resolved by name, as a list of components.  Caller frees *v and the
 * returned buffer.
 */
static char *
abs_parts(const char *p, char ***v, size_t *n)
{
	char cwd[PATH_MAX], *buf, *c, *save = NULL;

	if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	buf = ca_xmalloc(strlen(cwd) + strlen(p) + 2);
	sprintf(buf, "%s/%s", cwd, p);
	*v = ca_xcalloc(strlen(buf) / 2 + 2, sizeof(**v));
	*n = 0;
	for (c = strtok_r(buf, "/", &save); c != NULL;
	    c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (*n > 0)
				(*n)--;
			continue;
		}
		(*v)[(*n)++] = c;
	}
	return buf;
}

/*
 * A fetched file's path as a link from the report: with -o, relative
 * to the report's directory; else as recorded (relative to the working
 * directory, where a report on standard output is taken to be).
 */
static char *
link_target(const char *p)
{
	char **d, **t, *bd, *bt;
	size_t nd, nt, i, k;
	struct ca_buf b = { NULL, 0, 0, 0 };

	if (g.linkdir == NULL)
		return ca_xstrdup(p);
	bd = abs_parts(g.linkdir, &d, &nd);
	bt = abs_parts(p, &t, &nt);
	for (i = 0; i < nd && i < nt && strcmp(d[i], t[i]) == 0; i++)
		;
	for (k = i; k < nd; k++)
		ca_buf_addstr(&b, "../");
	for (k = i; k < nt; k++) {
		ca_buf_addstr(&b, t[k]);
		if (k + 1 < nt)
			ca_buf_addstr(&b, "/");
	}
	if (b.p == NULL)
		ca_buf_addstr(&b, ".");
	free(d);
	free(t);
	free(bd);
	free(bt);
	return b.p;
}

/*
 * A link destination: anything but unreserved bytes and '/' encoded, so
 * no path can become a scheme ("javascript:") or, with a leading "//",
 * another host.
 */
void
pct_path(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3], *rel = link_target(path);
	const char *p = rel;

	while (p[0] == '/' && p[1] == '/')
		p++;
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c) != NULL) {
			render_out(p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		render_out(e, 3);
	}
	free(rel);
}

static void
md_file(struct finfo *fi)
{
	const char *mime;
	const char *name = fi->name != NULL ? fi->name : fi->id;

	blankline();
	if (is_image(fi, &mime))
		render_outs("!");
	render_outs("[");
	md_val(name);
	render_outs("](");
	pct_path(fi->path);
	render_outs(")\n\n");
}

const struct fmt fmt_md = {
	.name = "markdown",
	.brief = 0,
	.start = md_start,
	.finish = newline,
	.heading = md_heading,
	.text = md_text,
	.text_end = md_text_end,
	.line = md_line,
	.lit = render_outs,
	.val = md_val,
	.code = md_codespan,
	.eol = md_eol,
	.block = md_block,
	.file = md_file
};
