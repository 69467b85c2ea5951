/*
 * json-test: table tests of ca_jcompact and ca_jparse, the nasty cases
 * one by one, printed TAP-style; exits 1 if any case fails.
 *
 * usage: json-test compact | parse | scan
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

/* A text with its length, so that it may hold raw NULs. */
#define T(s)	s, sizeof(s) - 1
#define REFUSED	NULL

struct ccase {
	const char	*name;
	const char	*in;
	size_t		 n;
	const char	*want;		/* REFUSED: ca_jcompact fails */
};

static const struct ccase ccases[] = {
	{ "a string ending in a backslash, then spaces",
	    T("[\"saved to C:\\\\\" , \"hello big world and more\"]"),
	    "[\"saved to C:\\\\\",\"hello big world and more\"]" },
	{ "trailing backslash, then a newline between elements",
	    T("{\"content\":[{\"text\":\"C:\\\\\"},\n{\"type\":\"fetched\","
	    "\"file\":{\"id\":\"file_other\"}}]}"),
	    "{\"content\":[{\"text\":\"C:\\\\\"},{\"type\":\"fetched\","
	    "\"file\":{\"id\":\"file_other\"}}]}" },
	{ "a key ending in a backslash",
	    T("{ \"k\\\\\" : 1 , \"j\" : 2 }"), "{\"k\\\\\":1,\"j\":2}" },
	{ "runs of escaped quotes and backslashes",
	    T("[ \"\\\"\\\"\\\\\\\"\\\\\" , \"\\\\\\\\\" ]"),
	    "[\"\\\"\\\"\\\\\\\"\\\\\",\"\\\\\\\\\"]" },
	{ "an escaped NUL is kept",
	    T(" \"a\\u0000b c\" "), "\"a\\u0000b c\"" },
	{ "a raw NUL in a string becomes \\u0000",
	    T("[\"a\0b\"]"), "[\"a\\u0000b\"]" },
	{ "a raw NUL between tokens is white space, as cJSON reads it",
	    T("[1,\0 2]\0"), "[1,2]" },
	{ "a lone high surrogate is kept",
	    T("[ \"\\ud800\" ]"), "[\"\\ud800\"]" },
	{ "a lone low surrogate is kept",
	    T("[ \"x\\uDC00y\" ]"), "[\"x\\uDC00y\"]" },
	{ "a pair, and other \\u escapes, are kept as written",
	    T("\"\\ud83d\\ude00 \\u0041\\u00e9\""),
	    "\"\\ud83d\\ude00 \\u0041\\u00e9\"" },
	{ "JSON inside a string keeps its spaces",
	    T("{ \"a\" : \"{\\\"b\\\": \\\"c d\\\\\\\\\\\"}\" }"),
	    "{\"a\":\"{\\\"b\\\": \\\"c d\\\\\\\\\\\"}\"}" },
	{ "every white space between every token",
	    T(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n"
	    "true \t\r\n, \t\r\nnull \t\r\n] \t\r\n, \t\r\n\"b\" \t\r\n: "
	    "\t\r\n{ \t\r\n} \t\r\n} \t\r\n"),
	    "{\"a\":[1,true,null],\"b\":{}}" },
	{ "DEL between tokens is refused",
	    T("[\x01\x0b\x0c" "1\x1f,\x7f" "2]"), REFUSED },
	{ "form feed and vertical tab between tokens are dropped",
	    T("[\x0b\x0c" "1\x1f,\x01" "2]"), "[1,2]" },
	{ "CR, LF and tab inside strings are escaped",
	    T("[\"a\rb\nc\td\x1f\"]"), "[\"a\\u000db\\u000ac\\u0009d\\u001f\"]" },
	{ "CRLF inside a string cannot break the line",
	    T("{\"text\":\"x\r\n{\\\"type\\\":\\\"fetched\\\"}\"}"),
	    "{\"text\":\"x\\u000d\\u000a{\\\"type\\\":\\\"fetched\\\"}\"}" },
	{ "UTF-8 is copied", T("\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
	    "\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
	{ "DEL is copied", T("\"\x7f\""), "\"\x7f\"" },
	{ "strict numbers", T("[ -0 , 0.5 , -1.25e+10 , 1E5 , 7e-3 ]"),
	    "[-0,0.5,-1.25e+10,1E5,7e-3]" },
	{ "empty containers", T("[ [ ] , { } , \"\" ]"), "[[],{},\"\"]" },
	{ "a plus sign", T("+1"), REFUSED },
	{ "a leading zero", T("[01]"), REFUSED },
	{ "a bare point", T("[1.]"), REFUSED },
	{ "a leading point", T("[.5]"), REFUSED },
	{ "an empty exponent", T("[1e]"), REFUSED },
	{ "a hex number", T("[0x10]"), REFUSED },
	{ "NaN", T("[NaN]"), REFUSED },
	{ "a bad escape", T("\"\\x\""), REFUSED },
	{ "a short \\u escape", T("\"\\u12\""), REFUSED },
	{ "a \\u escape with a non-hex digit", T("\"\\u12g4\""), REFUSED },
	{ "a backslash at the end", T("\"abc\\"), REFUSED },
	{ "an unterminated string", T("[\"abc]"), REFUSED },
	{ "an escaped quote does not end a string", T("[\"abc\\\"]"),
	    REFUSED },
	{ "a trailing comma in an array", T("[1,]"), REFUSED },
	{ "a trailing comma in an object", T("{\"a\":1,}"), REFUSED },
	{ "a key without a value", T("{\"a\"}"), REFUSED },
	{ "a key that is not a string", T("{a:1}"), REFUSED },
	{ "a truncated literal", T("[tru]"), REFUSED },
	{ "garbage after the value", T("[1] x"), REFUSED },
	{ "two values", T("1 2"), REFUSED },
	{ "nothing", T(""), REFUSED },
	{ "only white space", T(" \n\t"), REFUSED },
	{ "malformed UTF-8", T("\"\xff\""), REFUSED },
	{ "an overlong UTF-8 sequence", T("\"\xc0\xaf\""), REFUSED },
	{ "a surrogate coded in UTF-8", T("\"\xed\xa0\x80\""), REFUSED },
	{ "a cut UTF-8 sequence", T("\"\xe2\x82\""), REFUSED },
};

struct pcase {
	const char	*name;
	const char	*in;
	size_t		 n;
	const char	*want;		/* REFUSED: ca_jparse fails */
	int		 nulid;		/* ca_jnulkey(j, "id") */
};

static const struct pcase pcases[] = {
	{ "of duplicate keys the last wins",
	    T("{\"a\":1,\"b\":0,\"a\":2}"), "{\"b\":0,\"a\":2}", 0 },
	{ "duplicate keys in nested objects and arrays",
	    T("[{\"x\":{\"k\":1,\"k\":[{\"k\":3,\"k\":4}]}}]"),
	    "[{\"x\":{\"k\":[{\"k\":4}]}}]", 0 },
	{ "three duplicates", T("{\"id\":\"a\",\"id\":\"b\",\"id\":\"c\"}"),
	    "{\"id\":\"c\"}", 0 },
	{ "a NUL in a string is kept", T("{\"id\":\"file_\\u0000evil\"}"),
	    "{\"id\":\"file_\\u0000evil\"}", 1 },
	{ "a NUL deep down is kept",
	    T("{ \"a\" : [ 1 , { \"id\" : \"x\\u0000\" } , \"\\u0000\" ] }"),
	    "{\"a\":[1,{\"id\":\"x\\u0000\"},\"\\u0000\"]}", 1 },
	{ "a raw NUL in a string is kept, escaped",
	    T("{\"id\":\"a\0b\"}"), "{\"id\":\"a\\u0000b\"}", 1 },
	{ "an escaped backslash before u0000 is no NUL",
	    T("{\"id\":\"\\\\u0000\"}"), "{\"id\":\"\\\\u0000\"}", 0 },
	{ "a bare string with a NUL", T(" \"a\\u0000b\" "),
	    "\"a\\u0000b\"", 0 },
	{ "a NUL in a key is refused", T("{\"id\\u0000x\":\"evil\"}"),
	    REFUSED, 0 },
	{ "a NUL key that would shadow another is refused",
	    T("{\"id\":\"good\",\"id\\u0000\":\"evil\"}"), REFUSED, 0 },
	{ "a lone high surrogate is refused", T("[\"\\ud800\"]"), REFUSED,
	    0 },
	{ "a lone low surrogate is refused", T("[\"\\udc00\"]"), REFUSED,
	    0 },
	{ "a high surrogate before a non-surrogate is refused",
	    T("[\"\\ud800\\u0041\"]"), REFUSED, 0 },
	{ "a pair is read", T("[\"\\ud83d\\ude00\"]"),
	    "[\"\xf0\x9f\x98\x80\"]", 0 },
	{ "duplicates and a NUL together",
	    T("{\"id\":\"\\u0000\",\"id\":\"ok\"}"), "{\"id\":\"ok\"}", 0 },
};

/* ca_jscan under its two white-space rules, and ca_jmember. */
struct scase {
	const char	*name;
	const char	*in;
	size_t		 n;
	int		 strict;	/* CA_JWS_STRICT accepts it */
	int		 cjson;		/* CA_JWS_CJSON accepts it */
};

static const struct scase scases[] = {
	{ "RFC white space between tokens, both rules",
	    T(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] }\r\n"), 1, 1 },
	{ "a form feed between tokens, cJSON's rule only",
	    T("[1,\f2]"), 0, 1 },
	{ "a raw NUL between tokens, cJSON's rule only", T("[1,\0 2]"), 0, 1 },
	{ "a raw tab in a string, cJSON's rule only", T("\"a\tb\""), 0, 1 },
	{ "a raw NUL in a string, cJSON's rule only", T("\"a\0b\""), 0, 1 },
	{ "a lone high surrogate, cJSON's rule only", T("\"\\ud800\""), 0, 1 },
	{ "a lone low surrogate, cJSON's rule only", T("\"\\uDC00\""), 0, 1 },
	{ "a high surrogate before a non-surrogate, cJSON's rule only",
	    T("\"\\ud800\\u0041\""), 0, 1 },
	{ "a surrogate pair, both rules", T("\"\\uD83D\\uDE00\""), 1, 1 },
	{ "malformed UTF-8 is not the scanner's to refuse", T("\"\xff\""), 1,
	    1 },
	{ "a string ending in a backslash, both rules",
	    T("[\"C:\\\\\" , \"x\"]"), 1, 1 },
	{ "DEL between tokens, neither", T("[1,\x7f" "2]"), 0, 0 },
	{ "a leading zero, neither", T("[01]"), 0, 0 },
	{ "a bad escape, neither", T("\"\\x\""), 0, 0 },
	{ "an unterminated string, neither", T("[\"abc]"), 0, 0 },
	{ "a trailing comma, neither", T("{\"a\":1,}"), 0, 0 },
};

static int
scan_one(const char *p, size_t n, int ws)
{
	struct ca_jscan s;

	ca_jscan_init(&s, p, n, ws);
	return ca_jscan_whole(&s) == 0;
}

/* ca_jmember finds "id" past strings that would fool a naive scan. */
static int
member_case(const char *in, size_t n, const char *want)
{
	size_t ms, vs, ve;

	if (ca_jmember(in, n, "id", &ms, &vs, &ve) == -1)
		return want == NULL;
	return want != NULL && ve - vs == strlen(want) &&
	    memcmp(in + vs, want, ve - vs) == 0 && in[ms] == '"';
}

static int
scan_cases(void)
{
	static const struct {
		const char	*name, *in;
		size_t		 n;
		const char	*want;
	} mcases[] = {
		{ "ca_jmember: past a key ending in a backslash",
		    T("{\"a\\\\\":\"id\",\"id\":[1,\"]\"]}"), "[1,\"]\"]" },
		{ "ca_jmember: past a raw control byte and a form feed",
		    T("{\"a\":\"\x01\",\f\"id\":\"x\"}"), "\"x\"" },
		{ "ca_jmember: a key with an escape is not \"id\"",
		    T("{\"i\\u0064\":1}"), NULL },
	};
	size_t i, ns = sizeof(scases) / sizeof(scases[0]);
	size_t nm = sizeof(mcases) / sizeof(mcases[0]);
	int bad = 0, st, cj, ok;

	printf("1..%zu\n", ns + nm);
	for (i = 0; i < ns; i++) {
		const struct scase *c = &scases[i];

		st = scan_one(c->in, c->n, CA_JWS_STRICT);
		cj = scan_one(c->in, c->n, CA_JWS_CJSON);
		ok = st == c->strict && cj == c->cjson;
		printf("%s %zu %s", ok ? "ok" : "not ok", i + 1, c->name);
		if (!ok) {
			printf(": got strict %d, cJSON %d", st, cj);
			bad = 1;
		}
		putchar('\n');
	}
	for (i = 0; i < nm; i++) {
		ok = member_case(mcases[i].in, mcases[i].n, mcases[i].want);
		printf("%s %zu %s\n", ok ? "ok" : "not ok", ns + i + 1,
		    mcases[i].name);
		bad |= !ok;
	}
	return bad;
}

static void
show(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			printf("\\x%02x", (unsigned char)s[i]);
		else
			putchar(s[i]);
}

static int
compact_cases(void)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	size_t i;
	int bad = 0, rv, ok;

	printf("1..%zu\n", sizeof(ccases) / sizeof(ccases[0]));
	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];

		ca_buf_reset(&b);
		ca_buf_addstr(&b, "x");
		rv = ca_jcompact(&b, c->in, c->n);
		if (c->want == REFUSED)
			ok = rv == -1 && b.len == 1;	/* out as it was */
		else
			ok = rv == 0 && strcmp(b.p + 1, c->want) == 0;
		printf("%s %zu %s", ok ? "ok" : "not ok", i + 1, c->name);
		if (!ok) {
			printf(": got rv %d, \"", rv);
			show(b.p + 1, b.len - 1);
			printf("\"");
			bad = 1;
		}
		putchar('\n');
	}
	ca_buf_free(&b);
	return bad;
}

