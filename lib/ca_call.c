/*
 * ca_call.c: one API call with retries, reported as ca_fail.c words it;
 * and a list, page by page, to its end.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int
ca_call(CURL *h, struct ca_resp *resp, struct ca_retry *rp,
    int (*rewind)(void *ctx), void *ctx, const char *what)
{
	struct ca_retry dflt;
	int rc;

	if (rp == NULL) {
		ca_retry_init(&dflt);
		dflt.max = resp->retries;
		rp = &dflt;
	}
	if ((rc = ca_perform(h, resp, rp, rewind, ctx)) != 0 && what != NULL)
		ca_call_report(what, resp);
	return rc;
}

int
ca_emit_page(const cJSON *page, const char *type)
{
	const cJSON *m;
	cJSON *rec;

	if (ca_jarr(page, "data") == NULL)
		return -1;
	cJSON_ArrayForEach(m, ca_jarr(page, "data")) {
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "type", type);
		cJSON_AddItemToObject(rec, type, cJSON_Duplicate(m, 1));
		ca_emit(rec);
		cJSON_Delete(rec);
	}
	return 0;
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

/* path, then its cursor as key=CURSOR, percent-encoded; caller frees. */
static char *
page_path(const char *path, const char *key, const char *cursor)
{
	char *e, *p;
	size_t n;

	if (cursor == NULL)
		return ca_xstrdup(path);
	e = curl_easy_escape(NULL, cursor, 0);
	n = strlen(path) + strlen(key) + strlen(e) + 3;
	p = ca_xmalloc(n);
	snprintf(p, n, "%s%c%s=%s", path, strchr(path, '?') ? '&' : '?', key,
	    e);
	curl_free(e);
	return p;
}

/* Each item of page to fn, or emitted; -1 if page has no data array. */
static int
take_page(const cJSON *page, const char *type, ca_item_fn fn, void *ctx,
    int *stop)
{
	const cJSON *m;

	if (fn == NULL)
		return ca_emit_page(page, type);
	if (ca_jarr(page, "data") == NULL)
		return -1;
	cJSON_ArrayForEach(m, ca_jarr(page, "data"))
		if ((*stop = fn(ctx, m)) != 0)
			break;
	return 0;
}

/*
 * What the page says comes next (a copy), or NULL at the end; a page
 * that promises more without a cursor, or a cursor seen before (a loop,
 * however long), ends the list as a failure in *rc.
 */
static char *
next_page(const cJSON *page, const char **key, struct ca_strset *seen,
    const char *what, int *rc)
{
	const char *next = next_cursor(page, key);

	if (next == NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    page, "has_more")) && cJSON_GetObjectItemCaseSensitive(page,
	    "next_page") == NULL) {
		ca_warn("%s: has_more without a last_id; stopping", what);
		*rc = CA_EX_FAIL;
	}
	if (next != NULL && ca_strset_add(seen, next)) {
		ca_warn("%s: the server repeats the cursor; stopping", what);
		*rc = CA_EX_FAIL;
		next = NULL;
	}
	return next != NULL ? ca_xstrdup(next) : NULL;
}

int
ca_list(struct ca_api *api, struct curl_slist *hdrs, const char *path,
    const char *type, ca_item_fn fn, void *ctx, const char *what)
{
	struct ca_resp resp;
	struct ca_strset seen = { { NULL, 0, 0 } };
	char *cursor = NULL, *p;
	const char *key = NULL;
	cJSON *page;
	CURL *h;
	int rc = 0, stop = 0, n;

	memset(&resp, 0, sizeof(resp));
	resp.body.max = CA_PAGE_MAX;
	for (n = 0; n < CA_PAGES_MAX; n++) {
		ca_resp_reset(&resp);
		p = page_path(path, key, cursor);
		ca_note("GET %s", p);
		h = ca_api_easy(api, "GET", p, hdrs, &resp);
		free(p);
		rc = ca_call(h, &resp, NULL, NULL, NULL, what);
		curl_easy_cleanup(h);
		if (rc != 0)
			break;
		page = ca_jparse(resp.body.p, resp.body.len);
		if (take_page(page, type, fn, ctx, &stop) == -1) {
			ca_call_malformed(what, &resp);
			cJSON_Delete(page);
			rc = CA_EX_FAIL;
			break;
		}
		free(cursor);
		cursor = stop ? NULL : next_page(page, &key, &seen, what, &rc);
		cJSON_Delete(page);
		if (cursor == NULL)
			break;
	}
	free(cursor);
	ca_strset_free(&seen);
	ca_buf_free(&resp.body);
	return stop ? stop : rc;
}
