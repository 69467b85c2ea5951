/*
 * manage.c: listing skills and versions, and deleting the skills and
 * versions that records name, once the input has ended.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-skills.h"

/* -l: {"type":"skill","skill":...}; --versions: skill_version records. */
void
list_skills(struct sk *s, const char *versions_of)
{
	char *path, *esc;

	if (versions_of != NULL) {
		if ((esc = ca_path_escape(versions_of)) == NULL)
			ca_usage("--versions: not a skill id");
		path = ca_xmalloc(strlen(esc) + 64);
		sprintf(path, "/v1/skills/%s/versions?limit=%ld", esc,
		    s->limit);
		ca_status_add(&s->st, ca_list(&s->api, s->hdrs, path,
		    "skill_version", NULL, NULL, "versions"));
		free(esc);
	} else {
		path = ca_xmalloc(64);
		snprintf(path, 64, "/v1/skills?limit=%ld&source=%s", s->limit,
		    s->source);
		ca_status_add(&s->st, ca_list(&s->api, s->hdrs, path, "skill",
		    NULL, NULL, "list"));
	}
	free(path);
}

/* Forget what the cache says of a skill's name, if it names this one. */
static void
forget(struct sk *s, const char *name, const char *sid, const char *ver)
{
	char key[CA_SKKEY_MAX];
	cJSON *e;

	if (s->cache.dir == NULL || name == NULL ||
	    (e = ca_skcache_get(&s->cache, s->api.base, name)) == NULL)
		return;
	if (strcmp(ca_jstr(ca_jobj(e, "skill"), "id"), sid) == 0 &&
	    (ver == NULL || strcmp(ca_jstr(e, "version"), ver) == 0)) {
		ca_skcache_key(s->api.base, name, key);
		ca_cache_del(&s->cache, key);
	}
	cJSON_Delete(e);
}

static int
delete_one(struct sk *s, const char *sid, const char *ver)
{
	struct ca_resp resp;
	char *e1 = ca_path_escape(sid), *e2 = NULL, *path;
	char what[200];
	cJSON *rec;
	int rc;

	if (e1 == NULL || (ver != NULL && (e2 = ca_path_escape(ver)) == NULL)) {
		ca_warn("not a skill or version id; skipped");
		free(e1);
		ca_status_add(&s->st, CA_EX_FAIL);
		return CA_EX_FAIL;
	}
	path = ca_xmalloc(strlen(e1) + (e2 ? strlen(e2) : 0) + 32);
	if (e2 != NULL)
		sprintf(path, "/v1/skills/%s/versions/%s", e1, e2);
	else
		sprintf(path, "/v1/skills/%s", e1);
	snprintf(what, sizeof(what), "%s%s%s", sid, ver ? " " : "",
	    ver ? ver : "");
	memset(&resp, 0, sizeof(resp));
	resp.body.max = CA_PAGE_MAX;
	ca_resp_reset(&resp);
	if ((rc = sk_request(s, "DELETE", path, NULL, &resp, what)) == 0) {
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "type", "deleted");
		cJSON_AddStringToObject(rec, "id", ver ? ver : sid);
		if (ver != NULL)
			cJSON_AddStringToObject(rec, "skill_id", sid);
		ca_emit(rec);
		cJSON_Delete(rec);
	} else
		ca_status_add(&s->st, rc);
	ca_buf_free(&resp.body);
	free(path);
	free(e1);
	free(e2);
	return rc;
}

static int
collect(void *arr, const cJSON *item)
{
	cJSON_AddItemToArray(arr, cJSON_Duplicate(item, 1));
	return 0;
}

/*
 * A whole skill: its versions first, then the skill.  GA deletes the
 * versions with the skill, but the API refused that while versions
 * existed, so this works with either, and each deletion is a record.
 */
static void
delete_skill(struct sk *s, const char *sid, const char *name)
{
	cJSON *vers = cJSON_CreateArray(), *v;
	char *esc = ca_path_escape(sid), *path, *what;
	int failed = 0, rc;

	if (esc == NULL) {
		cJSON_Delete(vers);
		delete_one(s, sid, NULL);	/* reports the bad id */
		return;
	}
	path = ca_xmalloc(strlen(esc) + 64);
	sprintf(path, "/v1/skills/%s/versions?limit=1000", esc);
	what = ca_sanitize(sid, 100);
	if ((rc = ca_list(&s->api, s->hdrs, path, NULL, collect, vers,
	    what)) != 0) {
		ca_status_add(&s->st, rc);
		failed = 1;
	}
	free(what);
	cJSON_ArrayForEach(v, vers) {
		if (ca_jstr(v, "id") == NULL)
			continue;
		if (name == NULL)
			name = ca_jstr(v, "name");
		if (delete_one(s, sid, ca_jstr(v, "id")) != 0)
			failed = 1;
	}
	if (!failed && delete_one(s, sid, NULL) == 0)
		forget(s, name, sid, NULL);
	cJSON_Delete(vers);
	free(path);
	free(esc);
}

