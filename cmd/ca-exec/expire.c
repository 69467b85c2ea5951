/*
 * expire.c: a container that is gone.  A container lives 30 days at
 * most, and the API then refuses its id: a 4xx with container_expired
 * as documented, an untyped 500 as seen, or a code result whose error
 * is container_expired.  The documented way out is to send the request
 * again without the container; the API makes a new one.  Its files
 * come back only if the uploads are in the message being answered (a
 * container_upload in an earlier turn is inert), and the old one's
 * memory (variables, processes) is lost: say so.  Once per request, and
 * never for a turn already under way (a pause_turn or tool-result
 * continuation): its pending call lived in the old container.
 */
#include <ctype.h>
#include <string.h>

#include "ca-exec.h"

/* The id the request names, or NULL. */
static const char *
container_id(const cJSON *params)
{
	const cJSON *c = cJSON_GetObjectItem(params, "container");

	return cJSON_IsString(c) ? c->valuestring : ca_jstr(c, "id");
}

/* Does s name a container, in any case? */
static int
says_container(const char *s)
{
	const char *w = "container";
	size_t i;

	for (; s != NULL && *s != '\0'; s++) {
		for (i = 0; w[i] != '\0' && tolower((unsigned char)s[i]) ==
		    w[i]; i++)
			;
		if (w[i] == '\0')
			return 1;
	}
	return 0;
}

/*
 * An HTTP error that is the container's: a 4xx that says so (its code
 * container_expired, or its message naming the container, as "not
 * found" does), or a 5xx other than overload once the usual retries
 * are spent (the untyped 500 seen for an old id).  A request the API
 * found wrong for any other reason fails as it is.
 */
static int
container_status(const struct job *j)
{
	long s = j->resp.status;
	cJSON *e;
	const char *code;
	int ours;

	if (s >= 500)
		return s != 529;
	if (s < 400 || s == 401 || s == 403 || s == 413 || s == 429)
		return 0;
	e = ca_resp_error(&j->resp);
	code = ca_jstr(ca_jobj(e, "details"), "error_code");
	ours = code != NULL ? strcmp(code, "container_expired") == 0 :
	    says_container(ca_jstr(e, "message"));
	cJSON_Delete(e);
	return ours;
}

static int
result_expired(const cJSON *msg)
{
	const cJSON *b;
	const char *code;

	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		if ((code = ca_blk_error_code(b)) != NULL &&
		    strcmp(code, "container_expired") == 0)
			return 1;
	return 0;
}

static cJSON *
last_user(const cJSON *params)
{
	const cJSON *msgs = ca_jarr(params, "messages");
	cJSON *m, *last = NULL;

	cJSON_ArrayForEach(m, msgs)
		if (ca_jstr(m, "role") != NULL &&
		    strcmp(ca_jstr(m, "role"), "user") == 0)
			last = m;
	return last;
}

/* Answers to tool calls: the turn is under way in the old container. */
static int
mid_turn(const struct job *j)
{
	const cJSON *b;

	if (j->part > 1)
		return 1;
	cJSON_ArrayForEach(b, ca_jarr(last_user(j->params), "content"))
		if (ca_jstr(b, "type") != NULL &&
		    strcmp(ca_jstr(b, "type"), "tool_result") == 0)
			return 1;
	return 0;
}

static int
has_upload(const cJSON *content, const char *id)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, content)
		if (ca_jstr(b, "type") != NULL && strcmp(ca_jstr(b, "type"),
		    "container_upload") == 0 && ca_jstr(b, "file_id") != NULL &&
		    strcmp(ca_jstr(b, "file_id"), id) == 0)
			return 1;
	return 0;
}

/* Every file uploaded earlier in the conversation, into the new turn. */
static int
reupload(cJSON *params)
{
	cJSON *last = last_user(params), *content = ca_jarr(last, "content");
	const cJSON *m, *b;
	const char *id;
	int n = 0;

	if (content == NULL)
		return 0;
	cJSON_ArrayForEach(m, ca_jarr(params, "messages")) {
		if (m == last)
			continue;
		cJSON_ArrayForEach(b, ca_jarr(m, "content")) {
			if (ca_jstr(b, "type") == NULL || strcmp(ca_jstr(b,
			    "type"), "container_upload") != 0 ||
			    (id = ca_jstr(b, "file_id")) == NULL ||
			    has_upload(content, id))
				continue;
			cJSON_AddItemToArray(content, cJSON_Duplicate(b, 1));
			n++;
		}
	}
	return n;
}

int
expire_retry(struct job *j, const cJSON *msg)
{
	const char *cid = container_id(j->params);
	cJSON *c;
	int n;

	if (cid == NULL || j->lost != NULL || j->emitted)
		return 0;
	if (msg != NULL ? !result_expired(msg) : !container_status(j))
		return 0;
	if (mid_turn(j)) {
		ca_warn("%s: container %s is gone; a turn under way cannot "
		    "move to a new one", job_name(j), cid);
		return 0;
	}
	j->lost = ca_xstrdup(cid);
	c = cJSON_GetObjectItem(j->params, "container");
	/* With skills, the object stays, without its id. */
	if (cJSON_IsObject(c) && ca_jarr(c, "skills") != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(c, "id");
	else
		cJSON_DeleteItemFromObjectCaseSensitive(j->params,
		    "container");
	n = reupload(j->params);
	ca_warn("%s: container %s is gone (%s); sending the turn again in a "
	    "new container: what the code kept in memory is lost%s",
	    job_name(j), j->lost, msg != NULL ? "container_expired" :
	    "an error naming it", n > 0 ? ", the uploads are sent again" :
	    "");
	j->attempt = 0;
	j->state = J_WAIT;
	j->due = ca_now();
	return 1;
}
