/*
 * text.c: the terminal back end, written as records arrive: one line
 * per event, blocks indented below a label, ANSI colour when asked.
 * --stdout's back end, which keeps only what the code printed, is here
 * too.
 */
#include <stdio.h>
#include <string.h>

#include "ca-render.h"

static enum tone ltone;			/* the current line's tone */

static void
sgr(enum tone t)
{
	static const char *codes[] = {
		"0", "2", "1", "36", "32", "33", "31"
	};

	char esc[8];

	if (g.color) {
		snprintf(esc, sizeof(esc), "\033[%sm", codes[t]);
		out_ctl(esc);
	}
}

static void
sgr_off(void)
{
	if (g.color)
		out_ctl("\033[0m");
}

static void
txt_heading(int level, const char *lit, const char *val)
{
	blankline();
	sgr(T_HEAD);
	render_outs(level <= 2 ? "\xe2\x94\x81\xe2\x94\x81 " : "\xe2\x94\x80 ");
	render_outs(lit);
	if (val != NULL)
		clean(val, strlen(val), 1, render_out);
	if (level <= 2)
		render_outs(" \xe2\x94\x81\xe2\x94\x81");
	sgr_off();
	render_out("\n", 1);
}

static void
txt_line(enum tone t)
{
	newline();
	sgr(t);
	ltone = t;
}

static void
txt_val(const char *s)
{
	clean(s, strlen(s), 1, render_out);
}

static void
txt_code(const char *s)
{
	if (g.color)
		out_ctl("\033[1m");
	clean(s, strlen(s), 1, render_out);
	if (g.color) {
		out_ctl("\033[22m");
		sgr(ltone);
	}
}

static void
txt_eol(void)
{
	sgr_off();
	render_out("\n", 1);
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
		render_outs(label);
		render_outs(":");
		sgr_off();
		render_out("\n", 1);
	}
	if (k == BK_PROMPT)
		sgr(T_HEAD);
	clean_indented(k == BK_PROMPT ? "> " : "  ", s, n);
	if (k == BK_PROMPT)
		sgr_off();
	newline();
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
		raw_out(s, n);
}

const struct fmt fmt_text = {
	.name = "text",
	.brief = 1,
	.start = nop,
	.finish = nop,
	.heading = txt_heading,
	.text = out_text,
	.text_end = newline,
	.line = txt_line,
	.lit = render_outs,
	.val = txt_val,
	.code = txt_code,
	.eol = txt_eol,
	.block = txt_block,
	.file = NULL
};

const struct fmt fmt_raw = {
	.name = "stdout",
	.brief = 1,
	.start = nop,
	.finish = nop,
	.heading = nop_heading,
	.text = nop_text,
	.text_end = nop,
	.line = nop_line,
	.lit = nop_str,
	.val = nop_str,
	.code = nop_str,
	.eol = nop,
	.block = raw_block,
	.file = NULL
};
