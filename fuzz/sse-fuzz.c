/*
 * libFuzzer harness: arbitrary bytes through the SSE parser, in chunks
 * whose sizes the input chooses, and every event's data through the
 * message assembler, as ca-exec --stream does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_event(void *ctx, const char *event, const char *d, size_t len)
{
	struct ca_msg *m = ctx;
	cJSON *j = len > 0 ? ca_jparse(d, len) : NULL;
	int rv = ca_msg_event(m, event, j);

	cJSON_Delete(j);
	return rv == -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_msg *m = ca_msg_new();
	struct ca_sse *s = ca_sse_new(1 << 16, on_event, m);
	size_t off, n;
	cJSON *msg;

	/* The first byte picks the chunk size, so splits are explored. */
	n = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
	for (off = size > 0 ? 1 : 0; off < size; off += n) {
		if (ca_sse_feed(s, (const char *)data + off,
		    size - off < n ? size - off : n) == -1)
			break;
	}
	msg = ca_msg_take(m);
	if (msg != NULL) {
		char *p = cJSON_PrintUnformatted(msg);

		free(p);
		cJSON_Delete(msg);
	}
	ca_sse_free(s);
	ca_msg_free(m);
	return 0;
}
