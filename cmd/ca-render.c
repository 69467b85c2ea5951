/*
 * ca-render: show a session's records to a person.
 *
 * Reads any records on stdin and writes, on stdout, something for people:
 * a live terminal view (text), or a whole report (markdown, html).  The
 * terminal view is written as records arrive, so a streamed turn appears
 * as it is generated; the reports are written once the input ends, so
 * each turn's parts, images and summary can sit together even when the
 * turns of a parallel run arrive interleaved.
 *
 * Everything shown came from the model, its code, the server or a file,
 * so every format neutralises what could act on its reader: control
 * bytes on a terminal, markup in HTML.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"

#define EMBED_MAX	((long long)20 << 20)	/* largest image embedded */
#define BRIEF_BYTES	600		/* a prompt on the terminal */
#define BRIEF_LINES	8
#define THINK_BYTES	200		/* a thinking block, everywhere */
#define BLOCKS_MAX	100000		/* stream block indexes we track */
#define EDIT_IDS	32		/* editor calls remembered for results */

enum tone { T_PLAIN, T_DIM, T_HEAD, T_CALL, T_OK, T_WARN, T_ERR };

/* The multi-line things a session holds. */
enum bk {
	BK_PROMPT,	/* the user's words */
	BK_CODE,	/* a code call: python or bash */
	BK_INPUT,	/* a tool's JSON input */
	BK_STDOUT,
	BK_STDERR,
	BK_CONTENT,	/* a file's text */
	BK_DIFF
};

/* What is known about a file id: uploaded, generated, fetched. */
struct finfo {
	char		*id;
	char		*name;		/* its filename, if known */
	char		*path;		/* local path (uploaded or fetched) */
	char		*mime;
	long long	 size;		/* -1 unknown */
	int		 fetched;
	int		 shown;		/* a report already shows it */
	struct finfo	*hnext;
};

struct container {
	char	*id;
	char	*expires;
};

/* Tokens, runs and containers of a turn, or of the whole input. */
struct tally {
	double		 in, out, cw5, cw1h, cr;
	double		 usd;		/* tokens at list prices */
	char		*unknown;	/* first model not in the price table */
	long		 responses, runs, edits, errors;
	long		 toolerrs;	/* tool errors and non-zero exits shown */
	long		 batched;	/* responses at the batch rate */
	struct container *c;
	size_t		 nc;
};

/* One block of a streamed message, as far as it has arrived. */
struct lblk {
	enum ca_blk	 kind;
	cJSON		*start;		/* tool calls: the opening block */
	struct ca_buf	 json;		/* input_json_delta fragments */
	struct ca_buf	 think;
	size_t		 textlen;	/* text bytes already shown */
	int		 shown;
};

/* A streamed API response: one (custom_id, part). */
struct live {
	int		 part;
	struct lblk	*b;
	size_t		 nb;
	struct live	*next;
};

struct turn {
	char		*cid;
	int		 closed;	/* a final response or error came */
	struct tally	 t;
	struct live	*live;
	struct ca_buf	 last;		/* -r: text of the last response */
	int		 haslast;
	int		 structured;	/* -r: the answer is a JSON document */
	cJSON		**recs;		/* reports: this turn's records */
	size_t		 nrec, caprec;
	struct turn	*hnext, *next;
};

/*
 * A format is a handful of primitives; everything above them (which
 * block says what) is written once.  lit is our own words, val and code
 * are untrusted one-liners, block and text are untrusted many-liners.
 */
struct fmt {
	const char *name;
	int	 brief;			/* shorten prompts */
	void	(*start)(void);
	void	(*finish)(void);
	void	(*heading)(int, const char *, const char *);
	void	(*text)(const char *, size_t);
	void	(*text_end)(void);
	void	(*line)(enum tone);
	void	(*lit)(const char *);
	void	(*val)(const char *);
	void	(*code)(const char *);
	void	(*eol)(void);
	void	(*block)(enum bk, const char *, const char *, const char *,
		    size_t);
	void	(*file)(struct finfo *);	/* NULL: name it on a line */
};

typedef void (*sink_fn)(const char *, size_t);

static const struct fmt *F;
static int color;			/* ANSI colour on the terminal */
static int rflag;			/* -r: the model's final text */
static char *linkdir;			/* -o: the report's directory */
static int sflag;			/* --stdout: what the code printed */
static int nothink;			/* --no-thinking */
static int trail = 2;			/* '\n's ending the output so far */
static enum tone ltone;			/* text: the current line's tone */
static int intext;			/* html: inside a text div */
static const char *indent;		/* text: prefix of block lines */
static struct turn *turns, **lastturn = &turns, *cur;
static struct turn *thash[4096];
static struct finfo *fhash[4096];
static struct tally total;
static long nturns;
static struct ca_status xst;	/* the exit-status rule's tally */
static struct {
	char	*id, *path;
} edits[EDIT_IDS];
static size_t editpos;

static void usage(FILE *, int) CA_NORETURN;

/* ---- Output ---- */

static void
out(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	if (fwrite(s, 1, n, stdout) != n) {
		if (errno == EPIPE)
			exit(CA_EX_FAIL);
		ca_die(CA_EX_FAIL, "write error on standard output:");
	}
	for (i = n; i > 0 && s[i - 1] == '\n' && n - i < 2; i--)
		;
	if (i == n)
		trail = 0;
	else if (i == 0)
		trail = trail + (int)n > 2 ? 2 : trail + (int)n;
	else
		trail = (int)(n - i);
}

static void
outs(const char *s)
{
	out(s, strlen(s));
}

static void
flush(void)
{
	if (fflush(stdout) == EOF) {
		if (errno == EPIPE)
			exit(CA_EX_FAIL);
		ca_die(CA_EX_FAIL, "write error on standard output:");
	}
}

static void
outf(const char *fmt, ...) CA_PRINTF(1, 2);

static void
outf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	outs(buf);
}

/* A new line unless at the start of one; a blank line for paragraphs. */
static void
newline(void)
{
	if (trail == 0)
		out("\n", 1);
}

static void
blankline(void)
{
	while (trail < 2)
		out("\n", 1);
}

/*
 * Pass untrusted text to put with every byte that could act on a
 * terminal made visible: C0 and C1 controls, DEL and malformed UTF-8
 * become \xNN (\u00NN for C1).  \n and \t stay unless oneline; a \r
 * before \n is dropped, as a terminal would show nothing for it.
 */
static void
clean(const char *s, size_t n, int oneline, sink_fn put)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	char esc[8];

	while (i < n) {
		unsigned char c = p[i];

		len = ca_utf8_len(p + i, n - i);
		if (len > 1 && !(c == 0xc2 && p[i + 1] < 0xa0)) {
			i += len;
			continue;
		}
		if (len == 1 && c >= 0x20 && c != 0x7f) {
			i++;
			continue;
		}
		if (len == 1 && (c == '\n' || c == '\t') && !oneline) {
			i++;
			continue;
		}
		put(s + run, i - run);
		if (len == 1 && (c == '\n' || c == '\t')) {
			put(" ", 1);
			i++;
		} else if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
		} else if (len == 2) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i + 1] >> 4];
			esc[5] = hex[p[i + 1] & 15];
			put(esc, 6);
			i += 2;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			put(esc, 4);
			i++;
		}
		run = i;
	}
	put(s + run, i - run);
}

/* Longest run of c in s: how long a markdown fence must be. */
static size_t
longest_run(const char *s, size_t n, char c)
{
	size_t i, r = 0, best = 0;

	for (i = 0; i < n; i++) {
		r = s[i] == c ? r + 1 : 0;
		if (r > best)
			best = r;
	}
	return best;
}

/* ---- Text (terminal) ---- */

static void
sgr(enum tone t)
{
	static const char *codes[] = {
		"0", "2", "1", "36", "32", "33", "31"
	};

	if (color) {
		fputs("\033[", stdout);
		fputs(codes[t], stdout);
		fputc('m', stdout);
	}
}

static void
sgr_off(void)
{
	if (color)
		fputs("\033[0m", stdout);
}

/* Block content: each line behind the indent. */
static void
indented(const char *s, size_t n)
{
	const char *nl;

	while (n > 0) {
		if (trail > 0)
			outs(indent);
		nl = memchr(s, '\n', n);
		if (nl == NULL) {
			out(s, n);
			return;
		}
		out(s, (size_t)(nl - s) + 1);
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
}

static void
txt_heading(int level, const char *lit, const char *val)
{
	blankline();
	sgr(T_HEAD);
	outs(level <= 2 ? "\xe2\x94\x81\xe2\x94\x81 " : "\xe2\x94\x80 ");
	outs(lit);
	if (val != NULL)
		clean(val, strlen(val), 1, out);
	if (level <= 2)
		outs(" \xe2\x94\x81\xe2\x94\x81");
	sgr_off();
	out("\n", 1);
}

static void
txt_text(const char *s, size_t n)
{
	clean(s, n, 0, out);
}

static void
txt_text_end(void)
{
	newline();
}

static void
txt_line(enum tone t)
{
	newline();
	sgr(t);
	ltone = t;
}

static void
txt_lit(const char *s)
{
	outs(s);
}

static void
txt_val(const char *s)
{
	clean(s, strlen(s), 1, out);
}

static void
txt_code(const char *s)
{
	if (color)
		fputs("\033[1m", stdout);
	clean(s, strlen(s), 1, out);
	if (color) {
		fputs("\033[22m", stdout);
		sgr(ltone);
	}
}

static void
txt_eol(void)
{
	sgr_off();
	out("\n", 1);
}

static void
txt_block(enum bk k, const char *label, const char *lang, const char *s,
    size_t n)
{
	static const enum tone tones[] = {
		T_HEAD, T_CALL, T_CALL, T_DIM, T_ERR, T_DIM, T_CALL
	};

	(void)lang;
	newline();
	if (k != BK_PROMPT) {
		sgr(tones[k]);
		outs(label);
		outs(":");
		sgr_off();
		out("\n", 1);
	}
	indent = k == BK_PROMPT ? "> " : "  ";
	if (k == BK_PROMPT)
		sgr(T_HEAD);
	clean(s, n, 0, indented);
	if (k == BK_PROMPT)
		sgr_off();
	newline();
}

/* ---- Markdown ---- */

static void
md_escape(const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (strchr("\\`*_[]<>#|~&", s[i]) == NULL)
			continue;
		out(s + run, i - run);
		out("\\", 1);
		run = i;
	}
	out(s + run, n - run);
}

