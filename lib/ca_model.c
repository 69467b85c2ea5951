/*
 * ca_model.c: which models run which code execution tool versions, and
 * which beta headers older gateways wanted for each, what each model
 * costs and can do, and when it retires.  Data, not code: a new model
 * is one line of lib/models.tsv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"

const struct ca_tool ca_tools[] = {
	{ "code_execution_20250522", CA_T20250522, "code-execution-2025-05-22" },
	{ "code_execution_20250825", CA_T20250825, "code-execution-2025-08-25" },
	{ "code_execution_20260120", CA_T20260120, "code-execution-2025-08-25" },
	{ "code_execution_20260521", CA_T20260521, "code-execution-2025-08-25" },
	{ NULL, 0, NULL }
};

/*
 * Per model, from lib/models.tsv (tools/models.sh writes the rows):
 * the code execution tool versions it runs, list prices, what it can
 * do beyond code execution, and its end of life.  The emulator and the
 * shell completion read the same file, so none of them can drift.
 */
const struct ca_model ca_models[] = {
#include "ca_models.h"
	{ NULL, 0, 0, 0, 0, NULL, 0 }
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
	return m != NULL ? m->feats : CA_F_PTC | CA_F_ADAPTIVE | CA_F_EFFORT |
	    CA_F_EFFORT_MAX;
}

/* The skills Anthropic provides in every container. */
const char *const ca_skills[] = { "xlsx", "pptx", "docx", "pdf", NULL };

void
ca_today(char buf[11])
{
	const char *t = getenv("CA_TODAY");
	time_t now = time(NULL);

	if (t != NULL && strlen(t) == 10) {
		memcpy(buf, t, 11);
		return;
	}
	strftime(buf, 11, "%Y-%m-%d", gmtime(&now));
}

int
ca_model_retired(const struct ca_model *m)
{
	char now[11];

	if (m->retired)
		return 1;
	if (m->eol == NULL)
		return 0;
	ca_today(now);
	return strcmp(now, m->eol) >= 0;
}

/*
 * Edit distance with adjacent transpositions (optimal string alignment),
 * for names of a few dozen bytes; longer ones are too far anyway.
 */
static size_t
distance(const char *a, const char *b)
{
	enum { MAXN = 64 };
	size_t d[MAXN + 1][MAXN + 1], la = strlen(a), lb = strlen(b), i, j, c;

	if (la > MAXN || lb > MAXN)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

int
ca_model_suggest(const char *name, char *buf, size_t n)
{
	const struct ca_model *m, *best[3];
	size_t d, min = (size_t)-1, far = strlen(name) / 3;
	int nb = 0, i;

	if (far < 2)
		far = 2;
	for (m = ca_models; m->name != NULL; m++) {
		if (ca_model_retired(m) || (d = distance(name, m->name)) > far)
			continue;
		if (d < min) {
			min = d;
			nb = 0;
		}
		if (d == min && nb < 3)
			best[nb++] = m;
	}
	if (n > 0)
		buf[0] = '\0';
	for (i = 0; i < nb; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s",
		    i == 0 ? "" : i == nb - 1 ? " or " : ", ", best[i]->name);
	return nb;
}
