/*
 * ca-request: build a Messages API request record from a prompt, the
 * file records on stdin and, with --continue, the transcript of earlier
 * turns.  Sends nothing; ca-exec does that.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

enum betas { BETAS_AUTO, BETAS_LEGACY, BETAS_NONE };

struct opts {
	const char	*model;
	long		 max_tokens;
	const char	*system;
	const char	*container;
	const char	*id;
	const char	*tool;
	const char	*promptfile;
	enum betas	 betas;
	int		 betas_set;
	char		**extra_betas;
	int		 nextra;
	int		 any_model;
	int		 inline_files;
	int		 cont;
	int		 fresh;
	int		 nostdin;
	int		 keep;		/* -k: build even after an error record */
	/* Features beyond code execution: see feature_params(). */
	cJSON		*skills;	/* SkillParams, or NULL */
	int		 web_search, web_fetch;
	cJSON		*web_allow, *web_block;	/* string arrays, or NULL */
	long		 web_max_uses;	/* 0: not set */
	cJSON		*mcp;		/* MCP server objects, or NULL */
	cJSON		*mcp_env;	/* server name -> variable name */
	cJSON		*schema;	/* output JSON Schema, or NULL */
	const char	*schemafile;
	const char	*cache;		/* "5m", "1h", or NULL */
	const char	*thinking;	/* "", "adaptive" or a budget */
	const char	*effort;
	cJSON		*extra;		/* -P: top-level fields */
};

/* What the transcript and the stdin records told us. */
struct input {
	cJSON		*files;		/* FileMetadata objects to attach */
	struct ca_buf	 held;		/* file records held back (continue) */
	long		 nrequests;	/* request records seen */
	cJSON		*last_req;	/* the last request record */
	cJSON		*turn;		/* assistant content of its responses */
	cJSON		*container;	/* the last response's container */
	int		 nresp;		/* responses to last_req */
	int		 bad;
	cJSON		*base;		/* the last request with a response */
	cJSON		*base_turn;	/* the assistant content answering it */
	cJSON		*skipped;	/* requests after base without one */
	cJSON		*again;		/* file blocks of the skipped turns */
	struct ca_status up;		/* error records in the new input */
	long		 errline;	/* the first one's line, and what */
	char		*errwhat;	/* it says, sanitised */
};

static void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fputs("usage: ca-request [-CIknv] [-b beta] [-c container] [-f file] "
	    "[-i id] [-m model]\n"
	    "                  [-M max_tokens] [-s system] [-T tool] "
	    "[--betas auto|legacy|none]\n"
	    "                  [--any-model] [--fresh-container] "
	    "[--skill id] [-W search|fetch]\n"
	    "                  [--web-domains list] [--web-block list] "
	    "[--web-max-uses n]\n"
	    "                  [--mcp url[,name=name]] [--mcp-token-env var] "
	    "[--schema file]\n"
	    "                  [--cache[=5m|1h]] [--thinking[=budget|adaptive]] "
	    "[--effort level]\n"
	    "                  [-P key=json] [prompt ...]\n"
	    "       ca-request --version\n", fp);
	if (status == 0)
		fputs("  -b, --beta NAME         add an anthropic-beta name "
		    "(repeatable)\n"
		    "      --betas MODE        auto (none needed), legacy "
		    "(historical headers), none\n"
		    "  -C, --continue          stdin is a transcript: build "
		    "the next turn\n"
		    "  -c, --container ID      run in this container\n"
		    "  -f, --file FILE         read the prompt from FILE\n"
		    "  -I, --inline            images, PDFs and text as "
		    "image/document blocks\n"
		    "  -i, --id ID             the custom_id (default unique: "
		    "r1-..., r2-...)\n"
		    "  -k, --keep-going        build a request even after an "
		    "error record\n"
		    "  -M, --max-tokens N      max_tokens (default 4096)\n"
		    "  -m, --model MODEL       the model (default "
		    "claude-opus-5-5, or $CA_MODEL)\n"
		    "  -n                      do not read standard input "
		    "(in a while read loop)\n"
		    "  -s, --system TEXT       the system prompt\n"
		    "  -T, --tool VERSION      code execution tool version\n"
		    "  -v, --verbose           say more on standard error\n"
		    "      --any-model         allow a model not in the "
		    "table\n"
		    "      --fresh-container   with -C, start afresh when "
		    "the container expired\n"
		    "      --skill [anthropic:|custom:]ID[@VERSION]\n"
		    "                          an Agent Skill in the container "
		    "(repeatable)\n"
		    "  -W, --web search|fetch  add the web search or web fetch "
		    "tool (repeatable)\n"
		    "      --web-domains LIST  web tools: allowed domains, "
		    "comma-separated\n"
		    "      --web-block LIST    web tools: blocked domains, "
		    "comma-separated\n"
		    "      --web-max-uses N    web tools: at most N uses each\n"
		    "      --mcp URL[,name=NAME]\n"
		    "                          an MCP server's tools "
		    "(repeatable)\n"
		    "      --mcp-token-env VAR the --mcp before it: its token "
		    "is in $VAR\n"
		    "      --schema FILE       answer with JSON matching this "
		    "JSON Schema\n"
		    "      --cache[=5m|1h]     prompt caching (default 5m)\n"
		    "      --thinking[=BUDGET|adaptive]\n"
		    "                          extended thinking\n"
		    "      --effort LEVEL      low, medium, high or max\n"
		    "  -P, --param KEY=JSON    set any other top-level field "
		    "(repeatable)\n"
		    "      --version           print the version and exit\n",
		    fp);
	exit(status);
}