static void
md_start(void)
{
	outs("# ca session report\n\n");
}

static void
md_finish(void)
{
	newline();
}

static void
md_codespan(const char *s)
{
	size_t n = strlen(s), k = longest_run(s, n, '`') + 1, i;
	int pad = n > 0 && (s[0] == '`' || s[n - 1] == '`');

	for (i = 0; i < k; i++)
		out("`", 1);
	if (pad)
		out(" ", 1);
	clean(s, n, 1, out);
	if (pad)
		out(" ", 1);
	for (i = 0; i < k; i++)
		out("`", 1);
}

static void
md_heading(int level, const char *lit, const char *val)
{
	int i;

	blankline();
	for (i = 0; i < level; i++)
		out("#", 1);
	out(" ", 1);
	outs(lit);
	if (val != NULL)
		md_codespan(val);
	outs("\n\n");
}

static void
md_text(const char *s, size_t n)
{
	clean(s, n, 0, out);
}

static void
md_text_end(void)
{
	blankline();
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
	outs("\n\n");
}

static void
md_block(enum bk k, const char *label, const char *lang, const char *s,
    size_t n)
{
	size_t f = longest_run(s, n, '`') + 1, i;

	blankline();
	if (k == BK_PROMPT) {
		indent = "> ";
		clean(s, n, 0, indented);
		newline();
		outs("\n");
		return;
	}
	outf("**%s**\n\n", label);
	if (f < 3)
		f = 3;
	for (i = 0; i < f; i++)
		out("`", 1);
	outs(lang != NULL ? lang : "text");
	out("\n", 1);
	clean(s, n, 0, out);
	newline();
	for (i = 0; i < f; i++)
		out("`", 1);
	outs("\n\n");
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

	if (linkdir == NULL)
		return ca_xstrdup(p);
	bd = abs_parts(linkdir, &d, &nd);
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
static void
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
			out(p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		out(e, 3);
	}
	free(rel);
}

static int	 is_image(const struct finfo *, const char **);

static void
md_file(struct finfo *fi)
{
	const char *mime;
	const char *name = fi->name != NULL ? fi->name : fi->id;

	blankline();
	if (is_image(fi, &mime))
		outs("!");
	outs("[");
	md_val(name);
	outs("](");
	pct_path(fi->path);
	outs(")\n\n");
}

/* ---- HTML ---- */

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
		out(s + run, i - run);
		outs(e);
		run = i + 1;
	}
	out(s + run, n - run);
}

static void html_text_end(void);

static void
html_start(void)
{
	outs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
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
	outs("</body>\n</html>\n");
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
	outf("<h%d>", level);
	html_esc(lit, strlen(lit));
	if (val != NULL) {
		outs("<code>");
		html_clean(val, strlen(val), 1);
		outs("</code>");
	}
	outf("</h%d>\n", level);
}

static void
html_text(const char *s, size_t n)
{
	if (!intext)
		outs("<div class=\"text\">");
	intext = 1;
	html_clean(s, n, 0);
}

static void
html_text_end(void)
{
	if (intext)
		outs("</div>\n");
	intext = 0;
}

static void
html_line(enum tone t)
{
	static const char *cls[] = {
		"", " dim", " head", " call", " ok", " warn", " err"
	};

	html_text_end();
	outf("<p class=\"note%s\">", cls[t]);
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
	outs("<code>");
	html_clean(s, strlen(s), 1);
	outs("</code>");
}

static void
html_eol(void)
{
	outs("</p>\n");
}

static void
html_block(enum bk k, const char *label, const char *lang, const char *s,
    size_t n)
{
	static const char *cls[] = {
		"prompt", "code", "input", "stdout", "stderr", "content", "diff"
	};

	html_text_end();
	outf("<div class=\"blk %s\"><div class=\"label\">", cls[k]);
	html_esc(label, strlen(label));
	outs("</div><pre><code");
	if (lang != NULL)
		outf(" class=\"language-%s\"", lang);
	outs(">");
	html_clean(s, n, 0);
	outs("</code></pre></div>\n");
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
			out(o, k);
			k = 0;
		}
	}
	out(o, k);
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
	outs("<p class=\"note warn\">");
	html_esc(why, strlen(why));
	outs(": <a href=\"");
	pct_path(fi->path);
	outs("\">");
	html_clean(fi->path, strlen(fi->path), 1);
	outs("</a></p>\n");
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

static void
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
	outs("<figure><img alt=\"");
	html_clean(fi->name != NULL ? fi->name : fi->id,
	    strlen(fi->name != NULL ? fi->name : fi->id), 1);
	outf("\" src=\"data:%s;base64,", mime);
	while ((n = readfull(fd, buf, sizeof(buf))) > 0)
		b64(buf, (size_t)n);
	outs("\"><figcaption>");
	html_clean(fi->path, strlen(fi->path), 1);
	if (n == -1)
		outs(" (read error; the image may be cut short)");
	outs("</figcaption></figure>\n");
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
	outs("<p class=\"note\">file <a href=\"");
	pct_path(fi->path);
	outs("\">");
	html_clean(name, strlen(name), 1);
	outs("</a> <code>");
	html_clean(fi->path, strlen(fi->path), 1);
	outs("</code></p>\n");
}

/* ---- Raw: --stdout keeps only what the code printed ---- */

static void
nop(void)
{
}

static void
nop_heading(int l, const char *a, const char *b)
{
	(void)l, (void)a, (void)b;
}

static void
nop_text(const char *s, size_t n)
{
	(void)s, (void)n;
}

static void
nop_line(enum tone t)
{
	(void)t;
}

static void
nop_str(const char *s)
{
	(void)s;
}

static void
raw_block(enum bk k, const char *label, const char *lang, const char *s,
    size_t n)
{
	(void)label, (void)lang;
	if (k == BK_STDOUT)
		out(s, n);
}

static const struct fmt fmt_text = {
	"text", 1, nop, nop, txt_heading, txt_text, txt_text_end, txt_line,
	txt_lit, txt_val, txt_code, txt_eol, txt_block, NULL
};
static const struct fmt fmt_md = {
	"markdown", 0, md_start, md_finish, md_heading, md_text, md_text_end,
	md_line, txt_lit, md_val, md_codespan, md_eol, md_block, md_file
};
static const struct fmt fmt_html = {
	"html", 0, html_start, html_finish, html_heading, html_text,
	html_text_end, html_line, html_lit, html_val, html_code, html_eol,
	html_block, html_file
};
static const struct fmt fmt_raw = {
	"stdout", 1, nop, nop, nop_heading, nop_text, nop, nop_line, nop_str,
	nop_str, nop_str, nop, raw_block, NULL
};

/* ---- Small helpers ---- */

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* A JSON number as a long long, or dflt when absent or not a number. */
static long long
jll(const cJSON *o, const char *key, long long dflt)
{
	double d = ca_jnum(o, key, (double)dflt);

	return d >= -9e18 && d <= 9e18 ? (long long)d : dflt;
}

static void
line1(enum tone t, const char *lit)
{
	F->line(t);
	F->lit(lit);
	F->eol();
}

/* lit + code + optional lit, the commonest line. */
static void
line_lc(enum tone t, const char *lit, const char *code, const char *tail)
{
	F->line(t);
	F->lit(lit);
	F->code(nz(code));
	if (tail != NULL)
		F->lit(tail);
	F->eol();
}

/*
 * The first bytes of s, cut at a UTF-8 boundary, with at most maxlines
 * lines; "..." marks a cut.  oneline joins the lines with spaces.
 */
