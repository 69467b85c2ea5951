/*
 * pace-test: drive the rate limiter (lib/ca_pace.c) with made-up
 * answers on a made-up clock, one command a line on stdin, so that
 * tests can check what it decides without waiting for it:
 *
 *	init JOBS RPM TPM	a limiter (RPM, TPM: by hand, 0 none)
 *	sent T TOKENS		a request went at T seconds
 *	seen T STATUS TOKENS [HEADER=VALUE ...]	an answer came; a reset
 *				header's value is seconds from the real now
 *	wait T TOKENS		prints the seconds to hold it back
 *	room INFLIGHT		prints 1 or 0
 *	window			prints the requests in flight allowed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"

static struct ca_pace p;
static double base;

static void
set_header(struct ca_resp *r, const char *kv)
{
	static const struct {
		const char *name;
		size_t off, len;
	} f[] = {
#define F(h, m) { h, offsetof(struct ca_resp, m), \
	sizeof(((struct ca_resp *)0)->m) }
		F("retry-after", retry_after),
		F("requests-limit", rl_limit),
		F("requests-remaining", rl_remaining),
		F("requests-reset", rl_reset),
		F("input-tokens-limit", rl_in_limit),
		F("input-tokens-remaining", rl_in_remaining),
		F("input-tokens-reset", rl_in_reset),
#undef F
	};
	const char *eq = strchr(kv, '=');
	size_t i, k;

	if (eq == NULL)
		return;
	k = (size_t)(eq - kv);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (strlen(f[i].name) != k || strncmp(kv, f[i].name, k) != 0)
			continue;
		if (strstr(f[i].name, "reset") != NULL) {
			time_t t = time(NULL) + atol(eq + 1);
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime((char *)r + f[i].off, f[i].len,
			    "%Y-%m-%dT%H:%M:%SZ", &tm);
		} else
			snprintf((char *)r + f[i].off, f[i].len, "%s", eq + 1);
	}
}

int
main(void)
{
	char line[1024], *tok[16], *s;
	struct ca_resp r;
	int n;

	ca_setprog("pace-test", NULL);
	base = ca_now();
	ca_pace_init(&p, 1, 0, 0);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		for (n = 0, s = strtok(line, " \n"); s != NULL && n < 16;
		    s = strtok(NULL, " \n"))
			tok[n++] = s;
		if (n == 0)
			continue;
		if (strcmp(tok[0], "init") == 0 && n == 4) {
			ca_pace_init(&p, atoi(tok[1]), atof(tok[2]),
			    atof(tok[3]));
			base = ca_now();
		} else if (strcmp(tok[0], "sent") == 0 && n == 3)
			ca_pace_sent(&p, base + atof(tok[1]), atof(tok[2]));
		else if (strcmp(tok[0], "seen") == 0 && n >= 4) {
			int i;

			memset(&r, 0, sizeof(r));
			r.cc = CURLE_OK;
			r.status = atol(tok[2]);
			for (i = 4; i < n; i++)
				set_header(&r, tok[i]);
			ca_pace_seen(&p, base + atof(tok[1]), &r,
			    atof(tok[3]));
		} else if (strcmp(tok[0], "wait") == 0 && n == 3)
			printf("%.3f\n", ca_pace_wait(&p, base + atof(tok[1]),
			    atof(tok[2])));
		else if (strcmp(tok[0], "room") == 0 && n == 2)
			printf("%d\n", ca_pace_room(&p, atoi(tok[1])));
		else if (strcmp(tok[0], "window") == 0)
			printf("%d\n", (int)p.window);
		else {
			fprintf(stderr, "pace-test: bad command %s\n", tok[0]);
			return 2;
		}
	}
	return 0;
}
