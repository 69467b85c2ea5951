/*
 * features.c: what ca-request puts in a request beyond code execution:
 * Agent Skills, the web search and fetch tools, MCP servers, structured
 * output, thinking and effort, prompt caching, and -P fields.  Their
 * options (feature_opt) are checked as they are read; the params are
 * set once the model and tool version are known.  slurp is here too,
 * for --schema and main.c's -f, since main.c stands above this file.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-request.h"

#define MCP_BETA	"mcp-client-2025-11-20"
#define SKILLS_BETA	"skills-2025-10-02"	/* legacy only */
#define WEBFETCH_BETA	"web-fetch-2025-09-10"	/* legacy only */

/* The whole of path ("-": stdin), NUL-terminated; a usage error if not. */
char *
slurp(const char *path)
{
	struct ca_buf b = { NULL, 0, 0, CA_LINE_MAX };
	char chunk[65536];
	FILE *fp;
	size_t n;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL)
		ca_usage("%s:", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (ca_buf_add(&b, chunk, n) == -1)
			ca_usage("%s: prompt too large", path);
	if (ferror(fp))
		ca_usage("%s:", path);
	if (fp != stdin)
		fclose(fp);
	if (b.p == NULL)
		ca_buf_addstr(&b, "");
	/* Text ends at a NUL for every C string after this: say so. */
	if (memchr(b.p, '\0', b.len) != NULL)
		ca_usage("%s: a NUL byte at byte %zu; a prompt or schema is "
		    "text", strcmp(path, "-") == 0 ? "standard input" : path,
		    (size_t)((char *)memchr(b.p, '\0', b.len) - b.p));
	return b.p;
}

/* --skill [anthropic:|custom:]ID[@VERSION] */
static void
add_skill(struct opts *o, const char *arg)
{
	char *s = ca_xstrdup(arg), *id = s, *ver, *rid = NULL, *rver = NULL;
	const char *type = NULL;
	const char *const *k;
	struct ca_buf known = { NULL, 0, 0, 0 };
	cJSON *sk;

	if (strncmp(s, "anthropic:", 10) == 0) {
		type = "anthropic";
		id = s + 10;
	} else if (strncmp(s, "custom:", 7) == 0) {
		type = "custom";
		id = s + 7;
	}
	if ((ver = strchr(id, '@')) != NULL)
		*ver++ = '\0';
	if (!plain_word(id, 64) || (ver != NULL && !plain_word(ver, 64)))
		ca_usage("bad --skill %s: want [anthropic:|custom:]"
		    "ID[@VERSION], 1 to 64 letters, digits, '.', '_' or '-'",
		    arg);
	if (type != NULL && strcmp(type, "custom") == 0 &&
	    strncmp(id, "skill_", 6) != 0) {
		resolve_skill_name(id, &rid, &rver);
		id = rid;
		if (ver == NULL)
			ver = rver;
	}
	if (type == NULL) {
		for (k = ca_skills; *k != NULL; k++)
			if (strcmp(*k, id) == 0)
				type = "anthropic";
		if (type == NULL && strncmp(id, "skill_", 6) == 0)
			type = "custom";
		if (type == NULL) {
			for (k = ca_skills; *k != NULL; k++) {
				if (k != ca_skills)
					ca_buf_addstr(&known, ", ");
				ca_buf_addstr(&known, *k);
			}
			ca_usage("--skill %s: not an Anthropic skill "
			    "(%s); write custom:%s for your own", arg, known.p,
			    id);
		}
	}
	if (o->skills == NULL)
		o->skills = cJSON_CreateArray();
	if (cJSON_GetArraySize(o->skills) == SKILLS_MAX)
		ca_usage("--skill: at most %d skills a request",
		    SKILLS_MAX);
	sk = cJSON_CreateObject();
	cJSON_AddStringToObject(sk, "type", type);
	cJSON_AddStringToObject(sk, "skill_id", id);
	cJSON_AddStringToObject(sk, "version", ver != NULL ? ver : "latest");
	cJSON_AddItemToArray(o->skills, sk);
	free(s);
	free(rid);
	free(rver);
}

