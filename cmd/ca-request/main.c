/*
 * ca-request: build a Messages API request record from a prompt, the
 * file records on stdin and, with --continue, the transcript of earlier
 * turns (see ca-request.h).  This file: the options and the prompt.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-request.h"

/* The tool's state, filled by parse_opts(); its functions take &g. */
static struct opts g;

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;
	int w = (int)strlen(ca_prog) + 8;	/* "usage: NAME " */

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-CIknv] [-b beta] [-c container] [-f file] "
	    "[-i id] [-m model]\n"
	    "%*s[-M max_tokens] [-s system] [-T tool] "
	    "[--betas auto|legacy|none]\n"
	    "%*s[--any-model] [--fresh-container] [--skill id] "
	    "[-W search|fetch]\n"
	    "%*s[--web-domains list] [--web-block list] [--web-max-uses n]\n"
	    "%*s[--mcp url[,name=name]] [--mcp-token-env var] "
	    "[--schema file]\n"
	    "%*s[--cache[=5m|1h]] [--thinking[=budget|adaptive]] "
	    "[--effort level]\n"
	    "%*s[--compact-at[=tokens]] [--compact-instructions file] "
	    "[--compact]\n"
	    "%*s[--clear-tool-uses[=tokens]] [--clear-thinking[=keep]]\n"
	    "%*s[--client-tool file] [-P key=json] [prompt ...]\n"
	    "       %s --version\n", ca_prog, w, "", w, "", w, "", w, "", w, "",
	    w, "", w, "", w, "", ca_prog);
	if (why == NULL)
		fputs("  -b, --beta NAME         add an anthropic-beta name "
		    "(repeatable)\n"
		    "      --betas MODE        auto (none needed), legacy "
		    "(historical headers), none\n"
		    "  -C, --continue          stdin is a transcript: build "
		    "the next turn\n"
		    "  -c, --container ID      run in this container\n"
		    "  -f, --file FILE         read the prompt from FILE\n"
		    "  -I, --inline            images, PDFs and text as "
		    "image/document blocks\n"
		    "  -i, --id ID             the custom_id (default unique: "
		    "r1-..., r2-...)\n"
		    "  -k, --keep-going        build a request even after an "
		    "error record\n"
		    "  -M, --max-tokens N      max_tokens (default 4096)\n"
		    "  -m, --model MODEL       the model (default "
		    CA_MODEL_DEFAULT ", or $CA_MODEL)\n"
		    "  -n                      do not read standard input "
		    "(in a while read loop)\n"
		    "  -s, --system TEXT       the system prompt\n"
		    "  -T, --tool VERSION      code execution tool version\n"
		    "      --client-tool FILE  a tool the client answers "
		    "(repeatable; see ca(7))\n"
		    "  -v, --verbose           say more on standard error\n"
		    "      --any-model         allow a model not in the "
		    "table\n"
		    "      --fresh-container   with -C, start afresh when "
		    "the container expired\n"
		    "      --skill [anthropic:|custom:]ID[@VERSION]\n"
		    "                          an Agent Skill in the container "
		    "(repeatable)\n"
		    "  -W, --web search|fetch  add the web search or web fetch "
		    "tool (repeatable)\n"
		    "      --web-domains LIST  web tools: allowed domains, "
		    "comma-separated\n"
		    "      --web-block LIST    web tools: blocked domains, "
		    "comma-separated\n"
		    "      --web-max-uses N    web tools: at most N uses each\n"
		    "      --mcp URL[,name=NAME]\n"
		    "                          an MCP server's tools "
		    "(repeatable)\n"
		    "      --mcp-token-env VAR the --mcp before it: its token "
		    "is in $VAR\n"
		    "      --schema FILE       answer with JSON matching this "
		    "JSON Schema\n"
		    "      --cache[=5m|1h]     prompt caching (default 5m)\n"
		    "      --thinking[=BUDGET|adaptive]\n"
		    "                          extended thinking\n"
		    "      --effort LEVEL      low, medium, high or max\n"
		    "      --compact-at[=TOKENS]\n"
		    "                          compact the conversation when "
		    "its input passes\n"
		    "                          TOKENS (default 150000, at "
		    "least 50000)\n"
		    "      --compact-instructions FILE\n"
		    "                          the summary prompt, in place "
		    "of the API's\n"
		    "      --compact           with -C: ask for a summary of "
		    "the conversation now\n"
		    "      --clear-tool-uses[=TOKENS]\n"
		    "                          let the API clear old tool "
		    "results (past TOKENS)\n"
		    "      --clear-thinking[=KEEP]\n"
		    "                          let the API clear old thinking "
		    "(keep N turns, or all)\n"
		    "  -P, --param KEY=JSON    set any other top-level field "
		    "(repeatable)\n"
		    "      --version           print the version and exit\n",
		    fp);
	exit(why != NULL ? CA_EX_USAGE : CA_EX_OK);
}

