/*
 * ca_ctool.c: client tool files, as ca-request declares a tool from one
 * and ca-exec allows its command from one: the API's part (name,
 * description, input schema) and the local part (the command as an
 * argv array, its time limit and output cap).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

static const char *const fields[] = { "name", "description",
    "input_schema", "command", "callers", "timeout", "max_output", NULL };

/* Can argv0 be run: a path that is executable, or a name on $PATH? */
static int
runnable(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p),
		    e == p ? "." : p, cmd) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 1;
		if (*e == '\0')
			return 0;
	}
}

/* cmd, relative to the directory of file, made absolute; takes cmd. */
static char *
beside(const char *file, char *cmd)
{
	const char *slash = strrchr(file, '/');
	size_t n = slash != NULL ? (size_t)(slash - file) : 0;
	char *dir = slash != NULL ? ca_xmalloc(n + 1) : ca_xstrdup("."), *p, *r;
	size_t len;

	if (slash != NULL) {
		memcpy(dir, file, n);
		dir[n] = '\0';
		if (n == 0)
			strcpy(dir, "/");
	}
	len = strlen(dir) + strlen(cmd) + 2;
	p = ca_xmalloc(len);
	snprintf(p, len, "%s/%s", dir, cmd);
	free(dir);
	/* Absolute, so that ca-request and ca-exec name the same file. */
	if ((r = realpath(p, NULL)) != NULL) {
		free(p);
		p = ca_xstrdup(r);
		free(r);
	}
	free(cmd);
	return p;
}

static void
load_command(struct ca_ctool *t, const char *file, const cJSON *c)
{
	const cJSON *e;
	int n = 0;

	if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0)
		ca_usage("%s: command: want an argv array of strings "
		    "([\"prog\", \"arg\"...]), never a shell string", file);
	t->argv = ca_xcalloc((size_t)cJSON_GetArraySize(c) + 1,
	    sizeof(char *));
	cJSON_ArrayForEach(e, c) {
		if (!cJSON_IsString(e) || ca_jnulstr(e) ||
		    (n == 0 && *e->valuestring == '\0'))
			ca_usage("%s: command: element %d is not a plain "
			    "string", file, n);
		t->argv[n++] = ca_xstrdup(e->valuestring);
	}
	/* A relative path is the tool file's neighbour, wherever we run. */
	if (strchr(t->argv[0], '/') != NULL && t->argv[0][0] != '/')
		t->argv[0] = beside(file, t->argv[0]);
	if (!runnable(t->argv[0]))
		ca_usage("%s: command: %s is not an executable file "
		    "(or not on $PATH)", file, t->argv[0]);
}

static void
load_callers(struct ca_ctool *t, const char *file, const cJSON *c)
{
	const cJSON *e;

	if (c == NULL)
		return;
	if (cJSON_IsString(c) && strcmp(c->valuestring, "both") == 0) {
		t->callers = CA_CALL_DIRECT | CA_CALL_CODE;
		return;
	}
	if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0)
		ca_usage("%s: callers: want [\"direct\"], [\"code\"] or "
		    "both", file);
	cJSON_ArrayForEach(e, c) {
		if (cJSON_IsString(e) && strcmp(e->valuestring, "direct") == 0)
			t->callers |= CA_CALL_DIRECT;
		else if (cJSON_IsString(e) &&
		    strcmp(e->valuestring, "code") == 0)
			t->callers |= CA_CALL_CODE;
		else
			ca_usage("%s: callers: each is \"direct\" or "
			    "\"code\"", file);
	}
}

static void
load_limits(struct ca_ctool *t, const char *file, const cJSON *j)
{
	const cJSON *v;

	t->timeout = CA_CTOOL_TIMEOUT;
	t->max_output = CA_CTOOL_OUTPUT;
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "timeout")) != NULL) {
		if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) ||
		    v->valuedouble > CA_CTOOL_TIMEOUT_MAX)
			ca_usage("%s: timeout: want seconds, more than 0 and "
			    "at most %d (the API waits about 270 s for an "
			    "answer)", file, CA_CTOOL_TIMEOUT_MAX);
		t->timeout = v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "max_output")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
		    v->valuedouble > CA_CTOOL_OUTPUT_MAX ||
		    v->valuedouble != (double)(long)v->valuedouble)
			ca_usage("%s: max_output: want a number of bytes from "
			    "1 to %ld", file, (long)CA_CTOOL_OUTPUT_MAX);
		t->max_output = (size_t)v->valuedouble;
	}
}

