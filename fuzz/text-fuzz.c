/*
 * libFuzzer harness: the functions that make untrusted text safe to
 * show or to put in a URL, with their promises checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out;
	const unsigned char *p;

	memcpy(s, data, size);
	s[size] = '\0';
	out = ca_sanitize(s, size % 7 == 0 ? 0 : size / 2);
	for (p = (const unsigned char *)out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();	/* a control byte got through */
	free(out);
	if ((out = ca_path_escape(s)) != NULL) {
		if (strpbrk(out, "/?#\r\n ") != NULL)
			abort();	/* it could leave its path segment */
		free(out);
	}
	free(s);
	return 0;
}