/* A comma-separated list of domains, without schemes. */
static cJSON *
domain_list(const char *opt, const char *arg)
{
	cJSON *a = cJSON_CreateArray();
	char *s = ca_xstrdup(arg), *p, *last = NULL;

	for (p = strtok_r(s, ",", &last); p != NULL;
	    p = strtok_r(NULL, ",", &last)) {
		if (strstr(p, "://") != NULL || strpbrk(p, " \t\r\n") != NULL)
			ca_usage("%s: %s: give a domain without "
			    "scheme or spaces (example.com, docs.example.com/api)",
			    opt, p);
		cJSON_AddItemToArray(a, cJSON_CreateString(p));
	}
	free(s);
	if (cJSON_GetArraySize(a) == 0)
		ca_usage("%s: no domain given", opt);
	return a;
}

/* --mcp URL[,name=NAME]: the name defaults to the URL's host. */
static void
add_mcp(struct opts *o, const char *arg)
{
	char *url = ca_xstrdup(arg), *opt, name[65];
	const char *host;
	size_t i;
	cJSON *srv, *e;

	name[0] = '\0';
	if ((opt = strchr(url, ',')) != NULL) {
		*opt++ = '\0';
		if (strncmp(opt, "name=", 5) != 0 || !plain_word(opt + 5, 64))
			ca_usage("--mcp %s: after the URL only "
			    "name=NAME (letters, digits, '.', '_', '-')", arg);
		snprintf(name, sizeof(name), "%s", opt + 5);
	}
	if (strncmp(url, "https://", 8) != 0 || url[8] == '\0' ||
	    !ca_header_safe(url) || strpbrk(url, " \t") != NULL)
		ca_usage("--mcp %s: the server's URL must start "
		    "with https://", arg);
	if (name[0] == '\0') {
		host = url + 8;
		for (i = 0; i < sizeof(name) - 1 && host[i] != '\0' &&
		    strchr("/:?#@", host[i]) == NULL; i++)
			name[i] = strchr(WORD_CHARS, host[i]) != NULL ?
			    host[i] : '-';
		name[i] = '\0';
	}
	if (o->mcp == NULL)
		o->mcp = cJSON_CreateArray();
	cJSON_ArrayForEach(e, o->mcp)
		if (strcmp(ca_jstr(e, "name"), name) == 0)
			ca_usage("--mcp %s: a second server named %s; "
			    "add ,name=NAME", arg, name);
	srv = cJSON_CreateObject();
	cJSON_AddStringToObject(srv, "type", "url");
	cJSON_AddStringToObject(srv, "url", url);
	cJSON_AddStringToObject(srv, "name", name);
	cJSON_AddItemToArray(o->mcp, srv);
	free(url);
}

/* --mcp-token-env VAR names where the last --mcp's token is. */
static void
mcp_token_env(struct opts *o, const char *var)
{
	const char *name, *why;
	cJSON *last;

	if (o->mcp == NULL)
		ca_usage("--mcp-token-env %s: give it after the "
		    "--mcp it is for", var);
	if ((why = ca_mcp_var_bad(var)) != NULL)
		ca_usage("--mcp-token-env %s: %s", var, why);
	last = cJSON_GetArrayItem(o->mcp, cJSON_GetArraySize(o->mcp) - 1);
	name = ca_jstr(last, "name");
	if (o->mcp_env == NULL)
		o->mcp_env = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(o->mcp_env, name);
	cJSON_AddStringToObject(o->mcp_env, name, var);
}

/*
 * The API wants additionalProperties false on every object schema; add
 * it where missing, as the official SDK does, and refuse it true.
 */
static void
schema_fix(const char *file, cJSON *s, int depth)
{
	cJSON *c, *ap;

	if (depth > 64)
		ca_usage("%s: schema nested too deeply", file);
	if (cJSON_IsObject(s) && (ca_jobj(s, "properties") != NULL ||
	    (ca_jstr(s, "type") != NULL &&
	    strcmp(ca_jstr(s, "type"), "object") == 0))) {
		ap = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
		if (ap == NULL)
			cJSON_AddFalseToObject(s, "additionalProperties");
		else if (!cJSON_IsFalse(ap))
			ca_usage("%s: structured output needs "
			    "\"additionalProperties\": false on every object",
			    file);
	}
	if (cJSON_IsObject(s) || cJSON_IsArray(s))
		for (c = s->child; c != NULL; c = c->next)
			schema_fix(file, c, depth + 1);
}

