/*
 * ca_pace.c: pacing requests to the API's rate limits, so that a big
 * run holds a request back rather than send it into a certain 429.
 *
 * The API enforces each limit (requests, input tokens, output tokens
 * per minute) as a token bucket that refills continuously, and says
 * with every answer how much is left and when the bucket will be full
 * again.  We keep a copy of each bucket: set from those headers when an
 * answer comes, refilled at limit/60 a second, drawn down by what we
 * send.  The remaining counts already hold the requests in flight (the
 * server counts a request as it arrives), so each answer simply
 * replaces our reckoning.  Limits set by hand (--rate, --tpm) are
 * buckets of their own holding one second's worth: no bursts.
 *
 * The number of requests in flight adapts too: halved on a 429 or 529
 * (once a second at most, since a burst of them is one event), grown
 * back by one for each window's worth of answers that went through.
 *
 * No libcurl calls: t/unit/pace-test drives it with made-up answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"

/* Cut the window at most this often: 64 answers of one burst are one. */
#define CUT_EVERY_S	1.0

static void
bucket_refill(struct ca_bucket *b, double now)
{
	if (b->rate <= 0)
		return;
	if (now > b->t)
		b->level += (now - b->t) * b->rate;
	if (b->level > b->cap)
		b->level = b->cap;
	b->t = now;
}

/* Seconds until need is there; a need past the bucket's size waits for
 * a full bucket, then goes (and leaves it below zero). */
static double
bucket_wait(const struct ca_bucket *b, double need)
{
	if (b->rate <= 0)
		return 0;
	if (need > b->cap)
		need = b->cap;
	return b->level >= need ? 0 : (need - b->level) / b->rate;
}

static void
bucket_hand(struct ca_bucket *b, double per_min, double now)
{
	b->limit = per_min;
	b->rate = per_min / 60;
	b->cap = b->rate > 1 ? b->rate : 1;
	b->level = b->cap;
	b->t = now;
}

void
ca_pace_init(struct ca_pace *p, int jobs, double rpm, double tpm)
{
	double now = ca_now();

	memset(p, 0, sizeof(*p));
	p->on = 1;
	p->max = jobs > 0 ? jobs : 1;
	p->window = p->max;
	if (rpm > 0)
		bucket_hand(&p->hand_req, rpm, now);
	if (tpm > 0)
		bucket_hand(&p->hand_in, tpm, now);
}

double
ca_pace_tokens(size_t body_len)
{
	/* About four bytes a token, as the API's tokenizers go for JSON
	 * and English; the headers correct the reckoning at each answer. */
	return (double)(body_len / 4 + 1);
}

int
ca_pace_room(const struct ca_pace *p, int inflight)
{
	return !p->on || inflight < (int)p->window;
}

double
ca_pace_wait(struct ca_pace *p, double now, double tokens)
{
	struct ca_bucket *b[] = { &p->req, &p->in, &p->out, &p->hand_req,
	    &p->hand_in };
	double need[] = { 1, tokens, 1, 1, tokens };
	double w = 0, x;
	size_t i;

	if (!p->on)
		return 0;
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		bucket_refill(b[i], now);
		if ((x = bucket_wait(b[i], need[i])) > w)
			w = x;
	}
	if (p->hold_until > now + w)
		w = p->hold_until - now;
	return w;
}

void
ca_pace_sent(struct ca_pace *p, double now, double tokens)
{
	ca_pace_wait(p, now, tokens);	/* refill first */
	p->req.level -= 1;
	p->hand_req.level -= 1;
	p->in.level -= tokens;
	p->hand_in.level -= tokens;
	p->out_req += 1;
	p->out_tok += tokens;
	p->nsent++;
}

