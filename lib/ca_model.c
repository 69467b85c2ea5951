/*
 * ca_model.c: which models run which code execution tool versions, and
 * which beta headers older gateways wanted for each, what each model
 * costs and can do.  Data, not code: a new model is one row here.
 */
#include <string.h>

#include "ca.h"

#define T_ALL	(CA_T20250522 | CA_T20250825 | CA_T20260120 | CA_T20260521)
#define T_NEW	(CA_T20250825 | CA_T20260120 | CA_T20260521)
#define T_OLD	(CA_T20250522 | CA_T20250825)
#define T_FIRST	CA_T20250522

const struct ca_tool ca_tools[] = {
	{ "code_execution_20250522", CA_T20250522, "code-execution-2025-05-22" },
	{ "code_execution_20250825", CA_T20250825, "code-execution-2025-08-25" },
	{ "code_execution_20260120", CA_T20260120, "code-execution-2025-08-25" },
	{ "code_execution_20260521", CA_T20260521, "code-execution-2025-08-25" },
	{ NULL, 0, NULL }
};

/*
 * Per model: the code execution tool versions it runs (every current
 * model takes 20250825, 20260120 and 20260521, and the legacy 20250522
 * as well; the 2025 models predate the 2026 versions), list prices in
 * USD per million tokens (for the newest families, estimates carried
 * over from the previous generation, as ca-render says), what it can
 * do beyond code execution, and, for a deprecated model, its end of
 * life as the official SDK's deprecation data gives it.
 *
 * Features, from the models' documentation: programmatic tool calling
 * (and so dynamic filtering in the web tools) on the 4.6 models and
 * later and on Mythos Preview; thinking with a token budget up to the
 * 4.6 models (deprecated there), refused from 4.7 on; adaptive thinking
 * and effort from 4.6 (effort from Opus 4.5).
 */
#define F_NEW	(CA_F_PTC | CA_F_ADAPTIVE | CA_F_EFFORT | CA_F_EFFORT_MAX)
#define F_46	(F_NEW | CA_F_THINK)
#define F_O45	(CA_F_THINK | CA_F_EFFORT)
#define F_OLD	CA_F_THINK

const struct ca_model ca_models[] = {
	{ "claude-fable-5-2",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-mythos-5-2",		T_ALL, 15.00, 75.00, F_NEW, NULL },
	{ "claude-fable-5-1",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-mythos-5-1",		T_ALL, 15.00, 75.00, F_NEW, NULL },
	{ "claude-fable-5",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-mythos-5",		T_ALL, 15.00, 75.00, F_NEW, NULL },
	{ "claude-mythos-preview",	T_ALL, 15.00, 75.00, F_46,
	    "2026-06-30" },
	{ "claude-opus-5-5",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-opus-5",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-sonnet-5-5",		T_ALL,  3.00, 15.00, F_NEW, NULL },
	{ "claude-sonnet-5",		T_ALL,  3.00, 15.00, F_NEW, NULL },
	{ "claude-haiku-5-5",		T_ALL,  1.00,  5.00, F_NEW, NULL },
	{ "claude-haiku-4-5",		T_ALL,  1.00,  5.00, F_OLD, NULL },
	{ "claude-haiku-4-5-20251001",	T_ALL,  1.00,  5.00, F_OLD, NULL },
	{ "claude-opus-4-8",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-opus-4-7",		T_ALL,  5.00, 25.00, F_NEW, NULL },
	{ "claude-opus-4-6",		T_ALL,  5.00, 25.00, F_46, NULL },
	{ "claude-sonnet-4-6",		T_ALL,  3.00, 15.00, F_46, NULL },
	{ "claude-opus-4-5",		T_ALL,  5.00, 25.00, F_O45,
	    "2027-01-22" },
	{ "claude-opus-4-5-20251101",	T_ALL,  5.00, 25.00, F_O45,
	    "2027-01-22" },
	{ "claude-sonnet-4-5",		T_ALL,  3.00, 15.00, F_OLD,
	    "2026-11-30" },
	{ "claude-sonnet-4-5-20250929",	T_ALL,  3.00, 15.00, F_OLD,
	    "2026-11-30" },
	{ "claude-opus-4-20250514",	T_OLD, 15.00, 75.00, F_OLD, NULL },
	{ "claude-sonnet-4-20250514",	T_OLD,  3.00, 15.00, F_OLD, NULL },
	{ "claude-3-7-sonnet-20250219",	T_FIRST,  3.00, 15.00, F_OLD, NULL },
	{ "claude-3-5-haiku-latest",	T_FIRST,  0.80,  4.00, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL }
};

const struct ca_tool *
ca_tool_find(const char *type)
{
	const struct ca_tool *t;

	for (t = ca_tools; t->type != NULL; t++)
		if (strcmp(t->type, type) == 0)
			return t;
	return NULL;
}

const struct ca_model *
ca_model_find(const char *name)
{
	const struct ca_model *m;

	for (m = ca_models; m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

const struct ca_tool *
ca_tool_newest(unsigned mask)
{
	const struct ca_tool *t, *best = NULL;

	for (t = ca_tools; t->type != NULL; t++)
		if (mask & t->bit)
			best = t;
	return best;
}

const char *
ca_tool_list(unsigned mask)
{
	static char buf[256];
	const struct ca_tool *t;

	buf[0] = '\0';
	for (t = ca_tools; t->type != NULL; t++) {
		if (!(mask & t->bit))
			continue;
		if (buf[0] != '\0')
			strcat(buf, ", ");
		strcat(buf, t->type);
	}
	return buf;
}

unsigned
ca_model_feats(const char *name)
{
	const struct ca_model *m = ca_model_find(name);

	/* A model newer than the table can do what the newest can. */
	return m != NULL ? m->feats : F_NEW;
}

/* The skills Anthropic provides in every container. */
const char *const ca_skills[] = { "xlsx", "pptx", "docx", "pdf", NULL };
