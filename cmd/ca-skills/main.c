/*
 * ca-skills: make custom Agent Skills from directories and write a
 * skill record for each, so that ca-request mounts them in the
 * container; list skills and versions; delete the skills and versions
 * that records name (see ca-skills.h).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ca-skills.h"

/* The tool's state: parse_opts() fills it, the work reads it. */
static struct sk g;

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-nv] dir|zip ...\n"
	    "       %s -l [-v] [--limit n] [--source custom|anthropic]\n"
	    "       %s --versions id [-v] [--limit n]\n"
	    "       %s -d [-fnv]\n"
	    "       %s --version\n", ca_prog, ca_prog, ca_prog, ca_prog,
	    ca_prog);
	if (why != NULL)
		exit(CA_EX_USAGE);
	fputs("  -d                  delete the skills and versions the "
	    "records on stdin name\n"
	    "  -f                  with -d, delete even after an error "
	    "record\n"
	    "  -l                  list skills\n"
	    "  -n, --no-cache      always send; neither read nor write the "
	    "cache\n"
	    "      --limit N       skills or versions per page when listing "
	    "(default 20)\n"
	    "      --source SRC    with -l: custom (the default) or "
	    "anthropic\n"
	    "      --versions ID   list the versions of skill ID\n"
	    "  -v, --verbose       notes on standard error\n"
	    "  -h, --help          this text\n"
	    "      --version       print the version and exit\n", fp);
	exit(CA_EX_OK);
}

enum mode { M_CREATE, M_LIST, M_VERSIONS, M_DELETE };

static enum mode
parse_opts(int argc, char *argv[], const char **versions, int *nocache)
{
	enum { O_LIMIT = 256, O_SOURCE, O_VERSIONS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "versions", required_argument, NULL, O_VERSIONS },
		{ "version", no_argument, NULL, CA_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch, dflag = 0, lflag = 0, listopt = 0;

	/* The leading ':': getopt_long leaves bad options to us. */
	while ((ch = getopt_long(argc, argv, ":dfhlnv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			dflag = 1;
			break;
		case 'f':
			g.force = 1;
			break;
		case 'h':
			usage(NULL);
		case 'l':
			lflag = 1;
			break;
		case 'n':
			*nocache = 1;
			break;
		case O_LIMIT:
			g.limit = ca_strtonum(optarg, 1, 100, "--limit");
			listopt = 1;
			break;
		case O_SOURCE:
			if (strcmp(optarg, "custom") != 0 &&
			    strcmp(optarg, "anthropic") != 0)
				ca_usage("--source takes custom or anthropic, "
				    "not %s", optarg);
			g.source = optarg;
			break;
		case O_VERSIONS:
			*versions = optarg;
			break;
		default:	/* -v, --version, and every bad option */
			ca_opt_common(ch, argv, ca_http_libs());
		}
	}
	if (dflag + lflag + (*versions != NULL) > 1)
		ca_usage("-d, -l and --versions exclude each other");
	if (g.force && !dflag)
		ca_usage("-f goes with -d");
	if (g.source != NULL && !lflag)
		ca_usage("--source goes with -l");
	if (listopt && !lflag && *versions == NULL)
		ca_usage("--limit goes with -l or --versions");
	if ((dflag || lflag || *versions != NULL) && optind < argc)
		ca_usage("unexpected operand %s", argv[optind]);
	if (!dflag && !lflag && *versions == NULL && optind == argc)
		ca_usage("no directory or zip given");
	return dflag ? M_DELETE : lflag ? M_LIST : *versions != NULL ?
	    M_VERSIONS : M_CREATE;
}

int
main(int argc, char *argv[])
{
	const char *versions = NULL;
	enum mode m;
	int rc, i, nocache = 0;

	ca_setprog(argv[0], usage);
	g.limit = 20;
	m = parse_opts(argc, argv, &versions, &nocache);
	if (g.source == NULL)
		g.source = "custom";
	if ((rc = ca_api_init(&g.api)) != 0)
		return rc;
	g.api.reuse = 1;
	g.hdrs = ca_api_headers(&g.api, NULL);
	if (!nocache && (g.cache.dir = ca_cache_dir("skills")) == NULL)
		ca_note("no HOME or XDG_CACHE_HOME; not using the cache");
	switch (m) {
	case M_CREATE:
		for (i = optind; i < argc; i++)
			create_skill(&g, argv[i]);
		break;
	case M_LIST:
	case M_VERSIONS:
		list_skills(&g, versions);
		break;
	case M_DELETE:
		delete_records(&g);
		break;
	}
	free(g.cache.dir);
	curl_slist_free_all(g.hdrs);
	ca_api_free(&g.api);
	curl_global_cleanup();
	return ca_finish(ca_status_exit(&g.st));
}
