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