static void
read_schema(struct opts *o, const char *file)
{
	char *text;
	cJSON *s;

	if (strcmp(file, "-") == 0)
		ca_usage("--schema wants a file, not standard input");
	text = slurp(file);
	s = ca_jparse(text, strlen(text));
	free(text);
	if (s == NULL)
		ca_usage("--schema %s: not valid JSON", file);
	if (!cJSON_IsObject(s) || ca_jstr(s, "type") == NULL ||
	    strcmp(ca_jstr(s, "type"), "object") != 0)
		ca_usage("--schema %s: the schema's root must be "
		    "an object schema ({\"type\":\"object\",...})", file);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "$schema");
	schema_fix(file, s, 0);
	cJSON_Delete(o->schema);
	o->schema = s;
	o->schemafile = file;
}

/* Fields ca-request sets itself, and the option that sets each. */
static const struct {
	const char	*key, *flag;
} managed[] = {
	{ "model",		"-m" },
	{ "max_tokens",		"-M" },
	{ "messages",		"the prompt (operands or -f)" },
	{ "system",		"-s" },
	{ "tools",		"-T, -W, --mcp or --client-tool" },
	{ "container",		"-c or --skill" },
	{ "mcp_servers",	"--mcp" },
	{ "output_config",	"--schema or --effort" },
	{ "thinking",		"--thinking" },
	{ "cache_control",	"--cache" },
	{ "stream",		"ca-exec --stream" },
};

/* -P KEY=JSON */
static void
add_param(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[128];
	size_t i, n;
	cJSON *v;

	n = eq != NULL ? (size_t)(eq - arg) : 0;
	if (n == 0 || n >= sizeof(key))
		ca_usage("-P %s: want KEY=JSON", arg);
	memcpy(key, arg, n);
	key[n] = '\0';
	if (strspn(key, "abcdefghijklmnopqrstuvwxyz_") != n)
		ca_usage("-P %s: %s is not a request field name",
		    arg, key);
	for (i = 0; i < sizeof(managed) / sizeof(managed[0]); i++)
		if (strcmp(managed[i].key, key) == 0)
			ca_usage("-P %s: ca-request sets %s itself; "
			    "use %s", key, key, managed[i].flag);
	if ((v = ca_jparse(eq + 1, strlen(eq + 1))) == NULL)
		ca_usage("-P %s: the value is not JSON (a string "
		    "needs its quotes: -P '%s=\"...\"')", key, key);
	if (!ca_jfinite(v))
		ca_usage("-P %s: a number too large for JSON to carry "
		    "(it would be sent as null)", key);
	if (o->extra == NULL)
		o->extra = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(o->extra, key);
	cJSON_AddItemToObject(o->extra, key, v);
}

int
feature_opt(struct opts *o, int ch, const char *arg)
{
	switch (ch) {
	case O_SKILL:
		add_skill(o, arg);
		break;
	case 'W':
		if (strcmp(arg, "search") == 0)
			o->web_search = 1;
		else if (strcmp(arg, "fetch") == 0)
			o->web_fetch = 1;
		else
			ca_usage("-W takes search or fetch, not %s", arg);
		break;
	case O_WDOM:
		cJSON_Delete(o->web_allow);
		o->web_allow = domain_list("--web-domains", arg);
		break;
	case O_WBLOCK:
		cJSON_Delete(o->web_block);
		o->web_block = domain_list("--web-block", arg);
		break;
	case O_WMAX:
		o->web_max_uses = ca_strtonum(arg, 1, 1000000, "web max uses");
		break;
	case O_MCP:
		add_mcp(o, arg);
		break;
	case O_MCPENV:
		mcp_token_env(o, arg);
		break;
	case O_SCHEMA:
		read_schema(o, arg);
		break;
	case O_CACHE:
		o->cache = arg != NULL ? arg : "5m";
		if (strcmp(o->cache, "5m") != 0 && strcmp(o->cache, "1h") != 0)
			ca_usage("--cache takes 5m or 1h, not %s", o->cache);
		break;
	case O_THINK:
		o->thinking = arg != NULL ? arg : "";
		break;
	case O_EFFORT:
		if (strcmp(arg, "low") != 0 && strcmp(arg, "medium") != 0 &&
		    strcmp(arg, "high") != 0 && strcmp(arg, "max") != 0)
			ca_usage("--effort takes low, medium, high or max, "
			    "not %s", arg);
		o->effort = arg;
		break;
	case 'P':
		add_param(o, arg);
		break;
	default:
		return 0;
	}
	return 1;
}