static char *
slurp(const char *path)
{
	struct ca_buf b = { NULL, 0, 0, CA_LINE_MAX };
	char chunk[65536];
	FILE *fp;
	size_t n;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL)
		ca_die(CA_EX_USAGE, "%s:", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (ca_buf_add(&b, chunk, n) == -1)
			ca_die(CA_EX_USAGE, "%s: prompt too large", path);
	if (ferror(fp))
		ca_die(CA_EX_USAGE, "%s:", path);
	if (fp != stdin)
		fclose(fp);
	if (b.p == NULL)
		ca_buf_addstr(&b, "");
	return b.p;
}

static char *
join(int argc, char **argv)
{
	struct ca_buf b = { NULL, 0, 0, CA_LINE_MAX };
	int i;

	for (i = 0; i < argc; i++) {
		if (i > 0)
			ca_buf_addstr(&b, " ");
		ca_buf_addstr(&b, argv[i]);
	}
	if (b.p == NULL)
		ca_buf_addstr(&b, "");
	return b.p;
}

/*
 * A request ends when the next one starts (or the input ends): if it was
 * answered it becomes the base a continuation builds on, otherwise a
 * failed turn to skip.
 */
static void
settle(struct input *in)
{
	if (in->last_req == NULL)
		return;
	if (in->nresp > 0) {
		cJSON_Delete(in->base);
		cJSON_Delete(in->base_turn);
		cJSON_Delete(in->skipped);
		in->base = cJSON_Duplicate(in->last_req, 1);
		in->base_turn = cJSON_Duplicate(in->turn, 1);
		in->skipped = NULL;
		return;
	}
	if (in->skipped == NULL)
		in->skipped = cJSON_CreateArray();
	cJSON_AddItemToArray(in->skipped, cJSON_Duplicate(in->last_req, 1));
}

/* Remember the last request and the assistant content answering it. */
static void
take_transcript(struct input *in, const char *type, const cJSON *rec)
{
	const cJSON *msg, *b, *c;

	if (strcmp(type, "request") == 0) {
		settle(in);
		cJSON_Delete(in->last_req);
		cJSON_Delete(in->turn);
		in->last_req = cJSON_Duplicate(rec, 1);
		in->turn = cJSON_CreateArray();
		in->nresp = 0;
		return;
	}
	if (strcmp(type, "response") != 0 || in->last_req == NULL)
		return;
	if (!cJSON_Compare(cJSON_GetObjectItem(rec, "custom_id"),
	    cJSON_GetObjectItem(in->last_req, "custom_id"), 1))
		return;
	msg = ca_jobj(rec, "message");
	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		cJSON_AddItemToArray(in->turn, cJSON_Duplicate(b, 1));
	if ((c = ca_jobj(msg, "container")) != NULL) {
		cJSON_Delete(in->container);
		in->container = cJSON_Duplicate(c, 1);
	}
	in->nresp++;
}

/*
 * An error record in the new input: a file that did not upload, a
 * request that failed.  Remember the first for the message.
 */
static void
take_error(struct input *in, const struct ca_rec *rec)
{
	const char *what = ca_jstr(rec->json, "path");
	const char *msg = ca_jstr(ca_jobj(rec->json, "error"), "message");
	char *sw, *sm;

	ca_status_rec(&in->up, rec->json);
	if (in->errwhat != NULL)
		return;
	if (what == NULL)
		what = ca_jstr(rec->json, "custom_id");
	sw = ca_sanitize(what != NULL ? what : "?", 200);
	sm = ca_sanitize(msg != NULL ? msg : "?", 300);
	in->errwhat = ca_xmalloc(strlen(sw) + strlen(sm) + 3);
	sprintf(in->errwhat, "%s: %s", sw, sm);
	free(sw);
	free(sm);
	in->errline = rec->lineno;
}

static int
is_transcript(const char *type)
{
	return strcmp(type, "request") == 0 || strcmp(type, "response") == 0 ||
	    strcmp(type, "event") == 0 || strcmp(type, "error") == 0 ||
	    strcmp(type, "fetched") == 0;
}

/*
 * Without --continue every record passes through and file records are
 * attached.  With it, stdin is a transcript: its turns are history and
 * are not passed on; only the records after the last request are new
 * (file records among them are attached), held back, then passed on in
 * order before the new request.
 */