static char *
brief(const char *s, size_t maxbytes, int maxlines, int oneline)
{
	size_t n = strlen(s), i;
	int lines = 0;
	char *r;

	for (i = 0; i < n && i < maxbytes; i++)
		if (s[i] == '\n' && ++lines >= maxlines)
			break;
	if (i >= maxbytes)
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
	r = ca_xmalloc(i + 5);
	memcpy(r, s, i);
	if (i < n) {
		while (i > 0 && oneline && r[i - 1] == ' ')
			i--;
		/* Cut at a line's end, the mark takes a line of its own. */
		if (s[i] == '\n' && !oneline)
			r[i++] = '\n';
		memcpy(r + i, "...", 3);
		i += 3;
	}
	r[i] = '\0';
	if (oneline)
		for (i = 0; r[i] != '\0'; i++)
			if (r[i] == '\n' || r[i] == '\t' || r[i] == '\r')
				r[i] = ' ';
	return r;
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* ---- Known files ---- */

static unsigned
hashstr(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct finfo *
finfo_find(const char *id)
{
	struct finfo *f;

	if (id == NULL)
		return NULL;
	for (f = fhash[hashstr(id) % 4096]; f != NULL; f = f->hnext)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

static void
setstr(char **dst, const char *s)
{
	if (s == NULL)
		return;
	free(*dst);
	*dst = ca_xstrdup(s);
}

/* Learn a file from a file or fetched record. */
static struct finfo *
finfo_note(const cJSON *rec, int fetched)
{
	const cJSON *meta = ca_jobj(rec, "file");
	const char *id = ca_jstr(meta, "id");
	struct finfo *f;
	unsigned h;

	if (id == NULL)
		return NULL;
	if ((f = finfo_find(id)) == NULL) {
		f = ca_xcalloc(1, sizeof(*f));
		f->id = ca_xstrdup(id);
		f->size = -1;
		h = hashstr(id) % 4096;
		f->hnext = fhash[h];
		fhash[h] = f;
	}
	setstr(&f->name, ca_jstr(meta, "filename"));
	setstr(&f->mime, ca_jstr(meta, "mime_type"));
	if (fetched || f->path == NULL) {
		setstr(&f->path, ca_jstr(rec, "path"));
		f->size = jll(rec, "size", jll(meta, "size_bytes", -1));
	}
	if (fetched && f->path != NULL)
		f->fetched = 1;
	return f;
}

static void
finfo_freeall(void)
{
	struct finfo *f, *n;
	size_t i;

	for (i = 0; i < 4096; i++)
		for (f = fhash[i]; f != NULL; f = n) {
			n = f->hnext;
			free(f->id);
			free(f->name);
			free(f->path);
			free(f->mime);
			free(f);
		}
}

/* Images a browser shows; the data: URI type comes only from this list. */
static int
is_image(const struct finfo *fi, const char **mime)
{
	static const struct {
		const char *mime, *ext1, *ext2;
	} img[] = {
		{ "image/png", ".png", NULL },
		{ "image/jpeg", ".jpg", ".jpeg" },
		{ "image/gif", ".gif", NULL },
		{ "image/webp", ".webp", NULL },
		{ "image/svg+xml", ".svg", NULL },
	};
	const char *name = fi->path != NULL ? fi->path : nz(fi->name);
	size_t i, n = strlen(name);
	char ext[8];

	for (i = 0; i < sizeof(img) / sizeof(img[0]); i++)
		if (fi->mime != NULL && strcmp(fi->mime, img[i].mime) == 0) {
			*mime = img[i].mime;
			return 1;
		}
	for (i = n; i > 0 && name[i - 1] != '.' && name[i - 1] != '/'; i--)
		;
	if (i == 0 || name[i - 1] != '.' || n - i + 1 >= sizeof(ext))
		return 0;
	for (n = 0; name[i - 1 + n] != '\0'; n++)
		ext[n] = (char)(name[i - 1 + n] >= 'A' && name[i - 1 + n] <=
		    'Z' ? name[i - 1 + n] + 32 : name[i - 1 + n]);
	ext[n] = '\0';
	for (i = 0; i < sizeof(img) / sizeof(img[0]); i++)
		if (strcmp(ext, img[i].ext1) == 0 || (img[i].ext2 != NULL &&
		    strcmp(ext, img[i].ext2) == 0)) {
			*mime = img[i].mime;
			return 1;
		}
	return 0;
}

/* ---- Tally and cost ---- */

static void
tally_container(struct tally *t, const char *id, const char *expires)
{
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; i < t->nc; i++)
		if (strcmp(t->c[i].id, id) == 0) {
			setstr(&t->c[i].expires, expires);
			return;
		}
	t->c = ca_xrealloc(t->c, (t->nc + 1) * sizeof(*t->c));
	t->c[t->nc].id = ca_xstrdup(id);
	t->c[t->nc].expires = expires != NULL ? ca_xstrdup(expires) : NULL;
	t->nc++;
}

/* Count one API response, priced by ca_price_msg. */
static void
tally_message(struct tally *t, const cJSON *msg)
{
	const cJSON *u = ca_jobj(msg, "usage"), *cc, *b;
	const cJSON *ct = ca_jobj(msg, "container");
	const char *model = ca_jstr(msg, "model");
	const char *tier = ca_jstr(u, "service_tier");
	double usd = ca_price_msg(msg);
	double cw5, cw1h;

	cw5 = ca_jnum(u, "cache_creation_input_tokens", 0);
	cw1h = 0;
	if ((cc = ca_jobj(u, "cache_creation")) != NULL &&
	    ca_jnum(cc, "ephemeral_5m_input_tokens", 0) +
	    ca_jnum(cc, "ephemeral_1h_input_tokens", 0) > 0) {
		cw5 = ca_jnum(cc, "ephemeral_5m_input_tokens", 0);
		cw1h = ca_jnum(cc, "ephemeral_1h_input_tokens", 0);
	}
	t->in += ca_jnum(u, "input_tokens", 0);
	t->out += ca_jnum(u, "output_tokens", 0);
	t->cw5 += cw5;
	t->cw1h += cw1h;
	t->cr += ca_jnum(u, "cache_read_input_tokens", 0);
	t->responses++;
	if (tier != NULL && strcmp(tier, "batch") == 0)
		t->batched++;	/* priced at half by ca_price_msg */
	if (usd >= 0)
		t->usd += usd;
	else if (t->unknown == NULL)
		t->unknown = ca_xstrdup(model != NULL ? model : "(none)");
	tally_container(t, ca_jstr(ct, "id"), ca_jstr(ct, "expires_at"));
	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		switch (ca_blk_kind(b)) {
		case CA_BLK_CODE_RESULT:
		case CA_BLK_BASH_RESULT:
			t->runs++;
			/* Shown in red above: the summary must not say 0. */
			if (ca_blk_error_code(b) != NULL ||
			    jll(ca_jobj(b, "content"), "return_code", 0) != 0)
				t->toolerrs++;
			break;
		case CA_BLK_EDITOR_RESULT:
			t->edits++;
			if (ca_blk_error_code(b) != NULL)
				t->toolerrs++;
			break;
		default:
			break;
		}
	}
}

static void
tally_merge(struct tally *to, const struct tally *t)
{
	size_t i;

	to->in += t->in;
	to->out += t->out;
	to->cw5 += t->cw5;
	to->cw1h += t->cw1h;
	to->cr += t->cr;
	to->usd += t->usd;
	to->responses += t->responses;
	to->batched += t->batched;
	to->runs += t->runs;
	to->edits += t->edits;
	to->errors += t->errors;
	to->toolerrs += t->toolerrs;
	if (to->unknown == NULL && t->unknown != NULL)
		to->unknown = ca_xstrdup(t->unknown);
	for (i = 0; i < t->nc; i++)
		tally_container(to, t->c[i].id, t->c[i].expires);
}

static void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->nc; i++) {
		free(t->c[i].id);
		free(t->c[i].expires);
	}
	free(t->c);
	free(t->unknown);
	memset(t, 0, sizeof(*t));
}

static void
show_tally(const struct tally *t)
{
	char buf[256], tool[64] = "";
	double cusd = ca_price_containers(t->nc);
	long nerr = t->errors + t->toolerrs;
	size_t i;

	if (t->responses == 0) {
		snprintf(buf, sizeof(buf), "no response, %ld error%s",
		    t->errors, t->errors == 1 ? "" : "s");
		line1(T_DIM, buf);
		return;
	}
	snprintf(buf, sizeof(buf), "tokens: %.0f input, %.0f output, "
	    "%.0f cache write, %.0f cache read", t->in, t->out,
	    t->cw5 + t->cw1h, t->cr);
	line1(T_DIM, buf);
	if (t->toolerrs > 0)
		snprintf(tool, sizeof(tool), " (%ld in code execution)",
		    t->toolerrs);
	/* Of all input, the share read from the cache. */
	if (t->cw5 + t->cw1h + t->cr > 0) {
		snprintf(buf, sizeof(buf), "cache hit ratio: %.0f%% of input "
		    "tokens read from the cache", 100 * t->cr /
		    (t->in + t->cw5 + t->cw1h + t->cr));
		line1(T_DIM, buf);
	}
	snprintf(buf, sizeof(buf), "%ld response%s, %ld code run%s, "
	    "%ld file edit%s, %ld error%s%s", t->responses,
	    t->responses == 1 ? "" : "s", t->runs, t->runs == 1 ? "" : "s",
	    t->edits, t->edits == 1 ? "" : "s", nerr,
	    nerr == 1 ? "" : "s", tool);
	line1(T_DIM, buf);
	for (i = 0; i < t->nc; i++) {
		F->line(T_DIM);
		F->lit("container ");
		F->code(t->c[i].id);
		if (t->c[i].expires != NULL) {
			F->lit(" expires ");
			F->val(t->c[i].expires);
		}
		F->eol();
	}
	F->line(T_DIM);
	if (t->unknown != NULL) {
		F->lit("estimated cost: unknown (no price for model ");
		F->code(t->unknown);
		F->lit(")");
	} else if (t->batched > 0) {
		snprintf(buf, sizeof(buf), "estimated cost: $%.4f (tokens "
		    "$%.4f, %ld of %ld response%s at the batch rate, 50 %%; "
		    "container time $%.4f: %zu \xc3\x97 5-minute minimum)",
		    t->usd + cusd, t->usd, t->batched, t->responses,
		    t->responses == 1 ? "" : "s", cusd, t->nc);
		F->lit(buf);
	} else {
		snprintf(buf, sizeof(buf), "estimated cost: $%.4f (tokens "
		    "$%.4f, container time $%.4f: %zu \xc3\x97 5-minute "
		    "minimum)", t->usd + cusd, t->usd, cusd, t->nc);
		F->lit(buf);
	}
	F->eol();
}

/* ---- Content blocks ---- */

static void
edit_remember(const char *id, const char *path)
{
	if (id == NULL || path == NULL)
		return;
	free(edits[editpos].id);
	free(edits[editpos].path);
	edits[editpos].id = ca_xstrdup(id);
	edits[editpos].path = ca_xstrdup(path);
	editpos = (editpos + 1) % EDIT_IDS;
}

static const char *
edit_path(const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < EDIT_IDS; i++)
		if (edits[i].id != NULL && strcmp(edits[i].id, id) == 0)
			return edits[i].path;
	return NULL;
}