/* The name the API takes for a tool: [A-Za-z0-9_-]{1,64}. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

void
ca_ctool_load(struct ca_ctool *t, const char *file)
{
	struct ca_buf b = { NULL, 0, 0, (size_t)1 << 20 };
	FILE *fp;
	char chunk[8192];
	size_t n;
	cJSON *j, *k;
	const cJSON *v;
	int i;

	memset(t, 0, sizeof(*t));
	if ((fp = fopen(file, "r")) == NULL)
		ca_usage("%s: %s", file, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (ca_buf_add(&b, chunk, n) == -1)
			ca_usage("%s: larger than 1 MiB", file);
	fclose(fp);
	j = b.p != NULL ? ca_jparse(b.p, b.len) : NULL;
	ca_buf_free(&b);
	if (!cJSON_IsObject(j))
		ca_usage("%s: not a JSON object", file);
	for (k = j->child; k != NULL; k = k->next) {
		for (i = 0; fields[i] != NULL; i++)
			if (strcmp(fields[i], k->string) == 0)
				break;
		if (fields[i] == NULL)
			ca_usage("%s: %s: not a field of a tool file", file,
			    k->string);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "name")) == NULL ||
	    !cJSON_IsString(v) || !name_ok(v->valuestring))
		ca_usage("%s: name: want a name of 1 to 64 letters, digits, "
		    "'_' or '-'", file);
	if (strcmp(v->valuestring, "code_execution") == 0)
		ca_usage("%s: name: code_execution is the API's own tool",
		    file);
	t->name = ca_xstrdup(v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(j, "description");
	if (v != NULL && !cJSON_IsString(v))
		ca_usage("%s: description: want a string", file);
	v = cJSON_GetObjectItemCaseSensitive(j, "input_schema");
	if (!cJSON_IsObject(v) || ca_jstr(v, "type") == NULL ||
	    strcmp(ca_jstr(v, "type"), "object") != 0)
		ca_usage("%s: input_schema: want an object schema "
		    "({\"type\": \"object\", ...})", file);
	load_command(t, file, cJSON_GetObjectItemCaseSensitive(j, "command"));
	load_callers(t, file, cJSON_GetObjectItemCaseSensitive(j, "callers"));
	load_limits(t, file, j);
	t->file = ca_xstrdup(file);
	t->def = cJSON_CreateObject();
	cJSON_AddStringToObject(t->def, "name", t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "description")) != NULL)
		cJSON_AddItemToObject(t->def, "description",
		    cJSON_Duplicate(v, 1));
	cJSON_AddItemToObject(t->def, "input_schema", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(j, "input_schema"), 1));
	cJSON_Delete(j);
}

cJSON *
ca_ctool_local(const struct ca_ctool *t)
{
	cJSON *o = cJSON_CreateObject(), *a;
	int i;

	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddStringToObject(o, "file", t->file);
	a = cJSON_AddArrayToObject(o, "command");
	for (i = 0; t->argv[i] != NULL; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(t->argv[i]));
	cJSON_AddNumberToObject(o, "timeout", t->timeout);
	cJSON_AddNumberToObject(o, "max_output", (double)t->max_output);
	return o;
}

int
ca_ctool_same(const struct ca_ctool *t, const cJSON *local)
{
	const cJSON *a = ca_jarr(local, "command"), *e;
	int i = 0;

	if (a == NULL || cJSON_GetArraySize(a) == 0)
		return 0;
	cJSON_ArrayForEach(e, a) {
		if (t->argv[i] == NULL || !cJSON_IsString(e) ||
		    strcmp(t->argv[i], e->valuestring) != 0)
			return 0;
		i++;
	}
	return t->argv[i] == NULL;
}

void
ca_ctool_free(struct ca_ctool *t)
{
	int i;

	for (i = 0; t->argv != NULL && t->argv[i] != NULL; i++)
		free(t->argv[i]);
	free(t->argv);
	free(t->name);
	free(t->file);
	cJSON_Delete(t->def);
	memset(t, 0, sizeof(*t));
}
