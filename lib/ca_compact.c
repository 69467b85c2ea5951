/*
 * ca_compact.c: compaction blocks in a conversation.  The API ignores
 * everything before the last compaction block it is sent, and refuses a
 * block that is not byte for byte what it returned; so the tools keep a
 * fingerprint of each block as it arrived and trim what precedes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int
ca_compact_is(const cJSON *b)
{
	const char *t = ca_jstr(b, "type");

	return t != NULL && strcmp(t, "compaction") == 0;
}

/*
 * FNV-1a, 64 bits, over the block's compact JSON: enough to see a block
 * edited by hand or by a tool, with no library behind it (the API's own
 * signature is what guards against anything worse).
 */
void
ca_compact_print(const cJSON *b, char hex[17])
{
	char *s = ca_jprint(b);
	const unsigned char *p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	free(s);
	snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

cJSON *
ca_compact_prints(const cJSON *content)
{
	cJSON *a = NULL;
	const cJSON *b;
	char hex[17];

	cJSON_ArrayForEach(b, content) {
		if (!ca_compact_is(b))
			continue;
		if (a == NULL && (a = cJSON_CreateArray()) == NULL)
			ca_die(CA_EX_FAIL, "out of memory building JSON");
		ca_compact_print(b, hex);
		cJSON_AddItemToArray(a, cJSON_CreateString(hex));
	}
	return a;
}

int
ca_compact_check(const cJSON *content, const cJSON *prints)
{
	const cJSON *b, *p;
	char hex[17];
	int i = 0;

	if (prints == NULL)
		return 0;
	p = cJSON_IsArray(prints) ? prints->child : NULL;
	cJSON_ArrayForEach(b, content) {
		if (!ca_compact_is(b))
			continue;
		i++;
		ca_compact_print(b, hex);
		if (!cJSON_IsString(p) || strcmp(p->valuestring, hex) != 0)
			return i;
		p = p->next;
	}
	return p != NULL ? i + 1 : 0;
}

int
ca_compact_trim(cJSON *msgs)
{
	cJSON *m, *b, *c, *last = NULL;
	int i, mi = -1, n = cJSON_GetArraySize(msgs);

	for (i = n - 1; i >= 0 && mi < 0; i--) {
		m = cJSON_GetArrayItem(msgs, i);
		cJSON_ArrayForEach(b, ca_jarr(m, "content"))
			if (ca_compact_is(b)) {
				mi = i;
				last = b;
			}
	}
	if (mi < 0)
		return -1;
	for (i = 0; i < mi; i++)
		cJSON_DeleteItemFromArray(msgs, 0);
	/* In its message, the blocks before it are ignored as well. */
	c = ca_jarr(cJSON_GetArrayItem(msgs, 0), "content");
	while (c->child != last)
		cJSON_Delete(cJSON_DetachItemViaPointer(c, c->child));
	return mi;
}