static void
read_input(struct input *in, const struct opts *o)
{
	struct ca_reader *r = ca_reader_new(stdin, "<stdin>");
	struct ca_rec rec;
	int rv;

	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			in->bad = 1;
			continue;
		}
		if (strcmp(rec.type, "request") == 0) {
			in->nrequests++;
			if (o->cont) {
				cJSON_Delete(in->files);
				in->files = cJSON_CreateArray();
				ca_buf_reset(&in->held);
				/* Errors before it are history. */
				memset(&in->up, 0, sizeof(in->up));
				free(in->errwhat);
				in->errwhat = NULL;
			}
		}
		/*
		 * With --continue, an error of a turn (it has a custom_id)
		 * is history; one without (an upload) is new input.
		 */
		if (strcmp(rec.type, "error") == 0 && (!o->cont ||
		    !cJSON_IsString(cJSON_GetObjectItem(rec.json,
		    "custom_id"))))
			take_error(in, &rec);
		else if (o->cont && is_transcript(rec.type)) {
			take_transcript(in, rec.type, rec.json);
			continue;
		}
		if (strcmp(rec.type, "file") == 0) {
			cJSON *f = ca_jobj(rec.json, "file");

			if (f == NULL || ca_jstr(f, "id") == NULL) {
				ca_warn("<stdin>:%ld: file record without "
				    "file.id, skipped", rec.lineno);
				in->bad = 1;
				continue;
			}
			cJSON_AddItemToArray(in->files, cJSON_Duplicate(f, 1));
		}
		if (o->cont) {
			/* Held, in order, until we know it follows the last
			 * request; a later request makes it history. */
			ca_buf_add(&in->held, rec.raw, rec.len);
			ca_buf_add(&in->held, "\n", 1);
			continue;
		}
		ca_emit_raw(&rec);
	}
	if (ca_reader_failed(r))
		in->bad = 1;
	ca_reader_free(r);
}

/* The block that carries an attached file into the conversation. */
static cJSON *
file_block(const cJSON *f, int inline_files)
{
	const char *id = ca_jstr(f, "id"), *mime = ca_jstr(f, "mime_type");
	const char *type = "container_upload";
	cJSON *b = cJSON_CreateObject(), *src;

	if (inline_files && mime != NULL) {
		if (strcmp(mime, "image/png") == 0 ||
		    strcmp(mime, "image/jpeg") == 0 ||
		    strcmp(mime, "image/gif") == 0 ||
		    strcmp(mime, "image/webp") == 0)
			type = "image";
		else if (strcmp(mime, "application/pdf") == 0 ||
		    strcmp(mime, "text/plain") == 0)
			type = "document";
	}
	cJSON_AddStringToObject(b, "type", type);
	if (strcmp(type, "container_upload") == 0) {
		cJSON_AddStringToObject(b, "file_id", id);
		return b;
	}
	src = cJSON_AddObjectToObject(b, "source");
	cJSON_AddStringToObject(src, "type", "file");
	cJSON_AddStringToObject(src, "file_id", id);
	return b;
}

static cJSON *
user_message(const char *prompt, const cJSON *files, int inline_files)
{
	cJSON *m = cJSON_CreateObject(), *content, *t;
	const cJSON *f;

	cJSON_AddStringToObject(m, "role", "user");
	content = cJSON_AddArrayToObject(m, "content");
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", prompt);
	cJSON_AddItemToArray(content, t);
	cJSON_ArrayForEach(f, files)
		cJSON_AddItemToArray(content, file_block(f, inline_files));
	return m;
}

/* Check the model and pick the tool version; dies with the reason. */
static const char *
pick_tool(const char *model, const char *tool, int any_model)
{
	const struct ca_model *m = ca_model_find(model);
	const struct ca_tool *t = NULL;
	const struct ca_model *mi;
	struct ca_buf names = { NULL, 0, 0, 0 };

	if (tool != NULL && (t = ca_tool_find(tool)) == NULL)
		ca_die(CA_EX_USAGE, "unknown tool version %s; known: %s", tool,
		    ca_tool_list(~0u));
	if (m == NULL && !any_model) {
		for (mi = ca_models; mi->name != NULL; mi++) {
			if (mi != ca_models)
				ca_buf_addstr(&names, ", ");
			ca_buf_addstr(&names, mi->name);
		}
		ca_die(CA_EX_USAGE, "unknown model %s (--any-model allows a "
		    "model newer than this table); supported: %s", model,
		    names.p);
	}
	if (m == NULL)
		return t != NULL ? t->type : ca_tool_newest(~0u)->type;
	if (t == NULL)
		return ca_tool_newest(m->tools)->type;
	if (!(m->tools & t->bit) && !any_model)
		ca_die(CA_EX_USAGE, "%s does not support %s; it supports: %s",
		    model, t->type, ca_tool_list(m->tools));
	return t->type;
}

static cJSON *
make_betas(const struct opts *o, const char *tool, int nfiles,
    const cJSON *prev)
{
	cJSON *a;
	int i;

	if (prev != NULL && !o->betas_set)
		a = cJSON_Duplicate(prev, 1);
	else
		a = cJSON_CreateArray();
	if (o->betas == BETAS_LEGACY && (prev == NULL || o->betas_set)) {
		cJSON_AddItemToArray(a, cJSON_CreateString(
		    ca_tool_find(tool)->legacy_beta));
		if (nfiles > 0)
			cJSON_AddItemToArray(a, cJSON_CreateString(
			    CA_FILES_BETA));
	}
	for (i = 0; i < o->nextra; i++) {
		const cJSON *e;
		int dup = 0;

		cJSON_ArrayForEach(e, a)
			if (cJSON_IsString(e) &&
			    strcmp(e->valuestring, o->extra_betas[i]) == 0)
				dup = 1;
		if (!dup)
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(o->extra_betas[i]));
	}
	return a;
}

/* Is an RFC 3339 UTC time in the past? */
static int
expired(const char *when)
{
	char buf[32];
	time_t now = time(NULL);

	if (when == NULL)
		return 0;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", gmtime(&now));
	/* RFC 3339 UTC timestamps of one format order as strings. */
	return strncmp(when, buf, 19) < 0;
}

