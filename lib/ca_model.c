/*
 * ca_model.c: which models run which code execution tool versions, and
 * which beta headers older gateways wanted for each.  Data, not code:
 * a new model is one line here.
 */
#include <string.h>

#include "ca.h"

#define T_ALL	(CA_T20250522 | CA_T20250825 | CA_T20260120 | CA_T20260521)
#define T_NEW	(CA_T20250825 | CA_T20260120 | CA_T20260521)
#define T_OLD	(CA_T20250522 | CA_T20250825)

const struct ca_tool ca_tools[] = {
	{ "code_execution_20250522", CA_T20250522, "code-execution-2025-05-22" },
	{ "code_execution_20250825", CA_T20250825, "code-execution-2025-08-25" },
	{ "code_execution_20260120", CA_T20260120, "code-execution-2025-08-25" },
	{ "code_execution_20260521", CA_T20260521, "code-execution-2025-08-25" },
	{ NULL, 0, NULL }
};

/*
 * Tool support follows the code execution page (api-notes §2.2-2.3):
 * every current model takes 20250825, 20260120 and 20260521, and the
 * legacy 20250522 as well; the 2025 models the original design named
 * predate the 2026 versions.  Prices are list prices in USD per million
 * tokens where known; for the newest families they are estimates
 * carried over from the previous generation, and ca-render says so.
 */
const struct ca_model ca_models[] = {
	{ "claude-fable-5-2",		T_ALL,  5.00, 25.00 },
	{ "claude-mythos-5-2",		T_ALL, 15.00, 75.00 },
	{ "claude-fable-5-1",		T_ALL,  5.00, 25.00 },
	{ "claude-mythos-5-1",		T_ALL, 15.00, 75.00 },
	{ "claude-fable-5",		T_ALL,  5.00, 25.00 },
	{ "claude-mythos-5",		T_ALL, 15.00, 75.00 },
	{ "claude-mythos-preview",	T_ALL, 15.00, 75.00 },
	{ "claude-opus-5-5",		T_ALL,  5.00, 25.00 },
	{ "claude-opus-5",		T_ALL,  5.00, 25.00 },
	{ "claude-sonnet-5-5",		T_ALL,  3.00, 15.00 },
	{ "claude-sonnet-5",		T_ALL,  3.00, 15.00 },
	{ "claude-haiku-5-5",		T_ALL,  1.00,  5.00 },
	{ "claude-haiku-4-5",		T_ALL,  1.00,  5.00 },
	{ "claude-haiku-4-5-20251001",	T_ALL,  1.00,  5.00 },
	{ "claude-opus-4-8",		T_ALL,  5.00, 25.00 },
	{ "claude-opus-4-7",		T_ALL,  5.00, 25.00 },
	{ "claude-opus-4-6",		T_ALL,  5.00, 25.00 },
	{ "claude-sonnet-4-6",		T_ALL,  3.00, 15.00 },
	{ "claude-opus-4-5",		T_ALL,  5.00, 25.00 },
	{ "claude-opus-4-5-20251101",	T_ALL,  5.00, 25.00 },
	{ "claude-sonnet-4-5",		T_ALL,  3.00, 15.00 },
	{ "claude-sonnet-4-5-20250929",	T_ALL,  3.00, 15.00 },
	{ "claude-opus-4-20250514",	T_OLD, 15.00, 75.00 },
	{ "claude-sonnet-4-20250514",	T_OLD,  3.00, 15.00 },
	{ "claude-3-7-sonnet-20250219",	CA_T20250522, 3.00, 15.00 },
	{ "claude-3-5-haiku-latest",	CA_T20250522, 0.80,  4.00 },
	{ NULL, 0, 0, 0 }
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

/*
 * Features beyond code execution, from the models' documentation:
 * programmatic tool calling (and so dynamic filtering in the web tools)
 * on the 4.6 models and later and on Mythos Preview; thinking with a
 * token budget up to the 4.6 models (deprecated there), refused from
 * 4.7 on; adaptive thinking and effort from 4.6 (effort from Opus 4.5).
 */
#define F_NEW	(CA_F_PTC | CA_F_ADAPTIVE | CA_F_EFFORT | CA_F_EFFORT_MAX)

static const struct {
	const char	*name;
	unsigned	 feats;
} feats[] = {
	{ "claude-mythos-preview",	F_NEW | CA_F_THINK },
	{ "claude-opus-4-6",		F_NEW | CA_F_THINK },
	{ "claude-sonnet-4-6",		F_NEW | CA_F_THINK },
	{ "claude-haiku-4-5",		CA_F_THINK },
	{ "claude-haiku-4-5-20251001",	CA_F_THINK },
	{ "claude-opus-4-5",		CA_F_THINK | CA_F_EFFORT },
	{ "claude-opus-4-5-20251101",	CA_F_THINK | CA_F_EFFORT },
	{ "claude-sonnet-4-5",		CA_F_THINK },
	{ "claude-sonnet-4-5-20250929",	CA_F_THINK },
	{ "claude-opus-4-20250514",	CA_F_THINK },
	{ "claude-sonnet-4-20250514",	CA_F_THINK },
	{ "claude-3-7-sonnet-20250219",	CA_F_THINK },
	{ "claude-3-5-haiku-latest",	0 },
};

unsigned
ca_model_feats(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		if (strcmp(feats[i].name, name) == 0)
			return feats[i].feats;
	/* Every other model in the table is 4.7 or later. */
	return F_NEW;
}

/*
 * Deprecated models and their end of life, as the official SDK's
 * generated deprecation data lists them (dates made ISO here).
 */
static const struct {
	const char	*name;
	const char	*eol;
} eols[] = {
	{ "claude-mythos-preview",	"2026-06-30" },
	{ "claude-opus-4-5",		"2027-01-22" },
	{ "claude-opus-4-5-20251101",	"2027-01-22" },
	{ "claude-sonnet-4-5",		"2026-11-30" },
	{ "claude-sonnet-4-5-20250929",	"2026-11-30" },
};

const char *
ca_model_eol(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(eols) / sizeof(eols[0]); i++)
		if (strcmp(eols[i].name, name) == 0)
			return eols[i].eol;
	return NULL;
}

/* The skills Anthropic provides in every container. */
const char *const ca_skills[] = { "xlsx", "pptx", "docx", "pdf", NULL };
