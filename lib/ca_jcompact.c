/*
 * ca_jcompact.c: one JSON text onto one line, its value unchanged.
 *
 * cJSON_Minify cannot be trusted with a server's text: it loses track of
 * a string that ends in a backslash and stops at a NUL.  This is a small
 * state machine instead: white space between tokens is dropped, strings
 * are copied escape by escape, and a raw control byte inside a string
 * (which a lenient parser would take as itself) is written as a \u00XX
 * escape, the same value, so no newline can ever reach the output.
 */
#include <string.h>

#include "ca.h"

static int
ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
ca_jcompact(struct ca_buf *out, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)src;
	size_t i, run;
	int instr = 0;
	char esc[6];

	for (i = 0; i < n; ) {
		if (!instr) {
			if (ws(p[i])) {
				i++;
				continue;
			}
			if (p[i] == '\0')
				return -1;
			if (p[i] == '"')
				instr = 1;
			/* Copy a run of token bytes at once. */
			for (run = i + 1; !instr && run < n && !ws(p[run]) &&
			    p[run] != '"' && p[run] != '\0'; run++)
				;
			if (ca_buf_add(out, p + i, run - i) == -1)
				return -1;
			i = run;
			continue;
		}
		/* Inside a string: copy up to a quote, backslash or control. */
		for (run = i; run < n && p[run] != '"' && p[run] != '\\' &&
		    p[run] >= 0x20; run++)
			;
		if (ca_buf_add(out, p + i, run - i) == -1)
			return -1;
		i = run;
		if (i == n)
			break;
		if (p[i] == '"') {
			instr = 0;
			if (ca_buf_add(out, "\"", 1) == -1)
				return -1;
			i++;
		} else if (p[i] == '\\') {
			/* An escape is two bytes; \uXXXX's digits follow as text. */
			if (i + 1 == n || p[i + 1] < 0x20)
				return -1;
			if (ca_buf_add(out, p + i, 2) == -1)
				return -1;
			i += 2;
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			if (ca_buf_add(out, esc, 6) == -1)
				return -1;
			i++;
		}
	}
	return instr ? -1 : 0;
}
