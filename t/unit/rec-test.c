/*
 * rec-test: reads records from stdin as a tool that owns only the types
 * given as operands would, and prints one line per record: "parsed
 * TYPE" or "passed TYPE", so tests can see which records the type scan
 * let through unparsed, and that bad lines are still refused.
 *
 * usage: rec-test [type ...]
 */
#include <stdio.h>

#include "ca.h"

int
main(int argc, char *argv[])
{
	struct ca_reader *r;
	struct ca_rec rec;
	int n, bad = 0;

	ca_setprog(argv[0]);
	if (argc < 1)
		return CA_EX_USAGE;
	r = ca_reader_new(stdin, "stdin");
	/* argv is NULL-terminated, as ca_reader_own wants. */
	if (argc > 1)
		ca_reader_own(r, (const char *const *)argv + 1);
	while ((n = ca_reader_next(r, &rec)) != 0) {
		if (n == -1) {
			bad = 1;
			continue;
		}
		printf("%s %s\n", rec.json != NULL ? "parsed" : "passed",
		    rec.type);
	}
	ca_reader_free(r);
	return ca_finish(bad ? CA_EX_FAIL : 0);
}