void
feature_check(const struct opts *o)
{
	if (o->web_allow != NULL && o->web_block != NULL)
		ca_usage("--web-domains and --web-block exclude each other");
	if ((o->web_allow != NULL || o->web_block != NULL ||
	    o->web_max_uses > 0) && !o->web_search && !o->web_fetch)
		ca_usage("--web-domains, --web-block and --web-max-uses go "
		    "with -W search or -W fetch");
	if (o->thinking != NULL && *o->thinking != '\0' &&
	    strcmp(o->thinking, "adaptive") != 0)
		(void)ca_strtonum(o->thinking, 1024, 1000000,
		    "thinking budget");
}

/* --thinking and --effort against what the model supports. */
static void
set_thinking(cJSON *params, const struct opts *o, const char *model,
    unsigned feats, long max_tokens)
{
	cJSON *t;
	long budget = 0;

	if (o->thinking == NULL)
		return;
	if (strcmp(o->thinking, "adaptive") == 0 ||
	    (*o->thinking == '\0' && (feats & CA_F_ADAPTIVE))) {
		if (!(feats & CA_F_ADAPTIVE))
			ca_usage("%s has no adaptive thinking; use "
			    "--thinking=BUDGET", model);
	} else {
		if (*o->thinking == '\0')
			budget = max_tokens / 2 > 1024 ? max_tokens / 2 : 1024;
		else
			budget = ca_strtonum(o->thinking, 1024, 1000000,
			    "thinking budget");
		if (budget >= max_tokens)
			ca_usage("--thinking: the budget (%ld) must "
			    "be less than max_tokens (%ld); raise -M", budget,
			    max_tokens);
		if (!(feats & CA_F_THINK))
			ca_usage("%s refuses thinking with a token "
			    "budget; use --thinking=adaptive", model);
		if (feats & CA_F_ADAPTIVE)
			ca_warn("thinking with a budget is deprecated on %s; "
			    "--thinking=adaptive is recommended", model);
	}
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", budget > 0 ? "enabled" :
	    "adaptive");
	if (budget > 0)
		cJSON_AddNumberToObject(t, "budget_tokens", (double)budget);
	cJSON_DeleteItemFromObjectCaseSensitive(params, "thinking");
	cJSON_AddItemToObject(params, "thinking", t);
}

static cJSON *
output_config(cJSON *params)
{
	cJSON *oc = ca_jobj(params, "output_config");

	return oc != NULL ? oc : cJSON_AddObjectToObject(params,
	    "output_config");
}

static void
set_output(cJSON *params, const struct opts *o, const char *model,
    unsigned feats)
{
	cJSON *oc, *f;

	if (o->effort != NULL) {
		if (!(feats & CA_F_EFFORT) || (strcmp(o->effort, "max") == 0 &&
		    !(feats & CA_F_EFFORT_MAX)))
			ca_usage("%s does not take --effort %s",
			    model, o->effort);
		oc = output_config(params);
		cJSON_DeleteItemFromObjectCaseSensitive(oc, "effort");
		cJSON_AddStringToObject(oc, "effort", o->effort);
	}
	if (o->schema != NULL) {
		oc = output_config(params);
		cJSON_DeleteItemFromObjectCaseSensitive(oc, "format");
		f = cJSON_AddObjectToObject(oc, "format");
		cJSON_AddStringToObject(f, "type", "json_schema");
		cJSON_AddItemToObject(f, "schema",
		    cJSON_Duplicate(o->schema, 1));
	}
}

