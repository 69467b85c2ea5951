/*
 * compact.c: long conversations.  Threshold compaction (the
 * compact_20260112 edit), on-demand compaction (a request with
 * compaction {type: summarize}) and context editing (clearing old tool
 * results and thinking) are options here; with --continue, what comes
 * before the last compaction block is left out of the next request,
 * since the API ignores it.
 */
#include <stdlib.h>
#include <string.h>

#include "ca-request.h"

#define COMPACT_BETA	"compact-2026-01-12"
#define ONDEMAND_BETA	"compact-2026-09-04"
#define EDIT_BETA	"context-management-2025-06-27"
#define COMPACT_EDIT	"compact_20260112"
#define CLEAR_TOOLS	"clear_tool_uses_20250919"
#define CLEAR_THINK	"clear_thinking_20251015"
#define COMPACT_MIN	50000L		/* the API refuses a lower trigger */
#define COMPACT_DFLT	150000L		/* the API's own default */
#define INSTR_MAX	16384		/* characters, on-demand compaction */

static int
supports(const struct opts *o, const char *model, unsigned feat)
{
	return o->any_model || (ca_model_feats(model) & feat) != 0;
}

/* The models of the table that have feat, comma-separated (static). */
static const char *
feat_models(unsigned feat)
{
	static struct ca_buf b = { NULL, 0, 0, 0 };
	const struct ca_model *m;

	ca_buf_reset(&b);
	for (m = ca_models; m->name != NULL; m++)
		if (m->feats & feat) {
			if (b.len > 0)
				ca_buf_addstr(&b, ", ");
			ca_buf_addstr(&b, m->name);
		}
	return b.p != NULL ? b.p : "no model";
}

/* Characters, as the API counts them: UTF-8 sequences. */
static size_t
nchars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
compact_opt(struct opts *o, int ch, const char *arg)
{
	switch (ch) {
	case O_COMPACT_AT:
		o->compact_at = arg == NULL ? COMPACT_DFLT :
		    ca_strtonum(arg, COMPACT_MIN, 100000000L,
		    "--compact-at tokens (the API's minimum is 50000)");
		break;
	case O_COMPACT_INSTR:
		free(o->compact_instr);
		o->compact_instr = slurp(arg);
		break;
	case O_CLEAR_TOOLS:
		o->clear_tools = arg != NULL ? arg : "";
		if (arg != NULL)
			(void)ca_strtonum(arg, 1, 100000000L,
			    "--clear-tool-uses trigger tokens");
		break;
	case O_CLEAR_THINK:
		o->clear_think = arg != NULL ? arg : "";
		if (arg != NULL && strcmp(arg, "all") != 0)
			(void)ca_strtonum(arg, 1, 1000000L,
			    "--clear-thinking turns to keep");
		break;
	case O_COMPACT:
		o->compact_now = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

void
compact_check(const struct opts *o)
{
	if (o->compact_instr != NULL && o->compact_at == 0 &&
	    !o->compact_now)
		ca_usage("--compact-instructions goes with --compact-at or "
		    "--compact");
	if (o->compact_now && !o->cont)
		ca_usage("--compact summarizes a conversation: it needs "
		    "--continue");
	if (o->compact_now && (o->compact_at > 0 || o->clear_tools != NULL ||
	    o->clear_think != NULL))
		ca_usage("--compact cannot be combined with --compact-at, "
		    "--clear-tool-uses or --clear-thinking");
	if (o->compact_now && o->compact_instr != NULL &&
	    nchars(o->compact_instr) > INSTR_MAX)
		ca_usage("--compact-instructions: %zu characters; the API "
		    "takes at most %d", nchars(o->compact_instr), INSTR_MAX);
}

static cJSON *
tokens(const char *type, long n)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "type", type);
	cJSON_AddNumberToObject(t, "value", (double)n);
	return t;
}

static cJSON *
edit(const char *type)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", type);
	return e;
}

/* The edits the options ask for, in the order the API requires:
 * clear_thinking first. */
static void
new_edits(const struct opts *o, cJSON *mine)
{
	cJSON *e;

	if (o->clear_think != NULL) {
		e = edit(CLEAR_THINK);
		if (strcmp(o->clear_think, "all") == 0)
			cJSON_AddItemToObject(e, "keep",
			    cJSON_CreateString("all"));
		else if (*o->clear_think != '\0')
			cJSON_AddItemToObject(e, "keep", tokens(
			    "thinking_turns", atol(o->clear_think)));
		cJSON_AddItemToArray(mine, e);
	}
	if (o->clear_tools != NULL) {
		e = edit(CLEAR_TOOLS);
		if (*o->clear_tools != '\0')
			cJSON_AddItemToObject(e, "trigger", tokens(
			    "input_tokens", atol(o->clear_tools)));
		cJSON_AddItemToArray(mine, e);
	}
	if (o->compact_at > 0) {
		e = edit(COMPACT_EDIT);
		cJSON_AddItemToObject(e, "trigger", tokens("input_tokens",
		    o->compact_at));
		if (o->compact_instr != NULL)
			cJSON_AddStringToObject(e, "instructions",
			    o->compact_instr);
		cJSON_AddItemToArray(mine, e);
	}
}

