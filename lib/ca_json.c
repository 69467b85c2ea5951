/* ca_json.c: small cJSON conveniences. */
#include <stdlib.h>

#include "ca.h"

cJSON *
ca_jparse(const char *p, size_t n)
{
	const char *end = NULL;
	cJSON *j;

	if (p == NULL)
		return NULL;
	j = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (j == NULL)
		return NULL;
	/* Trailing garbage other than white space makes it invalid. */
	while (end != NULL && end < p + n && (*end == ' ' || *end == '\t' ||
	    *end == '\r' || *end == '\n' || *end == '\0'))
		end++;
	if (end != NULL && end < p + n) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

const char *
ca_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double
ca_jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

cJSON *
ca_jobj(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

cJSON *
ca_jarr(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsArray(v) ? v : NULL;
}

char *
ca_jprint(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s == NULL)
		ca_die(CA_EX_FAIL, "out of memory printing JSON");
	return s;
}