/* Drop the tools whose name (or, for toolsets, type) matches. */
static void
drop_tools(cJSON *tools, const char *name, const char *type)
{
	cJSON *t, *next;

	for (t = tools != NULL ? tools->child : NULL; t != NULL; t = next) {
		next = t->next;
		if ((name != NULL && ca_jstr(t, "name") != NULL &&
		    strcmp(ca_jstr(t, "name"), name) == 0) ||
		    (type != NULL && ca_jstr(t, "type") != NULL &&
		    strcmp(ca_jstr(t, "type"), type) == 0))
			cJSON_Delete(cJSON_DetachItemViaPointer(tools, t));
	}
}

/*
 * -W: the newest web tool versions, which filter results with code
 * execution; they must not sit beside a code execution tool older
 * than 20260120, so with one of those the basic versions are used.
 * A model without programmatic tool calling must call them directly.
 */
static void
set_web(cJSON *params, const struct opts *o, const char *tool,
    unsigned feats)
{
	cJSON *tools = ca_jarr(params, "tools"), *t;
	const struct ca_tool *ct = ca_tool_find(tool);
	int newer = ct == NULL || ct->bit >= CA_T20260120;
	int k;

	for (k = 0; k < 2; k++) {
		const char *name = k == 0 ? "web_search" : "web_fetch";

		if (!(k == 0 ? o->web_search : o->web_fetch))
			continue;
		drop_tools(tools, name, NULL);
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "type", k == 0 ? (newer ?
		    "web_search_20260318" : "web_search_20250305") : (newer ?
		    "web_fetch_20260318" : "web_fetch_20250910"));
		cJSON_AddStringToObject(t, "name", name);
		if (o->web_max_uses > 0)
			cJSON_AddNumberToObject(t, "max_uses",
			    (double)o->web_max_uses);
		if (o->web_allow != NULL)
			cJSON_AddItemToObject(t, "allowed_domains",
			    cJSON_Duplicate(o->web_allow, 1));
		if (o->web_block != NULL)
			cJSON_AddItemToObject(t, "blocked_domains",
			    cJSON_Duplicate(o->web_block, 1));
		if (newer && !(feats & CA_F_PTC))
			cJSON_AddItemToObject(t, "allowed_callers",
			    cJSON_CreateStringArray((const char *[]){ "direct" },
			    1));
		cJSON_AddItemToArray(tools, t);
	}
}

/* --mcp: the servers, one toolset each; the token stays out. */
static void
set_mcp(cJSON *params, const struct opts *o)
{
	cJSON *tools = ca_jarr(params, "tools"), *s, *t;

	if (o->mcp == NULL)
		return;
	drop_tools(tools, NULL, "mcp_toolset");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "mcp_servers");
	cJSON_AddItemToObject(params, "mcp_servers",
	    cJSON_Duplicate(o->mcp, 1));
	cJSON_ArrayForEach(s, o->mcp) {
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "type", "mcp_toolset");
		cJSON_AddStringToObject(t, "mcp_server_name",
		    ca_jstr(s, "name"));
		cJSON_AddItemToArray(tools, t);
	}
}

/* The container with its skills: given ones, or those continued. */
static void
set_skills(cJSON *params, const struct opts *o, const cJSON *prev,
    const char *tool)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(params, "container");
	const cJSON *skills = o->skills != NULL ? o->skills :
	    ca_jarr(prev, "skills");
	cJSON *obj;
	char *id;

	if (skills == NULL || cJSON_GetArraySize(skills) == 0)
		return;
	if (strcmp(tool, "code_execution_20250522") == 0)
		ca_usage("skills need code_execution_20250825 or "
		    "later, not %s", tool);
	id = cJSON_IsString(c) ? ca_xstrdup(c->valuestring) : NULL;
	obj = cJSON_CreateObject();
	if (id != NULL)
		cJSON_AddStringToObject(obj, "id", id);
	cJSON_AddItemToObject(obj, "skills", cJSON_Duplicate(skills, 1));
	cJSON_DeleteItemFromObjectCaseSensitive(params, "container");
	cJSON_AddItemToObject(params, "container", obj);
	free(id);
}

