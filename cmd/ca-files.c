/*
 * ca-files: list the workspace's files, or delete the files that
 * records name, so that cron jobs can clean up after a pipeline.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

#define PAGE_MAX	((size_t)64 << 20)	/* one page of metadata */
#define PAGES_MAX	100000			/* a server that never ends */

struct files {
	struct ca_api	 api;
	CURLSH		*share;
	struct curl_slist *hdrs;
	const char	*betas;		/* anthropic-beta, or NULL */
	long		 limit;
	struct ca_strset	 seen;
	int		 failed;
	int		 tempfailed;
};

static void
note_status(struct files *f, int rc)
{
	if (rc == CA_EX_TEMPFAIL)
		f->tempfailed = 1;
	else if (rc != 0)
		f->failed = 1;
}

/*
 * One request with retries.  Returns 0 and the body in resp, or the
 * status to exit with after reporting why (prefixed with what).
 */
static int
request(struct files *f, const char *method, const char *path,
    struct ca_resp *resp, const char *what)
{
	struct ca_retry rp;
	char msg[700];
	CURL *h;
	int rc;

	h = ca_api_easy(&f->api, method, path, f->hdrs, resp);
	if (f->share != NULL)
		curl_easy_setopt(h, CURLOPT_SHARE, f->share);
	ca_retry_init(&rp);
	if ((rc = ca_perform(h, resp, &rp, NULL, NULL)) != 0) {
		char *w = ca_sanitize(what, 100);

		if (resp->cc == CURLE_OK && resp->status >= 300 &&
		    resp->status < 400)
			ca_warn("%s: redirected (%ld); redirects are not "
			    "followed", w, resp->status);
		else {
			ca_resp_errmsg(resp, msg, sizeof(msg));
			ca_warn("%s: %s", w, msg);
		}
		free(w);
		note_status(f, rc);
	}
	curl_easy_cleanup(h);
	return rc;
}

/*
 * The cursor for the next page, whichever shape the page has: the GA
 * {data, next_page} or the beta {data, has_more, first_id, last_id}.
 * Sets *key to the query parameter to send it as.  NULL at the end.
 */
static const char *
next_cursor(const cJSON *page, const char **key)
{
	const cJSON *np = cJSON_GetObjectItemCaseSensitive(page, "next_page");
	const cJSON *more = cJSON_GetObjectItemCaseSensitive(page, "has_more");

	if (cJSON_IsString(np) && *np->valuestring != '\0') {
		*key = "page";
		return np->valuestring;
	}
	if (np == NULL && cJSON_IsTrue(more)) {
		*key = "after_id";
		return ca_jstr(page, "last_id");
	}
	return NULL;
}

static int
list(struct files *f)
{
	struct ca_resp resp;
	struct ca_strset cursors = { NULL, 0 };
	char *cursor = NULL, *path;
	const char *key = NULL, *next;
	const cJSON *m;
	cJSON *page, *rec;
	int rc = 0, n;

	memset(&resp, 0, sizeof(resp));
	resp.body.max = PAGE_MAX;
	for (n = 0; n < PAGES_MAX; n++) {
		ca_resp_reset(&resp);
		if (cursor == NULL) {
			path = ca_xmalloc(48);
			snprintf(path, 48, "/v1/files?limit=%ld", f->limit);
		} else {
			char *e = curl_easy_escape(NULL, cursor, 0);

			path = ca_xmalloc(strlen(e) + 64);
			snprintf(path, strlen(e) + 64, "/v1/files?limit=%ld&%s=%s",
			    f->limit, key, e);
			curl_free(e);
		}
		ca_note("GET %s", path);
		rc = request(f, "GET", path, &resp, "list");
		free(path);
		if (rc != 0)
			break;
		page = ca_jparse(resp.body.p, resp.body.len);
		if (ca_jarr(page, "data") == NULL) {
			char *rid = ca_sanitize(resp.request_id, 100);

			ca_warn("list: malformed response (request-id %s)",
			    *rid ? rid : "none");
			free(rid);
			cJSON_Delete(page);
			f->failed = 1;
			break;
		}
		cJSON_ArrayForEach(m, ca_jarr(page, "data")) {
			rec = cJSON_CreateObject();
			cJSON_AddStringToObject(rec, "type", "file");
			cJSON_AddItemToObject(rec, "file",
			    cJSON_Duplicate(m, 1));
			ca_emit(rec);
			cJSON_Delete(rec);
		}
		next = next_cursor(page, &key);
		if (next == NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    page, "has_more")) && cJSON_GetObjectItemCaseSensitive(page,
		    "next_page") == NULL) {
			ca_warn("list: has_more without a last_id; stopping");
			f->failed = 1;
		}
		/* A cursor seen before means a loop, however long. */
		if (next != NULL && ca_strset_add(&cursors, next)) {
			ca_warn("list: the server repeats the cursor; stopping");
			f->failed = 1;
			next = NULL;
		}
		free(cursor);
		cursor = next != NULL ? ca_xstrdup(next) : NULL;
		cJSON_Delete(page);
		if (cursor == NULL)
			break;
	}
	free(cursor);
	ca_strset_free(&cursors);
	ca_buf_free(&resp.body);
	return 0;
}