static void
block_str(enum bk k, const char *label, const char *lang, const char *s)
{
	if (s != NULL && *s != '\0')
		F->block(k, label, lang, s, strlen(s));
}

/*
 * Short JSON on one line, longer JSON indented.  cJSON indents with
 * tabs; a raw tab in its output is always layout, as strings escape
 * theirs, so each becomes two spaces (one after a colon).
 */
static void
block_json(const char *label, const cJSON *j)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	char *s, *p;

	if (j == NULL)
		return;
	s = ca_jprint(j);
	if (strlen(s) > 72) {
		free(s);
		if ((s = cJSON_Print(j)) == NULL)
			ca_die(CA_EX_FAIL, "out of memory printing JSON");
	}
	for (p = s; *p != '\0'; p++)
		ca_buf_add(&b, *p != '\t' ? p : p > s && p[-1] == ':' ? " " :
		    "  ", *p != '\t' ? 1 : p > s && p[-1] == ':' ? 1 : 2);
	F->block(BK_INPUT, label, "json", b.p, b.len);
	ca_buf_free(&b);
	free(s);
}

/* old_str and new_str as a diff, one '-' or '+' per line. */
static void
diff_side(struct ca_buf *b, char sign, const char *s)
{
	const char *nl;

	if (s == NULL)
		return;
	do {
		nl = strchr(s, '\n');
		ca_buf_add(b, &sign, 1);
		ca_buf_add(b, s, nl != NULL ? (size_t)(nl - s) : strlen(s));
		ca_buf_add(b, "\n", 1);
		s = nl != NULL ? nl + 1 : NULL;
	} while (s != NULL && *s != '\0');
}

static void
show_editor_call(const cJSON *b, const cJSON *in)
{
	const char *cmd = ca_jstr(in, "command"), *path = ca_jstr(in, "path");
	struct ca_buf d = { NULL, 0, 0, 0 };

	edit_remember(ca_jstr(b, "id"), path);
	F->line(T_CALL);
	F->lit("editor ");
	F->code(cmd != NULL ? cmd : "?");
	F->lit(" ");
	F->code(nz(path));
	F->eol();
	if (cmd == NULL)
		block_json("input", in);
	else if (strcmp(cmd, "create") == 0)
		block_str(BK_CONTENT, "file text", NULL,
		    ca_jstr(in, "file_text"));
	else if (strcmp(cmd, "str_replace") == 0) {
		ca_buf_addstr(&d, "--- ");
		ca_buf_addstr(&d, nz(path));
		ca_buf_addstr(&d, "\n+++ ");
		ca_buf_addstr(&d, nz(path));
		ca_buf_addstr(&d, "\n");
		diff_side(&d, '-', ca_jstr(in, "old_str"));
		diff_side(&d, '+', ca_jstr(in, "new_str"));
		F->block(BK_DIFF, "diff", "diff", d.p, d.len);
		ca_buf_free(&d);
	} else if (strcmp(cmd, "view") != 0)
		block_json("input", in);
}

static void
show_server_call(const cJSON *b)
{
	const char *name = nz(ca_jstr(b, "name"));
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(b, "input");
	const char *q;

	if (strcmp(name, "code_execution") == 0)
		F->block(BK_CODE, "python", "python", nz(ca_jstr(in, "code")),
		    strlen(nz(ca_jstr(in, "code"))));
	else if (strcmp(name, "bash_code_execution") == 0)
		F->block(BK_CODE, "bash", "bash", nz(ca_jstr(in, "command")),
		    strlen(nz(ca_jstr(in, "command"))));
	else if (strcmp(name, "text_editor_code_execution") == 0)
		show_editor_call(b, in);
	else if (strcmp(name, "web_search") == 0 ||
	    strcmp(name, "web_fetch") == 0 ||
	    strncmp(name, "tool_search", 11) == 0) {
		q = ca_jstr(in, "query");
		if (q == NULL)
			q = ca_jstr(in, "url");
		if (q == NULL)
			q = ca_jstr(in, "pattern");
		F->line(T_CALL);
		F->lit(strcmp(name, "web_search") == 0 ? "web search: " :
		    strcmp(name, "web_fetch") == 0 ? "web fetch: " :
		    "tool search: ");
		F->val(nz(q));
		F->eol();
	} else {
		line_lc(T_CALL, "server tool ", name, NULL);
		block_json("input", in);
	}
}

static void
show_tool_use(const cJSON *b)
{
	const cJSON *caller = ca_jobj(b, "caller");
	const char *ct = ca_jstr(caller, "type");

	line_lc(T_CALL, "tool call ", ca_jstr(b, "name"),
	    ct != NULL && strcmp(ct, "direct") != 0 ? " (called from code)" :
	    NULL);
	block_json("input", cJSON_GetObjectItemCaseSensitive(b, "input"));
}

/* ca_tool_error_text explains the code execution tools' codes. */
static void
show_tool_error(const cJSON *c, const char *code, int explain)
{
	const char *msg = ca_jstr(c, "error_message");

	F->line(T_ERR);
	F->lit("tool error ");
	F->code(code);
	if (explain) {
		F->lit(": ");
		F->lit(ca_tool_error_text(code));
	}
	if (msg != NULL) {
		F->lit(" (");
		F->val(msg);
		F->lit(")");
	}
	F->eol();
}

/* An output file: shown in place when a report knows its local copy. */
static void
show_outfile(const char *id)
{
	struct finfo *fi = finfo_find(id);

	if (fi != NULL && fi->fetched && F->file != NULL) {
		F->file(fi);
		fi->shown = 1;
		return;
	}
	F->line(T_OK);
	F->lit("output file ");
	F->code(id);
	if (fi != NULL && fi->name != NULL) {
		F->lit(" ");
		F->val(fi->name);
	}
	if (fi != NULL && fi->fetched) {
		F->lit(" \xe2\x86\x92 ");
		F->code(fi->path);
	}
	F->eol();
}

static void
show_exec_result(const cJSON *b)
{
	const cJSON *c = ca_jobj(b, "content"), *f;
	const char *ct = nz(ca_jstr(c, "type")), *code;
	char buf[64];
	long long rc;

	if ((code = ca_blk_error_code(b)) != NULL) {
		show_tool_error(c, code, 1);
		return;
	}
	if (has_suffix(ct, "encrypted_code_execution_result"))
		line1(T_DIM, "(stdout encrypted: the code called web search)");
	else
		block_str(BK_STDOUT, "stdout", NULL, ca_jstr(c, "stdout"));
	block_str(BK_STDERR, "stderr", NULL, ca_jstr(c, "stderr"));
	rc = jll(c, "return_code", 0);
	if (rc != 0) {
		snprintf(buf, sizeof(buf), "return code %lld", rc);
		line1(T_ERR, buf);
	}
	cJSON_ArrayForEach(f, ca_jarr(c, "content"))
		if (ca_jstr(f, "file_id") != NULL)
			show_outfile(ca_jstr(f, "file_id"));
}

/* A view result with line numbers, counted from start_line. */
static void
show_view(const cJSON *c)
{
	const char *s = nz(ca_jstr(c, "content")), *nl;
	const char *ft = ca_jstr(c, "file_type");
	long long ln = jll(c, "start_line", 1);
	struct ca_buf b = { NULL, 0, 0, 0 };
	char num[32];

	if (ft != NULL && strcmp(ft, "text") != 0) {
		F->line(T_DIM);
		F->lit("viewed a file of type ");
		F->val(ft);
		F->eol();
		return;
	}
	while (*s != '\0') {
		nl = strchr(s, '\n');
		snprintf(num, sizeof(num), "%6lld  ", ln++);
		ca_buf_addstr(&b, num);
		ca_buf_add(&b, s, nl != NULL ? (size_t)(nl - s) + 1 :
		    strlen(s));
		s = nl != NULL ? nl + 1 : s + strlen(s);
	}
	if (b.len > 0)
		F->block(BK_CONTENT, "view", NULL, b.p, b.len);
	else
		line1(T_DIM, "(empty file)");
	ca_buf_free(&b);
}

static void
show_editor_result(const cJSON *b)
{
	const cJSON *c = ca_jobj(b, "content"), *l;
	const char *ct = nz(ca_jstr(c, "type")), *code;
	const char *path = edit_path(ca_jstr(b, "tool_use_id"));
	struct ca_buf d = { NULL, 0, 0, 0 };
	char buf[128];

	if ((code = ca_blk_error_code(b)) != NULL) {
		show_tool_error(c, code, 1);
		return;
	}
	if (has_suffix(ct, "_view_result"))
		show_view(c);
	else if (has_suffix(ct, "_create_result")) {
		F->line(T_OK);
		F->lit(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c,
		    "is_file_update")) ? "updated" : "created");
		if (path != NULL) {
			F->lit(" ");
			F->code(path);
		}
		F->eol();
	} else if (has_suffix(ct, "_str_replace_result")) {
		snprintf(buf, sizeof(buf), "replaced: @@ -%lld,%lld +%lld,%lld @@",
		    jll(c, "old_start", 0), jll(c, "old_lines", 0),
		    jll(c, "new_start", 0), jll(c, "new_lines", 0));
		line1(T_OK, buf);
		cJSON_ArrayForEach(l, ca_jarr(c, "lines"))
			if (cJSON_IsString(l)) {
				ca_buf_addstr(&d, l->valuestring);
				ca_buf_add(&d, "\n", 1);
			}
		if (d.len > 0)
			F->block(BK_DIFF, "lines", "diff", d.p, d.len);
		ca_buf_free(&d);
	} else {
		line_lc(T_DIM, "[unknown editor result: ", ct, "]");
	}
}

