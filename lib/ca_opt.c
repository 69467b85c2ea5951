/*
 * ca_opt.c: what every tool's getopt_long loop does alike, so that -v,
 * --version and a bad option mean one thing everywhere.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

/*
 * A syntax error (an option unknown, or its argument missing or extra)
 * shows the synopsis after the message: ca_syntax, not ca_usage.
 * getopt_long leaves the option in optopt (0 for an unknown long one)
 * and has moved optind past a long option, so argv[optind - 1] is the
 * option as given.  A short one is named by its letter: its argv element
 * may still be half read ("-qz").
 */
static void CA_NORETURN
bad_option(int ch, char *argv[])
{
	const char *given = optind > 0 ? argv[optind - 1] : "";
	int islong = strncmp(given, "--", 2) == 0 && given[2] != '\0';
	int len = (int)strcspn(given, "=");

	if (ch == ':' && islong)
		ca_syntax("%.*s needs an argument", len, given);
	if (ch == ':')
		ca_syntax("-%c needs an argument", optopt);
	if (optopt != 0 && islong && given[len] == '=')
		ca_syntax("%.*s takes no argument", len, given);
	if (optopt > ' ' && optopt < 0x7f)
		ca_syntax("unknown option -%c", optopt);
	ca_syntax("unknown option %s", given);
}

void
ca_opt_common(int ch, char *argv[], const char *libs)
{
	switch (ch) {
	case 'v':
		ca_verbose++;
		return;
	case CA_OPT_VERSION:
		ca_version(libs);
	default:
		bad_option(ch, argv);
	}
}

long
ca_strtonum(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		ca_usage("%s must be a number from %ld to %ld: %s", what, lo,
		    hi, s);
	return v;
}

double
ca_seconds(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !isfinite(v) || v < 0 || v > 1e7)
		ca_usage("%s must be a number of seconds: %s", what, s);
	return v;
}
