/*
 * ca_time.c: clocks and sleeping, for deadlines and backoff, and the
 * dates servers send; apart from the HTTP code so that tools without it
 * can keep time too.  Dates are read by hand: timegm(3) is not POSIX,
 * and mktime(3) would take them as local time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca.h"

double
ca_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
ca_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * Seconds since the epoch of a UTC civil time, through the days since
 * 1970-01-01 of its date (Howard Hinnant's algorithm); -1 if a field is
 * out of range.
 */
static long long
civil(int y, int mo, int d, int h, int mi, int sec)
{
	long long yy = y, era, yoe, doy, doe;

	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	yy -= mo <= 2;
	era = (yy >= 0 ? yy : yy - 399) / 400;
	yoe = yy - era * 400;
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 +
	    sec;
}

long long
ca_rfc3339(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	long long t;
	const char *p;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h,
	    &mi, &sec, &n) != 6 || n == 0 || (t = civil(y, mo, d, h, mi,
	    sec)) == -1)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z')
		return t;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh,
	    &om) == 2)
		return *p == '+' ? t - oh * 3600 - om * 60 :
		    t + oh * 3600 + om * 60;
	return -1;
}

long long
ca_httpdate(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char wd[4], mon[4];
	const char *m;
	int y, d, h, mi, sec, n = 0;

	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
	    wd, &d, mon, &y, &h, &mi, &sec, &n) != 7 || n == 0 ||
	    strlen(mon) != 3)
		return -1;
	for (m = months; *m != '\0'; m += 3)
		if (strncasecmp(m, mon, 3) == 0)
			return civil(y, (int)(m - months) / 3 + 1, d, h, mi,
			    sec);
	return -1;
}
