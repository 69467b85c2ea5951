/*
 * rec-test: drives ca_reader over stdin and counts the bytes it scans
 * for '\n', so a test can show that reading is linear in the input
 * without timing anything.
 *
 * usage: rec-test [-p]
 *   -p  read the way ca-exec does: ca_reader_fill once, then ask
 *       ca_reader_pending, and take a record only when it says so
 *
 * Each record prints "LINENO LEN TYPE", a bad line "bad" (the reader
 * reports why on stderr); at the end stderr gets "rec-test: scanned N"
 * (bytes given to memchr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

static unsigned long long scanned;

/*
 * Stands in for libc's: lib/ca_rec.c searches for '\n' with memchr, and
 * the static link binds its calls here, so every byte looked at counts.
 */
void *
memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	scanned += n;
	for (; n > 0; p++, n--)
		if (*p == (unsigned char)c)
			return (void *)(size_t)p;
	return NULL;
}

static void
take(struct ca_reader *r, int *done)
{
	struct ca_rec rec;
	int rv;

	rv = ca_reader_next(r, &rec);
	if (rv == 0)
		*done = 1;
	else if (rv == -1)
		printf("bad\n");
	else
		printf("%ld %zu %s\n", rec.lineno, rec.len, rec.type);
}

int
main(int argc, char *argv[])
{
	struct ca_reader *r;
	int ch, pflag = 0, done = 0;

	ca_setprog(argv[0], NULL);
	while ((ch = getopt(argc, argv, "p")) != -1) {
		if (ch != 'p') {
			fprintf(stderr, "usage: rec-test [-p]\n");
			return CA_EX_USAGE;
		}
		pflag = 1;
	}
	r = ca_reader_new(stdin, CA_STDIN);
	while (!done) {
		if (pflag && !ca_reader_pending(r))
			ca_reader_fill(r);
		else
			take(r, &done);
	}
	fprintf(stderr, "rec-test: scanned %llu\n", scanned);
	ca_reader_free(r);
	return 0;
}
