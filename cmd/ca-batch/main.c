/*
 * ca-batch: submit request records as Message Batches, collect the
 * batches that batch records name, and write the transcript ca-exec
 * writes: each request record, then its response or error records.
 *
 * The whole input is read first (a refusal must come before anything
 * is sent).  Request records and the results that follow them live in a
 * spool file, unlinked at once; memory holds an index of them only, so
 * 100,000 requests and their results pass through in bounded memory.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-batch.h"

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-uv] [--no-wait] [--poll seconds] "
	    "[--max-requests n] [--max-bytes n]\n"
	    "                [--max-continues n] [--sync-continue] "
	    "[-r retries] [--state file]\n"
	    "                [--client-tool file]\n"
	    "       %s --cancel [-v] [--state file]\n"
	    "       %s --state file --add\n"
	    "       %s --list [-v]\n"
	    "       %s --version\n", ca_prog, ca_prog, ca_prog, ca_prog,
	    ca_prog);
	if (why == NULL)
		fputs("  -h, --help             print this and exit\n"
		    "  -r, --retries N        retries of a failed API call "
		    "(default 2)\n"
		    "  -u, --unordered        results in arrival order, not "
		    "input order\n"
		    "  -v, --verbose          say what is sent and polled\n"
		    "      --add              add the records on standard input "
		    "to the --state file\n"
		    "      --cancel           cancel the batches that batch "
		    "records name\n"
		    "      --client-tool FILE run this tool's direct calls "
		    "(repeatable; see ca(7))\n"
		    "      --list             write a batch record for each "
		    "batch in the workspace\n"
		    "      --max-bytes N      create bodies of at most N bytes "
		    "(default 256 MiB)\n"
		    "      --max-continues N  pause_turn continuations "
		    "(default 10)\n"
		    "      --max-requests N   requests per batch at most "
		    "(default 100000)\n"
		    "      --no-wait          never wait: write what is "
		    "pending, exit 75\n"
		    "      --poll SECONDS     first interval between polls "
		    "(default 5; up to 60)\n"
		    "      --state FILE       read FILE, lock it, and replace it "
		    "with the output\n"
		    "      --sync-continue    continue paused results with "
		    "direct Messages calls\n"
		    "      --version          print the version and exit\n", fp);
	exit(why != NULL ? CA_EX_USAGE : CA_EX_OK);
}

static void
read_input(void)
{
	struct ca_reader *r = ca_reader_new(g.in, g.in_name);
	struct ca_rec rec;
	const char *bid, *id;
	int rv;

	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			ca_status_add(&g.st, CA_EX_FAIL);
			continue;
		}
		bid = ca_jstr(rec.json, "batch_id");
		id = ca_jstr(rec.json, "custom_id");
		if (strcmp(rec.type, "request") == 0 && bid != NULL)
			take_held(&rec, bid);
		else if (strcmp(rec.type, "request") == 0)
			take_new(&rec);
		else if (strcmp(rec.type, "batch") == 0)
			take_batch(&rec);
		else if ((strcmp(rec.type, "response") == 0 ||
		    strcmp(rec.type, "error") == 0) && bid != NULL &&
		    id != NULL)
			take_result(&rec, bid, id);
		else {
			ca_status_rec(&g.st, rec.json);
			batch_pass(&rec);
		}
	}
	if (ca_reader_failed(r)) {
		ca_status_add(&g.st, CA_EX_FAIL);
		g.in_failed = 1;
	}
	ca_reader_free(r);
}

/* Write what is left: entries still waiting, as they stand, after the
 * records of their batches, so that a later run can pick them up. */
static void
finish_out(void)
{
	long i;

	for (i = 0; i < g.nb; i++)
		if (!g.b[i].done && g.b[i].pending > 0 &&
		    g.b[i].written == NULL)
			write_bat(&g.b[i]);
	for (i = 0; i < g.ne; i++) {
		if (g.e[i].state == E_DONE || g.e[i].state == E_WRITTEN)
			continue;
		if (!g.refuse)
			ca_status_add(&g.st, CA_EX_TEMPFAIL);
		if (g.e[i].state == E_CONT)
			g.e[i].state = E_PENDING;
	}
	for (i = g.unordered ? 0 : g.next; i < g.ne; i++)
		if (g.e[i].state != E_WRITTEN)
			write_ent(&g.e[i]);
	g.next = g.ne;
}

