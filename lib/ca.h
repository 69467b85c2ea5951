/*
 * ca.h: the one library header of the ca toolkit.
 * Grouped by the file in lib/ that implements each part.
 */
#ifndef CA_H
#define CA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#if defined(__GNUC__)
#define CA_NORETURN	__attribute__((noreturn))
#define CA_PRINTF(a, b)	__attribute__((format(printf, a, b)))
#else
#define CA_NORETURN
#define CA_PRINTF(a, b)
#endif

/*
 * Exit statuses shared by every tool; each man page documents them.
 * A tool killed by a signal exits 128+signal, as a shell reports it.
 */
#define CA_EX_OK	0	/* everything succeeded */
#define CA_EX_FAIL	1	/* some input or request failed; the rest went on */
#define CA_EX_USAGE	2	/* bad options, operands or environment */
#define CA_EX_TEMPFAIL	75	/* only temporary failures (sysexits EX_TEMPFAIL) */

/* Explicit limits. */
#define CA_LINE_MAX	((size_t)64 << 20)	/* one input record */
#define CA_BODY_MAX	((size_t)256 << 20)	/* one JSON response body */
#define CA_FILE_MAX	((long long)500 << 20)	/* the Files API's limit */

/* ca_err.c: diagnostics on stderr, prefixed with the program name. */
extern const char *ca_prog;
extern int ca_verbose;		/* -v count; ca_note prints only when set */
void	 ca_setprog(const char *argv0);
/* "prog: msg"; a format ending in ':' appends strerror(errno). */
void	 ca_warn(const char *fmt, ...) CA_PRINTF(1, 2);
void	 ca_note(const char *fmt, ...) CA_PRINTF(1, 2);
void	 ca_die(int status, const char *fmt, ...) CA_NORETURN CA_PRINTF(2, 3);
void	*ca_xmalloc(size_t n);
void	*ca_xcalloc(size_t n, size_t size);
void	*ca_xrealloc(void *p, size_t n);
char	*ca_xstrdup(const char *s);
/*
 * Printable copy of untrusted text for a terminal: C0 and C1 controls,
 * DEL and malformed UTF-8 become \xNN; cut at maxlen bytes (0: no cut).
 */
char	*ca_sanitize(const char *s, size_t maxlen);
/* Length of the valid UTF-8 sequence at p (of n bytes), or 0. */
size_t	 ca_utf8_len(const unsigned char *p, size_t n);
/* A number from lo to hi, or die with a usage error naming what. */
long	 ca_strtonum(const char *s, long lo, long hi, const char *what);
/* A number of seconds (fractions allowed), or die likewise. */
double	 ca_seconds(const char *s, const char *what);

/* ca_buf.c: a growable byte buffer with a hard cap. */
struct ca_buf {
	char	*p;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0 means CA_BODY_MAX */
};
int	 ca_buf_add(struct ca_buf *b, const void *p, size_t n); /* -1 past max */
int	 ca_buf_addstr(struct ca_buf *b, const char *s);
void	 ca_buf_reset(struct ca_buf *b);
void	 ca_buf_free(struct ca_buf *b);
/* A set of strings, for "each id once per run". */
struct ca_strset {
	char	**v;
	size_t	 n;
};
int	 ca_strset_add(struct ca_strset *s, const char *str); /* 1: was in */
void	 ca_strset_free(struct ca_strset *s);

/* ca_rec.c: NDJSON records in and out. */
struct ca_rec {
	const char	*raw;	/* the line as read, without its '\n' */
	size_t		 len;
	long		 lineno;
	cJSON		*json;	/* the parsed object; freed by the next read */
	const char	*type;	/* json's "type", never NULL for a good record */
};
struct ca_reader;
struct ca_reader *ca_reader_new(FILE *fp, const char *name);
/*
 * Read the next record: 1 a record, 0 end of input, -1 a bad line
 * (already reported as "prog: name:lineno: why"; the caller notes the
 * failure and reads on). Blank lines are skipped.  An I/O error is
 * reported and ends the input; ca_reader_failed() then says so.
 */
int	 ca_reader_next(struct ca_reader *r, struct ca_rec *rec);
int	 ca_reader_failed(const struct ca_reader *r);
/* Can ca_reader_next return without reading (a whole line, or EOF)? */
int	 ca_reader_pending(const struct ca_reader *r);
/*
 * Read once, as much as is there (after poll(2) said so, this does not
 * block): for a caller that must not wait for the rest of a line.
 * Returns the bytes read, 0 at end of input.
 */
