/*
 * ca-exec: send each request record to the Messages API and write what
 * came back (see ca-exec.h).  This file: the options, and the loop that
 * admits input, starts what is due and reaps what is done.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-exec.h"

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;
	int w = (int)strlen(ca_prog) + 8;	/* "usage: NAME " */

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-suv] [-j jobs] [-r retries] [-t seconds] "
	    "[--api-version version]\n"
	    "%*s[--connect-timeout seconds] [--idle-timeout seconds]\n"
	    "%*s[--max-continues n] [--retry-max-time seconds]\n"
	    "%*s[--count | --count-first] [--max-cost usd]\n"
	    "%*s[--mcp-token-env server=var]\n"
	    "%*s[--client-tool file] [--max-tool-calls n]\n"
	    "%*s[--no-pace] [--rate rpm] [--skip-done file] [--tpm tokens]\n"
	    "       %s --version\n", ca_prog, w, "", w, "", w, "", w, "",
	    w, "", w, "", ca_prog);
	if (why == NULL)
		fputs("  -j, --jobs N              requests in flight at once "
		    "(default 1)\n"
		    "  -r, --retries N           retries of a failed attempt "
		    "(default 2)\n"
		    "  -s, --stream              stream: write each event as "
		    "it arrives\n"
		    "  -t, --timeout SECONDS     time for one attempt "
		    "(default 600)\n"
		    "  -u, --unordered           completion order instead of "
		    "input order\n"
		    "  -v, --verbose             say what is retried and "
		    "continued\n"
		    "      --client-tool FILE    run this tool's calls "
		    "(repeatable; see ca(7))\n"
		    "      --max-tool-calls N    client tool calls per "
		    "request (default 50)\n"
		    "      --api-version V       anthropic-version (default "
		    CA_API_VERSION_DEFAULT ")\n"
		    "      --connect-timeout S   time to connect (default "
		    "10)\n"
		    "      --count               count input tokens instead: "
		    "count records\n"
		    "      --count-first         count each request's input "
		    "tokens before sending it\n"
		    "      --idle-timeout S      silence that ends a stream "
		    "(default 120)\n"
		    "      --mcp-token-env S=VAR the MCP server S's token is "
		    "in $VAR\n"
		    "      --max-continues N     pause_turn continuations "
		    "(default 10)\n"
		    "      --max-cost USD        start nothing once this much "
		    "is spent (estimated)\n"
		    "      --no-pace             send as -j allows, without "
		    "the rate limiter\n"
		    "      --rate RPM            at most this many requests "
		    "a minute\n"
		    "      --skip-done FILE      send only what FILE (earlier "
		    "output) lacks\n"
		    "      --tpm N               at most this many input "
		    "tokens a minute\n"
		    "      --retry-max-time S    total retry wait (default "
		    "60)\n"
		    "      --version             print the version and exit\n",
		    fp);
	exit(why != NULL ? CA_EX_USAGE : CA_EX_OK);
}

/* Take the progress line away, before a message or at the end. */
void
progress_clear(void)
{
	if (g.prog.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		g.prog.shown = 0;
		g.prog.last[0] = '\0';
	}
}

/* Draw it again when what it says changed. */
static void
progress(int eof)
{
	const struct job *j;
	long retrying = 0;
	char buf[sizeof(g.prog.last)];

	if (!g.prog.on || g.prog.nreq < 2)
		return;
	for (j = g.jlist; j != NULL; j = j->next)
		if (j->state == J_WAIT && j->attempt > 0)
			retrying++;
	snprintf(buf, sizeof(buf), "%s: %ld/%ld%s done, %ld failed, %ld "
	    "retrying", ca_prog, g.prog.ndone, g.prog.nreq, eof ? "" : "+",
	    g.prog.nfailed, retrying);
	if (strcmp(buf, g.prog.last) == 0)
		return;
	fprintf(stderr, "\r%s\033[K", buf);
	fflush(stderr);
	memcpy(g.prog.last, buf, sizeof(buf));
	g.prog.shown = 1;
}