/*
 * --cache marks the system prompt too, in the block form: automatic
 * caching writes only at the last block, so without this a request
 * with the same system prompt and another question would never hit.
 */
static void
cache_system(cJSON *params, const cJSON *cc)
{
	cJSON *sys = cJSON_GetObjectItemCaseSensitive(params, "system"), *b;

	if (cJSON_IsString(sys)) {
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", "text");
		cJSON_AddStringToObject(b, "text", sys->valuestring);
		sys = cJSON_CreateArray();
		cJSON_AddItemToArray(sys, b);
		cJSON_DeleteItemFromObjectCaseSensitive(params, "system");
		cJSON_AddItemToObject(params, "system", sys);
	}
	if (!cJSON_IsArray(sys) || (b = cJSON_GetArrayItem(sys,
	    cJSON_GetArraySize(sys) - 1)) == NULL || !cJSON_IsObject(b))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(b, "cache_control");
	cJSON_AddItemToObject(b, "cache_control", cJSON_Duplicate(cc, 1));
}

/* Everything but code execution; called once the tool is known. */
void
feature_params(cJSON *params, const struct opts *o, const char *model,
    const char *tool, const cJSON *prevcont)
{
	unsigned feats = o->any_model ? ~0u : ca_model_feats(model);
	const cJSON *e;

	set_skills(params, o, prevcont, tool);
	set_web(params, o, tool, feats);
	set_mcp(params, o);
	set_thinking(params, o, model, feats,
	    (long)ca_jnum(params, "max_tokens", 4096));
	set_output(params, o, model, feats);
	if (o->cache != NULL) {
		cJSON *cc = cJSON_CreateObject();

		cJSON_AddStringToObject(cc, "type", "ephemeral");
		if (strcmp(o->cache, "1h") == 0)
			cJSON_AddStringToObject(cc, "ttl", "1h");
		cJSON_DeleteItemFromObjectCaseSensitive(params,
		    "cache_control");
		cJSON_AddItemToObject(params, "cache_control", cc);
		cache_system(params, cc);
	}
	cJSON_ArrayForEach(e, o->extra) {
		cJSON_DeleteItemFromObjectCaseSensitive(params, e->string);
		cJSON_AddItemToObject(params, e->string,
		    cJSON_Duplicate(e, 1));
	}
}

/* The betas the features need: MCP always, the rest for old gateways. */
void
feature_betas(cJSON *betas, const struct opts *o, const cJSON *params)
{
	const char *add[3];
	const cJSON *e, *t;
	int n = 0, i, dup;

	if (o->betas == BETAS_NONE)
		return;
	if (ca_jarr(params, "mcp_servers") != NULL)
		add[n++] = MCP_BETA;
	if (o->betas == BETAS_LEGACY) {
		if (ca_jarr(ca_jobj(params, "container"), "skills") != NULL)
			add[n++] = SKILLS_BETA;
		cJSON_ArrayForEach(t, ca_jarr(params, "tools"))
			if (ca_jstr(t, "type") != NULL && strcmp(ca_jstr(t,
			    "type"), "web_fetch_20250910") == 0)
				add[n++] = WEBFETCH_BETA;
	}
	for (i = 0; i < n; i++) {
		dup = 0;
		cJSON_ArrayForEach(e, betas)
			if (cJSON_IsString(e) &&
			    strcmp(e->valuestring, add[i]) == 0)
				dup = 1;
		if (!dup)
			cJSON_AddItemToArray(betas, cJSON_CreateString(add[i]));
	}
}

void
opts_free(struct opts *o)
{
	free(o->extra_betas);
	cJSON_Delete(o->skills);
	cJSON_Delete(o->web_allow);
	cJSON_Delete(o->web_block);
	cJSON_Delete(o->mcp);
	cJSON_Delete(o->mcp_env);
	cJSON_Delete(o->schema);
	cJSON_Delete(o->extra);
	free(o->compact_instr);
	while (o->nctools > 0)
		ca_ctool_free(&o->ctools[--o->nctools]);
	free(o->ctools);
}