/* The file id a user content block carries, or NULL. */
static const char *
block_file_id(const cJSON *b)
{
	const char *id = ca_jstr(b, "file_id");

	return id != NULL ? id : ca_jstr(ca_jobj(b, "source"), "file_id");
}

static int
has_file_block(const cJSON *blocks, const char *id)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, blocks)
		if (block_file_id(b) != NULL &&
		    strcmp(block_file_id(b), id) == 0)
			return 1;
	return 0;
}

static cJSON *
last_message(const cJSON *params)
{
	const cJSON *msgs = ca_jarr(params, "messages");

	return cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
}

/*
 * Skip the failed turns after the base: their prompts are dropped (the
 * person asks again), but the files they attached never reached the
 * model, so they ride along with the new turn.
 */
static void
skip_failed(struct input *in)
{
	struct ca_buf ids = { NULL, 0, 0, 0 };
	const cJSON *r, *m, *b;
	char *s;

	in->again = cJSON_CreateArray();
	cJSON_ArrayForEach(r, in->skipped) {
		s = ca_sanitize(ca_jstr(r, "custom_id") != NULL ?
		    ca_jstr(r, "custom_id") : "?", 64);
		if (ids.len > 0)
			ca_buf_addstr(&ids, ", ");
		ca_buf_addstr(&ids, s);
		free(s);
		m = last_message(ca_jobj(r, "params"));
		if (ca_jstr(m, "role") == NULL ||
		    strcmp(ca_jstr(m, "role"), "user") != 0)
			continue;
		cJSON_ArrayForEach(b, ca_jarr(m, "content"))
			if (block_file_id(b) != NULL &&
			    !has_file_block(in->again, block_file_id(b)))
				cJSON_AddItemToArray(in->again,
				    cJSON_Duplicate(b, 1));
	}
	if (ids.len > 0) {
		s = ca_sanitize(in->base != NULL &&
		    ca_jstr(in->base, "custom_id") != NULL ?
		    ca_jstr(in->base, "custom_id") : "?", 64);
		ca_warn("--continue: skipped the failed turn%s %s (no "
		    "response); continuing from %s",
		    cJSON_GetArraySize(in->skipped) > 1 ? "s" : "", ids.p,
		    in->base != NULL ? s : "the start");
		free(s);
	}
	ca_buf_free(&ids);
}

/* Attach the files of skipped turns that the new turn lacks. */
static void
reattach(cJSON *params, const struct input *in)
{
	cJSON *content = ca_jarr(last_message(params), "content");
	const cJSON *b;

	cJSON_ArrayForEach(b, in->again)
		if (content != NULL &&
		    !has_file_block(content, block_file_id(b)))
			cJSON_AddItemToArray(content, cJSON_Duplicate(b, 1));
}

/*
 * The params of the next turn: the last answered request's, with its
 * answer as the assistant message.  When no turn was answered, the last
 * request's settings with the history it was built on (its messages but
 * the failed prompt).
 */
static cJSON *
continue_params(struct input *in, const struct opts *o, const char **tool)
{
	cJSON *params, *msgs, *a, *t;
	const char *cid, *exp;

	if (in->last_req == NULL)
		ca_die(CA_EX_USAGE, "--continue: no request record in the "
		    "transcript on standard input");
	settle(in);
	skip_failed(in);
	if (in->base != NULL)
		params = cJSON_Duplicate(ca_jobj(in->base, "params"), 1);
	else
		params = cJSON_Duplicate(ca_jobj(in->last_req, "params"), 1);
	if (params == NULL)
		ca_die(CA_EX_FAIL, "--continue: the last request has no params");
	cJSON_DeleteItemFromObject(params, "stream");
	msgs = ca_jarr(params, "messages");
	if (msgs == NULL)
		msgs = cJSON_AddArrayToObject(params, "messages");
	if (in->base != NULL) {
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "role", "assistant");
		cJSON_AddItemToObject(a, "content", in->base_turn);
		in->base_turn = NULL;
		cJSON_AddItemToArray(msgs, a);
	} else if (cJSON_GetArraySize(msgs) > 0)
		cJSON_DeleteItemFromArray(msgs, cJSON_GetArraySize(msgs) - 1);
	*tool = NULL;
	cJSON_ArrayForEach(t, ca_jarr(params, "tools")) {
		const char *ty = ca_jstr(t, "type");

		if (ty != NULL && strncmp(ty, "code_execution_", 15) == 0)
			*tool = ty;
	}
	/* Not a prefix of the id, nor silently a fresh container. */
	if (o->container == NULL && ca_jnulstr(
	    cJSON_GetObjectItemCaseSensitive(in->container, "id")))
		ca_die(CA_EX_FAIL, "--continue: the transcript's container id "
		    "holds a NUL (\\u0000)");
	cid = ca_jstr(in->container, "id");
	exp = ca_jstr(in->container, "expires_at");
	cJSON_DeleteItemFromObject(params, "container");
	if (o->container != NULL)
		cJSON_AddStringToObject(params, "container", o->container);
	else if (cid != NULL && expired(exp)) {
		if (!o->fresh)
			ca_die(CA_EX_FAIL, "container %s expired at %s; use "
			    "--fresh-container to start a new one", cid, exp);
		ca_warn("container %s expired at %s; starting a fresh one "
		    "(earlier files are gone)", cid, exp);
	} else if (cid != NULL)
		cJSON_AddStringToObject(params, "container", cid);
	return params;
}

