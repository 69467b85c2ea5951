/*
 * sse-test: drives ca_sse (and ca_msg) from a raw byte stream on stdin,
 * fed in pieces of a chosen size, so the tests can show that chunking
 * never changes the result.
 *
 * usage: sse-test [-ae] [-c chunk] [-m maxevent]
 *   -e  print each event as {"event":NAME,"data":DATA} (the default)
 *   -a  assemble the message and print it as one line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

struct run {
	int		 aflag;
	struct ca_msg	*msg;
	int		 stopped;	/* message_stop seen */
	char		 err[512];	/* why the callback aborted */
};

static void	usage(void) CA_NORETURN;

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-ae] [-c chunk] [-m maxevent]\n",
	    ca_prog);
	exit(CA_EX_USAGE);
}

static size_t
number(const char *s)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		usage();
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v == 0 || v > CA_LINE_MAX * 4)
		usage();
	return (size_t)v;
}

static void
print_event(const char *event, const char *data)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "event", event) == NULL ||
	    cJSON_AddStringToObject(o, "data", data) == NULL)
		ca_die(CA_EX_FAIL, "out of memory");
	ca_emit(o);
	cJSON_Delete(o);
}

static int
on_event(void *ctx, const char *event, const char *data, size_t len)
{
	struct run *r = ctx;
	cJSON *j = NULL;
	int rv;

	if (data[len] != '\0')
		ca_die(CA_EX_FAIL, "data of %s is not NUL-terminated", event);
	if (!r->aflag) {
		print_event(event, data);
		return 0;
	}
	if (len > 0 && (j = ca_jparse(data, len)) == NULL) {
		snprintf(r->err, sizeof(r->err),
		    "%s event: data is not valid JSON", event);
		return 1;
	}
	rv = ca_msg_event(r->msg, event, j);
	cJSON_Delete(j);
	if (rv == 1)
		r->stopped = 1;
	if (rv == -1)
		snprintf(r->err, sizeof(r->err), "%s", ca_msg_error(r->msg));
	/* Abort the parse, so its error path is exercised too. */
	return rv == -1;
}

/*
 * Say why a feed failed, checking that the parser stays failed and
 * that a callback's refusal is reported as such.
 */
static void
feed_failed(struct run *r, struct ca_sse *s, char *why, size_t n)
{
	const char *serr = ca_sse_error(s);

	if (serr == NULL)
		snprintf(why, n, "feed failed without an error");
	else if (ca_sse_feed(s, "\n\n", 2) != -1)
		snprintf(why, n, "feed after an error succeeded");
	else if (r->err[0] == '\0')
		snprintf(why, n, "%s", serr);
	else if (strcmp(serr, "aborted by caller") != 0)
		snprintf(why, n, "unexpected parser error: %s", serr);
	else
		snprintf(why, n, "%s", r->err);
}

int
main(int argc, char *argv[])
{
	struct run r;
	struct ca_sse *s;
	size_t chunk = 4096, max = CA_LINE_MAX, n;
	char *buf, why[600];
	cJSON *m;
	int c;

	ca_setprog(argv[0], NULL);
	memset(&r, 0, sizeof(r));
	while ((c = getopt(argc, argv, "ac:em:")) != -1)
		switch (c) {
		case 'a': r.aflag = 1; break;
		case 'c': chunk = number(optarg); break;
		case 'e': r.aflag = 0; break;
		case 'm': max = number(optarg); break;
		default: usage();
		}
	if (optind != argc)
		usage();

	buf = ca_xmalloc(chunk);
	r.msg = ca_msg_new();
	s = ca_sse_new(max, on_event, &r);
	/* fread fills the whole piece, so the chunk size is exact. */
	why[0] = '\0';
	while (why[0] == '\0' && (n = fread(buf, 1, chunk, stdin)) > 0)
		if (ca_sse_feed(s, buf, n) == -1)
			feed_failed(&r, s, why, sizeof(why));
	if (why[0] == '\0' && ferror(stdin))
		snprintf(why, sizeof(why), "read error on standard input");
	ca_sse_free(s);
	free(buf);
	if (why[0] != '\0') {
		ca_msg_free(r.msg);
		ca_die(CA_EX_FAIL, "%s", why);
	}

	if (r.aflag) {
		if ((m = ca_msg_take(r.msg)) == NULL)
			ca_die(CA_EX_FAIL, "no message_start in the stream");
		ca_emit(m);
		cJSON_Delete(m);
		if (!r.stopped) {
			ca_msg_free(r.msg);
			ca_die(ca_finish(CA_EX_FAIL),
			    "stream ended before message_stop");
		}
	}
	ca_msg_free(r.msg);
	return ca_finish(CA_EX_OK);
}
