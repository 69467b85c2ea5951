/*
 * create.c: a directory becomes a skill, or a new version of the skill
 * the cache says it already is, or nothing when its content digest has
 * not changed.  The files go as multipart parts named files[], read
 * from disk as libcurl sends them (constant memory), each filename
 * keeping the directory's name in front as the API wants; or a zip of
 * the directory, as one part.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "ca-skills.h"

static curl_mime *
build_mime(CURL *h, const struct skdir *d)
{
	curl_mime *mime;
	curl_mimepart *part;
	char *fn;
	size_t i;

	mime = curl_mime_init(h);
	for (i = 0; i < d->n; i++) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "files[]");
		curl_mime_filedata(part, d->f[i].path);
		fn = ca_xmalloc(strlen(d->top) + strlen(d->f[i].rel) + 2);
		sprintf(fn, "%s/%s", d->top, d->f[i].rel);
		/* After filedata: it sets one.  A zip keeps its own name. */
		curl_mime_filename(part, d->zip ? d->f[i].rel : fn);
		curl_mime_type(part, d->zip ? "application/zip" :
		    "application/octet-stream");
		free(fn);
	}
	return mime;
}

int
sk_request(struct sk *s, const char *method, const char *path,
    const struct skdir *d, struct ca_resp *resp, const char *what)
{
	char *w = what != NULL ? ca_sanitize(what, 200) : NULL;
	curl_mime *mime = NULL;
	CURL *h;
	int rc;

	ca_note("%s %s", method, path);
	h = ca_api_easy(&s->api, method, path, s->hdrs, resp);
	if (d != NULL) {
		mime = build_mime(h, d);
		curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	}
	rc = ca_call(h, resp, NULL, NULL, NULL, w);
	curl_easy_cleanup(h);
	curl_mime_free(mime);
	free(w);
	return rc;
}

/*
 * The error record for a directory that did not become a skill, so
 * that the tools downstream know the input is incomplete; err (taken)
 * is the API's, or a local one.  Also the message for people.
 */
static void
emit_error(const char *dir, const struct ca_resp *resp, cJSON *err)
{
	cJSON *rec = cJSON_CreateObject();
	int answered = resp != NULL && resp->cc == CURLE_OK &&
	    resp->status > 0;

	cJSON_AddStringToObject(rec, "type", "error");
	cJSON_AddStringToObject(rec, "path", dir);
	ca_error_rec(rec, dir, answered ? resp->status : 0,
	    answered ? resp->request_id : NULL, err);
	ca_emit(rec);
	cJSON_Delete(rec);
}

/* {"type":"skill","path","name","digest","version","skill"} */
static cJSON *
skill_rec(const struct skdir *d, const cJSON *skill, const char *version)
{
	cJSON *rec = cJSON_CreateObject();

	cJSON_AddStringToObject(rec, "type", "skill");
	cJSON_AddStringToObject(rec, "path", d->dir);
	cJSON_AddStringToObject(rec, "name", d->name);
	cJSON_AddStringToObject(rec, "digest", d->digest);
	cJSON_AddStringToObject(rec, "version", version);
	cJSON_AddItemToObject(rec, "skill", cJSON_Duplicate(skill, 1));
	return rec;
}

