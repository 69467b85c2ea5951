/*
 * scan-test: reads records from stdin as a tool that owns only the types
 * given as operands would, and prints one line per record: "parsed
 * TYPE" or "passed TYPE", so tests can see which records the type scan
 * let through unparsed, and that bad lines are still refused.
 *
 * usage: scan-test [-r] [type ...]
 *   -r  pass every record through with ca_emit_raw instead
 */
#include <stdio.h>
#include <unistd.h>

#include "ca.h"

int
main(int argc, char *argv[])
{
	struct ca_reader *r;
	struct ca_rec rec;
	int n, ch, raw = 0, bad = 0;

	ca_setprog(argv[0], NULL);
	while ((ch = getopt(argc, argv, "r")) != -1) {
		if (ch != 'r') {
			fprintf(stderr, "usage: %s [-r] [type ...]\n", ca_prog);
			return CA_EX_USAGE;
		}
		raw = 1;
	}
	r = ca_reader_new(stdin, CA_STDIN);
	/* argv is NULL-terminated, as ca_reader_own wants. */
	if (optind < argc)
		ca_reader_own(r, (const char *const *)argv + optind);
	while ((n = ca_reader_next(r, &rec)) != 0) {
		if (n == -1)
			bad = 1;
		else if (raw)
			ca_emit_raw(&rec);
		else
			printf("%s %s\n", rec.json != NULL ? "parsed" :
			    "passed", rec.type);
	}
	ca_reader_free(r);
	return ca_finish(bad ? CA_EX_FAIL : 0);
}
