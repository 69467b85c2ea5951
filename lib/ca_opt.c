/*
 * ca_opt.c: what every tool's getopt_long loop does alike, so that -v,
 * --version and a bad option mean one thing everywhere.
 */
#include "ca.h"

void
ca_opt_common(int ch, const char *libs, void (*usage)(int))
{
	switch (ch) {
	case 'v':
		ca_verbose++;
		return;
	case CA_OPT_VERSION:
		ca_version(libs);
	default:
		usage(CA_EX_USAGE);
	}
}