static void
set_tool(cJSON *params, const char *tool)
{
	cJSON *tools = ca_jarr(params, "tools"), *t, *next;

	if (tools == NULL)
		tools = cJSON_AddArrayToObject(params, "tools");
	/* Replace any code execution tool; keep the caller's other tools. */
	for (t = tools->child; t != NULL; t = next) {
		const char *ty = ca_jstr(t, "type");

		next = t->next;
		if (ty != NULL && strncmp(ty, "code_execution_", 15) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(tools, t));
	}
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", tool);
	cJSON_AddStringToObject(t, "name", "code_execution");
	cJSON_AddItemToArray(tools, t);
}

static void
set_str(cJSON *o, const char *key, const char *v)
{
	cJSON_DeleteItemFromObject(o, key);
	cJSON_AddStringToObject(o, key, v);
}

/* ---- Features beyond code execution ---- */

#define SKILLS_MAX	8		/* the API's limit per request */
#define MCP_BETA	"mcp-client-2025-11-20"
#define SKILLS_BETA	"skills-2025-10-02"	/* legacy only */
#define WEBFETCH_BETA	"web-fetch-2025-09-10"	/* legacy only */

#define WORD_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789._-"

/* Letters, digits and "._-": a skill id, a version, a server name. */
static int
plain_word(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, WORD_CHARS) == n;
}

