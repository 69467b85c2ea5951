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
	    "[prompt ...]\n"
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

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	enum { O_BETAS = 256, O_ANY, O_FRESH, O_VERSION };
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
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "b:Cc:f:hIi:kM:m:ns:T:v", lopts,
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
		default:
			usage(CA_EX_USAGE);
		}
	}
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
	cJSON *params, *rec, *prevbetas = NULL;
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

	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "type", "request");
	if (o.id == NULL) {
		/* Unique across invocations, so that streams can be joined. */
		snprintf(pfx, sizeof(pfx), "r%ld", in.nrequests + 1);
		ca_id_new(idbuf, pfx);
		o.id = idbuf;
	}
	cJSON_AddStringToObject(rec, "custom_id", o.id);
	cJSON_AddItemToObject(rec, "betas", make_betas(&o, tool,
	    cJSON_GetArraySize(in.files), prevbetas));
	cJSON_AddItemToObject(rec, "params", params);
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
	free(prompt);
	free(mcopy);
	return ca_finish(status);
}