static void
show_search_result(const cJSON *b, const char *what)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "content"), *r;
	const char *code;
	char buf[64];
	int n = 0;

	if ((code = ca_blk_error_code(b)) != NULL) {
		show_tool_error(c, code, 0);
		return;
	}
	if (cJSON_IsArray(c)) {
		snprintf(buf, sizeof(buf), "%s found %d result%s", what,
		    cJSON_GetArraySize(c), cJSON_GetArraySize(c) == 1 ?
		    "" : "s");
		line1(T_DIM, buf);
		cJSON_ArrayForEach(r, c) {
			if (++n > 5)
				break;
			F->line(T_DIM);
			F->lit("  ");
			F->val(nz(ca_jstr(r, "title")));
			F->lit(" ");
			F->code(nz(ca_jstr(r, "url")));
			F->eol();
		}
		return;
	}
	F->line(T_DIM);
	F->lit(what);
	F->lit(" found ");
	if (ca_jstr(c, "url") != NULL)
		F->code(ca_jstr(c, "url"));
	else {
		cJSON_ArrayForEach(r, ca_jarr(c, "tool_references")) {
			if (++n > 1)
				F->lit(", ");
			F->code(nz(ca_jstr(r, "tool_name")));
		}
		if (n == 0)
			F->lit("no result");
	}
	F->eol();
}

static void
show_thinking(const char *s)
{
	char *t;

	if (nothink)
		return;
	t = brief(nz(s), THINK_BYTES, 1000, 1);
	F->line(T_DIM);
	F->lit("thinking: ");
	F->val(t);
	F->eol();
	free(t);
}

static void
show_upload(const char *id)
{
	const struct finfo *fi = finfo_find(id);

	F->line(T_DIM);
	F->lit("container upload ");
	F->code(nz(id));
	if (fi != NULL && fi->name != NULL) {
		F->lit(" ");
		F->val(fi->name);
	}
	F->eol();
}

/* The API called a tool on an MCP server: server, tool, input. */
static void
show_mcp_call(const cJSON *b)
{
	F->line(T_CALL);
	F->lit("mcp tool ");
	F->code(nz(ca_jstr(b, "name")));
	F->lit(" on ");
	F->code(nz(ca_jstr(b, "server_name")));
	F->eol();
	block_json("input", cJSON_GetObjectItemCaseSensitive(b, "input"));
}

/* Its result: a string or text blocks, maybe an error. */
static void
show_mcp_result(const cJSON *b)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "content"), *e;
	struct ca_buf txt = { NULL, 0, 0, 0 };
	int err = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b,
	    "is_error"));

	if (cJSON_IsString(c))
		ca_buf_addstr(&txt, c->valuestring);
	else
		cJSON_ArrayForEach(e, c) {
			if (txt.len > 0)
				ca_buf_addstr(&txt, "\n");
			ca_buf_addstr(&txt, nz(ca_jstr(e, "text")));
		}
	/* Not BK_STDOUT: --stdout is what the code printed, not this. */
	F->block(err ? BK_STDERR : BK_CONTENT, err ? "mcp error" :
	    "mcp result", NULL, txt.p != NULL ? txt.p : "",
	    txt.len);
	ca_buf_free(&txt);
}

/* A count record: what a request would cost in input tokens. */
static void
show_count(const cJSON *rec)
{
	char buf[96];

	F->line(T_DIM);
	F->lit("count ");
	F->code(nz(ca_jstr(rec, "custom_id")));
	snprintf(buf, sizeof(buf), ": %.0f input tokens",
	    ca_jnum(rec, "input_tokens", 0));
	F->lit(buf);
	F->eol();
}

static void
show_block(const cJSON *b)
{
	const char *t;

	switch (ca_blk_kind(b)) {
	case CA_BLK_TEXT:
		/* Adjacent text blocks (cited passages) read as one. */
		t = nz(ca_jstr(b, "text"));
		F->text(t, strlen(t));
		break;
	case CA_BLK_THINKING:
		show_thinking(ca_jstr(b, "thinking"));
		break;
	case CA_BLK_REDACTED_THINKING:
		if (!nothink)
			line1(T_DIM, "(redacted thinking)");
		break;
	case CA_BLK_MCP_TOOL_USE:
		show_mcp_call(b);
		break;
	case CA_BLK_MCP_TOOL_RESULT:
		show_mcp_result(b);
		break;
	case CA_BLK_TOOL_USE:
		show_tool_use(b);
		break;
	case CA_BLK_SERVER_TOOL_USE:
		show_server_call(b);
		break;
	case CA_BLK_CODE_RESULT:
	case CA_BLK_BASH_RESULT:
		show_exec_result(b);
		break;
	case CA_BLK_EDITOR_RESULT:
		show_editor_result(b);
		break;
	case CA_BLK_CONTAINER_UPLOAD:
		show_upload(ca_jstr(b, "file_id"));
		break;
	case CA_BLK_WEB_SEARCH_RESULT:
		show_search_result(b, "web search");
		break;
	case CA_BLK_WEB_FETCH_RESULT:
		show_search_result(b, "web fetch");
		break;
	case CA_BLK_TOOL_SEARCH_RESULT:
		show_search_result(b, "tool search");
		break;
	case CA_BLK_OTHER:
		t = ca_jstr(b, "type");
		line_lc(T_DIM, "[unknown block: ", t != NULL ? t : "?", "]");
		break;
	}
}

/*
 * A message's blocks, skipping those a stream already showed.  A text
 * block the stream cut short shows the rest of its text.
 */
static void
show_content(const cJSON *msg, const struct live *lv)
{
	const cJSON *b;
	const struct lblk *lb;
	const char *t;
	size_t i = 0, n;

	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		lb = lv != NULL && i < lv->nb ? &lv->b[i] : NULL;
		i++;
		if (lb != NULL && lb->shown)
			continue;
		if (lb != NULL && lb->textlen > 0 &&
		    ca_blk_kind(b) == CA_BLK_TEXT) {
			t = nz(ca_jstr(b, "text"));
			n = strlen(t);
			if (n > lb->textlen)
				F->text(t + lb->textlen, n - lb->textlen);
			continue;
		}
		show_block(b);
	}
	if (i == 0)
		line1(T_DIM, "(no content)");
	F->text_end();
}

static void
show_footer(const cJSON *rec, const cJSON *msg)
{
	const cJSON *u = ca_jobj(msg, "usage"), *sd;
	const char *stop = ca_jstr(msg, "stop_reason");
	char buf[160];
	double cw, cr;

	F->line(T_DIM);
	F->lit("stop reason ");
	F->code(stop != NULL ? stop : "none");
	F->lit(", model ");
	F->code(nz(ca_jstr(msg, "model")));
	snprintf(buf, sizeof(buf), ", %.0f input + %.0f output tokens",
	    ca_jnum(u, "input_tokens", 0), ca_jnum(u, "output_tokens", 0));
	F->lit(buf);
	cw = ca_jnum(u, "cache_creation_input_tokens", 0);
	cr = ca_jnum(u, "cache_read_input_tokens", 0);
	if (cw > 0 || cr > 0) {
		snprintf(buf, sizeof(buf), " (cache: %.0f written, %.0f read)",
		    cw, cr);
		F->lit(buf);
	}
	F->eol();
	if (stop == NULL)
		return;
	if (strcmp(stop, "pause_turn") == 0) {
		snprintf(buf, sizeof(buf), "paused; continuing (part %lld)",
		    jll(rec, "part", 1) + 1);
		line1(T_WARN, buf);
	} else if (strcmp(stop, "max_tokens") == 0)
		line1(T_WARN, "stopped at max_tokens: the reply is cut short");
	else if (strcmp(stop, "model_context_window_exceeded") == 0)
		line1(T_WARN, "stopped: the context window is full");
	else if (strcmp(stop, "tool_use") == 0)
		line1(T_DIM, "waiting for a tool result");
	else if (strcmp(stop, "refusal") == 0) {
		sd = ca_jobj(msg, "stop_details");
		F->line(T_ERR);
		F->lit("refused");
		if (ca_jstr(sd, "explanation") != NULL) {
			F->lit(": ");
			F->val(ca_jstr(sd, "explanation"));
		}
		F->eol();
	}
}

/* The user's words: the last user message's text, and what it attached. */
static void
show_request(const cJSON *rec)
{
	const cJSON *p = ca_jobj(rec, "params"), *m, *last = NULL, *b, *c;
	const cJSON *arr;
	const char *model = ca_jstr(p, "model"), *id;
	struct ca_buf txt = { NULL, 0, 0, 0 };
	struct finfo *fi;
	char *s;

	cJSON_ArrayForEach(m, ca_jarr(p, "messages"))
		if (strcmp(nz(ca_jstr(m, "role")), "user") == 0)
			last = m;
	F->line(T_DIM);
	F->lit("request");
	if (model != NULL) {
		F->lit(" to ");
		F->code(model);
	}
	F->eol();
	if (last == NULL)
		return;
	c = cJSON_GetObjectItemCaseSensitive(last, "content");
	arr = cJSON_IsArray(c) ? c : NULL;
	if (cJSON_IsString(c))
		ca_buf_addstr(&txt, c->valuestring);
	cJSON_ArrayForEach(b, arr) {
		if (ca_blk_kind(b) == CA_BLK_TEXT) {
			if (txt.len > 0)
				ca_buf_addstr(&txt, "\n\n");
			ca_buf_addstr(&txt, nz(ca_jstr(b, "text")));
		}
	}
	if (txt.len > 0) {
		s = F->brief ? brief(txt.p, BRIEF_BYTES, BRIEF_LINES, 0) :
		    ca_xstrdup(txt.p);
		F->block(BK_PROMPT, "prompt", NULL, s, strlen(s));
		free(s);
	}
	ca_buf_free(&txt);
	cJSON_ArrayForEach(b, arr) {
		id = ca_jstr(b, "file_id");
		if (id == NULL)
			id = ca_jstr(ca_jobj(b, "source"), "file_id");
		if (id == NULL)
			continue;
		F->line(T_DIM);
		F->lit("attached ");
		F->code(id);
		if ((fi = finfo_find(id)) != NULL && fi->name != NULL) {
			F->lit(" ");
			F->val(fi->name);
		}
		F->eol();
	}
}

