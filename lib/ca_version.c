/*
 * ca_version.c: what --version prints, and custom_ids that stay unique
 * when the output of separate invocations is put together.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

#ifndef CA_VERSION
#error "CA_VERSION is not defined: the Makefile defines it from VERSION"
#endif

void
ca_version(const char *libs)
{
	printf("%s %s (%s%scJSON %s)\n", ca_prog, CA_VERSION,
	    libs != NULL ? libs : "", libs != NULL ? ", " : "",
	    cJSON_Version());
	exit(ca_finish(CA_EX_OK));
}

int
ca_id_ok(const char *id)
{
	size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n >= 1 && n <= 64 && id[n] == '\0';
}

/* Append v in base 36 to p; returns the new end. */
static char *
base36(char *p, unsigned long long v)
{
	static const char dig[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = dig[v % 36];
		v /= 36;
	} while (v > 0);
	while (n > 0)
		*p++ = tmp[--n];
	*p = '\0';
	return p;
}

void
ca_id_new(char *buf, const char *prefix)
{
	static unsigned long long last;
	static unsigned counter;
	struct timespec ts;
	unsigned long long us;
	char *p;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000;
	/* Two ids in one microsecond from one process differ by count. */
	counter = us == last ? counter + 1 : 0;
	last = us;
	n = strlen(prefix);
	if (n > 30)
		n = 30;
	memcpy(buf, prefix, n);
	p = buf + n;
	*p++ = '-';
	p = base36(p, us);
	*p++ = '-';
	p = base36(p, (unsigned long long)getpid());
	if (counter > 0) {
		*p++ = '-';
		base36(p, counter);
	}
}