int	 ca_reader_fill(struct ca_reader *r);
void	 ca_reader_free(struct ca_reader *r);
/* Write one record, compact, and flush it.  Dies on a write error. */
void	 ca_emit(const cJSON *rec);
/* Pass a record through, byte for byte. */
void	 ca_emit_raw(const struct ca_rec *rec);
/* Flush and close stdout; a late error becomes CA_EX_FAIL. */
int	 ca_finish(int status);

/*
 * ca_status.c: the one exit-status rule.  A tool exits 1 if any
 * permanent failure happened in it or passed through it as an error
 * record, else 75 if any temporary one did, else 0.
 */
struct ca_status {
	int	 failed;	/* a permanent failure */
	int	 tempfailed;	/* a temporary one */
};
/* Count an outcome: 0, CA_EX_TEMPFAIL, or anything else as permanent. */
void	 ca_status_add(struct ca_status *s, int rc);
/* Count rec if it is an error record (by its status and error.type). */
void	 ca_status_rec(struct ca_status *s, const cJSON *rec);
/* CA_EX_TEMPFAIL or CA_EX_FAIL for an error record. */
int	 ca_error_rec_status(const cJSON *rec);
/* Is an error of this HTTP status (0: none) and type worth a later try? */
int	 ca_error_temporary(long status, const char *type);
/* The exit status the rule gives. */
int	 ca_status_exit(const struct ca_status *s);

/* ca_jcompact.c */
/*
 * Append the JSON text src (n bytes) to out on one line with its value
 * unchanged: white space between tokens dropped, strings copied escape
 * by escape, raw control bytes in strings escaped.  -1 on text that
 * cannot be JSON (a raw NUL outside a string, an unterminated string)
 * or past out's cap; out then holds a partial result.  It does not
 * validate: parse first where that matters.
 */
int	 ca_jcompact(struct ca_buf *out, const char *src, size_t n);

/* ca_json.c: small cJSON conveniences. */
cJSON	*ca_jparse(const char *p, size_t n);	/* NULL unless valid JSON */
const char *ca_jstr(const cJSON *o, const char *key);	/* NULL if absent */
double	 ca_jnum(const cJSON *o, const char *key, double dflt);
cJSON	*ca_jobj(const cJSON *o, const char *key);	/* object or NULL */
cJSON	*ca_jarr(const cJSON *o, const char *key);	/* array or NULL */
char	*ca_jprint(const cJSON *o);		/* compact; caller frees */

/* ca_walk.c: the one place that knows every content block type. */
enum ca_blk {
	CA_BLK_OTHER,			/* unknown: show briefly, skip */
	CA_BLK_TEXT,
	CA_BLK_THINKING,
	CA_BLK_REDACTED_THINKING,
	CA_BLK_TOOL_USE,
	CA_BLK_SERVER_TOOL_USE,
	CA_BLK_CODE_RESULT,		/* code_execution_tool_result */
	CA_BLK_BASH_RESULT,		/* bash_code_execution_tool_result */
	CA_BLK_EDITOR_RESULT,		/* text_editor_code_execution_tool_result */
	CA_BLK_CONTAINER_UPLOAD,
	CA_BLK_WEB_SEARCH_RESULT,
	CA_BLK_WEB_FETCH_RESULT,
	CA_BLK_TOOL_SEARCH_RESULT
};
enum ca_blk ca_blk_kind(const cJSON *block);
/* A code execution result's inner error code, or NULL if it succeeded. */
const char *ca_blk_error_code(const cJSON *block);
/* A plain explanation of a tool error code, for people. */
const char *ca_tool_error_text(const char *code);
typedef void (*ca_file_fn)(void *ctx, const char *file_id,
	    const cJSON *block);
/* Call fn for each file_id any code execution result in msg produced. */
int	 ca_walk_files(const cJSON *msg, ca_file_fn fn, void *ctx);

/* ca_mime.c: the type a file's magic bytes announce, or NULL. */
const char *ca_magic_type(const unsigned char *p, size_t n);