/* ca-upload's error record for a path: no turn's. */
static int
upload_error(const cJSON *rec)
{
	return strcmp(nz(ca_jstr(rec, "type")), "error") == 0 &&
	    ca_jstr(rec, "path") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(rec, "custom_id") == NULL;
}

static void
show_error(const cJSON *rec)
{
	const cJSON *e = ca_jobj(rec, "error");
	double st = ca_jnum(rec, "status", 0);
	const char *rid = ca_jstr(rec, "request_id");
	char buf[64];

	F->line(T_ERR);
	if (upload_error(rec)) {
		F->lit("not uploaded ");
		F->code(ca_jstr(rec, "path"));
		F->lit(": ");
	}
	F->lit("error");
	if (st > 0) {
		snprintf(buf, sizeof(buf), " %.0f", st);
		F->lit(buf);
	}
	F->lit(" ");
	F->code(nz(ca_jstr(e, "type")));
	F->lit(": ");
	F->val(ca_jstr(e, "message") != NULL ? ca_jstr(e, "message") :
	    "(no message)");
	F->eol();
	if (rid == NULL && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
	    rec, "attempts")))
		return;
	F->line(T_DIM);
	if (rid != NULL) {
		F->lit("request id ");
		F->code(rid);
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec,
	    "attempts"))) {
		snprintf(buf, sizeof(buf), "%s%lld attempt%s",
		    rid != NULL ? ", " : "", jll(rec, "attempts", 0),
		    jll(rec, "attempts", 0) == 1 ? "" : "s");
		F->lit(buf);
	}
	F->eol();
}

static void
show_filerec(const cJSON *rec)
{
	const cJSON *meta = ca_jobj(rec, "file");
	const char *path = ca_jstr(rec, "path");
	long long size = jll(meta, "size_bytes", -1);
	char buf[64];

	finfo_note(rec, 0);
	F->line(T_OK);
	F->lit("uploaded ");
	F->code(path != NULL ? path : nz(ca_jstr(meta, "filename")));
	F->lit(" \xe2\x86\x92 ");
	F->code(nz(ca_jstr(meta, "id")));
	if (size >= 0) {
		snprintf(buf, sizeof(buf), " (%lld bytes)", size);
		F->lit(buf);
	}
	F->eol();
}

static void
show_fetched(const cJSON *rec)
{
	struct finfo *fi = finfo_note(rec, 1);
	const char *id = ca_jstr(ca_jobj(rec, "file"), "id");
	long long size = jll(rec, "size", -1);
	char buf[64];

	F->line(T_OK);
	F->lit("fetched ");
	F->code(nz(id));
	F->lit(" \xe2\x86\x92 ");
	F->code(nz(ca_jstr(rec, "path")));
	if (size >= 0) {
		snprintf(buf, sizeof(buf), " (%lld bytes)", size);
		F->lit(buf);
	}
	F->eol();
	if (fi != NULL && fi->fetched && !fi->shown && F->file != NULL) {
		F->file(fi);
		fi->shown = 1;
	}
}

static void
show_deleted(const cJSON *rec)
{
	F->line(T_DIM);
	F->lit("deleted ");
	F->code(nz(ca_jstr(rec, "id")));
	if (ca_jstr(rec, "path") != NULL) {
		F->lit(" ");
		F->code(ca_jstr(rec, "path"));
	}
	F->eol();
}

/* A batch record (ca-batch): its id, status, counts and expiry. */
static void
show_batch(const cJSON *rec)
{
	const cJSON *b = ca_jobj(rec, "batch"), *c = ca_jobj(b, "request_counts");
	char buf[256];

	F->line(T_DIM);
	F->lit("batch ");
	F->code(nz(ca_jstr(b, "id")));
	F->lit(" ");
	F->val(nz(ca_jstr(b, "processing_status")));
	snprintf(buf, sizeof(buf), ": %lld processing, %lld succeeded, "
	    "%lld errored, %lld canceled, %lld expired",
	    jll(c, "processing", 0), jll(c, "succeeded", 0),
	    jll(c, "errored", 0), jll(c, "canceled", 0), jll(c, "expired", 0));
	F->lit(buf);
	if (ca_jstr(b, "expires_at") != NULL) {
		F->lit("; expires ");
		F->val(ca_jstr(b, "expires_at"));
	}
	F->eol();
}

static void
show_other(const char *type)
{
	line_lc(T_DIM, "[unknown record: ", type, "]");
}

/* ---- Turns ---- */

static int
final(const cJSON *msg)
{
	const char *stop = ca_jstr(msg, "stop_reason");

	return stop == NULL || strcmp(stop, "pause_turn") != 0;
}

/*
 * The turn a custom_id names.  A request, or the first part of a
 * response, after the turn ended starts a new turn with the same id:
 * a chat may reuse ids.
 */
static struct turn *
turn_get(const char *cid, int fresh)
{
	struct turn *tn;
	unsigned h;

	if (cid == NULL)
		cid = "";
	h = hashstr(cid) % 4096;
	for (tn = thash[h]; tn != NULL; tn = tn->hnext)
		if (strcmp(tn->cid, cid) == 0)
			break;
	if (tn != NULL && !(fresh && tn->closed))
		return tn;
	tn = ca_xcalloc(1, sizeof(*tn));
	tn->cid = ca_xstrdup(cid);
	tn->hnext = thash[h];
	thash[h] = tn;
	*lastturn = tn;
	lastturn = &tn->next;
	return tn;
}

static const char *
turn_name(const struct turn *tn)
{
	return tn->cid[0] != '\0' ? tn->cid : "(no custom_id)";
}

static void
live_free(struct live *lv)
{
	size_t i;

	for (i = 0; i < lv->nb; i++) {
		cJSON_Delete(lv->b[i].start);
		ca_buf_free(&lv->b[i].json);
		ca_buf_free(&lv->b[i].think);
	}
	free(lv->b);
	free(lv);
}

static void
turns_free(void)
{
	struct turn *tn, *n;
	struct live *lv, *ln;
	size_t i;

	for (tn = turns; tn != NULL; tn = n) {
		n = tn->next;
		for (lv = tn->live; lv != NULL; lv = ln) {
			ln = lv->next;
			live_free(lv);
		}
		for (i = 0; i < tn->nrec; i++)
			cJSON_Delete(tn->recs[i]);
		free(tn->recs);
		tally_free(&tn->t);
		ca_buf_free(&tn->last);
		free(tn->cid);
		free(tn);
	}
}

/* The terminal shows which turn a line belongs to whenever that changes. */
static void
enter(struct turn *tn)
{
	if (tn == cur)
		return;
	F->heading(2, "turn ", turn_name(tn));
	cur = tn;
}

/* -r: the text blocks of a message, joined as the model wrote them. */
static void
keep_text(struct turn *tn, const cJSON *msg)
{
	const cJSON *b;
	int gap = 0;

	ca_buf_reset(&tn->last);
	tn->haslast = 1;
	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		if (ca_blk_kind(b) != CA_BLK_TEXT) {
			gap = 1;
			continue;
		}
		/* Structured output: the answer is the last text block
		 * alone, so that jq can read it. */
		if (tn->structured)
			ca_buf_reset(&tn->last);
		if (gap && tn->last.len > 0 &&
		    tn->last.p[tn->last.len - 1] != '\n')
			ca_buf_add(&tn->last, "\n", 1);
		gap = 0;
		if (ca_buf_addstr(&tn->last, nz(ca_jstr(b, "text"))) == -1)
			ca_die(CA_EX_FAIL, "%s: text too large", turn_name(tn));
	}
}

static void
write_last(struct turn *tn)
{
	if (!tn->haslast || tn->last.len == 0)
		return;
	out(tn->last.p, tn->last.len);
	if (tn->last.p[tn->last.len - 1] != '\n')
		out("\n", 1);
	ca_buf_reset(&tn->last);
	tn->haslast = 0;
}

static void
turn_summary(struct turn *tn)
{
	if (tn->t.responses == 0 && tn->t.errors == 0)
		return;
	F->heading(3, "Summary of turn ", turn_name(tn));
	show_tally(&tn->t);
	tally_merge(&total, &tn->t);
	tally_free(&tn->t);
	nturns++;
}

static void
turn_close(struct turn *tn)
{
	tn->closed = 1;
	if (rflag)
		write_last(tn);
	else
		turn_summary(tn);
}

/* ---- Live: stream events as they arrive ---- */

static struct live *
live_get(struct turn *tn, int part, int create)
{
	struct live *lv;

	for (lv = tn->live; lv != NULL; lv = lv->next)
		if (lv->part == part)
			return lv;
	if (!create)
		return NULL;
	lv = ca_xcalloc(1, sizeof(*lv));
	lv->part = part;
	lv->next = tn->live;
	tn->live = lv;
	return lv;
}

static void
live_drop(struct turn *tn, struct live *lv)
{
	struct live **pp;

	for (pp = &tn->live; *pp != NULL; pp = &(*pp)->next)
		if (*pp == lv) {
			*pp = lv->next;
			live_free(lv);
			return;
		}
}

static struct lblk *
live_blk(struct live *lv, const cJSON *ev, int create)
{
	double d = ca_jnum(ev, "index", -1);
	size_t i;

	if (d < 0 || d >= BLOCKS_MAX)
		return NULL;
	i = (size_t)d;
	if (i >= lv->nb) {
		if (!create)
			return NULL;
		lv->b = ca_xrealloc(lv->b, (i + 1) * sizeof(*lv->b));
		memset(lv->b + lv->nb, 0, (i + 1 - lv->nb) * sizeof(*lv->b));
		lv->nb = i + 1;
	}
	return &lv->b[i];
}

