/*
 * ca_mcp.c: which environment variable may become an MCP server's
 * token.  Records are data (files, other people's transcripts, other
 * programs), so a record never chooses a variable to read: only the
 * user's own command line does, and never one of the API key's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

#define VAR_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789_"

const char *
ca_mcp_var_bad(const char *var)
{
	if (*var == '\0' || strchr("0123456789", *var) != NULL ||
	    strspn(var, VAR_CHARS) != strlen(var))
		return "not an environment variable name (the token itself "
		    "never goes on the command line)";
	/* The API key and its kin are never an MCP server's business. */
	if (strncmp(var, "ANTHROPIC_", 10) == 0)
		return "an ANTHROPIC_ variable is never sent to an MCP "
		    "server";
	return NULL;
}

void
ca_mcp_env_add(struct ca_mcp_env *e, const char *arg)
{
	const char *eq = strchr(arg, '='), *why;
	char *name;

	if (eq == NULL || eq == arg)
		ca_usage("--mcp-token-env %s: give SERVER=VARIABLE", arg);
	if ((why = ca_mcp_var_bad(eq + 1)) != NULL)
		ca_usage("--mcp-token-env %s: %s", arg, why);
	name = ca_xstrdup(arg);
	name[eq - arg] = '\0';
	if (ca_mcp_env_var(e, name) != NULL)
		ca_usage("--mcp-token-env %s: a second variable for the "
		    "server %s", arg, name);
	e->name = ca_xrealloc(e->name, (size_t)(e->n + 1) * sizeof(char *));
	e->var = ca_xrealloc(e->var, (size_t)(e->n + 1) * sizeof(char *));
	e->name[e->n] = name;
	e->var[e->n++] = ca_xstrdup(eq + 1);
}

const char *
ca_mcp_env_var(const struct ca_mcp_env *e, const char *name)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->var[i];
	return NULL;
}

void
ca_mcp_env_free(struct ca_mcp_env *e)
{
	while (e->n > 0) {
		e->n--;
		free(e->name[e->n]);
		free(e->var[e->n]);
	}
	free(e->name);
	free(e->var);
	e->name = e->var = NULL;
}

/* Does the record's mcp_token_env ask only for what e allows? */
static cJSON *
check_asked(const struct ca_mcp_env *e, const cJSON *asked)
{
	const cJSON *a;
	const char *var;
	char m[512];

	if (asked == NULL || cJSON_IsNull(asked))
		return NULL;
	if (!cJSON_IsObject(asked))
		return ca_errobj("invalid_record", "mcp_token_env is not an "
		    "object");
	cJSON_ArrayForEach(a, asked) {
		if (!cJSON_IsString(a))
			return ca_errobj("invalid_record", "mcp_token_env "
			    "holds a value that is not a variable name");
		var = ca_mcp_env_var(e, a->string);
		if (var != NULL && strcmp(var, a->valuestring) == 0)
			continue;
		snprintf(m, sizeof(m), "the record asks for $%.64s as the "
		    "token of the MCP server %.64s; a record cannot choose "
		    "a variable: allow it with --mcp-token-env %.64s=%.64s",
		    a->valuestring, a->string, a->string, a->valuestring);
		return ca_errobj("mcp_token_refused", m);
	}
	return NULL;
}

cJSON *
ca_mcp_apply(const struct ca_mcp_env *e, cJSON *params,
    const cJSON *asked, char ***toks, int *ntoks)
{
	cJSON *srv, *err;
	const char *name, *var, *tok;
	char m[256];

	if ((err = check_asked(e, asked)) != NULL)
		return err;
	cJSON_ArrayForEach(srv, ca_jarr(params, "mcp_servers")) {
		name = ca_jstr(srv, "name");
		if (name == NULL || (var = ca_mcp_env_var(e, name)) == NULL)
			continue;
		if ((tok = getenv(var)) == NULL || *tok == '\0') {
			snprintf(m, sizeof(m), "the MCP server %.64s needs a "
			    "token in $%.64s, which is not set", name, var);
			return ca_errobj("mcp_token_missing", m);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(srv,
		    "authorization_token");
		cJSON_AddStringToObject(srv, "authorization_token", tok);
		*toks = ca_xrealloc(*toks, (size_t)(*ntoks + 1) *
		    sizeof(char *));
		(*toks)[(*ntoks)++] = ca_xstrdup(tok);
	}
	return NULL;
}