static char *
join(int argc, char **argv)
{
	struct ca_buf b = { NULL, 0, 0, CA_LINE_MAX };
	int i;

	for (i = 0; i < argc; i++) {
		if (i > 0)
			ca_buf_addstr(&b, " ");
		ca_buf_addstr(&b, argv[i]);
	}
	if (b.p == NULL)
		ca_buf_addstr(&b, "");
	return b.p;
}

static void
parse_opts(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "beta",		required_argument, NULL, 'b' },
		{ "betas",		required_argument, NULL, O_BETAS },
		{ "container",		required_argument, NULL, 'c' },
		{ "continue",		no_argument,	   NULL, 'C' },
		{ "file",		required_argument, NULL, 'f' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "id",			required_argument, NULL, 'i' },
		{ "inline",		no_argument,	   NULL, 'I' },
		{ "keep-going",		no_argument,	   NULL, 'k' },
		{ "model",		required_argument, NULL, 'm' },
		{ "max-tokens",		required_argument, NULL, 'M' },
		{ "system",		required_argument, NULL, 's' },
		{ "tool",		required_argument, NULL, 'T' },
		{ "client-tool",	required_argument, NULL, O_CTOOL },
		{ "any-model",		no_argument,	   NULL, O_ANY },
		{ "fresh-container",	no_argument,	   NULL, O_FRESH },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "version",		no_argument,	   NULL, CA_OPT_VERSION },
		{ "skill",		required_argument, NULL, O_SKILL },
		{ "web",		required_argument, NULL, 'W' },
		{ "web-domains",	required_argument, NULL, O_WDOM },
		{ "web-block",		required_argument, NULL, O_WBLOCK },
		{ "web-max-uses",	required_argument, NULL, O_WMAX },
		{ "mcp",		required_argument, NULL, O_MCP },
		{ "mcp-token-env",	required_argument, NULL, O_MCPENV },
		{ "schema",		required_argument, NULL, O_SCHEMA },
		{ "cache",		optional_argument, NULL, O_CACHE },
		{ "thinking",		optional_argument, NULL, O_THINK },
		{ "effort",		required_argument, NULL, O_EFFORT },
		{ "param",		required_argument, NULL, 'P' },
		{ "compact-at",		optional_argument, NULL, O_COMPACT_AT },
		{ "compact-instructions", required_argument, NULL,
		    O_COMPACT_INSTR },
		{ "compact",		no_argument,	   NULL, O_COMPACT },
		{ "clear-tool-uses",	optional_argument, NULL, O_CLEAR_TOOLS },
		{ "clear-thinking",	optional_argument, NULL, O_CLEAR_THINK },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, ":b:Cc:f:hIi:kM:m:nP:s:T:vW:",
	    lopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (!ca_header_safe(optarg) || *optarg == '\0' ||
			    strpbrk(optarg, ", \t") != NULL)
				ca_usage("bad beta name: %s",
				    optarg);
			g.extra_betas = ca_xrealloc(g.extra_betas,
			    (size_t)(g.nextra + 1) * sizeof(char *));
			g.extra_betas[g.nextra++] = optarg;
			break;
		case 'C':
			g.cont = 1;
			break;
		case 'c':
			if (!ca_header_safe(optarg) || *optarg == '\0')
				ca_usage("bad container id");
			g.container = optarg;
			break;
		case 'f':
			g.promptfile = optarg;
			break;
		case 'h':
			usage(NULL);
		case 'I':
			g.inline_files = 1;
			break;
		case 'i':
			/* The Message Batches API takes no other. */
			if (!ca_id_ok(optarg))
				ca_usage("--id: 1 to 64 letters, "
				    "digits, _ or -, not \"%s\"",
				    ca_sanitize(optarg, 100));
			g.id = optarg;
			break;
		case 'k':
			g.keep = 1;
			break;
		case 'M':
			g.max_tokens = ca_strtonum(optarg, 1, 1000000,
			    "max tokens");
			break;
		case 'm':
			g.model = optarg;
			break;
		case 'n':
			g.nostdin = 1;
			break;
		case 's':
			g.system = optarg;
			break;
		case 'T':
			g.tool = optarg;
			break;
		case O_BETAS:
			g.betas_set = 1;
			if (strcmp(optarg, "auto") == 0)
				g.betas = BETAS_AUTO;
			else if (strcmp(optarg, "legacy") == 0)
				g.betas = BETAS_LEGACY;
			else if (strcmp(optarg, "none") == 0)
				g.betas = BETAS_NONE;
			else
				ca_usage("--betas takes auto, "
				    "legacy or none, not %s", optarg);
			break;
		case O_ANY:
			g.any_model = 1;
			break;
		case O_FRESH:
			g.fresh = 1;
			break;
		case O_CTOOL:
			ctool_opt(&g, optarg);
			break;
		default:
			if (!feature_opt(&g, ch, optarg) &&
			    !compact_opt(&g, ch, optarg))
				ca_opt_common(ch, argv, NULL);
		}
	}
	if (optind < argc && g.promptfile != NULL)
		ca_usage("give the prompt as operands or with -f, not both");
	feature_check(&g);
	compact_check(&g);
}