static void
live_start(struct turn *tn, struct lblk *lb, const cJSON *b)
{
	const char *t;

	cJSON_Delete(lb->start);
	ca_buf_free(&lb->json);
	ca_buf_free(&lb->think);
	memset(lb, 0, sizeof(*lb));
	lb->think.max = THINK_BYTES * 4;
	lb->kind = ca_blk_kind(b);
	switch (lb->kind) {
	case CA_BLK_TEXT:
		t = nz(ca_jstr(b, "text"));
		if (*t != '\0') {
			enter(tn);
			F->text(t, strlen(t));
			lb->textlen = strlen(t);
		}
		break;
	case CA_BLK_THINKING:
		ca_buf_addstr(&lb->think, nz(ca_jstr(b, "thinking")));
		break;
	case CA_BLK_TOOL_USE:
	case CA_BLK_SERVER_TOOL_USE:
	case CA_BLK_MCP_TOOL_USE:
		lb->start = cJSON_Duplicate(b, 1);
		break;
	default:
		/* Results arrive whole in their start event. */
		enter(tn);
		show_block(b);
		lb->shown = 1;
		break;
	}
}

static void
live_delta(struct turn *tn, struct lblk *lb, const cJSON *d)
{
	const char *dt = nz(ca_jstr(d, "type")), *s;

	if (strcmp(dt, "text_delta") == 0 && lb->kind == CA_BLK_TEXT) {
		s = nz(ca_jstr(d, "text"));
		enter(tn);
		F->text(s, strlen(s));
		lb->textlen += strlen(s);
	} else if (strcmp(dt, "input_json_delta") == 0) {
		if (ca_buf_addstr(&lb->json, nz(ca_jstr(d, "partial_json")))
		    == -1)
			ca_warn("tool input too large; shown from the "
			    "response");
	} else if (strcmp(dt, "thinking_delta") == 0)
		(void)ca_buf_addstr(&lb->think, nz(ca_jstr(d, "thinking")));
}

/* A tool call is shown once its input is complete. */
static void
live_stop(struct turn *tn, struct lblk *lb)
{
	cJSON *in;

	switch (lb->kind) {
	case CA_BLK_THINKING:
		enter(tn);
		show_thinking(lb->think.p);
		lb->shown = 1;
		break;
	case CA_BLK_TOOL_USE:
	case CA_BLK_SERVER_TOOL_USE:
	case CA_BLK_MCP_TOOL_USE:
		if (lb->start == NULL)
			break;
		in = lb->json.len > 0 ? ca_jparse(lb->json.p, lb->json.len) :
		    cJSON_CreateObject();
		if (in == NULL)
			break;		/* the response will show it */
		if (!cJSON_ReplaceItemInObjectCaseSensitive(lb->start, "input",
		    in))
			cJSON_AddItemToObject(lb->start, "input", in);
		enter(tn);
		show_block(lb->start);
		lb->shown = 1;
		break;
	default:
		break;
	}
}

static void
live_event(const cJSON *rec)
{
	const cJSON *ev = ca_jobj(rec, "event");
	const char *et = ca_jstr(ev, "type");
	int part = (int)jll(rec, "part", 1);
	struct turn *tn;
	struct live *lv;
	struct lblk *lb;

	if (et == NULL || rflag)
		return;
	tn = turn_get(ca_jstr(rec, "custom_id"), part == 1 &&
	    strcmp(et, "message_start") == 0);
	if (strcmp(et, "message_start") == 0) {
		/* A stream started over shows its blocks again. */
		if ((lv = live_get(tn, part, 0)) != NULL)
			live_drop(tn, lv);
		(void)live_get(tn, part, 1);
		return;
	}
	lv = live_get(tn, part, 1);
	if (strcmp(et, "content_block_start") == 0) {
		if ((lb = live_blk(lv, ev, 1)) != NULL)
			live_start(tn, lb, ca_jobj(ev, "content_block"));
	} else if (strcmp(et, "content_block_delta") == 0) {
		if ((lb = live_blk(lv, ev, 0)) != NULL && !lb->shown)
			live_delta(tn, lb, ca_jobj(ev, "delta"));
	} else if (strcmp(et, "content_block_stop") == 0) {
		if ((lb = live_blk(lv, ev, 0)) != NULL && !lb->shown)
			live_stop(tn, lb);
	}
}

/* ---- The terminal: records shown as they arrive ---- */

static void
stream_response(const cJSON *rec)
{
	const cJSON *msg = ca_jobj(rec, "message");
	int part = (int)jll(rec, "part", 1);
	struct turn *tn = turn_get(ca_jstr(rec, "custom_id"), part == 1);
	struct live *lv = live_get(tn, part, 0);

	if (rflag) {
		keep_text(tn, msg);
		if (final(msg))
			turn_close(tn);
		return;
	}
	enter(tn);
	show_content(msg, lv);
	show_footer(rec, msg);
	tally_message(&tn->t, msg);
	if (lv != NULL)
		live_drop(tn, lv);
	if (final(msg))
		turn_close(tn);
}

static void
stream_error(const cJSON *rec)
{
	struct turn *tn = turn_get(ca_jstr(rec, "custom_id"), 0);

	if (!rflag) {
		enter(tn);
		show_error(rec);
	}
	if (tn->closed) {
		total.errors++;
		return;
	}
	tn->t.errors++;
	turn_close(tn);
}

static void
stream_record(const struct ca_rec *rec)
{
	const cJSON *j = rec->json;
	const char *t = rec->type, *cid = ca_jstr(j, "custom_id");

	ca_status_rec(&xst, j);
	if (strcmp(t, "event") == 0)
		live_event(j);
	else if (strcmp(t, "response") == 0)
		stream_response(j);
	else if (upload_error(j)) {
		if (!rflag)
			show_error(j);
	} else if (strcmp(t, "error") == 0)
		stream_error(j);
	else if (rflag) {
		if (strcmp(t, "file") == 0 || strcmp(t, "fetched") == 0)
			finfo_note(j, strcmp(t, "fetched") == 0);
		else if (strcmp(t, "request") == 0)
			turn_get(cid, 1)->structured = ca_jobj(ca_jobj(ca_jobj(
			    j, "params"), "output_config"), "format") != NULL;
	} else if (strcmp(t, "count") == 0) {
		if (cid != NULL)
			enter(turn_get(cid, 0));
		show_count(j);
	} else if (strcmp(t, "request") == 0) {
		enter(turn_get(cid, 1));
		show_request(j);
	} else if (strcmp(t, "file") == 0)
		show_filerec(j);
	else if (strcmp(t, "fetched") == 0) {
		if (cid != NULL)
			enter(turn_get(cid, 0));
		show_fetched(j);
	} else if (strcmp(t, "deleted") == 0)
		show_deleted(j);
	else if (strcmp(t, "batch") == 0)
		show_batch(j);
	else
		show_other(t);
}

static void
stream_end(void)
{
	struct turn *tn;
	char buf[64];

	for (tn = turns; tn != NULL; tn = tn->next) {
		if (tn->closed)
			continue;
		if (rflag)
			write_last(tn);
		else
			turn_summary(tn);
	}
	if (!rflag && nturns > 1) {
		snprintf(buf, sizeof(buf), "Summary of all %ld turns", nturns);
		F->heading(3, buf, NULL);
		show_tally(&total);
	}
	F->finish();
}

/* ---- Reports: the whole input, grouped by turn ---- */

static cJSON **others;
static size_t nothers, capothers;

static void
push(cJSON ***v, size_t *n, size_t *cap, cJSON *j)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = ca_xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = j;
}

/*
 * Keep a record past the next read.  The reader owns the object it
 * parsed, so its members move to a new object and the reader frees an
 * empty one.
 */
static cJSON *
take(cJSON *j)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		ca_die(CA_EX_FAIL, "out of memory");
	o->child = j->child;
	j->child = NULL;
	return o;
}

static void
doc_collect(const struct ca_rec *rec)
{
	cJSON *j = take(rec->json);
	const char *t = ca_jstr(j, "type");
	const cJSON *cidj = cJSON_GetObjectItemCaseSensitive(j, "custom_id");
	const char *cid = ca_jstr(j, "custom_id");
	int part = (int)jll(j, "part", 1), fresh = 0, close = 0;
	struct turn *tn;

	ca_status_rec(&xst, j);
	if (strcmp(t, "file") == 0)
		finfo_note(j, 0);
	else if (strcmp(t, "fetched") == 0)
		finfo_note(j, 1);
	if (strcmp(t, "request") == 0)
		fresh = 1;
	else if (strcmp(t, "response") == 0) {
		fresh = part == 1;
		close = final(ca_jobj(j, "message"));
	} else if (strcmp(t, "event") == 0)
		fresh = part == 1 && strcmp(nz(ca_jstr(ca_jobj(j, "event"),
		    "type")), "message_start") == 0;
	else if (strcmp(t, "error") == 0 && !upload_error(j))
		close = 1;
	else if (strcmp(t, "file") == 0 || strcmp(t, "deleted") == 0 ||
	    cidj == NULL || upload_error(j)) {
		push(&others, &nothers, &capothers, j);
		return;
	}
	tn = turn_get(cid, fresh);
	push(&tn->recs, &tn->nrec, &tn->caprec, j);
	if (close)
		tn->closed = 1;
}

static int
has_response(const struct turn *tn, int part)
{
	size_t i;

	for (i = 0; i < tn->nrec; i++)
		if (strcmp(nz(ca_jstr(tn->recs[i], "type")), "response") == 0 &&
		    jll(tn->recs[i], "part", 1) == part)
			return 1;
	return 0;
}