/* Is there room to take another input record? */
static int
room(void)
{
	return g.active < g.jobs && g.nslots < g.jobs + SLOTS_MAX &&
	    g.held < HOLD_MAX;
}

static int
stdin_ready(void)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

	return poll(&pfd, 1, 0) > 0;
}

/*
 * Take input records while there is room for more requests.  Only whole
 * lines are taken, and stdin is read once per call at most, so a writer
 * that stalls mid-line never stalls the transfers.  Records waiting
 * behind a slow request are bounded too, in number and in bytes.
 */
static int
admit(struct ca_reader *r, int *eof)
{
	struct ca_rec rec;
	struct slot *s;
	int rv, bad = 0, filled = 0;

	while (!*eof && room()) {
		if (!ca_reader_pending(r)) {
			if (filled || !stdin_ready())
				break;
			ca_reader_fill(r);
			filled = 1;
			continue;
		}
		rv = ca_reader_next(r, &rec);
		if (rv == 0) {
			*eof = 1;
			if (ca_reader_failed(r))
				bad = 1;
			break;
		}
		if (rv == -1) {
			bad = 1;
			continue;
		}
		s = slot_new();
		/* An error that passes through is this tool's failure too. */
		ca_status_rec(&g.st, rec.json);
		if (strcmp(rec.type, "request") == 0)
			add_request(&rec, s);
		else {
			slot_write(s, rec.raw, rec.len);
			slot_write(s, "\n", 1);
			slot_done(s);
		}
	}
	return bad;
}

/*
 * --max-cost: a new request or continuation starts only while the
 * estimate is under the cap; a retry of a started one still runs.
 */
static int
over_budget(struct job *j)
{
	char m[160];

	if (g.max_cost < 0 || (g.spent < g.max_cost && g.unpriced == NULL))
		return 0;
	if (g.unpriced != NULL)
		snprintf(m, sizeof(m), "not sent: an answer's %s could not be "
		    "priced, so --max-cost cannot be kept", g.unpriced);
	else
		snprintf(m, sizeof(m), "not sent: an estimated $%.4f spent "
		    "reaches --max-cost $%.4f", g.spent, g.max_cost);
	job_fail(j, 0, ca_errobj("budget_exceeded", m), 0);
	return 1;
}

/* Start what is due; returns ms until the next job falls due (or -1). */
static long
launch(void)
{
	struct job *j;
	double t = ca_now(), next = -1, until;

	for (j = g.jlist; j != NULL; j = j->next) {
		if (j->state != J_WAIT || pace_gate(j, t, &until) == -1)
			continue;
		if (j->due <= t && until <= t && j->attempt == 0 &&
		    over_budget(j))
			continue;
		if (j->due <= t && until <= t)
			exec_start(j);
		else {
			double d = j->due > until ? j->due : until;

			if (next < 0 || d < next)
				next = d;
		}
	}
	return next < 0 ? -1 : (long)ceil((next - t) * 1000);
}

/* Forget finished jobs, and let their slots go out. */
static void
reap(void)
{
	struct job **jp = &g.jlist, *j;

	while ((j = *jp) != NULL) {
		if (j->state == J_DONE) {
			g.prog.ndone++;
			*jp = j->next;
			slot_done(j->slot);
			job_free(j);
			g.active--;
		} else
			jp = &j->next;
	}
}

