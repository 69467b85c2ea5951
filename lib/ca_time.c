/*
 * ca_time.c: clocks and sleeping, for deadlines and backoff; apart from
 * the HTTP code so that tools without it can keep time too.
 */
#include <errno.h>
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