/* ca_model.c: models, tool versions and beta headers, as data. */
#define CA_T20250522	0x1u
#define CA_T20250825	0x2u
#define CA_T20260120	0x4u
#define CA_T20260521	0x8u
struct ca_tool {
	const char	*type;		/* code_execution_20250825 ... */
	unsigned	 bit;
	const char	*legacy_beta;	/* what older gateways needed */
};
struct ca_model {
	const char	*name;
	unsigned	 tools;		/* CA_T* bits */
	double		 in_usd;	/* estimated price per million tokens */
	double		 out_usd;
};
#define CA_FILES_BETA	"files-api-2025-04-14"
extern const struct ca_tool ca_tools[];	/* oldest first, NULL-terminated */
extern const struct ca_model ca_models[]; /* NULL-terminated */
const struct ca_tool *ca_tool_find(const char *type);
const struct ca_model *ca_model_find(const char *name);
/* The newest tool version in the mask, or NULL. */
const struct ca_tool *ca_tool_newest(unsigned mask);
/* "a, b, c" of the tool versions in mask; static storage. */
const char *ca_tool_list(unsigned mask);

/* ca_http.c: the API endpoint, authentication and one transfer. */
struct ca_api {
	char	*base;		/* no trailing slash */
	char	*auth;		/* the whole auth header line; never printed */
	const char *version;	/* anthropic-version */
	long	 connect_ms;	/* connect timeout */
	long	 timeout_ms;	/* per attempt; 0 none */
	long	 idle_ms;	/* abort when no byte arrives for this long */
	int	 plain;		/* plain http (to loopback only) */
};
/*
 * Read ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN.
 * Refuses plain http:// unless the host is loopback.  On failure reports
 * why and returns CA_EX_USAGE, else 0.
 */
int	 ca_api_init(struct ca_api *api);
void	 ca_api_free(struct ca_api *api);
/* Refuse anything that could inject a header line (CR, LF, NUL). */
int	 ca_header_safe(const char *s);
/* Percent-encode one path segment; refuses "", ".", "..".  Caller frees. */
char	*ca_path_escape(const char *seg);

struct ca_resp {
	long		 status;	/* 0 until a status line arrived */
	CURLcode	 cc;		/* transport outcome */
	struct ca_buf	 body;		/* unless the caller writes elsewhere */
	char		 request_id[128];
	char		 retry_after[64];
	char		 retry_after_ms[64];
	char		 should_retry[16];	/* x-should-retry */
	char		 content_type[128];
	char		 location[512];
	char		 rl_remaining[32];	/* anthropic-ratelimit-requests-* */
	char		 rl_reset[64];
	long long	 content_length;	/* -1 unknown */
	long		 idle_ms;	/* the idle limit in force */
	long long	 idle_bytes;	/* bytes moved when last checked */
	double		 idle_since;	/* when they last moved */
	int		 idled;		/* aborted for silence */
	char		 errbuf[CURL_ERROR_SIZE];
};
void	 ca_resp_reset(struct ca_resp *r);
/*
 * A new easy handle for METHOD BASE+PATH with auth, anthropic-version,
 * the extra headers (not copied: keep them until the transfer is done),
 * no redirects, the protocol and timeout policy, and the response's
 * headers and body captured into resp.
 */
CURL	*ca_api_easy(const struct ca_api *api, const char *method,
	    const char *path, struct curl_slist *hdrs, struct ca_resp *resp);
/* A transfer's outcome, with an idle abort reported as a timeout. */
CURLcode ca_resp_result(struct ca_resp *resp, CURLcode cc);
/*
 * A share handle so that successive easy handles reuse connections, TLS
 * sessions and DNS answers (set it with CURLOPT_SHARE); may be NULL.
 */
CURLSH	*ca_api_share(void);
/* The headers every API request carries, plus anthropic-beta if any. */
struct curl_slist *ca_api_headers(const struct ca_api *api,
	    const char *betas);
/* The API's error object from resp, or one made up for a transport error. */
cJSON	*ca_resp_error(const struct ca_resp *resp);
/* "529 overloaded_error: Overloaded (request-id req_x)" into buf. */
void	 ca_resp_errmsg(const struct ca_resp *resp, char *buf, size_t n);