static void
loop(void)
{
	struct ca_reader *r = ca_reader_new(stdin, CA_STDIN);
	struct curl_waitfd wfd;
	CURLMsg *m;
	int eof = 0, running, left, bad = 0, want;
	long wait;

	for (;;) {
		bad |= admit(r, &eof);
		launch();
		if (eof && g.jlist == NULL) {
			/* The last job may have ended before the input
			 * did: the line still shows the final count. */
			progress(eof);
			break;
		}
		curl_multi_perform(g.multi, &running);
		while ((m = curl_multi_info_read(g.multi, &left)) != NULL) {
			struct job *j;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&j);
			finished(j, m->data.result);
		}
		reap();
		jobs_resume();
		progress(eof);
		if (eof && g.jlist == NULL)
			break;
		/* Start what finishing made due (a continuation, a retry
		 * without delay); wake for the next one. */
		wait = launch();
		if (wait < 0 || wait > 1000)
			wait = 1000;
		want = !eof && room();
		if (want && ca_reader_pending(r))
			wait = 0;
		wfd.fd = STDIN_FILENO;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		curl_multi_poll(g.multi, &wfd, want ? 1 : 0, (int)wait, NULL);
	}
	if (bad)
		ca_status_add(&g.st, CA_EX_FAIL);
	progress_clear();
	ca_reader_free(r);
}

/* A sum of dollars: a plain non-negative decimal number. */
static double
cost_arg(const char *s)
{
	char *end;
	double v;

	if (*s == '$')
		s++;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= 0) ||
	    v > 1e9 || strspn(s, "0123456789.") != strlen(s))
		ca_usage("--max-cost wants a sum in US dollars "
		    "such as 2.50, not %s", s);
	return v;
}

/* --client-tool FILE: a command the user allows to run. */
static void
client_tool(const char *file)
{
	int i;

	g.ctools = ca_xrealloc(g.ctools, (size_t)(g.nctools + 1) *
	    sizeof(*g.ctools));
	ca_ctool_load(&g.ctools[g.nctools], file);
	for (i = 0; i < g.nctools; i++)
		if (strcmp(g.ctools[i].name, g.ctools[g.nctools].name) == 0)
			ca_usage("%s: name: a second tool named %s", file,
			    g.ctools[i].name);
	g.nctools++;
}

static void
parse_opts(int argc, char **argv)
{
	enum { O_VER = 256, O_CONN, O_IDLE, O_MAXC, O_BUDGET,
	    O_COUNT, O_COST, O_MCPENV, O_CTOOL, O_MAXCALLS, O_NOPACE,
	    O_RATE, O_SKIP, O_TPM, O_COUNT1 };
	static const struct option lopts[] = {
		{ "api-version",	required_argument, NULL, O_VER },
		{ "connect-timeout",	required_argument, NULL, O_CONN },
		{ "client-tool",	required_argument, NULL, O_CTOOL },
		{ "count",		no_argument,	   NULL, O_COUNT },
		{ "count-first",	no_argument,	   NULL, O_COUNT1 },
		{ "max-tool-calls",	required_argument, NULL, O_MAXCALLS },
		{ "max-cost",		required_argument, NULL, O_COST },
		{ "mcp-token-env",	required_argument, NULL, O_MCPENV },
		{ "no-pace",		no_argument,	   NULL, O_NOPACE },
		{ "rate",		required_argument, NULL, O_RATE },
		{ "skip-done",		required_argument, NULL, O_SKIP },
		{ "tpm",		required_argument, NULL, O_TPM },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "idle-timeout",	required_argument, NULL, O_IDLE },
		{ "jobs",		required_argument, NULL, 'j' },
		{ "max-continues",	required_argument, NULL, O_MAXC },
		{ "retries",		required_argument, NULL, 'r' },
		{ "retry-max-time",	required_argument, NULL, O_BUDGET },
		{ "stream",		no_argument,	   NULL, 's' },
		{ "timeout",		required_argument, NULL, 't' },
		{ "unordered",		no_argument,	   NULL, 'u' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "version",		no_argument,	   NULL, CA_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, ":hj:r:st:uv", lopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(NULL);
		case 'j':
			g.jobs = (int)ca_strtonum(optarg, 1, 1000, "jobs");
			break;
		case 'r':
			g.retries = (int)ca_strtonum(optarg, 0, 100, "retries");
			break;
		case 's':
			g.stream = 1;
			break;
		case 't':
			g.timeout_ms = (long)(ca_seconds(optarg, "timeout") *
			    1000);
			break;
		case 'u':
			g.unordered = 1;
			break;
		case O_VER:
			if (!ca_header_safe(optarg) || *optarg == '\0')
				ca_usage("bad API version");
			g.version = optarg;
			break;
		case O_CONN:
			g.connect_ms = (long)(ca_seconds(optarg,
			    "connect timeout") * 1000);
			break;
		case O_IDLE:
			g.idle_ms = (long)(ca_seconds(optarg,
			    "idle timeout") * 1000);
			break;
		case O_MAXC:
			g.max_parts = (int)ca_strtonum(optarg, 0, 1000,
			    "max continues") + 1;
			break;
		case O_BUDGET:
			g.budget = ca_seconds(optarg, "retry max time");
			break;
		case O_COUNT:
			g.count = 1;
			break;
		case O_COUNT1:
			g.count_first = 1;
			break;
		case O_COST:
			g.max_cost = cost_arg(optarg);
			break;
		case O_MCPENV:
			ca_mcp_env_add(&g.mcp_env, optarg);
			break;
		case O_CTOOL:
			client_tool(optarg);
			break;
		case O_MAXCALLS:
			g.max_calls = (int)ca_strtonum(optarg, 0, 100000,
			    "max tool calls");
			break;
		case O_NOPACE:
			g.nopace = 1;
			break;
		case O_RATE:
			g.rpm = (double)ca_strtonum(optarg, 1, 100000000,
			    "rate");
			break;
		case O_SKIP:
			g.skip_done = optarg;
			break;
		case O_TPM:
			g.tpm = (double)ca_strtonum(optarg, 1, 1000000000,
			    "tpm");
			break;
		default:
			ca_opt_common(ch, argv, ca_http_libs());
		}
	}
	if (optind < argc)
		ca_usage("unexpected operand %s", argv[optind]);
	if (g.count && g.stream)
		ca_usage("--count and --stream exclude each other");
	if (g.count && g.count_first)
		ca_usage("--count and --count-first exclude each other");
	if (g.nopace && (g.rpm > 0 || g.tpm > 0))
		ca_usage("--no-pace excludes --rate and --tpm");
	if (g.version != NULL && !ca_header_safe(g.version))
		ca_usage("bad API version");
}