static void
remember(struct sk *s, const struct skdir *d, const cJSON *rec)
{
	char key[CA_SKKEY_MAX];
	cJSON *e;

	if (s->cache.dir == NULL)
		return;
	e = cJSON_Duplicate(rec, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(e, "type");
	cJSON_AddStringToObject(e, "base", s->api.base);
	ca_skcache_key(s->api.base, d->name, key);
	ca_cache_put(&s->cache, key, e);
	cJSON_Delete(e);
}

/*
 * POST the files: a new skill (skill NULL) or a version of skill.
 * Returns the record to write, or NULL (reported; *rc set) and, for a
 * version of a skill the server no longer has, *gone set.
 */
static cJSON *
send_dir(struct sk *s, const struct skdir *d, const cJSON *skill, int *rc,
    int *gone)
{
	struct ca_resp resp;
	const char *sid = ca_jstr(skill, "id");
	char *path, *esc = NULL;
	cJSON *obj, *rec = NULL, *sk;
	const char *id, *ver;

	memset(&resp, 0, sizeof(resp));
	resp.body.max = CA_PAGE_MAX;
	ca_resp_reset(&resp);
	if (sid != NULL && (esc = ca_path_escape(sid)) != NULL) {
		path = ca_xmalloc(strlen(esc) + 32);
		sprintf(path, "/v1/skills/%s/versions", esc);
	} else
		path = ca_xstrdup("/v1/skills");
	*rc = sk_request(s, "POST", path, d, &resp, NULL);
	if (*rc != 0) {
		*gone = sid != NULL && resp.status == 404;
		if (!*gone)
			emit_error(d->dir, &resp, ca_resp_error(&resp));
		goto out;
	}
	obj = ca_jparse(resp.body.p, resp.body.len);
	id = ca_jstr(obj, "id");
	ver = sid != NULL ? id : ca_jstr(obj, "latest_version_id");
	if (id == NULL || ver == NULL || !ca_header_safe(ver)) {
		emit_error(d->dir, &resp, ca_errobj("api_error", "malformed "
		    "answer: no skill id and version"));
		*rc = CA_EX_FAIL;
	} else if (sid == NULL)
		rec = skill_rec(d, obj, ver);
	else {
		sk = cJSON_Duplicate(skill, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(sk,
		    "latest_version_id");
		cJSON_AddStringToObject(sk, "latest_version_id", ver);
		rec = skill_rec(d, sk, ver);
		cJSON_Delete(sk);
	}
	cJSON_Delete(obj);
out:
	ca_buf_free(&resp.body);
	free(path);
	free(esc);
	return rec;
}

/* A regular file named *.zip: a zip of the skill's directory. */
static int
is_zip(const char *path)
{
	size_t n = strlen(path);
	struct stat st;

	return n > 4 && strcmp(path + n - 4, ".zip") == 0 &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void
create_skill(struct sk *s, const char *dir)
{
	struct skdir d;
	char why[1024];
	cJSON *ent = NULL, *rec = NULL;
	const cJSON *skill = NULL;
	int rc = 0, gone = 0;

	if ((is_zip(dir) ? skzip_load(dir, &d, why, sizeof(why)) :
	    skdir_load(dir, &d, why, sizeof(why))) == -1) {
		emit_error(dir, NULL, ca_errobj("skill_error", why));
		ca_status_add(&s->st, CA_EX_FAIL);
		skdir_free(&d);
		return;
	}
	if (s->cache.dir != NULL &&
	    (ent = ca_skcache_get(&s->cache, s->api.base, d.name)) != NULL)
		skill = ca_jobj(ent, "skill");
	if (ent != NULL && strcmp(ca_jstr(ent, "digest") != NULL ?
	    ca_jstr(ent, "digest") : "", d.digest) == 0) {
		ca_note("%s: unchanged since version %s; nothing sent",
		    d.name, ca_jstr(ent, "version"));
		rec = skill_rec(&d, skill, ca_jstr(ent, "version"));
	} else {
		rec = send_dir(s, &d, skill, &rc, &gone);
		if (gone) {
			ca_note("%s: the server no longer has skill %s; "
			    "making a new one", d.name, ca_jstr(skill, "id"));
			rec = send_dir(s, &d, NULL, &rc, &gone);
		}
		if (rec != NULL)
			remember(s, &d, rec);
	}
	if (rec != NULL)
		ca_emit(rec);
	ca_status_add(&s->st, rc);
	cJSON_Delete(rec);
	cJSON_Delete(ent);
	skdir_free(&d);
}