/* DELETE one file and say so; the record that named it went first. */
static void
delete(struct files *f, const char *id, const cJSON *path)
{
	struct ca_resp resp;
	char *esc, *p;
	cJSON *rec;

	if ((esc = ca_path_escape(id)) == NULL) {
		p = ca_sanitize(id, 100);
		ca_warn("invalid file id \"%s\"", p);
		free(p);
		f->failed = 1;
		return;
	}
	p = ca_xmalloc(strlen(esc) + 16);
	sprintf(p, "/v1/files/%s", esc);
	memset(&resp, 0, sizeof(resp));
	resp.body.max = PAGE_MAX;
	ca_resp_reset(&resp);
	ca_note("DELETE %s", p);
	if (request(f, "DELETE", p, &resp, id) == 0) {
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

static int
delete_records(struct files *f)
{
	struct ca_reader *r = ca_reader_new(stdin, "stdin");
	struct ca_rec rec;
	const char *id;
	int n;

	while ((n = ca_reader_next(r, &rec)) != 0) {
		if (n == -1) {
			f->failed = 1;
			continue;
		}
		ca_emit_raw(&rec);
		if (strcmp(rec.type, "file") != 0 &&
		    strcmp(rec.type, "fetched") != 0)
			continue;
		/* A prefix of the id could name another file. */
		if (ca_jnulkey(ca_jobj(rec.json, "file"), "id")) {
			ca_warn("stdin:%ld: %s record whose file.id holds a "
			    "NUL (\\u0000), refused", rec.lineno, rec.type);
			f->failed = 1;
			continue;
		}
		if ((id = ca_jstr(ca_jobj(rec.json, "file"), "id")) == NULL) {
			ca_warn("stdin:%ld: %s record without file.id, skipped",
			    rec.lineno, rec.type);
			f->failed = 1;
			continue;
		}
		if (ca_strset_add(&f->seen, id))
			continue;
		delete(f, id, cJSON_GetObjectItemCaseSensitive(rec.json,
		    "path"));
	}
	if (ca_reader_failed(r))
		f->failed = 1;
	ca_reader_free(r);
	return 0;
}

static void CA_NORETURN
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fputs("usage: ca-files [-v] [-l limit] [--betas list]\n"
	    "       ca-files -d [-v]\n", fp);
	if (status == 0)
		fputs("  -d                  delete the files named by the "
		    "records on stdin\n"
		    "      --betas LIST    legacy (the files beta's list "
		    "shape) or beta names\n"
		    "  -l LIMIT            files per page when listing "
		    "(default 100)\n"
		    "  -v                  notes on standard error\n"
		    "  -h, --help          this text\n", fp);
	exit(status);
}

static int
setup(struct files *f)
{
	int rc;

	if ((rc = ca_api_init(&f->api)) != 0)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		ca_warn("cannot initialise libcurl");
		return CA_EX_USAGE;
	}
	f->share = ca_api_share();
	f->hdrs = ca_api_headers(&f->api, f->betas);
	return 0;
}

static void
cleanup(struct files *f)
{
	ca_strset_free(&f->seen);
	curl_slist_free_all(f->hdrs);
	if (f->share != NULL)
		curl_share_cleanup(f->share);
	ca_api_free(&f->api);
	curl_global_cleanup();
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "betas", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct files f;
	char *end;
	int ch, rc, dflag = 0, lflag = 0;

	ca_setprog(argv[0]);
	memset(&f, 0, sizeof(f));
	f.limit = 100;
	while ((ch = getopt_long(argc, argv, "b:dhl:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			f.betas = strcmp(optarg, "legacy") == 0 ?
			    CA_FILES_BETA : optarg;
			break;
		case 'd':
			dflag = 1;
			break;
		case 'h':
			usage(0);
		case 'l':
			errno = 0;
			f.limit = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    f.limit < 1 || f.limit > 1000) {
				ca_warn("-l: page size must be 1 to 1000");
				usage(CA_EX_USAGE);
			}
			lflag = 1;
			break;
		case 'v':
			ca_verbose++;
			break;
		default:
			usage(CA_EX_USAGE);
		}
	}
	argc -= optind;
	if (argc > 0)
		usage(CA_EX_USAGE);
	if (dflag && (lflag || f.betas != NULL)) {
		ca_warn("-l and --betas are for listing, not with -d");
		usage(CA_EX_USAGE);
	}
	if (f.betas != NULL && (!ca_header_safe(f.betas) ||
	    *f.betas == '\0')) {
		ca_warn("--betas: not a header value");
		usage(CA_EX_USAGE);
	}
	if ((rc = setup(&f)) != 0) {
		cleanup(&f);
		return rc;
	}
	rc = dflag ? delete_records(&f) : list(&f);
	cleanup(&f);
	if (rc == 0)
		rc = f.failed ? CA_EX_FAIL : f.tempfailed ? CA_EX_TEMPFAIL : 0;
	return ca_finish(rc);
}
