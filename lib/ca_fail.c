/*
 * ca_fail.c: what a failure means, decided once.  What went wrong (the
 * API's error object, or one made up for a transport error), whether
 * trying later may help, what an error record says, and the one line
 * people are told.  The HTTP, retry and status code ask here; this file
 * asks none of them, and calls no libcurl function (tools without HTTP
 * count error records with ca_error_temporary and link without it).
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int
ca_error_temporary(long status, const char *type)
{
	static const char *const temp[] = {
		"overloaded_error", "rate_limit_error", "api_error",
		"timeout_error", "connection_error", "incomplete_stream",
		"batch_canceled", "batch_expired"	/* resubmit later */
	};
	size_t i;

	for (i = 0; type != NULL && i < sizeof(temp) / sizeof(temp[0]); i++)
		if (strcmp(type, temp[i]) == 0)
			return 1;
	return status == 408 || status == 409 || status == 429 ||
	    status >= 500;
}

static int
transport_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

int
ca_error_spent(const cJSON *err)
{
	const char *c = ca_jstr(ca_jobj(err, "details"), "error_code");

	return c != NULL && (strcmp(c, "enforced_spend_limit_reached") == 0 ||
	    strcmp(c, "contract_spend_limit_reached") == 0);
}

int
ca_resp_spent(const struct ca_resp *r)
{
	cJSON *b;
	int spent;

	if (r->cc != CURLE_OK || r->status != 429 || r->retry_after[0] != '\0'
	    || r->retry_after_ms[0] != '\0' || r->body.p == NULL)
		return 0;
	b = ca_jparse(r->body.p, r->body.len);
	spent = ca_error_spent(ca_jobj(b, "error"));
	cJSON_Delete(b);
	return spent;
}

int
ca_resp_temporary(const struct ca_resp *r)
{
	if (r->cc != CURLE_OK)
		return transport_retryable(r->cc);
	if (ca_resp_spent(r))
		return 0;
	return ca_error_temporary(r->status, NULL);
}

cJSON *
ca_errobj(const char *type, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "message", msg);
	return e;
}

cJSON *
ca_resp_error(const struct ca_resp *r)
{
	cJSON *body, *e, *err;
	char msg[512];

	if (r->cc != CURLE_OK) {
		/* The type says whether trying later may help, as for
		 * ca_error_temporary: a bad certificate will not mend.
		 * ca_resp_result put libcurl's words in errbuf. */
		return ca_errobj(r->cc == CURLE_OPERATION_TIMEDOUT ?
		    "timeout_error" : ca_resp_temporary(r) ?
		    "connection_error" : "transport_error", r->errbuf);
	}
	body = ca_jparse(r->body.p, r->body.len);
	if ((e = ca_jobj(body, "error")) != NULL && ca_jstr(e, "type")) {
		err = cJSON_Duplicate(e, 1);
		cJSON_Delete(body);
		return err;
	}
	cJSON_Delete(body);
	{
		char *snip = ca_sanitize(r->body.p, 200);

		snprintf(msg, sizeof(msg), "HTTP %ld%s%s", r->status,
		    *snip ? ": " : "", snip);
		free(snip);
	}
	return ca_errobj("http_error", msg);
}

/*
 * "529 overloaded_error: Overloaded (request-id req_x)", without the
 * status when it is 0 and without the request-id when rid is NULL or "".
 */
static void
errmsg(char *buf, size_t n, long status, const cJSON *err, const char *rid)
{
	char *type = ca_sanitize(ca_jstr(err, "type"), 64);
	char *msg = ca_sanitize(ca_jstr(err, "message"), 300);
	char *srid = ca_sanitize(rid != NULL ? rid : "", 100);
	char st[24] = "";

	if (status > 0)
		snprintf(st, sizeof(st), "%ld ", status);
	if (*srid)
		snprintf(buf, n, "%s%s: %s (request-id %s)", st, type, msg,
		    srid);
	else
		snprintf(buf, n, "%s%s: %s", st, type, msg);
	free(type);
	free(msg);
	free(srid);
}

void
ca_resp_errmsg(const struct ca_resp *r, char *buf, size_t n)
{
	cJSON *e = ca_resp_error(r);

	/* A request-id only with a status: what answered it is known. */
	if (r->cc != CURLE_OK || r->status == 0)
		errmsg(buf, n, 0, e, NULL);
	else
		errmsg(buf, n, r->status, e, r->request_id);
	cJSON_Delete(e);
}

void
ca_error_fill(cJSON *rec, long status, const char *rid, cJSON *err)
{
	if (status > 0)
		cJSON_AddNumberToObject(rec, "status", status);
	else
		cJSON_AddNullToObject(rec, "status");
	if (rid != NULL && *rid != '\0')
		cJSON_AddStringToObject(rec, "request_id", rid);
	else
		cJSON_AddNullToObject(rec, "request_id");
	cJSON_AddItemToObject(rec, "error", err);
}

void
ca_error_rec(cJSON *rec, const char *name, long status, const char *rid,
    cJSON *err)
{
	char msg[600];

	errmsg(msg, sizeof(msg), status, err, rid);
	ca_error_fill(rec, status, rid, err);
	ca_warn("%s: %s", name, msg);
}

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
