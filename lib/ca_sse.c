/*
 * ca_sse.c: an incremental text/event-stream parser.
 *
 * It follows the WHATWG rules for framing (LF, CRLF or CR line ends, a
 * leading BOM, comments, one optional space after the colon) but, like
 * the official SDK, hands on only events that carry an event: name.
 * Each byte is looked at once: a feed scans only what it was given, and
 * the buffers grow geometrically, so a multi-megabyte event costs the
 * same at any chunk size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

struct ca_sse {
	ca_sse_fn	 fn;
	void		*ctx;
	size_t		 max;	/* caps a line, and an event's data */
	struct ca_buf	 line;	/* a line begun in an earlier feed */
	struct ca_buf	 data;	/* the event's data lines, joined */
	struct ca_buf	 event;	/* the event's name */
	int		 hasdata; /* a data: line was seen */
	int		 bom;	/* leading BOM bytes matched; 3 done */
	int		 lastcr; /* the last line ended in CR: skip an LF */
	int		 failed;
	char		 err[64];
};

static const char bomseq[3] = { '\xef', '\xbb', '\xbf' };

struct ca_sse *
ca_sse_new(size_t maxevent, ca_sse_fn fn, void *ctx)
{
	struct ca_sse *s;

	s = ca_xcalloc(1, sizeof(*s));
	s->fn = fn;
	s->ctx = ctx;
	s->max = maxevent ? maxevent : CA_LINE_MAX;
	/* The buffers enforce the cap on what is kept across feeds. */
	s->line.max = s->data.max = s->event.max = s->max;
	return s;
}

void
ca_sse_free(struct ca_sse *s)
{
	if (s == NULL)
		return;
	ca_buf_free(&s->line);
	ca_buf_free(&s->data);
	ca_buf_free(&s->event);
	free(s);
}

const char *
ca_sse_error(const struct ca_sse *s)
{
	return s->failed ? s->err : NULL;
}

static int
fail(struct ca_sse *s, const char *msg)
{
	s->failed = 1;
	snprintf(s->err, sizeof(s->err), "%s", msg);
	return -1;
}

static int
toolarge(struct ca_sse *s)
{
	s->failed = 1;
	snprintf(s->err, sizeof(s->err), "event larger than %zu bytes",
	    s->max);
	return -1;
}

static int
dispatch(struct ca_sse *s)
{
	int rv = 0;

	/* An event without a name is dropped, as the SDK drops it. */
	if (s->event.len > 0)
		rv = s->fn(s->ctx, s->event.p, s->data.p != NULL ?
		    s->data.p : "", s->data.len);
	ca_buf_reset(&s->event);
	ca_buf_reset(&s->data);
	s->hasdata = 0;
	if (rv != 0)
		return fail(s, "aborted by caller");
	return 0;
}

/* Handle one complete line, without its line end. */
static int
field(struct ca_sse *s, const char *p, size_t n)
{
	const char *colon, *v;
	size_t klen, vlen;

	if (n == 0)
		return dispatch(s);
	if (p[0] == ':')
		return 0;
	if ((colon = memchr(p, ':', n)) != NULL) {
		klen = colon - p;
		v = colon + 1;
		vlen = n - klen - 1;
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
	} else {
		klen = n;
		v = "";
		vlen = 0;
	}
	if (klen == 5 && memcmp(p, "event", 5) == 0) {
		ca_buf_reset(&s->event);
		if (ca_buf_add(&s->event, v, vlen) == -1)
			return toolarge(s);
	} else if (klen == 4 && memcmp(p, "data", 4) == 0) {
		if ((s->hasdata && ca_buf_add(&s->data, "\n", 1) == -1) ||
		    ca_buf_add(&s->data, v, vlen) == -1)
			return toolarge(s);
		s->hasdata = 1;
	}
	/* id, retry and anything else mean nothing to us. */
	return 0;
}

/*
 * Split p into lines.  A line wholly inside this chunk is handled in
 * place; only a line's unfinished tail is copied, to be completed by
 * later feeds.
 */
static int
lines(struct ca_sse *s, const char *p, size_t n)
{
	const char *end = p + n, *q;
	int rv;

	while (p < end) {
		if (s->lastcr) {
			s->lastcr = 0;
			if (*p == '\n') {
				p++;
				continue;
			}
		}
		for (q = p; q < end && *q != '\n' && *q != '\r'; q++)
			;
		if ((size_t)(q - p) > s->max - s->line.len)
			return toolarge(s);
		if (q == end)
			return ca_buf_add(&s->line, p, q - p) == -1 ?
			    toolarge(s) : 0;
		if (s->line.len > 0) {
			if (ca_buf_add(&s->line, p, q - p) == -1)
				return toolarge(s);
			rv = field(s, s->line.p, s->line.len);
			ca_buf_reset(&s->line);
		} else
			rv = field(s, p, q - p);
		if (rv == -1)
			return -1;
		s->lastcr = *q == '\r';
		p = q + 1;
	}
	return 0;
}

int
ca_sse_feed(struct ca_sse *s, const char *p, size_t n)
{
	int k;

	if (s->failed)
		return -1;
	/* The BOM may itself arrive split across feeds. */
	while (s->bom < 3 && n > 0) {
		if (*p != bomseq[s->bom]) {
			/* Not a BOM after all: the bytes matched are data. */
			k = s->bom;
			s->bom = 3;
			if (k > 0 && lines(s, bomseq, k) == -1)
				return -1;
			break;
		}
		s->bom++;
		p++;
		n--;
	}
	return lines(s, p, n);
}