/* --cancel and --list ---------------------------------------------------- */

static void
cancel_input(void)
{
	struct ca_reader *r = ca_reader_new(g.in, g.in_name);
	struct ca_resp resp;
	struct curl_slist *hdrs = ca_api_headers(&g.api, NULL);
	struct ca_rec rec;
	struct bat *b;
	const char *id;
	char *path;
	CURL *h;
	int rv, rc;

	memset(&resp, 0, sizeof(resp));
	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			ca_status_add(&g.st, CA_EX_FAIL);
			continue;
		}
		ca_status_rec(&g.st, rec.json);
		id = ca_jstr(ca_jobj(rec.json, "batch"), "id");
		if (strcmp(rec.type, "batch") != 0 || id == NULL ||
		    !is_batch_id(id)) {
			if (strcmp(rec.type, "batch") == 0) {
				ca_reader_warn(r, rec.lineno, "batch record "
				    "without a good batch.id; passed through");
				ca_status_add(&g.st, CA_EX_FAIL);
			}
			ca_emit_raw(&rec);
			continue;
		}
		take_batch(&rec);
		b = &g.b[bat_find(id, 0)];
		path = bat_path(id, "/cancel");
		ca_resp_reset(&resp);
		h = ca_api_easy(&g.api, "POST", path, hdrs, &resp);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		ca_note("POST %s", path);
		rc = ca_call(h, &resp, NULL, NULL, NULL, b->id);
		curl_easy_cleanup(h);
		free(path);
		if (rc == 0 && bat_set(b, resp.body.p, resp.body.len) == -1) {
			ca_warn("%s: the response is not this batch", b->id);
			rc = CA_EX_FAIL;
		}
		ca_status_add(&g.st, rc);
		if (rc == 0)
			write_bat(b);
		else
			ca_emit_raw(&rec);
	}
	if (ca_reader_failed(r)) {
		ca_status_add(&g.st, CA_EX_FAIL);
		g.in_failed = 1;
	}
	ca_reader_free(r);
	curl_slist_free_all(hdrs);
	ca_buf_free(&resp.body);
}

static void
list(void)
{
	struct curl_slist *hdrs = ca_api_headers(&g.api, NULL);

	ca_status_add(&g.st, ca_list(&g.api, hdrs,
	    "/v1/messages/batches?limit=100", "batch", NULL, NULL, "list"));
	curl_slist_free_all(hdrs);
}

/* Main ------------------------------------------------------------------- */

static void
on_signal(int sig)
{
	g.sig = sig;
}

