/*
 * ctools.c: --client-tool: tools the client answers.  The API's part
 * goes into params.tools, with allowed_callers; the local part (the
 * command and its limits) into the record's client_tools, beside
 * params, and never to the API.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-request.h"

void
ctool_opt(struct opts *o, const char *file)
{
	int i;

	o->ctools = ca_xrealloc(o->ctools, (size_t)(o->nctools + 1) *
	    sizeof(*o->ctools));
	ca_ctool_load(&o->ctools[o->nctools], file);
	for (i = 0; i < o->nctools; i++)
		if (strcmp(o->ctools[i].name, o->ctools[o->nctools].name) == 0)
			ca_usage("%s: name: a second tool named %s (also in "
			    "%s)", file, o->ctools[i].name, o->ctools[i].file);
	o->nctools++;
}

/*
 * Who may call the tool.  Code may only with a code execution tool
 * that has programmatic tool calling (20260120 and later) and a model
 * that has it; unless the file asks for code, such a request gets
 * direct calls only.
 */
static cJSON *
callers(const struct ca_ctool *t, const char *model, const char *tool,
    int any_model)
{
	const struct ca_tool *ct = ca_tool_find(tool);
	int ptc = ct != NULL && ct->bit >= CA_T20260120 &&
	    (ca_model_feats(model) & CA_F_PTC);
	unsigned want = t->callers;
	cJSON *a = cJSON_CreateArray();

	if (want == 0)
		want = ptc ? CA_CALL_DIRECT | CA_CALL_CODE : CA_CALL_DIRECT;
	if ((want & CA_CALL_CODE) && !ptc && !any_model)
		ca_usage("%s: callers: code needs programmatic tool calling, "
		    "which %s with %s does not have (code_execution_20260120 "
		    "or later, and a model that has it)", t->file, model, tool);
	if (want & CA_CALL_DIRECT)
		cJSON_AddItemToArray(a, cJSON_CreateString("direct"));
	if (want & CA_CALL_CODE)
		cJSON_AddItemToArray(a, cJSON_CreateString(tool));
	return a;
}

/* Drop a custom tool named name (an earlier turn's) from tools. */
static void
drop_named(cJSON *tools, const char *name)
{
	cJSON *t, *next;

	for (t = tools != NULL ? tools->child : NULL; t != NULL; t = next) {
		next = t->next;
		if (ca_jstr(t, "type") == NULL && ca_jstr(t, "name") != NULL &&
		    strcmp(ca_jstr(t, "name"), name) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(tools, t));
	}
}

void
ctool_params(cJSON *params, cJSON *rec, const struct opts *o,
    const char *model, const char *tool, const cJSON *prev)
{
	cJSON *tools, *local, *d;
	int i;

	if (o->nctools == 0) {
		/* --continue keeps the conversation's tools, and so theirs. */
		if (prev != NULL)
			cJSON_AddItemToObject(rec, "client_tools",
			    cJSON_Duplicate(prev, 1));
		return;
	}
	if ((tools = ca_jarr(params, "tools")) == NULL)
		tools = cJSON_AddArrayToObject(params, "tools");
	local = cJSON_CreateArray();
	for (i = 0; i < o->nctools; i++) {
		drop_named(tools, o->ctools[i].name);
		d = cJSON_Duplicate(o->ctools[i].def, 1);
		cJSON_AddItemToObject(d, "allowed_callers", callers(
		    &o->ctools[i], model, tool, o->any_model));
		cJSON_AddItemToArray(tools, d);
		cJSON_AddItemToArray(local, ca_ctool_local(&o->ctools[i]));
	}
	cJSON_AddItemToObject(rec, "client_tools", local);
}
