/*
 * skills.c: custom skills from elsewhere in the toolkit: the skill
 * records ca-skills writes (on stdin, beside file records), and names
 * that --skill custom:NAME resolves through ca-skills' cache.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-request.h"

/* Letters, digits and "._-": a skill id, a version, a server name. */
int
plain_word(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)		/* absent from what a server said */
		return 0;
	n = strlen(s);
	return n > 0 && n <= max && strspn(s, WORD_CHARS) == n;
}

/*
 * A skill record: its skill in container.skills at the version the
 * record names (a listed skill: its latest).  -1 for a record that
 * names none (reported).
 */
int
take_skill(struct input *in, const struct ca_rec *rec)
{
	const cJSON *sk = ca_jobj(rec->json, "skill");
	const char *id = ca_jstr(sk, "id"), *ver = ca_jstr(rec->json, "version");
	const char *src = ca_jstr(ca_jobj(sk, "source"), "type");
	cJSON *p;

	if (src == NULL)
		src = ca_jstr(sk, "source");	/* typed as an object, or not */
	if (ver == NULL)
		ver = ca_jstr(sk, "latest_version_id");
	if (ver == NULL)
		ver = "latest";
	if (id == NULL || !plain_word(id, 64) || !plain_word(ver, 64)) {
		ca_reader_warn(rec->from, rec->lineno, "skill record without "
		    "a skill.id and version of 1 to 64 letters, digits, '.', "
		    "'_' or '-', skipped");
		return -1;
	}
	if (in->skills == NULL)
		in->skills = cJSON_CreateArray();
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "type", src != NULL &&
	    strcmp(src, "anthropic") == 0 ? "anthropic" : "custom");
	cJSON_AddStringToObject(p, "skill_id", id);
	cJSON_AddStringToObject(p, "version", ver);
	cJSON_AddItemToArray(in->skills, p);
	return 0;
}

static int
listed(const cJSON *skills, const char *id)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, skills)
		if (strcmp(ca_jstr(e, "skill_id"), id) == 0)
			return 1;
	return 0;
}

/*
 * The skills of the records join those of --skill (a skill named twice
 * goes once, as first named).  Returns the exit status of too many.
 */
int
merge_skills(struct opts *o, struct input *in)
{
	cJSON *e;
	int rc = 0;

	cJSON_ArrayForEach(e, in->skills) {
		if (o->skills == NULL)
			o->skills = cJSON_CreateArray();
		if (listed(o->skills, ca_jstr(e, "skill_id")))
			continue;
		if (cJSON_GetArraySize(o->skills) == SKILLS_MAX) {
			ca_warn("%s: more than %d skills; a request takes at "
			    "most %d, the rest are left out", CA_STDIN,
			    SKILLS_MAX, SKILLS_MAX);
			rc = CA_EX_FAIL;
			break;
		}
		cJSON_AddItemToArray(o->skills, cJSON_Duplicate(e, 1));
	}
	cJSON_Delete(in->skills);
	in->skills = NULL;
	return rc;
}

/*
 * --skill custom:NAME: the skill ca-skills last made from a directory
 * whose SKILL.md is named NAME, on this server.  Sets *id and, unless
 * *ver is set, *ver (both the caller frees); dies when there is none.
 */
void
resolve_skill_name(const char *name, char **id, char **ver)
{
	struct ca_upcache c = { NULL, 0 };
	const char *env = getenv("ANTHROPIC_BASE_URL");
	char *base = ca_xstrdup(env != NULL && *env != '\0' ? env :
	    CA_BASE_DEFAULT), *sn;
	size_t n = strlen(base);
	cJSON *e = NULL;

	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	if ((c.dir = ca_cache_dir("skills")) != NULL)
		e = ca_skcache_get(&c, base, name);
	if (e == NULL) {
		sn = ca_sanitize(name, 100);
		ca_usage("--skill custom:%s: not a skill id, and "
		    "no skill of that name in the cache for this server "
		    "(ca-skills DIR makes one)", sn);
	}
	/* The cache holds what a server said: a request gets no less
	 * checked a word from it than one from the command line. */
	if (!plain_word(ca_jstr(ca_jobj(e, "skill"), "id"), 64) ||
	    !plain_word(ca_jstr(e, "version"), 64)) {
		/* Freed first: the usage error exits, and leak checkers
		 * see a pointer only a dead frame holds as lost. */
		cJSON_Delete(e);
		free(c.dir);
		free(base);
		sn = ca_sanitize(name, 100);
		ca_usage("--skill custom:%s: the cache's entry holds no usable "
		    "skill id and version; run ca-skills on its directory "
		    "again", sn);
	}
	*id = ca_xstrdup(ca_jstr(ca_jobj(e, "skill"), "id"));
	if (*ver == NULL)
		*ver = ca_xstrdup(ca_jstr(e, "version"));
	cJSON_Delete(e);
	free(c.dir);
	free(base);
}