static void
parse_opts(int argc, char **argv)
{
	enum { O_NOWAIT = 256, O_POLL, O_MAXR, O_MAXB, O_MAXC, O_SYNC,
	    O_CANCEL, O_LIST, O_STATE, O_ADD, O_CTOOL };
	static const struct option lopts[] = {
		{ "add",		no_argument,	   NULL, O_ADD },
		{ "cancel",		no_argument,	   NULL, O_CANCEL },
		{ "client-tool",	required_argument, NULL, O_CTOOL },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "list",		no_argument,	   NULL, O_LIST },
		{ "max-bytes",		required_argument, NULL, O_MAXB },
		{ "max-continues",	required_argument, NULL, O_MAXC },
		{ "max-requests",	required_argument, NULL, O_MAXR },
		{ "no-wait",		no_argument,	   NULL, O_NOWAIT },
		{ "poll",		required_argument, NULL, O_POLL },
		{ "retries",		required_argument, NULL, 'r' },
		{ "state",		required_argument, NULL, O_STATE },
		{ "sync-continue",	no_argument,	   NULL, O_SYNC },
		{ "unordered",		no_argument,	   NULL, 'u' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "version",		no_argument,	   NULL, CA_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, ":hr:uv", lopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(NULL);
		case 'r':
			g.retries = (int)ca_strtonum(optarg, 0, 100, "retries");
			break;
		case 'u':
			g.unordered = 1;
			break;
		case O_NOWAIT:
			g.nowait = 1;
			break;
		case O_POLL:
			g.poll = ca_seconds(optarg, "poll interval");
			break;
		case O_MAXR:
			g.max_requests = ca_strtonum(optarg, 1, BATCH_REQUESTS,
			    "max requests");
			break;
		case O_MAXB:
			g.max_bytes = (size_t)ca_strtonum(optarg, 64,
			    (long)BATCH_BYTES, "max bytes");
			break;
		case O_MAXC:
			g.max_parts = (int)ca_strtonum(optarg, 0, 1000,
			    "max continues") + 1;
			break;
		case O_SYNC:
			g.sync_cont = 1;
			break;
		case O_CANCEL:
			g.cancel = 1;
			break;
		case O_LIST:
			g.list = 1;
			break;
		case O_STATE:
			g.state = optarg;
			break;
		case O_ADD:
			g.add = 1;
			break;
		case O_CTOOL:
			g.ctools = ca_xrealloc(g.ctools, (size_t)(g.nctools +
			    1) * sizeof(*g.ctools));
			ca_ctool_load(&g.ctools[g.nctools++], optarg);
			break;
		default:
			ca_opt_common(ch, argv, ca_http_libs());
		}
	}
	if (optind < argc)
		ca_usage("unexpected operand %s", argv[optind]);
	if (g.cancel && g.list)
		ca_usage("--cancel and --list exclude each other");
	if (g.state != NULL && g.list)
		ca_usage("--state and --list exclude each other");
	if (g.add && (g.state == NULL || g.cancel))
		ca_usage("--add needs --state, and no --cancel");
}

int
main(int argc, char *argv[])
{
	static struct ca_pace pace;	/* the rate limiter */
	struct sigaction sa;
	int rv;

	ca_setprog(argv[0], usage);
	g.max_requests = BATCH_REQUESTS;
	g.max_bytes = BATCH_BYTES;
	g.poll = 5;
	g.max_parts = 11;
	g.retries = CA_RETRY_MAX;
	parse_opts(argc, argv);
	/* Past a file size limit a write fails (EFBIG), as on a full
	 * disk, instead of SIGXFSZ ending the run half written. */
	signal(SIGXFSZ, SIG_IGN);
	if (g.add)
		return ca_finish(state_add(g.state));
	if ((rv = ca_api_init(&g.api)) != 0)
		return rv;
	g.in = stdin;
	g.in_name = CA_STDIN;
	if (g.state != NULL) {
		g.in = state_open(g.state);
		g.in_name = g.state;
	}
	g.progress = ca_verbose > 0 || isatty(STDERR_FILENO);
	g.api.retries = g.retries;
	g.api.reuse = 1;
	/* Creates, polls and downloads wait while a rate limit is spent. */
	ca_pace_init(&pace, 1, 0, 0);
	g.api.pace = &pace;
	if (g.list)
		list();
	else if (g.cancel)
		cancel_input();
	else {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		g.spool = tempfd();
		g.body = tempfd();
		read_input();
		ca_map_free(&g.newids);	/* only for finding duplicates */
		if (g.refuse)
			ca_warn("nothing was sent; the input is written back "
			    "unchanged");
		else {
			add_orphans();
			submit_new();
			submit_paused();
			collect_all();
		}
		finish_out();
		if (g.refuse)
			ca_status_add(&g.st, CA_EX_FAIL);
	}
	ca_api_free(&g.api);
	curl_global_cleanup();
	rv = g.sig ? 128 + g.sig : ca_status_exit(&g.st);
	if (g.state != NULL)
		rv = state_commit(rv, !g.in_failed);
	return ca_finish(rv);
}
