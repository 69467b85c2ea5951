/*
 * ca_refuse.c: a tool that refuses to run says so twice: one line for
 * people on standard error, and an error record on standard output for
 * the tools after it in a pipeline, which pass it on and count it
 * (ca(7), EXIT STATUS).  Without the record, a tool that stops before
 * writing anything leaves the next ones an empty, successful stream.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

int ca_norecords;
static void (*usage_fn)(const char *);

void
ca_setprog(const char *argv0, void (*usage)(const char *why))
{
	const char *p;
	char *s;

	usage_fn = usage;
	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	p = p != NULL ? p + 1 : argv0;
	/* A link may give the program any name; usage lines print it too. */
	s = ca_sanitize(p, 0);
	if (strcmp(s, p) == 0) {
		free(s);
		ca_prog = p;
	} else
		ca_prog = s;	/* kept for the life of the process */
}

/*
 * The record, in one write(2) of its own: the tool has written no
 * record yet, or flushed each one.  Nobody reads a terminal's JSON, and
 * a reader that went away must not turn exit 2 into a SIGPIPE.
 */
static void
refuse_rec(const char *etype, const char *msg)
{
	cJSON *r;
	char *s;
	size_t n;

	if (ca_norecords || isatty(STDOUT_FILENO))
		return;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "type", "error");
	cJSON_AddStringToObject(r, "tool", ca_prog);
	ca_error_fill(r, 0, NULL, ca_errobj(etype, msg));
	s = ca_jprint(r);
	cJSON_Delete(r);
	n = strlen(s);
	s[n] = '\n';		/* cJSON's buffer has room for its NUL */
	(void)fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	(void)ca_write_all(STDOUT_FILENO, s, n + 1);
	free(s);
}

/*
 * A bad value (an unknown model, a missing file): what is wrong is all
 * there is to say, so one line, and no synopsis.
 */
void
ca_usage(const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	ca_vfmt(why, sizeof(why), fmt, ap);
	va_end(ap);
	refuse_rec("usage_error", why);
	ca_die(CA_EX_USAGE, "%s", why);
}

/* The command line's syntax: the message, then the tool's synopsis. */
void
ca_syntax(const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	ca_vfmt(why, sizeof(why), fmt, ap);
	va_end(ap);
	refuse_rec("usage_error", why);
	if (usage_fn != NULL)
		usage_fn(why);
	ca_die(CA_EX_USAGE, "%s", why);
}

int
ca_refuse(const char *etype, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	ca_vfmt(why, sizeof(why), fmt, ap);
	va_end(ap);
	ca_warn("%s", why);
	refuse_rec(etype, why);
	return CA_EX_USAGE;
}
