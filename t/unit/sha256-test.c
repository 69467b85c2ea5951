/*
 * sha256-test: the SHA-256 of standard input, fed to ca_sha256 in
 * pieces of a chosen size, so that known answers can be checked
 * whatever the chunking.
 *
 * usage: sha256-test [-c chunk] [-r repeat]
 *   -r  hash the input this many times over, as one message
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

int
main(int argc, char *argv[])
{
	struct ca_sha256 s;
	struct ca_buf in = { NULL, 0, 0, CA_LINE_MAX };
	char buf[65536], hex[65];
	size_t chunk = 4096, off, k;
	long repeat = 1, i;
	ssize_t n;
	int ch;

	ca_setprog(argv[0], NULL);
	while ((ch = getopt(argc, argv, "c:r:")) != -1) {
		switch (ch) {
		case 'c':
			chunk = (size_t)ca_strtonum(optarg, 1, 1 << 20,
			    "chunk");
			break;
		case 'r':
			repeat = ca_strtonum(optarg, 1, 1L << 30, "repeat");
			break;
		default:
			fprintf(stderr, "usage: %s [-c chunk] [-r repeat]\n",
			    ca_prog);
			return CA_EX_USAGE;
		}
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (ca_buf_add(&in, buf, (size_t)n) == -1)
			ca_die(CA_EX_FAIL, "input too long");
	if (n == -1)
		ca_die(CA_EX_FAIL, "standard input:");
	ca_sha256_init(&s);
	for (i = 0; i < repeat; i++)
		for (off = 0; off < in.len; off += k) {
			k = in.len - off < chunk ? in.len - off : chunk;
			ca_sha256_update(&s, in.p + off, k);
		}
	ca_sha256_final(&s, hex);
	printf("%s\n", hex);
	ca_buf_free(&in);
	return 0;
}