/* What a record asks to delete: {skill_id, version or null, name}. */
static cJSON *
target(const struct ca_rec *rec)
{
	const cJSON *o;
	const char *sid = NULL, *ver = NULL, *name = NULL;
	cJSON *t;

	if (strcmp(rec->type, "skill") == 0) {
		o = ca_jobj(rec->json, "skill");
		sid = ca_jstr(o, "id");
		name = ca_jstr(rec->json, "name");
		if (cJSON_IsObject(ca_jobj(o, "source")) && ca_jstr(ca_jobj(o,
		    "source"), "type") != NULL && strcmp(ca_jstr(ca_jobj(o,
		    "source"), "type"), "anthropic") == 0)
			return NULL;
	} else if (strcmp(rec->type, "skill_version") == 0) {
		o = ca_jobj(rec->json, "skill_version");
		sid = ca_jstr(o, "skill_id");
		ver = ca_jstr(o, "id");
		name = ca_jstr(o, "name");
		if (ver == NULL)
			return NULL;
	} else
		return NULL;
	if (sid == NULL || ca_jnulstr(cJSON_GetObjectItem(o, "id")))
		return NULL;
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "skill_id", sid);
	if (ver != NULL)
		cJSON_AddStringToObject(t, "version", ver);
	if (name != NULL)
		cJSON_AddStringToObject(t, "name", name);
	return t;
}

/*
 * -d: pass every record on as it comes, and delete only once the input
 * has ended, when every tool upstream is done with the skills (a
 * ca-exec still running the request that mounts one).  After an error
 * record nothing is deleted unless -f says so.
 */
void
delete_records(struct sk *s)
{
	struct ca_reader *r = ca_reader_new(stdin, CA_STDIN);
	struct ca_status up = { 0, 0 };
	struct ca_strset seen = { { NULL, 0, 0 } };
	struct ca_rec rec;
	cJSON *todo = cJSON_CreateArray(), *t;
	char key[300];
	int n;

	while ((n = ca_reader_next(r, &rec)) != 0) {
		if (n == -1) {
			ca_status_add(&s->st, CA_EX_FAIL);
			continue;
		}
		ca_emit_raw(&rec);
		ca_status_rec(&up, rec.json);
		if ((strcmp(rec.type, "skill") != 0 &&
		    strcmp(rec.type, "skill_version") != 0))
			continue;
		if ((t = target(&rec)) == NULL) {
			ca_reader_warn(r, rec.lineno, "%s record without a "
			    "custom skill's id, skipped", rec.type);
			ca_status_add(&s->st, CA_EX_FAIL);
			continue;
		}
		snprintf(key, sizeof(key), "%.100s %.100s",
		    ca_jstr(t, "skill_id"), ca_jstr(t, "version") ?
		    ca_jstr(t, "version") : "");
		if (ca_strset_add(&seen, key))
			cJSON_Delete(t);
		else
			cJSON_AddItemToArray(todo, t);
	}
	if (ca_reader_failed(r))
		ca_status_add(&s->st, CA_EX_FAIL);
	ca_reader_free(r);
	ca_status_add(&s->st, ca_status_exit(&up));
	if (ca_status_delete_ok(&up, s->force, cJSON_GetArraySize(todo)))
		cJSON_ArrayForEach(t, todo) {
			if (ca_jstr(t, "version") == NULL)
				delete_skill(s, ca_jstr(t, "skill_id"),
				    ca_jstr(t, "name"));
			else if (delete_one(s, ca_jstr(t, "skill_id"),
			    ca_jstr(t, "version")) == 0)
				forget(s, ca_jstr(t, "name"),
				    ca_jstr(t, "skill_id"),
				    ca_jstr(t, "version"));
		}
	ca_strset_free(&seen);
	cJSON_Delete(todo);
}
