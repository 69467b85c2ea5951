/*
 * ca_url.c: checks and escapes for text bound for a request line or a
 * header, without libcurl, so that tools which never connect can use
 * them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

int
ca_header_safe(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

char *
ca_path_escape(const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *o;
	const unsigned char *p;

	if (seg == NULL || *seg == '\0' || strcmp(seg, ".") == 0 ||
	    strcmp(seg, "..") == 0)
		return NULL;
	o = out = ca_xmalloc(strlen(seg) * 3 + 1);
	for (p = (const unsigned char *)seg; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL)
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