/* One bucket from its three headers; a missing or bad one leaves it. */
static void
bucket_seen(struct ca_bucket *b, double now, const char *limit,
    const char *remaining, const char *reset, double out)
{
	char *e1, *e2;
	double l = strtod(limit, &e1), r = strtod(remaining, &e2);
	long long t;

	if (*limit == '\0' || *e1 != '\0' || *remaining == '\0' ||
	    *e2 != '\0' || !(l > 0) || !(r >= 0) || !isfinite(l) ||
	    !isfinite(r))
		return;
	b->limit = l;
	b->rate = l / 60;
	/*
	 * The reset time is when the bucket is full again: what is left
	 * plus what refills until then is its size, which may be less
	 * than a minute's worth (the API may enforce 60 a minute as 1 a
	 * second).  Whole seconds, so at most a second's refill too much.
	 */
	b->cap = l;
	if ((t = ca_rfc3339(reset)) != -1) {
		/* now is the monotonic clock; the reset is a date. */
		struct timespec ts;
		double c;

		clock_gettime(CLOCK_REALTIME, &ts);
		c = r + b->rate * ((double)t - ((double)ts.tv_sec +
		    ts.tv_nsec / 1e9));

		if (c < r)
			c = r;
		if (c < 1)
			c = 1;
		if (c < l)
			b->cap = c;
	}
	/*
	 * What is left, as the server counted when it answered; what we
	 * sent since, it may not have counted yet, so our own reckoning,
	 * when lower, stands.
	 */
	if (b->t == 0) {
		/* The first word on it: the requests already on their way
		 * may not be counted in it, so count them. */
		b->level = r - out;
	} else {
		bucket_refill(b, now);
		if (r < b->level)
			b->level = r;
	}
	b->t = now;
}

void
ca_pace_seen(struct ca_pace *p, double now, const struct ca_resp *r,
    double tokens)
{
	double ra;
	char *end;

	p->out_req -= 1;
	p->out_tok -= tokens;
	bucket_seen(&p->req, now, r->rl_limit, r->rl_remaining, r->rl_reset,
	    p->out_req);
	bucket_seen(&p->in, now, r->rl_in_limit, r->rl_in_remaining,
	    r->rl_in_reset, p->out_tok);
	bucket_seen(&p->out, now, r->rl_out_limit, r->rl_out_remaining,
	    r->rl_out_reset, 0);
	if (r->cc != CURLE_OK)
		return;
	if (r->status == 429 || r->status == 529) {
		if (r->status == 429)
			p->n429++;
		ra = strtod(r->retry_after, &end);
		if (r->retry_after[0] != '\0' && *end == '\0' && ra > 0 &&
		    ra <= 60 && now + ra > p->hold_until)
			p->hold_until = now + ra;
		if (now - p->last_cut >= CUT_EVERY_S && p->window > 1) {
			p->window = floor(p->window / 2);
			if (p->window < 1)
				p->window = 1;
			p->last_cut = now;
			p->ncut++;
		}
	} else if (r->status >= 200 && r->status < 300 &&
	    p->window < p->max) {
		p->window += 1 / floor(p->window);
		if (p->window > p->max)
			p->window = p->max;
	}
}

/* "requests 12/2000" with the reset, or nothing for an unknown bucket. */
static void
show_bucket(char *buf, size_t n, const char *name,
    const struct ca_bucket *b, double now)
{
	size_t len = strlen(buf);

	if (b->rate <= 0 || len >= n)
		return;
	snprintf(buf + len, n - len, "%s%s %.0f/%.0f", len > 0 ? ", " : "",
	    name, b->level > 0 ? floor(b->level) : 0, b->limit);
	len = strlen(buf);
	if (b->level < b->cap && len < n)
		snprintf(buf + len, n - len, " (full in %.1f s)",
		    (b->cap - b->level) / b->rate);
	(void)now;
}

void
ca_pace_show(const struct ca_pace *p, double now, char *buf, size_t n)
{
	size_t len;

	buf[0] = '\0';
	show_bucket(buf, n, "requests", &p->req, now);
	show_bucket(buf, n, "input tokens", &p->in, now);
	show_bucket(buf, n, "output tokens", &p->out, now);
	show_bucket(buf, n, "--rate", &p->hand_req, now);
	show_bucket(buf, n, "--tpm", &p->hand_in, now);
	len = strlen(buf);
	if (len < n)
		snprintf(buf + len, n - len, "%sin flight at most %d of %d, "
		    "%ld sent, %ld answered 429", len > 0 ? "; " : "",
		    (int)p->window, p->max, p->nsent, p->n429);
}