/* A stream with no response record (it broke off) is shown as far as it got. */
static void
doc_stream(struct turn *tn, size_t from, int part)
{
	struct ca_msg *m = ca_msg_new();
	const cJSON *ev;
	const char *et;
	cJSON *msg;
	size_t i;

	for (i = from; i < tn->nrec; i++) {
		if (strcmp(nz(ca_jstr(tn->recs[i], "type")), "event") != 0 ||
		    jll(tn->recs[i], "part", 1) != part)
			continue;
		ev = ca_jobj(tn->recs[i], "event");
		et = nz(ca_jstr(ev, "type"));
		if (strcmp(et, "message_start") == 0 && i > from) {
			ca_msg_free(m);
			m = ca_msg_new();
		}
		if (ca_msg_event(m, et, ev) == -1)
			break;
	}
	msg = ca_msg_take(m);
	ca_msg_free(m);
	line1(T_WARN, "the stream ended without a response; shown as far as "
	    "it arrived");
	if (msg != NULL) {
		show_content(msg, NULL);
		show_footer(tn->recs[from], msg);
		tally_message(&tn->t, msg);
		cJSON_Delete(msg);
	}
}

static void
doc_turn(struct turn *tn)
{
	const cJSON *j;
	const char *t;
	int *seen = NULL, part;
	size_t nseen = 0, i, k;
	char buf[32];

	F->heading(2, "Turn ", turn_name(tn));
	for (i = 0; i < tn->nrec; i++) {
		j = tn->recs[i];
		t = nz(ca_jstr(j, "type"));
		part = (int)jll(j, "part", 1);
		if (strcmp(t, "request") == 0)
			show_request(j);
		else if (strcmp(t, "response") == 0) {
			if (part > 1) {
				snprintf(buf, sizeof(buf), "Part %d", part);
				F->heading(3, buf, NULL);
			}
			show_content(ca_jobj(j, "message"), NULL);
			show_footer(j, ca_jobj(j, "message"));
			tally_message(&tn->t, ca_jobj(j, "message"));
		} else if (strcmp(t, "event") == 0) {
			for (k = 0; k < nseen && seen[k] != part; k++)
				;
			if (k < nseen)
				continue;
			seen = ca_xrealloc(seen, (nseen + 1) * sizeof(*seen));
			seen[nseen++] = part;
			if (!has_response(tn, part))
				doc_stream(tn, i, part);
		} else if (strcmp(t, "error") == 0) {
			show_error(j);
			tn->t.errors++;
		} else if (strcmp(t, "fetched") == 0)
			show_fetched(j);
		else if (strcmp(t, "deleted") == 0)
			show_deleted(j);
		else if (strcmp(t, "count") == 0)
			show_count(j);
		else
			show_other(t);
	}
	free(seen);
	turn_summary(tn);
}

static void
doc_render(void)
{
	struct turn *tn;
	size_t i;
	int files = 0;
	const char *t;
	char buf[64];

	F->start();
	for (i = 0; i < nothers; i++)
		if (strcmp(nz(ca_jstr(others[i], "type")), "file") == 0 ||
		    upload_error(others[i])) {
			if (!files++)
				F->heading(2, "Uploaded files", NULL);
			if (upload_error(others[i]))
				show_error(others[i]);
			else
				show_filerec(others[i]);
		}
	for (tn = turns; tn != NULL; tn = tn->next)
		doc_turn(tn);
	if ((size_t)files < nothers)
		F->heading(2, "Other records", NULL);
	for (i = 0; i < nothers; i++) {
		t = nz(ca_jstr(others[i], "type"));
		if (strcmp(t, "file") == 0 || upload_error(others[i]))
			continue;
		if (strcmp(t, "fetched") == 0)
			show_fetched(others[i]);
		else if (strcmp(t, "deleted") == 0)
			show_deleted(others[i]);
		else if (strcmp(t, "batch") == 0)
			show_batch(others[i]);
		else
			show_other(t);
	}
	/* One turn has its own summary already: not a second, the same. */
	if (nturns > 1) {
		snprintf(buf, sizeof(buf), "Summary of %ld turn%s", nturns,
		    nturns == 1 ? "" : "s");
		F->heading(2, buf, NULL);
		show_tally(&total);
	}
	F->finish();
	for (i = 0; i < nothers; i++)
		cJSON_Delete(others[i]);
	free(others);
}

/* ---- Main ---- */

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: %s [-hrsv] [-C when] [-d dir] [-f format] [-o file] "
	    "[--no-thinking]\n"
	    "       %s --version\n"
	    "  -f, --format=FORMAT  text (default), markdown or html\n"
	    "  -C, --color=WHEN     auto (default), always or never\n"
	    "  -d, --dir=DIR        html: embed only images inside DIR "
	    "(default .)\n"
	    "  -o, --output=FILE    write to FILE; links are relative to it\n"
	    "  -r, --raw            only the model's final text of each turn\n"
	    "                       (with structured output: its JSON alone)\n"
	    "      --no-thinking    leave thinking blocks out\n"
	    "  -s, --stdout         only what the code printed\n"
	    "  -v, --verbose        notes on standard error\n"
	    "  -h, --help           this help\n"
	    "      --version        print the version and exit\n", ca_prog,
	    ca_prog);
	exit(status);
}

static const struct fmt *
pick_format(const char *s)
{
	if (strcmp(s, "text") == 0)
		return &fmt_text;
	if (strcmp(s, "markdown") == 0 || strcmp(s, "md") == 0)
		return &fmt_md;
	if (strcmp(s, "html") == 0)
		return &fmt_html;
	ca_warn("unknown format \"%s\" (text, markdown or html)", s);
	usage(stderr, CA_EX_USAGE);
}

static int
pick_color(const char *when)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (strcmp(when, "always") == 0)
		return 1;
	if (strcmp(when, "never") == 0)
		return 0;
	if (strcmp(when, "auto") != 0) {
		ca_warn("unknown --color value \"%s\" (auto, always or never)",
		    when);
		usage(stderr, CA_EX_USAGE);
	}
	return isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* -o: write there, and link fetched files from there. */
static void
set_output(const char *path)
{
	const char *sl = strrchr(path, '/');

	if (*path == '\0' || freopen(path, "w", stdout) == NULL) {
		char *sp = ca_sanitize(path, 0);

		ca_die(CA_EX_USAGE, "-o %s:", sp);
	}
	if (sl == NULL)
		linkdir = ca_xstrdup(".");
	else {
		linkdir = ca_xstrdup(path);
		linkdir[sl - path + (sl == path)] = '\0';
	}
}

/* Options; on return F, color, rflag and sflag are set. */
static void
options(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "raw", no_argument, NULL, 'r' },
		{ "no-thinking", no_argument, NULL, 'N' },
		{ "stdout", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *when = "auto", *opath = NULL;
	int ch, i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			usage(stdout, 0);
	F = &fmt_text;
	while ((ch = getopt_long(argc, argv, "C:d:f:ho:rsv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			when = optarg != NULL ? optarg : "always";
			break;
		case 'd':
			emb_close();
			emb.dir = optarg;
			if (emb_open() == -1) {
				errno = emb.err;
				ca_warn("-d %s:", optarg);
				usage(stderr, CA_EX_USAGE);
			}
			break;
		case 'f':
			F = pick_format(optarg);
			break;
		case 'h':
			usage(stdout, 0);
		case 'o':
			opath = optarg;
			break;
		case 'r':
			rflag = 1;
			break;
		case 'N':
			nothink = 1;
			break;
		case 's':
			sflag = 1;
			break;
		case 'v':
			ca_verbose++;
			break;
		case 'V':
			ca_version(NULL);
		default:
			usage(stderr, CA_EX_USAGE);
		}
	}
	if (optind < argc) {
		ca_warn("unexpected operand \"%s\": records come on standard "
		    "input", argv[optind]);
		usage(stderr, CA_EX_USAGE);
	}
	if ((rflag || sflag) && F != &fmt_text) {
		ca_warn("-r and --stdout go with the text format only");
		usage(stderr, CA_EX_USAGE);
	}
	if (rflag && sflag) {
		ca_warn("-r and --stdout exclude each other");
		usage(stderr, CA_EX_USAGE);
	}
	if (opath != NULL)
		set_output(opath);
	color = pick_color(when) && F == &fmt_text && !rflag && !sflag;
	if (sflag)
		F = &fmt_raw;
}

static void
cleanup(void)
{
	size_t i;

	turns_free();
	tally_free(&total);
	free(linkdir);
	finfo_freeall();
	emb_close();
	for (i = 0; i < EDIT_IDS; i++) {
		free(edits[i].id);
		free(edits[i].path);
	}
}

int
main(int argc, char *argv[])
{
	struct ca_reader *rd;
	struct ca_rec rec;
	long nrec = 0, nbad = 0;
	int r, doc, status;

	ca_setprog(argv[0]);
	argv[0] = (char *)ca_prog;	/* getopt names it in its messages */
	options(argc, argv);
	doc = F == &fmt_md || F == &fmt_html;
	rd = ca_reader_new(stdin, "stdin");
	while ((r = ca_reader_next(rd, &rec)) != 0) {
		if (r == -1) {
			nbad++;
			continue;
		}
		nrec++;
		if (doc)
			doc_collect(&rec);
		else {
			stream_record(&rec);
			flush();
		}
	}
	if (ca_reader_failed(rd))
		nbad++;
	ca_reader_free(rd);
	if (doc)
		doc_render();
	else
		stream_end();
	ca_note("%ld record%s, %ld turn%s, %ld bad line%s", nrec,
	    nrec == 1 ? "" : "s", nturns, nturns == 1 ? "" : "s", nbad,
	    nbad == 1 ? "" : "s");
	if (nbad > 0)
		ca_status_add(&xst, CA_EX_FAIL);
	status = ca_status_exit(&xst);
	cleanup();
	return ca_finish(status);
}