int
main(int argc, char *argv[])
{
	int rv;

	ca_setprog(argv[0], usage);
	g.jobs = 1;
	g.retries = CA_RETRY_MAX;
	g.budget = CA_RETRY_BUDGET_S;
	g.max_parts = 11;
	g.connect_ms = CA_CONNECT_MS;
	g.timeout_ms = CA_TIMEOUT_MS;
	g.idle_ms = 120000;
	g.max_cost = -1;
	g.max_calls = 50;
	parse_opts(argc, argv);
	if ((rv = ca_api_init(&g.api)) != 0)
		return rv;
	ca_pace_init(&g.pace, g.jobs, g.rpm, g.tpm);
	g.pace.on = !g.nopace;
	if (g.skip_done != NULL)
		g.done = resume_open(g.skip_done);
	if (g.version != NULL)		/* --api-version */
		g.api.version = g.version;
	g.api.connect_ms = g.connect_ms;
	g.api.timeout_ms = g.timeout_ms;
	/* A plain request is silent until it is done; only a stream can
	 * be told idle, since the server pings it. */
	g.api.idle_ms = g.stream ? g.idle_ms : 0;
	g.prog.on = isatty(STDERR_FILENO);
	/* Messages go on lines of their own, not after the progress. */
	ca_warn_hook = progress_clear;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	g.multi = curl_multi_init();
	curl_multi_setopt(g.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)g.jobs);
	loop();
	curl_multi_cleanup(g.multi);
	curl_global_cleanup();
	ca_api_free(&g.api);
	ca_strset_free(&g.containers);
	while (g.nctools > 0)
		ca_ctool_free(&g.ctools[--g.nctools]);
	free(g.ctools);
	resume_free(g.done);
	return ca_finish(ca_status_exit(&g.st));
}
