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
