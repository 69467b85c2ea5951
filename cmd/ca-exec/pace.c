/*
 * pace.c: ca-exec's side of the rate limiter (lib/ca_pace.c): when a
 * request may go, what an answer tells the limiter, and the end of the
 * run at a spend limit.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-exec.h"

/* -v: the limiter's state, when it holds requests back, once a second. */
static void
pace_note(double t, double w)
{
	static double last;
	char buf[400];

	if (!ca_verbose || t - last < 1)
		return;
	last = t;
	ca_pace_show(&g.pace, t, buf, sizeof(buf));
	ca_note("pacing: holding requests for %.2f s: %s", w, buf);
}

/* The spend limit is reached: every request not yet sent fails. */
static int
not_sent(struct job *j)
{
	job_fail(j, 0, ca_errobj("spend_limit_reached", "not sent: the "
	    "organization's spend limit was reached"), 0);
	return -1;
}

/*
 * When may j go?  -1: never (failed here); else *until is the time the
 * limiter (or a 429's retry-after) lets it, far off while the requests
 * in flight fill the window (a finished one wakes the loop).
 */
int
pace_gate(struct job *j, double t, double *until)
{
	double w;
	char *s;

	if (g.spent_stop)
		return not_sent(j);
	*until = g.hold_until;
	if (!ca_pace_room(&g.pace, g.running)) {
		*until = t + 3600;
		return 0;
	}
	if (j->est == 0) {
		s = ca_jprint(j->params);
		j->est = ca_pace_tokens(strlen(s));
		free(s);
	}
	if ((w = ca_pace_wait(&g.pace, t, j->est)) > 0) {
		if (j->due <= t)
			pace_note(t, w);
		if (t + w > *until)
			*until = t + w;
	}
	return 0;
}

void
pace_sent(struct job *j)
{
	ca_pace_sent(&g.pace, ca_now(), j->est);
	g.running++;
}

/* An answer came: the limiter learns from it; a spend limit ends it all. */
void
pace_seen(struct job *j)
{
	double t = ca_now();
	char buf[400];
	int cut = (int)g.pace.ncut;

	g.running--;
	ca_pace_seen(&g.pace, t, &j->resp, j->est);
	if (g.pace.on && (long)cut != g.pace.ncut && ca_verbose) {
		ca_pace_show(&g.pace, t, buf, sizeof(buf));
		ca_note("pacing: %ld answered, in flight at most %d now: %s",
		    j->resp.status, (int)g.pace.window, buf);
	}
	if (!g.spent_stop && ca_resp_spent(&j->resp)) {
		g.spent_stop = 1;
		ca_warn("%s: the spend limit is reached: sending nothing more",
		    job_name(j));
	}
}

/*
 * --count-first: the count of j's input tokens came back (or not: the
 * local estimate stands, and the message goes all the same).  The
 * message is due at once; the limiter then weighs it by the count.
 */
void
pace_counted(struct job *j, CURLcode cc)
{
	cJSON *b = NULL;
	const cJSON *n = NULL;

	j->counting = 0;
	j->counted = 1;
	if (cc == CURLE_OK && j->resp.status >= 200 && j->resp.status < 300 &&
	    (b = ca_jparse(j->resp.body.p, j->resp.body.len)) != NULL)
		n = cJSON_GetObjectItemCaseSensitive(b, "input_tokens");
	if (n != NULL && ca_jtokens(n)) {
		j->est = n->valuedouble > 0 ? n->valuedouble : 1;
		ca_note("%s: count_tokens: %.0f input tokens", job_name(j),
		    j->est);
	} else
		ca_note("%s: count_tokens gave no count (status %ld); the "
		    "local estimate stands", job_name(j), j->resp.status);
	cJSON_Delete(b);
	j->state = J_WAIT;
	j->due = ca_now();
}