/* The API takes only UTF-8, and ca-batch refuses the record: say so. */
static void
utf8_check(const char *what, const char *s)
{
	size_t n = strlen(s), at = ca_utf8_bad(s, n);

	if (at < n)
		ca_usage("%s: not UTF-8 text (byte %zu is 0x%02x)", what, at,
		    (unsigned char)s[at]);
}

/* The prompt: the operands joined, or the file -f names. */
static char *
prompt_text(const struct opts *o, int argc, char **argv)
{
	char *prompt;

	/* A summary request carries no new prompt. */
	if (o->compact_now) {
		if (argc > 0 || o->promptfile != NULL)
			ca_usage("--compact takes no prompt");
		return NULL;
	}
	prompt = o->promptfile != NULL ? slurp(o->promptfile) :
	    join(argc, argv);
	if (prompt[strspn(prompt, " \t\r\n")] == '\0')
		ca_usage("no prompt: give it as operands or with -f");
	utf8_check(o->promptfile != NULL ? (strcmp(o->promptfile, "-") ==
	    0 ? "standard input" : o->promptfile) : "the prompt", prompt);
	if (o->system != NULL)
		utf8_check("-s", o->system);
	return prompt;
}

/*
 * Read standard input (a closed one, as under cron and some CI, is no
 * input, not an error); returns the exit status its bad lines and
 * error records call for.
 */
static int
take_input(struct input *in, const struct opts *o)
{
	in->files = cJSON_CreateArray();
	if (!o->nostdin && fcntl(STDIN_FILENO, F_GETFD) != -1 &&
	    !isatty(STDIN_FILENO))
		read_input(in, o);
	else if (o->cont)
		ca_usage("--continue reads the transcript on "
		    "standard input");
	if (in->bad)
		ca_status_add(&in->up, CA_EX_FAIL);
	return ca_status_exit(&in->up);
}

int
main(int argc, char *argv[])
{
	struct input in;
	cJSON *rec = NULL;
	char *prompt;
	int status;

	ca_setprog(argv[0], usage);
	memset(&in, 0, sizeof(in));
	parse_opts(argc, argv);
	if (g.promptfile != NULL && strcmp(g.promptfile, "-") == 0)
		g.nostdin = 1;
	prompt = prompt_text(&g, argc - optind, argv + optind);
	status = take_input(&in, &g);
	if (merge_skills(&g, &in) != 0)
		status = CA_EX_FAIL;
	/* Nothing is billed from incomplete input unless -k says so. */
	if (in.errwhat != NULL)
		ca_warn(CA_STDIN ":%ld: an error record came in (%s); %s",
		    in.errline, in.errwhat, g.keep ? "building the request "
		    "anyway" : "no request built (-k builds one anyway)");
	if (in.errwhat == NULL || g.keep)
		rec = build_request(&g, &in, prompt);
	/* What --continue held back goes before the new request. */
	ca_out(in.held.p, in.held.len);
	if (rec != NULL)
		ca_emit(rec);
	cJSON_Delete(rec);
	input_free(&in);
	opts_free(&g);
	free(prompt);
	return ca_finish(status);
}