/* 0 clear_thinking, 1 other edits, 2 compaction: the order to send. */
static int
rank(const cJSON *e)
{
	const char *t = ca_jstr(e, "type");

	if (t != NULL && strcmp(t, CLEAR_THINK) == 0)
		return 0;
	return t != NULL && strcmp(t, COMPACT_EDIT) == 0 ? 2 : 1;
}

/*
 * context_management: the edits of an earlier turn stay (the API wants
 * them on every turn), an option replaces the edit of its own type.
 */
static void
set_edits(cJSON *params, const struct opts *o)
{
	cJSON *mine = cJSON_CreateArray(), *all, *cm, *e, *old;
	const cJSON *x;
	int r, dup;

	new_edits(o, mine);
	if (cJSON_GetArraySize(mine) == 0) {
		cJSON_Delete(mine);
		return;
	}
	all = cJSON_CreateArray();
	old = ca_jarr(ca_jobj(params, "context_management"), "edits");
	for (r = 0; r <= 2; r++) {
		cJSON_ArrayForEach(e, mine)
			if (rank(e) == r)
				cJSON_AddItemToArray(all, cJSON_Duplicate(e, 1));
		cJSON_ArrayForEach(e, old) {
			dup = 0;
			cJSON_ArrayForEach(x, mine)
				if (cJSON_Compare(cJSON_GetObjectItem(x, "type"),
				    cJSON_GetObjectItem(e, "type"), 1))
					dup = 1;
			if (!dup && rank(e) == r)
				cJSON_AddItemToArray(all, cJSON_Duplicate(e, 1));
		}
	}
	cJSON_Delete(mine);
	cJSON_DeleteItemFromObjectCaseSensitive(params, "context_management");
	cm = cJSON_AddObjectToObject(params, "context_management");
	cJSON_AddItemToObject(cm, "edits", all);
}

void
compact_params(cJSON *params, const struct opts *o, const char *model)
{
	cJSON *c;

	/*
	 * The model table marks the models the API documents each for;
	 * the newest, the default among them, lacks threshold compaction
	 * there, and is refused rather than guessed at.
	 */
	if (o->compact_at > 0 && !supports(o, model, CA_F_COMPACT))
		ca_usage("--compact-at: the API documents threshold "
		    "compaction for %s, not %s (--any-model sends it "
		    "anyway)", feat_models(CA_F_COMPACT), model);
	if (o->compact_now && !supports(o, model, CA_F_SUMMARIZE))
		ca_usage("--compact: the API documents on-demand compaction "
		    "for %s, not %s (--any-model sends it anyway)",
		    feat_models(CA_F_SUMMARIZE), model);
	set_edits(params, o);
	/* An earlier on-demand request's field is not for this turn. */
	cJSON_DeleteItemFromObjectCaseSensitive(params, "compaction");
	if (!o->compact_now)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(params, "context_management");
	c = cJSON_AddObjectToObject(params, "compaction");
	cJSON_AddStringToObject(c, "type", "summarize");
	if (o->compact_instr != NULL)
		cJSON_AddStringToObject(c, "instructions", o->compact_instr);
}

/* --continue: leave out what the API would ignore. */
void
compact_trim(cJSON *params)
{
	int n = ca_compact_trim(ca_jarr(params, "messages"));

	if (n > 0)
		ca_note("--continue: the compaction block stands for the %d "
		    "message%s before it: left out of the request", n,
		    n > 1 ? "s" : "");
}

static int
has_edit(const cJSON *params, const char *type)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, ca_jarr(ca_jobj(params, "context_management"),
	    "edits"))
		if (ca_jstr(e, "type") != NULL &&
		    strcmp(ca_jstr(e, "type"), type) == 0)
			return 1;
	return 0;
}

static void
add_beta(cJSON *betas, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, betas)
		if (cJSON_IsString(e) && strcmp(e->valuestring, name) == 0)
			return;
	cJSON_AddItemToArray(betas, cJSON_CreateString(name));
}

/*
 * The headers these features need, whatever --betas says: the API
 * refuses the fields without them.  The on-demand header stays on every
 * later turn that carries its block; the others come with the edits.
 */
void
compact_betas(cJSON *betas, const cJSON *params)
{
	if (has_edit(params, COMPACT_EDIT))
		add_beta(betas, COMPACT_BETA);
	if (has_edit(params, CLEAR_TOOLS) || has_edit(params, CLEAR_THINK))
		add_beta(betas, EDIT_BETA);
	if (cJSON_GetObjectItem(params, "compaction") != NULL)
		add_beta(betas, ONDEMAND_BETA);
}
