/*
 * time-test: each argument read as a date, printed as seconds since the
 * epoch (-1 when unreadable), one a line, so that tests can check the
 * one date reader against known answers.
 *
 * usage: time-test rfc3339 | http text ...
 */
#include <stdio.h>
#include <string.h>

#include "ca.h"

int
main(int argc, char *argv[])
{
	int i, http;

	ca_setprog(argv[0], NULL);
	if (argc < 2 || (strcmp(argv[1], "rfc3339") != 0 &&
	    strcmp(argv[1], "http") != 0)) {
		fprintf(stderr, "usage: time-test rfc3339 | http text ...\n");
		return CA_EX_USAGE;
	}
	http = strcmp(argv[1], "http") == 0;
	for (i = 2; i < argc; i++)
		printf("%lld\n", http ? ca_httpdate(argv[i]) :
		    ca_rfc3339(argv[i]));
	return 0;
}
