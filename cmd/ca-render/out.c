/*
 * out.c: ca-render's output layer.  Everything it writes goes through
 * render_out(), which keeps track of the newlines that end the output so far,
 * so that a back end can ask for a new line or a blank one without
 * doubling either.  Writing and its errors are lib's (ca_out).
 *
 * Everything shown came from the model, its code, the server or a file,
 * so clean() makes visible every byte that could act on a terminal
 * before a back end escapes what is left for its own reader.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-render.h"

struct ropts g;

static int trail = 2;			/* '\n's ending the output so far */
static const char *indent;		/* clean_indented: the line prefix */

void
render_out(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	ca_out(s, n);
	for (i = n; i > 0 && s[i - 1] == '\n' && n - i < 2; i--)
		;
	if (i == n)
		trail = 0;
	else if (i == 0)
		trail = trail + (int)n > 2 ? 2 : trail + (int)n;
	else
		trail = (int)(n - i);
}

void
render_outs(const char *s)
{
	render_out(s, strlen(s));
}

void
render_outf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	render_outs(buf);
}

/* A new line unless at the start of one; a blank line for paragraphs. */
void
newline(void)
{
	if (trail == 0)
		render_out("\n", 1);
}

void
blankline(void)
{
	while (trail < 2)
		render_out("\n", 1);
}

/*
 * Pass untrusted text to put with every byte that could act on a
 * terminal made visible: C0 and C1 controls, DEL and malformed UTF-8
 * become \xNN (\u00NN for C1).  \n and \t stay unless oneline; a \r
 * before \n is dropped, as a terminal would show nothing for it.
 */
void
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
size_t
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

/* Untrusted many-liner s, as it is but for what clean() makes visible. */
/*
 * -r and --stdout: the model's text or the code's output as it is, for
 * a pipe; but a terminal would act on what it holds (ESC]52 sets the
 * clipboard, ESC[2J clears the screen), so there it is cleaned.
 */
void
raw_out(const char *s, size_t n)
{
	if (g.tty)
		clean(s, n, 0, render_out);
	else
		render_out(s, n);
}

void
out_text(const char *s, size_t n)
{
	clean(s, n, 0, render_out);
}

/* Block content: each line behind the indent. */
static void
indented(const char *s, size_t n)
{
	const char *nl;

	while (n > 0) {
		if (trail > 0)
			render_outs(indent);
		nl = memchr(s, '\n', n);
		if (nl == NULL) {
			render_out(s, n);
			return;
		}
		render_out(s, (size_t)(nl - s) + 1);
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
}

/* Untrusted many-liner s, each line behind prefix ("> " quotes it). */
void
clean_indented(const char *prefix, const char *s, size_t n)
{
	indent = prefix;
	clean(s, n, 0, indented);
}

/* Terminal control sequences: not text, so no line is begun or ended. */
void
out_ctl(const char *s)
{
	ca_out(s, strlen(s));
}

/* ---- Small helpers ---- */

const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* A JSON number as a long long, or dflt when absent or not a number. */
long long
jll(const cJSON *o, const char *key, long long dflt)
{
	double d = ca_jnum(o, key, (double)dflt);

	return d >= -9e18 && d <= 9e18 ? (long long)d : dflt;
}

/*
 * The first bytes of s, cut at a UTF-8 boundary, with at most maxlines
 * lines; "..." marks a cut.  oneline joins the lines with spaces.
 */
char *
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

int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

unsigned
hashstr(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

void
setstr(char **dst, const char *s)
{
	if (s == NULL)
		return;
	free(*dst);
	*dst = ca_xstrdup(s);
}

/* One line in tone t that is lit alone, in whichever format. */
void
line1(enum tone t, const char *lit)
{
	g.fmt->line(t);
	g.fmt->lit(lit);
	g.fmt->eol();
}
