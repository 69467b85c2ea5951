/*
 * ca-files: list the workspace's files, or delete the files that
 * records name, so that cron jobs can clean up after a pipeline.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

struct files {
	struct ca_api	 api;
	struct curl_slist *hdrs;
	const char	*betas;		/* anthropic-beta, or NULL */
	long		 limit;
	struct ca_strset	 seen;
	int		 force;		/* -f: delete even after an error */
	int		 delete;	/* -d */
	struct ca_status st;	/* the exit-status rule's tally */
};

/* The tool's state, filled by parse_opts(); its functions take &g. */
static struct files g = { .limit = 100 };

static int
list(struct files *f)
{
	char path[48];

	snprintf(path, sizeof(path), "/v1/files?limit=%ld", f->limit);
	ca_status_add(&f->st, ca_list(&f->api, f->hdrs, path, "file", NULL,
	    NULL, "list"));
	return 0;
}

/* DELETE one file and say so; the record that named it went first. */
static void
delete(struct files *f, const char *id, const cJSON *path)
{
	struct ca_resp resp;
	char *esc, *p, *w;
	cJSON *rec;
	CURL *h;
	int rc;

	if ((esc = ca_path_escape(id)) == NULL) {
		p = ca_sanitize(id, 100);
		ca_warn("invalid file id \"%s\"", p);
		free(p);
		ca_status_add(&f->st, CA_EX_FAIL);
		return;
	}
	p = ca_xmalloc(strlen(esc) + 16);
	sprintf(p, "/v1/files/%s", esc);
	memset(&resp, 0, sizeof(resp));
	resp.body.max = CA_PAGE_MAX;
	ca_resp_reset(&resp);
	ca_note("DELETE %s", p);
	h = ca_api_easy(&f->api, "DELETE", p, f->hdrs, &resp);
	w = ca_sanitize(id, 100);
	rc = ca_call(h, &resp, NULL, NULL, NULL, w);
	curl_easy_cleanup(h);
	free(w);
	ca_status_add(&f->st, rc);
	if (rc == 0) {
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "type", "deleted");
		cJSON_AddStringToObject(rec, "id", id);
		if (cJSON_IsString(path))
			cJSON_AddStringToObject(rec, "path", path->valuestring);
		ca_emit(rec);
		cJSON_Delete(rec);
	}
	ca_buf_free(&resp.body);
	free(p);
	free(esc);
}

/*
 * Pass every record on as it comes, and delete only once the input has
 * ended: by then every tool upstream has finished with the files (a
 * ca-exec still sending the request that attaches one, say).  An error
 * record upstream means the work may have to be done again, so nothing
 * is deleted then unless -f says so.
 */
static int
delete_records(struct files *f)
{
	struct ca_reader *r = ca_reader_new(stdin, CA_STDIN);
	struct ca_rec rec;
	struct ca_status up = { 0, 0 };
	cJSON *todo = cJSON_CreateArray(), *e;
	const char *id;
	int n;

	while ((n = ca_reader_next(r, &rec)) != 0) {
		if (n == -1) {
			ca_status_add(&f->st, CA_EX_FAIL);
			continue;
		}
		ca_emit_raw(&rec);
		ca_status_rec(&up, rec.json);
		if (strcmp(rec.type, "file") != 0 &&
		    strcmp(rec.type, "fetched") != 0)
			continue;
		/* A prefix of the id could name another file. */
		if (ca_jnulkey(ca_jobj(rec.json, "file"), "id")) {
			ca_reader_warn(r, rec.lineno, "%s record whose file.id "
			    "holds a NUL (\\u0000), refused", rec.type);
			ca_status_add(&f->st, CA_EX_FAIL);
			continue;
		}
		if ((id = ca_jstr(ca_jobj(rec.json, "file"), "id")) == NULL) {
			ca_reader_warn(r, rec.lineno, "%s record without "
			    "file.id, skipped", rec.type);
			ca_status_add(&f->st, CA_EX_FAIL);
			continue;
		}
		if (ca_strset_add(&f->seen, id))
			continue;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "id", id);
		cJSON_AddItemToObject(e, "path", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(rec.json, "path"), 1));
		cJSON_AddItemToArray(todo, e);
	}
	if (ca_reader_failed(r))
		ca_status_add(&f->st, CA_EX_FAIL);
	ca_reader_free(r);
	ca_status_add(&f->st, ca_status_exit(&up));
	if (ca_status_delete_ok(&up, f->force, cJSON_GetArraySize(todo)))
		cJSON_ArrayForEach(e, todo)
			delete(f, ca_jstr(e, "id"),
			    cJSON_GetObjectItemCaseSensitive(e, "path"));
	cJSON_Delete(todo);
	return 0;
}

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-v] [-l limit] [--betas list]\n"
	    "       %s -d [-fv]\n"
	    "       %s --version\n", ca_prog, ca_prog, ca_prog);
	if (why == NULL)
		fputs("  -d                  delete the files named by the "
		    "records on stdin\n"
		    "  -f                  with -d, delete even after an "
		    "error record\n"
		    "      --betas LIST    legacy (the files beta's list "
		    "shape) or beta names\n"
		    "  -l LIMIT            files per page when listing "
		    "(default 100)\n"
		    "  -v                  notes on standard error\n"
		    "  -h, --help          this text\n"
		    "      --version       print the version and exit\n", fp);
	exit(why != NULL ? CA_EX_USAGE : CA_EX_OK);
}

static long
page_size(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > 1000)
		ca_usage("-l: page size must be 1 to 1000");
	return n;
}

static int
setup(struct files *f)
{
	int rc;

	if ((rc = ca_api_init(&f->api)) != 0)
		return rc;
	f->api.reuse = 1;
	f->hdrs = ca_api_headers(&f->api, f->betas);
	return 0;
}

static void
cleanup(struct files *f)
{
	ca_strset_free(&f->seen);
	curl_slist_free_all(f->hdrs);
	ca_api_free(&f->api);
	curl_global_cleanup();
}

/* The options, checked, into g. */
static void
parse_opts(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "betas", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CA_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch, lflag = 0;

	while ((ch = getopt_long(argc, argv, ":b:dfhl:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			g.betas = strcmp(optarg, "legacy") == 0 ?
			    CA_FILES_BETA : optarg;
			break;
		case 'd':
			g.delete = 1;
			break;
		case 'f':
			g.force = 1;
			break;
		case 'h':
			usage(NULL);
		case 'l':
			g.limit = page_size(optarg);
			lflag = 1;
			break;
		default:
			ca_opt_common(ch, argv, ca_http_libs());
		}
	}
	if (optind < argc)
		ca_usage("unexpected operand %s", argv[optind]);
	if (g.force && !g.delete)
		ca_usage("-f goes with -d");
	if (g.delete && (lflag || g.betas != NULL))
		ca_usage("-l and --betas are for listing, not with -d");
	if (g.betas != NULL && (!ca_header_safe(g.betas) ||
	    *g.betas == '\0'))
		ca_usage("--betas: not a header value");
}

int
main(int argc, char *argv[])
{
	int rc;

	ca_setprog(argv[0], usage);
	parse_opts(argc, argv);
	if ((rc = setup(&g)) != 0) {
		cleanup(&g);
		return rc;
	}
	rc = g.delete ? delete_records(&g) : list(&g);
	cleanup(&g);
	if (rc == 0)
		rc = ca_status_exit(&g.st);
	return ca_finish(rc);
}