/* ca_retry.c: the official SDKs' retry policy. */
struct ca_retry {
	int	 max;		/* retries after the first attempt; 0 none */
	double	 budget_s;	/* total time allowed for waiting; 0 none */
	double	 waited_s;	/* spent so far */
};
void	 ca_retry_init(struct ca_retry *rp);
int	 ca_retryable(const struct ca_resp *resp);
/* Delay before retry number n (0-based), from the headers or backoff. */
long	 ca_retry_delay_ms(const struct ca_resp *resp, int n);
/*
 * Seconds to hold new requests back because the response said the
 * request rate limit is spent until its reset time (0: no need).
 */
double	 ca_ratelimit_wait(const struct ca_resp *resp);
/* Is this failure temporary (overloaded, rate limited, unreachable)? */
int	 ca_resp_temporary(const struct ca_resp *resp);
/*
 * After failed attempt n (0-based): the delay before the next, charged
 * to the budget, or -1 for none, with why (if it is not the plain
 * policy's no) in why.
 */
long	 ca_retry_next(struct ca_retry *rp, const struct ca_resp *resp, int n,
	    char *why, size_t whylen);
/* Monotonic seconds, for deadlines. */
double	 ca_now(void);
/* Sleep ms milliseconds, through interruptions; -1 on a real error. */
int	 ca_sleep_ms(long ms);
/*
 * Perform a prepared easy handle with retries.  rewind(ctx) is called
 * before each retry so the caller can reset its body source and sink.
 * Returns 0 on a 2xx response, else CA_EX_FAIL or CA_EX_TEMPFAIL with
 * the last response left in resp.
 */
int	 ca_perform(CURL *h, struct ca_resp *resp, struct ca_retry *rp,
	    int (*rewind)(void *ctx), void *ctx);

/* ca_sha256.c: SHA-256, fed in pieces. */
struct ca_sha256 {
	uint32_t	 h[8];
	uint64_t	 len;		/* bytes hashed so far */
	unsigned char	 buf[64];
	size_t		 n;		/* bytes waiting in buf */
};
void	 ca_sha256_init(struct ca_sha256 *s);
void	 ca_sha256_update(struct ca_sha256 *s, const void *p, size_t n);
/* Finish: the digest as 64 lower-case hex digits and a NUL. */
void	 ca_sha256_final(struct ca_sha256 *s, char hex[65]);

/* ca_sse.c: a text/event-stream parser (any framing, any chunking). */
struct ca_sse;
/* Called once per event that has an event: line; nonzero aborts. */
typedef int (*ca_sse_fn)(void *ctx, const char *event, const char *data,
	    size_t len);
struct ca_sse *ca_sse_new(size_t maxevent, ca_sse_fn fn, void *ctx);
int	 ca_sse_feed(struct ca_sse *s, const char *p, size_t n); /* -1 error */
const char *ca_sse_error(const struct ca_sse *s);
void	 ca_sse_free(struct ca_sse *s);

/* ca_msg.c: assembles a Message from stream events. */
struct ca_msg;
struct ca_msg *ca_msg_new(void);
/*
 * Feed one event's parsed data: 0 go on, 1 message_stop seen, -1 error
 * (an error event, or a malformed sequence; see ca_msg_error).
 */
int	 ca_msg_event(struct ca_msg *m, const char *event, const cJSON *data);
const char *ca_msg_error(const struct ca_msg *m);
/* The error object of an "error" event, or NULL. */
const cJSON *ca_msg_errobj(const struct ca_msg *m);
/* Hand over the assembled message (the caller frees it). */
cJSON	*ca_msg_take(struct ca_msg *m);
void	 ca_msg_free(struct ca_msg *m);

/* ca_batch.c: a string-keyed map, and one member of a JSON object's text. */
struct ca_map_ent {
	char	*key;
	long	 val;
};
struct ca_map {
	struct ca_map_ent *v;
	size_t	 n;
	size_t	 cap;		/* a power of two, or 0 */
};
long	 ca_map_get(const struct ca_map *m, const char *key); /* -1: absent */
void	 ca_map_put(struct ca_map *m, const char *key, long val);
void	 ca_map_free(struct ca_map *m);
/*
 * In the text of a JSON object (p, n bytes, known to be valid JSON),
 * find the member named key (written without escapes): *ms is where
 * the member starts (its key's quote), *vs and *ve bound its value.
 * 0 found, -1 not.
 */
int	 ca_jmember(const char *p, size_t n, const char *key, size_t *ms,
	    size_t *vs, size_t *ve);

#endif
