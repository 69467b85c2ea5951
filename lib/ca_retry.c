/*
 * ca_retry.c: the retry policy of the official SDKs, plus a total
 * budget so that a cron job never sleeps past its slot.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

/* A server may ask for at most this long before we give up instead. */
#define MAX_SERVER_DELAY_MS	60000L

void
ca_retry_init(struct ca_retry *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->max = CA_RETRY_MAX;
	rp->budget_s = CA_RETRY_BUDGET_S;
}

/* Worth another try: temporary, unless the server says otherwise. */
static int
retryable(const struct ca_resp *r)
{
	if (ca_resp_spent(r))
		return 0;	/* whatever x-should-retry says */
	if (r->cc == CURLE_OK && strcasecmp(r->should_retry, "true") == 0)
		return 1;
	if (r->cc == CURLE_OK && strcasecmp(r->should_retry, "false") == 0)
		return 0;
	return ca_resp_temporary(r);
}

double
ca_ratelimit_wait(const struct ca_resp *r)
{
	long long t;
	char *end;
	double d;

	if (r->rl_remaining[0] == '\0' || strtol(r->rl_remaining, &end, 10)
	    != 0 || *end != '\0' || (t = ca_rfc3339(r->rl_reset)) == -1)
		return 0;
	d = difftime((time_t)t, time(NULL));
	if (!(d > 0))
		return 0;
	return d > MAX_SERVER_DELAY_MS / 1000 ? MAX_SERVER_DELAY_MS / 1000 : d;
}

/* The server's wish in ms: >0 valid, 0 none, -1 longer than we wait. */
static long
server_delay(const struct ca_resp *r)
{
	char *end;
	double d = -1;

	if (r->retry_after_ms[0] != '\0') {
		d = strtod(r->retry_after_ms, &end);
		if (end == r->retry_after_ms || *end != '\0' || !isfinite(d))
			d = -1;
	}
	if (d <= 0 && r->retry_after[0] != '\0') {
		d = strtod(r->retry_after, &end);
		if (end != r->retry_after && *end == '\0' && isfinite(d))
			d *= 1000;
		else {
			long long t = ca_httpdate(r->retry_after);

			d = t != -1 ? difftime((time_t)t, time(NULL)) * 1000 :
			    -1;
		}
	}
	if (!(d > 0))
		return 0;
	if (d > MAX_SERVER_DELAY_MS)
		return -1;
	return (long)d;
}

static long
retry_delay(const struct ca_resp *r, int n)
{
	static int seeded;
	long d = server_delay(r);
	double s;

	if (d != 0)
		return d;
	if (!seeded) {
		/* Jitter only helps if parallel jobs draw different numbers. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		srand((unsigned)ts.tv_nsec ^ (unsigned)getpid() << 16);
		seeded = 1;
	}
	s = 0.5 * pow(2, n);
	if (s > 8)
		s = 8;
	s *= 1 - 0.25 * ((double)rand() / ((double)RAND_MAX + 1));
	return (long)(s * 1000);
}

long
ca_retry_next(struct ca_retry *rp, const struct ca_resp *r, int n,
    char *why, size_t whylen)
{
	long d;

	if (n >= rp->max || !retryable(r))
		return -1;
	d = retry_delay(r, n);
	if (d < 0) {
		snprintf(why, whylen, "the server asks to wait over a minute");
		return -1;
	}
	if (rp->budget_s > 0 && rp->waited_s + d / 1000.0 > rp->budget_s) {
		snprintf(why, whylen, "retry budget of %g s spent",
		    rp->budget_s);
		return -1;
	}
	rp->waited_s += d / 1000.0;
	return d;
}