static int
parse_cases(void)
{
	size_t i;
	int bad = 0, ok;
	cJSON *j;
	char *s;

	printf("1..%zu\n", sizeof(pcases) / sizeof(pcases[0]));
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];

		j = ca_jparse(c->in, c->n);
		s = j != NULL ? ca_jprint(j) : NULL;
		if (c->want == REFUSED)
			ok = j == NULL;
		else
			ok = s != NULL && strcmp(s, c->want) == 0 &&
			    ca_jnulkey(j, "id") == c->nulid &&
			    (!c->nulid || ca_jstr(j, "id") == NULL);
		printf("%s %zu %s", ok ? "ok" : "not ok", i + 1, c->name);
		if (!ok) {
			printf(": got %s", s != NULL ? s : "NULL");
			bad = 1;
		}
		putchar('\n');
		free(s);
		cJSON_Delete(j);
	}
	return bad;
}

int
main(int argc, char *argv[])
{
	ca_setprog(argv[0], NULL);
	if (argc == 2 && strcmp(argv[1], "compact") == 0)
		return compact_cases();
	if (argc == 2 && strcmp(argv[1], "parse") == 0)
		return parse_cases();
	if (argc == 2 && strcmp(argv[1], "scan") == 0)
		return scan_cases();
	fprintf(stderr, "usage: json-test compact | parse | scan\n");
	return CA_EX_USAGE;
}
