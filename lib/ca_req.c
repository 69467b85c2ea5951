/*
 * ca_req.c: request records as the tools that send them read them
 * (ca-exec one call at a time, ca-batch as Message Batches): the
 * anthropic-beta value a record asks for, and the params that continue
 * a turn the server paused.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

char *
ca_req_betas(const cJSON *betas, const char **bad)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	const cJSON *e;

	*bad = NULL;
	if (betas != NULL && !cJSON_IsArray(betas)) {
		*bad = "betas is not an array";
		return NULL;
	}
	cJSON_ArrayForEach(e, betas) {
		/* A comma would split one name into two in the header. */
		if (!cJSON_IsString(e) || !ca_header_safe(e->valuestring) ||
		    strchr(e->valuestring, ',') != NULL) {
			*bad = "a beta name that is not a plain string";
			ca_buf_free(&b);
			return NULL;
		}
		if (b.len > 0)
			ca_buf_addstr(&b, ",");
		ca_buf_addstr(&b, e->valuestring);
	}
	return b.p;
}

int
ca_req_continue(cJSON *params, const cJSON *turn, const char *cid,
    int again)
{
	cJSON *msgs = ca_jarr(params, "messages"), *last, *a;
	const char *role;
	int n;

	if (msgs == NULL)
		return -1;
	/* A later pause replaces the assistant message the first added. */
	n = cJSON_GetArraySize(msgs);
	last = cJSON_GetArrayItem(msgs, n - 1);
	role = ca_jstr(last, "role");
	if (again && role != NULL && strcmp(role, "assistant") == 0)
		cJSON_DeleteItemFromArray(msgs, n - 1);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "role", "assistant");
	cJSON_AddItemToObject(a, "content", cJSON_Duplicate(turn, 1));
	cJSON_AddItemToArray(msgs, a);
	ca_req_container(params, cid);
	return 0;
}

void
ca_req_container(cJSON *params, const char *cid)
{
	/*
	 * The code's files are in that container, and only there.  A
	 * container given as an object (with skills) keeps its skills: the
	 * API wants them again with the id on every later turn.
	 */
	if (cid != NULL) {
		cJSON *c = ca_jobj(params, "container");

		if (c != NULL) {
			cJSON_DeleteItemFromObject(c, "id");
			cJSON_AddStringToObject(c, "id", cid);
		} else {
			cJSON_DeleteItemFromObject(params, "container");
			cJSON_AddStringToObject(params, "container", cid);
		}
	}
}