/* --skill [anthropic:|custom:]ID[@VERSION] */
static void
add_skill(struct opts *o, const char *arg)
{
	char *s = ca_xstrdup(arg), *id = s, *ver;
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
		ca_die(CA_EX_USAGE, "bad --skill %s: want [anthropic:|custom:]"
		    "ID[@VERSION], 1 to 64 letters, digits, '.', '_' or '-'",
		    arg);
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
			ca_die(CA_EX_USAGE, "--skill %s: not an Anthropic skill "
			    "(%s); write custom:%s for your own", arg, known.p,
			    id);
		}
	}
	if (o->skills == NULL)
		o->skills = cJSON_CreateArray();
	if (cJSON_GetArraySize(o->skills) == SKILLS_MAX)
		ca_die(CA_EX_USAGE, "--skill: at most %d skills a request",
		    SKILLS_MAX);
	sk = cJSON_CreateObject();
	cJSON_AddStringToObject(sk, "type", type);
	cJSON_AddStringToObject(sk, "skill_id", id);
	cJSON_AddStringToObject(sk, "version", ver != NULL ? ver : "latest");
	cJSON_AddItemToArray(o->skills, sk);
	free(s);
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
			ca_die(CA_EX_USAGE, "%s: %s: give a domain without "
			    "scheme or spaces (example.com, docs.example.com/api)",
			    opt, p);
		cJSON_AddItemToArray(a, cJSON_CreateString(p));
	}
	free(s);
	if (cJSON_GetArraySize(a) == 0)
		ca_die(CA_EX_USAGE, "%s: no domain given", opt);
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
			ca_die(CA_EX_USAGE, "--mcp %s: after the URL only "
			    "name=NAME (letters, digits, '.', '_', '-')", arg);
		snprintf(name, sizeof(name), "%s", opt + 5);
	}
	if (strncmp(url, "https://", 8) != 0 || url[8] == '\0' ||
	    !ca_header_safe(url) || strpbrk(url, " \t") != NULL)
		ca_die(CA_EX_USAGE, "--mcp %s: the server's URL must start "
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
			ca_die(CA_EX_USAGE, "--mcp %s: a second server named %s; "
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
	const char *name;
	cJSON *last;

	if (o->mcp == NULL)
		ca_die(CA_EX_USAGE, "--mcp-token-env %s: give it after the "
		    "--mcp it is for", var);
	if (*var == '\0' || strchr("0123456789", *var) != NULL ||
	    strspn(var, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != strlen(var))
		ca_die(CA_EX_USAGE, "--mcp-token-env %s: not an environment "
		    "variable name (the token itself never goes on the command "
		    "line)", var);
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
		ca_die(CA_EX_USAGE, "%s: schema nested too deeply", file);
	if (cJSON_IsObject(s) && (ca_jobj(s, "properties") != NULL ||
	    (ca_jstr(s, "type") != NULL &&
	    strcmp(ca_jstr(s, "type"), "object") == 0))) {
		ap = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
		if (ap == NULL)
			cJSON_AddFalseToObject(s, "additionalProperties");
		else if (!cJSON_IsFalse(ap))
			ca_die(CA_EX_USAGE, "%s: structured output needs "
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
		ca_die(CA_EX_USAGE, "--schema wants a file, not standard input");
	text = slurp(file);
	s = ca_jparse(text, strlen(text));
	free(text);
	if (s == NULL)
		ca_die(CA_EX_USAGE, "--schema %s: not valid JSON", file);
	if (!cJSON_IsObject(s) || ca_jstr(s, "type") == NULL ||
	    strcmp(ca_jstr(s, "type"), "object") != 0)
		ca_die(CA_EX_USAGE, "--schema %s: the schema's root must be "
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
	{ "tools",		"-T, -W or --mcp" },
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
		ca_die(CA_EX_USAGE, "-P %s: want KEY=JSON", arg);
	memcpy(key, arg, n);
	key[n] = '\0';
	if (strspn(key, "abcdefghijklmnopqrstuvwxyz_") != n)
		ca_die(CA_EX_USAGE, "-P %s: %s is not a request field name",
		    arg, key);
	for (i = 0; i < sizeof(managed) / sizeof(managed[0]); i++)
		if (strcmp(managed[i].key, key) == 0)
			ca_die(CA_EX_USAGE, "-P %s: ca-request sets %s itself; "
			    "use %s", key, key, managed[i].flag);
	if ((v = ca_jparse(eq + 1, strlen(eq + 1))) == NULL)
		ca_die(CA_EX_USAGE, "-P %s: the value is not JSON (a string "
		    "needs its quotes: -P '%s=\"...\"')", key, key);
	if (o->extra == NULL)
		o->extra = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(o->extra, key);
	cJSON_AddItemToObject(o->extra, key, v);
}

/* Today (UTC), or CA_TODAY, as YYYY-MM-DD. */
static void
today(char buf[11])
{
	const char *t = getenv("CA_TODAY");
	time_t now = time(NULL);

	if (t != NULL && strlen(t) == 10) {
		memcpy(buf, t, 11);
		return;
	}
	strftime(buf, 11, "%Y-%m-%d", gmtime(&now));
}

/* Warn about a deprecated model; refuse one past its end of life. */
static void
check_eol(const char *model, int any_model)
{
	const char *eol = ca_model_eol(model);
	char now[11];

	if (eol == NULL)
		return;
	today(now);
	if (strcmp(now, eol) >= 0 && !any_model)
		ca_die(CA_EX_USAGE, "%s reached its end of life on %s; choose "
		    "a newer model (or --any-model to try anyway)", model,
		    eol);
	ca_warn("%s is deprecated and reaches its end of life on %s; "
	    "please move to a newer model", model, eol);
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
			ca_die(CA_EX_USAGE, "%s has no adaptive thinking; use "
			    "--thinking=BUDGET", model);
	} else {
		if (*o->thinking == '\0')
			budget = max_tokens / 2 > 1024 ? max_tokens / 2 : 1024;
		else
			budget = ca_strtonum(o->thinking, 1024, 1000000,
			    "thinking budget");
		if (budget >= max_tokens)
			ca_die(CA_EX_USAGE, "--thinking: the budget (%ld) must "
			    "be less than max_tokens (%ld); raise -M", budget,
			    max_tokens);
		if (!(feats & CA_F_THINK))
			ca_die(CA_EX_USAGE, "%s refuses thinking with a token "
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
			ca_die(CA_EX_USAGE, "%s does not take --effort %s",
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
		ca_die(CA_EX_USAGE, "skills need code_execution_20250825 or "
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
static void
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
static void
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

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	enum { O_BETAS = 256, O_ANY, O_FRESH, O_VERSION, O_SKILL, O_WDOM,
	    O_WBLOCK, O_WMAX, O_MCP, O_MCPENV, O_SCHEMA, O_CACHE, O_THINK,
	    O_EFFORT };
	static const struct option lopts[] = {
		{ "beta",		required_argument, NULL, 'b' },
		{ "betas",		required_argument, NULL, O_BETAS },
		{ "container",		required_argument, NULL, 'c' },
		{ "continue",		no_argument,	   NULL, 'C' },
		{ "file",		required_argument, NULL, 'f' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "id",			required_argument, NULL, 'i' },
		{ "inline",		no_argument,	   NULL, 'I' },
		{ "keep-going",		no_argument,	   NULL, 'k' },
		{ "model",		required_argument, NULL, 'm' },
		{ "max-tokens",		required_argument, NULL, 'M' },
		{ "system",		required_argument, NULL, 's' },
		{ "tool",		required_argument, NULL, 'T' },
		{ "any-model",		no_argument,	   NULL, O_ANY },
		{ "fresh-container",	no_argument,	   NULL, O_FRESH },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "version",		no_argument,	   NULL, O_VERSION },
		{ "skill",		required_argument, NULL, O_SKILL },
		{ "web",		required_argument, NULL, 'W' },
		{ "web-domains",	required_argument, NULL, O_WDOM },
		{ "web-block",		required_argument, NULL, O_WBLOCK },
		{ "web-max-uses",	required_argument, NULL, O_WMAX },
		{ "mcp",		required_argument, NULL, O_MCP },
		{ "mcp-token-env",	required_argument, NULL, O_MCPENV },
		{ "schema",		required_argument, NULL, O_SCHEMA },
		{ "cache",		optional_argument, NULL, O_CACHE },
		{ "thinking",		optional_argument, NULL, O_THINK },
		{ "effort",		required_argument, NULL, O_EFFORT },
		{ "param",		required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "b:Cc:f:hIi:kM:m:nP:s:T:vW:", lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (!ca_header_safe(optarg) || *optarg == '\0' ||
			    strpbrk(optarg, ", \t") != NULL)
				ca_die(CA_EX_USAGE, "bad beta name: %s",
				    optarg);
			o->extra_betas = ca_xrealloc(o->extra_betas,
			    (size_t)(o->nextra + 1) * sizeof(char *));
			o->extra_betas[o->nextra++] = optarg;
			break;
		case 'C':
			o->cont = 1;
			break;
		case 'c':
			if (!ca_header_safe(optarg) || *optarg == '\0')
				ca_die(CA_EX_USAGE, "bad container id");
			o->container = optarg;
			break;
		case 'f':
			o->promptfile = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'I':
			o->inline_files = 1;
			break;
		case 'i':
			/* The Message Batches API takes no other. */
			if (!ca_id_ok(optarg))
				ca_die(CA_EX_USAGE, "--id: 1 to 64 letters, "
				    "digits, _ or -, not \"%s\"",
				    ca_sanitize(optarg, 100));
			o->id = optarg;
			break;
		case 'k':
			o->keep = 1;
			break;
		case 'M':
			o->max_tokens = ca_strtonum(optarg, 1, 1000000,
			    "max tokens");
			break;
		case 'm':
			o->model = optarg;
			break;
		case 'n':
			o->nostdin = 1;
			break;
		case 's':
			o->system = optarg;
			break;
		case 'T':
			o->tool = optarg;
			break;
		case 'v':
			ca_verbose++;
			break;
		case O_BETAS:
			o->betas_set = 1;
			if (strcmp(optarg, "auto") == 0)
				o->betas = BETAS_AUTO;
			else if (strcmp(optarg, "legacy") == 0)
				o->betas = BETAS_LEGACY;
			else if (strcmp(optarg, "none") == 0)
				o->betas = BETAS_NONE;
			else
				ca_die(CA_EX_USAGE, "--betas takes auto, "
				    "legacy or none, not %s", optarg);
			break;
		case O_ANY:
			o->any_model = 1;
			break;
		case O_FRESH:
			o->fresh = 1;
			break;
		case O_VERSION:
			ca_version(NULL);
		case O_SKILL:
			add_skill(o, optarg);
			break;
		case 'W':
			if (strcmp(optarg, "search") == 0)
				o->web_search = 1;
			else if (strcmp(optarg, "fetch") == 0)
				o->web_fetch = 1;
			else
				ca_die(CA_EX_USAGE, "-W takes search or fetch, "
				    "not %s", optarg);
			break;
		case O_WDOM:
			cJSON_Delete(o->web_allow);
			o->web_allow = domain_list("--web-domains", optarg);
			break;
		case O_WBLOCK:
			cJSON_Delete(o->web_block);
			o->web_block = domain_list("--web-block", optarg);
			break;
		case O_WMAX:
			o->web_max_uses = ca_strtonum(optarg, 1, 1000000,
			    "web max uses");
			break;
		case O_MCP:
			add_mcp(o, optarg);
			break;
		case O_MCPENV:
			mcp_token_env(o, optarg);
			break;
		case O_SCHEMA:
			read_schema(o, optarg);
			break;
		case O_CACHE:
			o->cache = optarg != NULL ? optarg : "5m";
			if (strcmp(o->cache, "5m") != 0 &&
			    strcmp(o->cache, "1h") != 0)
				ca_die(CA_EX_USAGE, "--cache takes 5m or 1h, "
				    "not %s", o->cache);
			break;
		case O_THINK:
			o->thinking = optarg != NULL ? optarg : "";
			break;
		case O_EFFORT:
			if (strcmp(optarg, "low") != 0 &&
			    strcmp(optarg, "medium") != 0 &&
			    strcmp(optarg, "high") != 0 &&
			    strcmp(optarg, "max") != 0)
				ca_die(CA_EX_USAGE, "--effort takes low, medium, "
				    "high or max, not %s", optarg);
			o->effort = optarg;
			break;
		case 'P':
			add_param(o, optarg);
			break;
		default:
			usage(CA_EX_USAGE);
		}
	}
	if (o->web_allow != NULL && o->web_block != NULL)
		ca_die(CA_EX_USAGE, "--web-domains and --web-block exclude "
		    "each other");
	if ((o->web_allow != NULL || o->web_block != NULL ||
	    o->web_max_uses > 0) && !o->web_search && !o->web_fetch)
		ca_die(CA_EX_USAGE, "--web-domains, --web-block and "
		    "--web-max-uses go with -W search or -W fetch");
	if (o->thinking != NULL && *o->thinking != '\0' &&
	    strcmp(o->thinking, "adaptive") != 0)
		(void)ca_strtonum(o->thinking, 1024, 1000000,
		    "thinking budget");
}

/* Pass on what --continue held back, and build nothing. */
static void
refuse(struct input *in)
{
	if (in->held.len > 0 && fwrite(in->held.p, 1, in->held.len,
	    stdout) != in->held.len)
		ca_die(CA_EX_FAIL, "write error on standard output:");
	cJSON_Delete(in->files);
	cJSON_Delete(in->last_req);
	cJSON_Delete(in->turn);
	cJSON_Delete(in->container);
	ca_buf_free(&in->held);
	free(in->errwhat);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct input in;
	cJSON *params, *rec, *prevbetas = NULL, *betas, *tokenv = NULL;
	const cJSON *prevcont = NULL;
	const char *tool = NULL, *model;
	char *prompt, idbuf[CA_ID_MAX], pfx[32], *mcopy = NULL;
	int status;

	ca_setprog(argv[0]);
	argv[0] = (char *)ca_prog;	/* getopt names it in its messages */
	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	o.max_tokens = 0;
	parse_opts(&o, argc, argv);
	argc -= optind;
	argv += optind;
	if (o.promptfile != NULL && argc > 0)
		ca_die(CA_EX_USAGE, "give the prompt as operands or with -f, "
		    "not both");
	if (o.promptfile != NULL && strcmp(o.promptfile, "-") == 0)
		o.nostdin = 1;
	prompt = o.promptfile != NULL ? slurp(o.promptfile) : join(argc, argv);
	if (prompt[strspn(prompt, " \t\r\n")] == '\0')
		ca_die(CA_EX_USAGE, "no prompt: give it as operands or with -f");

	in.files = cJSON_CreateArray();
	/* A closed standard input (cron, some CI) is no input, not an error. */
	if (!o.nostdin && fcntl(STDIN_FILENO, F_GETFD) != -1 &&
	    !isatty(STDIN_FILENO))
		read_input(&in, &o);
	else if (o.cont)
		ca_die(CA_EX_USAGE, "--continue reads the transcript on "
		    "standard input");
	/* Bad lines, and the error records that came in, by the rule. */
	if (in.bad)
		ca_status_add(&in.up, CA_EX_FAIL);
	status = ca_status_exit(&in.up);
	/* Nothing is billed from incomplete input unless -k says so. */
	if (in.errwhat != NULL) {
		ca_warn("<stdin>:%ld: an error record came in (%s); %s",
		    in.errline, in.errwhat, o.keep ? "building the request "
		    "anyway" : "no request built (-k builds one anyway)");
		if (!o.keep) {
			refuse(&in);
			free(o.extra_betas);
			free(prompt);
			return ca_finish(status);
		}
	}

	if (o.cont) {
		params = continue_params(&in, &o, &tool);
		prevbetas = ca_jarr(in.last_req, "betas");
		prevcont = ca_jobj(ca_jobj(in.last_req, "params"),
		    "container");
		tokenv = ca_jobj(in.last_req, "mcp_token_env");
		model = o.model != NULL ? o.model : ca_jstr(params, "model");
		/* params is about to be edited: keep our own copy. */
		model = mcopy = ca_xstrdup(model != NULL ? model :
		    "claude-opus-5-5");
	} else {
		params = cJSON_CreateObject();
		model = o.model != NULL ? o.model :
		    getenv("CA_MODEL") != NULL && *getenv("CA_MODEL") ?
		    getenv("CA_MODEL") : "claude-opus-5-5";
		if (o.container != NULL)
			cJSON_AddStringToObject(params, "container",
			    o.container);
	}
	tool = pick_tool(model, o.tool != NULL ? o.tool : tool, o.any_model);
	check_eol(model, o.any_model);
	set_str(params, "model", model);
	if (o.max_tokens > 0 || cJSON_GetObjectItem(params, "max_tokens") ==
	    NULL) {
		cJSON_DeleteItemFromObject(params, "max_tokens");
		cJSON_AddNumberToObject(params, "max_tokens",
		    o.max_tokens > 0 ? (double)o.max_tokens : 4096);
	}
	if (o.system != NULL)
		set_str(params, "system", o.system);
	if (ca_jarr(params, "messages") == NULL)
		cJSON_AddArrayToObject(params, "messages");
	cJSON_AddItemToArray(ca_jarr(params, "messages"),
	    user_message(prompt, in.files, o.inline_files));
	reattach(params, &in);
	set_tool(params, tool);
	feature_params(params, &o, model, tool, prevcont);

	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "type", "request");
	if (o.id == NULL) {
		/* Unique across invocations, so that streams can be joined. */
		snprintf(pfx, sizeof(pfx), "r%ld", in.nrequests + 1);
		ca_id_new(idbuf, pfx);
		o.id = idbuf;
	}
	cJSON_AddStringToObject(rec, "custom_id", o.id);
	betas = make_betas(&o, tool, cJSON_GetArraySize(in.files), prevbetas);
	feature_betas(betas, &o, params);
	cJSON_AddItemToObject(rec, "betas", betas);
	cJSON_AddItemToObject(rec, "params", params);
	/* The names of the variables holding MCP tokens, never a token. */
	if (o.mcp != NULL ? o.mcp_env != NULL : tokenv != NULL)
		cJSON_AddItemToObject(rec, "mcp_token_env", cJSON_Duplicate(
		    o.mcp != NULL ? o.mcp_env : tokenv, 1));
	if (in.held.len > 0 && fwrite(in.held.p, 1, in.held.len, stdout) !=
	    in.held.len)
		ca_die(CA_EX_FAIL, "write error on standard output:");
	ca_emit(rec);

	cJSON_Delete(rec);
	cJSON_Delete(in.files);
	cJSON_Delete(in.last_req);
	cJSON_Delete(in.turn);
	cJSON_Delete(in.container);
	cJSON_Delete(in.base);
	cJSON_Delete(in.base_turn);
	cJSON_Delete(in.skipped);
	cJSON_Delete(in.again);
	ca_buf_free(&in.held);
	free(in.errwhat);
	free(o.extra_betas);
	cJSON_Delete(o.skills);
	cJSON_Delete(o.web_allow);
	cJSON_Delete(o.web_block);
	cJSON_Delete(o.mcp);
	cJSON_Delete(o.mcp_env);
	cJSON_Delete(o.schema);
	cJSON_Delete(o.extra);
	free(prompt);
	free(mcopy);
	return ca_finish(status);
}
