/*
 * params.c: the request record ca-request writes: the model and its
 * code execution tool version, the new user message with its files,
 * and the betas, with features.c adding the rest.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca-request.h"

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
	char near[256];

	if (tool != NULL && (t = ca_tool_find(tool)) == NULL)
		ca_usage("unknown tool version %s; known: %s", tool,
		    ca_tool_list(~0u));
	if (m == NULL && !any_model) {
		if (ca_model_suggest(model, near, sizeof(near)) > 0)
			ca_usage("unknown model %s; did you mean %s?", model,
			    near);
		for (mi = ca_models; mi->name != NULL; mi++) {
			if (ca_model_retired(mi))
				continue;
			if (names.len > 0)
				ca_buf_addstr(&names, ", ");
			ca_buf_addstr(&names, mi->name);
		}
		ca_usage("unknown model %s (--any-model allows a "
		    "model newer than this table); supported: %s", model,
		    names.p);
	}
	/* Dated ends of life are check_eol's, with the date. */
	if (m != NULL && m->retired && !any_model)
		ca_usage("%s is retired: requests naming it fail; choose a "
		    "newer model (or --any-model to try anyway)", model);
	if (m == NULL)
		return t != NULL ? t->type : ca_tool_newest(~0u)->type;
	if (t == NULL)
		return ca_tool_newest(m->tools)->type;
	if (!(m->tools & t->bit) && !any_model)
		ca_usage("%s does not support %s; it supports: %s",
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

/* Warn about a deprecated model; refuse one past its end of life. */
static void
check_eol(const char *model, int any_model)
{
	const struct ca_model *m = ca_model_find(model);
	const char *eol = m != NULL ? m->eol : NULL;

	if (eol == NULL)
		return;
	if (ca_model_retired(m) && !any_model)
		ca_usage("%s reached its end of life on %s; choose "
		    "a newer model (or --any-model to try anyway)", model,
		    eol);
	ca_warn("%s is deprecated and reaches its end of life on %s; "
	    "please move to a newer model", model, eol);
}

/* The params of a first turn: the model given, or $CA_MODEL. */
static cJSON *
first_params(const struct opts *o, char **model)
{
	cJSON *params = cJSON_CreateObject();
	const char *env = getenv("CA_MODEL");

	*model = ca_xstrdup(o->model != NULL ? o->model : env != NULL &&
	    *env != '\0' ? env : CA_MODEL_DEFAULT);
	if (o->container != NULL)
		cJSON_AddStringToObject(params, "container", o->container);
	return params;
}

/* model, max_tokens, system, and the new user message. */
static void
set_message(cJSON *params, const struct opts *o, const struct input *in,
    const char *model, const char *prompt)
{
	set_str(params, "model", model);
	if (o->max_tokens > 0 || cJSON_GetObjectItem(params, "max_tokens") ==
	    NULL) {
		cJSON_DeleteItemFromObject(params, "max_tokens");
		cJSON_AddNumberToObject(params, "max_tokens",
		    o->max_tokens > 0 ? (double)o->max_tokens : 4096);
	}
	if (o->system != NULL)
		set_str(params, "system", o->system);
	if (ca_jarr(params, "messages") == NULL)
		cJSON_AddArrayToObject(params, "messages");
	if (prompt == NULL)		/* --compact */
		return;
	cJSON_AddItemToArray(ca_jarr(params, "messages"),
	    user_message(prompt, in->files, o->inline_files));
	reattach(params, in);
}

cJSON *
build_request(const struct opts *o, struct input *in, const char *prompt)
{
	cJSON *params, *rec, *betas;
	const cJSON *prevbetas = NULL, *prevcont = NULL;
	const char *tool = NULL, *model_in;
	char *model, idbuf[CA_ID_MAX], pfx[32];

	if (o->cont) {
		params = continue_params(in, o, &tool);
		prevbetas = ca_jarr(in->last_req, "betas");
		prevcont = ca_jobj(ca_jobj(in->last_req, "params"),
		    "container");
		model_in = o->model != NULL ? o->model :
		    ca_jstr(params, "model");
		/* params is about to be edited: keep our own copy. */
		model = ca_xstrdup(model_in != NULL ? model_in :
		    CA_MODEL_DEFAULT);
	} else
		params = first_params(o, &model);
	tool = pick_tool(model, o->tool != NULL ? o->tool : tool,
	    o->any_model);
	check_eol(model, o->any_model);
	if (o->cont)
		compact_trim(params);
	set_message(params, o, in, model, prompt);
	set_tool(params, tool);
	feature_params(params, o, model, tool, prevcont);
	compact_params(params, o, model);

	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "type", "request");
	if (o->id == NULL) {
		/* Unique across invocations, so that streams can be joined. */
		snprintf(pfx, sizeof(pfx), "r%ld", in->nrequests + 1);
		ca_id_new(idbuf, pfx);
	}
	cJSON_AddStringToObject(rec, "custom_id", o->id != NULL ? o->id :
	    idbuf);
	betas = make_betas(o, tool, cJSON_GetArraySize(in->files),
	    prevbetas);
	feature_betas(betas, o, params);
	compact_betas(betas, params);
	cJSON_AddItemToObject(rec, "betas", betas);
	cJSON_AddItemToObject(rec, "params", params);
	/*
	 * The tools' local part: a transcript's is kept, as it chooses
	 * nothing (ca-exec runs only the commands of its own files).
	 */
	ctool_params(params, rec, o, model, tool, o->cont ?
	    ca_jarr(in->last_req, "client_tools") : NULL);
	/*
	 * The names of the variables holding MCP tokens, never a token;
	 * from our own command line only, never from a transcript (a
	 * record must not choose what ca-exec reads).
	 */
	if (o->mcp_env != NULL)
		cJSON_AddItemToObject(rec, "mcp_token_env", cJSON_Duplicate(
		    o->mcp_env, 1));
	free(model);
	return rec;
}
