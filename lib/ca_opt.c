/*
 * ca_opt.c: what every tool's getopt_long loop does alike, so that -v,
 * --version and a bad option mean one thing everywhere.
 */
#include <getopt.h>
#include <string.h>

#include "ca.h"

/*
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
		ca_usage("%.*s needs an argument", len, given);
	if (ch == ':')
		ca_usage("-%c needs an argument", optopt);
	if (optopt != 0 && islong && given[len] == '=')
		ca_usage("%.*s takes no argument", len, given);
	if (optopt > ' ' && optopt < 0x7f)
		ca_usage("unknown option -%c", optopt);
	ca_usage("unknown option %s", given);
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
