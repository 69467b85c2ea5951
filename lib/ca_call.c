/*
 * ca_call.c: one API call with retries, and the one way a failed call
 * is told to people: "what: 529 overloaded_error: ... (request-id ...)",
 * with a redirect said as such (they are never followed), and the
 * stable error code, when the API gives one, in brackets.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

/*
 * The stable code of an API error (error.details.error_code), such as
 * file_expired: messages change wording, codes do not.
 */
static char *
error_code(const struct ca_resp *resp)
{
	cJSON *b;
	const char *c;
	char *s = NULL;

	if (resp->cc != CURLE_OK || resp->body.p == NULL)
		return NULL;
	b = ca_jparse(resp->body.p, resp->body.len);
	c = ca_jstr(ca_jobj(ca_jobj(b, "error"), "details"), "error_code");
	if (c != NULL)
		s = ca_sanitize(c, 64);
	cJSON_Delete(b);
	return s;
}

void
ca_call_report(const char *what, const struct ca_resp *resp)
{
	char msg[700], *code, *loc;

	if (resp->cc == CURLE_OK && resp->status >= 300 &&
	    resp->status < 400) {
		loc = ca_sanitize(resp->location, 200);
		if (*loc != '\0')
			ca_warn("%s: redirected (%ld) to %s; redirects are "
			    "not followed", what, resp->status, loc);
		else
			ca_warn("%s: redirected (%ld); redirects are not "
			    "followed", what, resp->status);
		free(loc);
		return;
	}
	ca_resp_errmsg(resp, msg, sizeof(msg));
	if ((code = error_code(resp)) != NULL) {
		ca_warn("%s: %s [%s]", what, msg, code);
		free(code);
	} else
		ca_warn("%s: %s", what, msg);
}

void
ca_call_malformed(const char *what, const struct ca_resp *resp)
{
	char *rid = ca_sanitize(resp->request_id, 100);

	ca_warn("%s: malformed response (request-id %s)", what,
	    *rid ? rid : "none");
	free(rid);
}

int
ca_call(CURL *h, struct ca_resp *resp, struct ca_retry *rp,
    int (*rewind)(void *ctx), void *ctx, const char *what)
{
	struct ca_retry dflt;
	int rc;

	if (rp == NULL) {
		ca_retry_init(&dflt);
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
