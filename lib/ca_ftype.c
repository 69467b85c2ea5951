/*
 * ca_ftype.c: the MIME type to send a file as: by its name's extension,
 * else by its first bytes.
 */
#include <string.h>
#include <strings.h>

#include "ca.h"

static const struct {
	const char	*ext;
	const char	*type;
} mimetab[] = {
	{ "csv",	"text/csv" },
	{ "tsv",	"text/tab-separated-values" },
	{ "json",	"application/json" },
	{ "jsonl",	"application/x-ndjson" },
	{ "ndjson",	"application/x-ndjson" },
	{ "xlsx",	"application/vnd.openxmlformats-officedocument."
			"spreadsheetml.sheet" },
	{ "xls",	"application/vnd.ms-excel" },
	{ "parquet",	"application/vnd.apache.parquet" },
	{ "pdf",	"application/pdf" },
	{ "png",	"image/png" },
	{ "jpg",	"image/jpeg" },
	{ "jpeg",	"image/jpeg" },
	{ "gif",	"image/gif" },
	{ "webp",	"image/webp" },
	{ "txt",	"text/plain" },
	{ "log",	"text/plain" },
	{ "md",		"text/markdown" },
	{ "xml",	"application/xml" },
	{ "html",	"text/html" },
	{ "htm",	"text/html" },
	{ "yaml",	"application/yaml" },
	{ "yml",	"application/yaml" },
	{ "py",		"text/x-python" },
	{ "zip",	"application/zip" },
	{ "gz",		"application/gzip" },
	{ "tar",	"application/x-tar" },
	{ NULL,		NULL }
};

const char *
ca_type_by_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	int i;

	/* ".profile" is a hidden file without an extension. */
	if (dot == NULL || dot == name || dot[1] == '\0')
		return NULL;
	for (i = 0; mimetab[i].ext != NULL; i++)
		if (strcasecmp(dot + 1, mimetab[i].ext) == 0)
			return mimetab[i].type;
	return NULL;
}

/*
 * Valid UTF-8 without NULs or other binary controls.  A sequence cut by
 * the end of a partial sample is forgiven.
 */
static int
utf8_text(const unsigned char *p, size_t n, int partial)
{
	size_t i = 0, k, need;
	unsigned c;

	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' &&
			    c != '\r' && c != '\f' && c != 0x1b) || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3;
		else
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n)
				return partial;
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((c == 0xe0 && p[i + 1] < 0xa0) ||
		    (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) ||
		    (c == 0xf4 && p[i + 1] > 0x8f))
			return 0;
		i += need + 1;
	}
	return 1;
}

const char *
ca_type_sniff(const unsigned char *p, size_t n, int partial)
{
	const char *t = ca_magic_type(p, n);

	if (t != NULL)
		return t;
	if (utf8_text(p, n, partial))
		return "text/plain";
	return "application/octet-stream";
}

/* A type we put in a part header: type/subtype, no spaces or controls. */
int
ca_type_ok(const char *t)
{
	const char *slash = strchr(t, '/');
	const unsigned char *p;

	if (slash == NULL || slash == t || slash[1] == '\0')
		return 0;
	for (p = (const unsigned char *)t; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}
