/*
 * ca.h: the one library header of the ca toolkit.
 * Grouped by the file in lib/ that implements each part.
 */
#ifndef CA_H
#define CA_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

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
#define CA_EX_IOERR	74	/* a local write failed: the output is not
				 * complete (sysexits EX_IOERR) */
#define CA_EX_TEMPFAIL	75	/* only temporary failures (sysexits EX_TEMPFAIL) */

/* The API's defaults, as every tool that calls it uses them. */
#define CA_API_VERSION_DEFAULT	"2026-10-21"	/* CA_API_VERSION overrides */
#define CA_CONNECT_MS	10000L		/* connect timeout */
#define CA_TIMEOUT_MS	600000L		/* one attempt, at most */
#define CA_BASE_DEFAULT	"https://api.anthropic.com" /* ANTHROPIC_BASE_URL */

/* Explicit limits. */
#define CA_LINE_MAX	((size_t)64 << 20)	/* one input record */
#define CA_BODY_MAX	((size_t)256 << 20)	/* one JSON response body */
#define CA_FILE_MAX	((long long)500 << 20)	/* the Files API's limit */
#define CA_PAGE_MAX	((size_t)64 << 20)	/* one page of a list */
#define CA_PAGES_MAX	100000			/* a list that never ends */

/* ca_err.c: diagnostics on stderr, prefixed with the program name. */
extern const char *ca_prog;
extern int ca_verbose;		/* -v count; ca_note prints only when set */
/* Called before each message, to clear a progress line; may be NULL. */
extern void (*ca_warn_hook)(void);
/*
 * "prog: msg"; a format ending in ':' appends strerror(errno).  These
 * three make the whole line printable (as ca_sanitize does): pass them
 * untrusted text as it is; ca_sanitize it only to cut it to a length.
 */
void	 ca_warn(const char *fmt, ...) CA_PRINTF(1, 2);
void	 ca_note(const char *fmt, ...) CA_PRINTF(1, 2);
void	 ca_die(int status, const char *fmt, ...) CA_NORETURN CA_PRINTF(2, 3);
/* The message ca_warn prints after "prog: ", into buf (len bytes). */
void	 ca_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
	    CA_PRINTF(3, 0);
void	*ca_xmalloc(size_t n);
void	*ca_xcalloc(size_t n, size_t size);
void	*ca_xrealloc(void *p, size_t n);
char	*ca_xstrdup(const char *s);
/*
 * Printable copy of untrusted text for a terminal: C0 and C1 controls,
 * DEL and malformed UTF-8 become \xNN; cut at maxlen bytes (0: no cut).
 * Not needed before ca_warn, ca_note or ca_die, unless to cut.
 */
char	*ca_sanitize(const char *s, size_t maxlen);
/* Length of the valid UTF-8 sequence at p (of n bytes), or 0. */
size_t	 ca_utf8_len(const unsigned char *p, size_t n);
/* Offset of the first byte of s (n bytes) that is not valid UTF-8, or n. */
size_t	 ca_utf8_bad(const char *s, size_t n);

/*
 * ca_refuse.c: a tool that refuses to run.  Each way writes "prog: why"
 * on stderr and, unless ca_norecords is set or stdout is a terminal,
 * the error record {"type":"error","tool":PROG,"status":null,
 * "request_id":null,"error":{"type":ETYPE,"message":WHY}} on stdout,
 * for the tools after it to pass on and count (ca(7)).  A format
 * ending in ':' appends strerror(errno), as for ca_warn.
 */
/* Set by a tool whose stdout carries no records (a report, a file). */
extern int ca_norecords;
/*
 * main's first call: the program's name from argv0, and the tool's
 * usage(why), which must not return: with why NULL it prints the whole
 * help on stdout and exits 0; else "prog: why" (ca_warn) and the
 * synopsis on stderr, and exits CA_EX_USAGE.  usage may be NULL.
 */
void	 ca_setprog(const char *argv0, void (*usage)(const char *why));
/*
 * A bad value or operand, from any file of a tool: one line, the
 * usage_error record, exit CA_EX_USAGE; no synopsis.
 */
void	 ca_usage(const char *fmt, ...) CA_NORETURN CA_PRINTF(1, 2);
/*
 * A syntax error (ca_opt_common's: an unknown option, a missing
 * argument): the usage_error record, then the usage given ca_setprog
 * (message and synopsis), or ca_die(CA_EX_USAGE) without one.
 */
void	 ca_syntax(const char *fmt, ...) CA_NORETURN CA_PRINTF(1, 2);
/*
 * Any other refusal to run (the environment, an unusable directory):
 * the line and the record of etype; returns CA_EX_USAGE for the tool
 * to exit with.
 */
int	 ca_refuse(const char *etype, const char *fmt, ...) CA_PRINTF(2, 3);

/* ca_buf.c: a growable byte buffer with a hard cap; a map and a set. */
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
/* A string-keyed hash map (open addressing, at most half full). */
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
/* A set of strings, for "each id once per run"; zeroed is empty. */
struct ca_strset {
	struct ca_map	 m;
};
int	 ca_strset_add(struct ca_strset *s, const char *str); /* 1: was in */
void	 ca_strset_free(struct ca_strset *s);

/* ca_rec.c: NDJSON records in and out. */
struct ca_reader;
struct ca_rec {
	const char	*raw;	/* the line as read, without its '\n' */
	size_t		 len;
	long		 lineno;
	cJSON		*json;	/* the parsed object; freed by the next read;
				 * NULL for a type the reader was told the
				 * caller does not own */
	const char	*type;	/* json's "type", never NULL for a good record */
	const struct ca_reader *from;	/* the reader, for ca_reader_warn */
};
/* Standard input's name in messages, as every tool gives it. */
#define CA_STDIN	"<stdin>"
/* name: the input's name in messages (CA_STDIN for standard input). */
struct ca_reader *ca_reader_new(FILE *fp, const char *name);
/*
 * The one way to report a bad input line: "prog: NAME:LINENO: msg",
 * NAME the reader's; a lineno of 0 leaves ":LINENO" out.
 */
void	 ca_reader_warn(const struct ca_reader *r, long lineno,
	    const char *fmt, ...) CA_PRINTF(3, 4);
/*
 * Parse only records of these types (a NULL-terminated list, kept, not
 * copied); the others are still checked to be valid JSON objects with a
 * type, but come back with json NULL, to be passed through as they are.
 * Error records are always parsed: every tool counts them.
 */
void	 ca_reader_own(struct ca_reader *r, const char *const *types);
/*
 * Read the next record: 1 a record, 0 end of input, -1 a bad line
 * (already reported as "prog: name:lineno: why"; the caller notes the
 * failure and reads on). Blank lines are skipped.  An I/O error is
 * reported and ends the input; ca_reader_failed() then says so.
 */
int	 ca_reader_next(struct ca_reader *r, struct ca_rec *rec);
int	 ca_reader_failed(const struct ca_reader *r);
/*
 * Can ca_reader_next return without reading (a whole line, or EOF)?
 * Looks only at bytes it has not seen before, and drops the bytes of
 * an overlong line as they come (ca_reader_next reports it at its end).
 */
int	 ca_reader_pending(struct ca_reader *r);
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
/*
 * Standard output, for records and reports alike: write n bytes, or
 * flush.  A write error ends the program: exit 1, quietly when the
 * reader went away (EPIPE), else CA_EX_IOERR with a message.
 */
void	 ca_out(const void *p, size_t n);
void	 ca_out_flush(void);
/* Flush and close stdout; a late write error becomes CA_EX_IOERR. */
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
/* The exit status the rule gives. */
int	 ca_status_exit(const struct ca_status *s);
/*
 * After its input ended: may a tool delete the n things the input
 * named, when up counted the error records that came through?  Not
 * after one, unless force (-f); it says so on stderr.
 */
int	 ca_status_delete_ok(const struct ca_status *up, int force, int n);

/*
 * ca_version.c: the toolkit's version and the ids it makes.  The version
 * is written once, in the file VERSION; the Makefile passes it to
 * ca_version.c alone as CA_VERSION.
 */
/*
 * Print "prog VERSION (LIBS, cJSON y)" on stdout and exit 0; libs names
 * the other libraries the tool loads (ca_http_libs()), or is NULL.
 */
void	 ca_version(const char *libs) CA_NORETURN;
/* Is id a custom_id the Message Batches API takes: [A-Za-z0-9_-]{1,64}? */
int	 ca_id_ok(const char *id);
/*
 * A custom_id "PREFIX-TTTTTTTTTT-PPPP" unique across invocations: the
 * time in microseconds and the process id (base 36), and a counter
 * for more than one a microsecond.  buf has at least CA_ID_MAX bytes.
 */
#define CA_ID_MAX	65
void	 ca_id_new(char *buf, const char *prefix);

/*
 * ca_opt.c: the options every tool shares.  A tool's optstring starts
 * with ':' (after a '+', if any), so that getopt_long prints nothing
 * itself and returns ':' for a missing argument.  The loop sends the
 * cases it does not handle itself here: 'v' counts ca_verbose,
 * CA_OPT_VERSION (its --version entry's value) prints the version with
 * libs (as ca_version) and exits; ':', '?' and anything else are a usage
 * error naming the option as given ("unknown option --bogus", "-t needs
 * an argument"), through ca_syntax.
 */
#define CA_OPT_VERSION	'V'
void	 ca_opt_common(int ch, char *argv[], const char *libs);
/* A number from lo to hi, or a usage error (ca_usage) naming what. */
long	 ca_strtonum(const char *s, long lo, long hi, const char *what);
/* A number of seconds (fractions allowed), likewise. */
double	 ca_seconds(const char *s, const char *what);

/*
 * ca_jscan.c: the one JSON scanner: what a JSON text is, decided once.
 * Numbers, escapes and literals are RFC 8259's under both white-space
 * rules:
 * CA_JWS_STRICT (records passed on unparsed): space, tab, LF and CR
 *   between tokens; no raw control byte in a string; a surrogate escape
 *   only as a high one then a low one.  What it accepts, cJSON reads
 *   the same.
 * CA_JWS_CJSON (compaction, and texts cJSON has read): any byte up to
 *   space between tokens, and raw control bytes in strings, as cJSON
 *   takes them.
 * With out set, each token is appended to it as it came, a string's
 * raw control bytes as their \u00XX escapes and its UTF-8 checked.
 */
#define CA_JWS_STRICT	0
#define CA_JWS_CJSON	1
#define CA_JSEEN_ESC	1	/* the last string had an escape */
#define CA_JSEEN_NUL	2	/* ... or a NUL, raw or \u0000 */
struct ca_jscan {
	const unsigned char	*p, *end;	/* the text left */
	struct ca_buf		*out;		/* NULL: no copy */
	int			 ws;		/* CA_JWS_* */
	int			 depth;
	int			 maxdepth;	/* deeper fails; init 1000 */
	unsigned		 seen;		/* CA_JSEEN_* */
	/*
	 * If set, called for each member of the outermost object once its
	 * value is scanned: key k..ke (with quotes), value v..ve; -1 fails
	 * the scan.
	 */
	int	(*member)(struct ca_jscan *, const unsigned char *k,
		    const unsigned char *ke, const unsigned char *v,
		    const unsigned char *ve);
	void			*arg;		/* for member */
};
void	 ca_jscan_init(struct ca_jscan *s, const char *p, size_t n, int ws);
void	 ca_jscan_ws(struct ca_jscan *s);	/* skip white space */
/* The string or value at s->p, s->p moved past it: 0, or -1 if bad. */
int	 ca_jscan_string(struct ca_jscan *s);
int	 ca_jscan_value(struct ca_jscan *s);
/* The whole text left is one value, white space around it: 0, or -1. */
int	 ca_jscan_whole(struct ca_jscan *s);
/*
 * Step over the value at s->p of a text a parser accepted already: only
 * its strings are checked (cJSON's numbers, such as 01, are not RFC's).
 */
int	 ca_jscan_skip(struct ca_jscan *s);
/*
 * Append the JSON text src (n bytes) to out on one line with its value
 * unchanged: white space between tokens (any byte up to space, as cJSON
 * reads it) dropped, strings copied escape by escape, raw control bytes
 * in strings escaped.  -1, with out as it was, unless src is one strict
 * JSON value (RFC 8259 numbers, escapes and UTF-8; 1000 levels deep at
 * most) or past out's cap.  What it writes is strict JSON.
 */
int	 ca_jcompact(struct ca_buf *out, const char *src, size_t n);

/*
 * ca_json.c: small cJSON conveniences.
 * ca_jparse gives NULL unless p is valid JSON.  Of duplicate keys the
 * last wins.  A string that held a NUL (\u0000) becomes a raw node with
 * its exact JSON text (ca_jnulstr), so that printing keeps it and
 * ca_jstr never returns a prefix; a key that held one is refused.
 */
cJSON	*ca_jparse(const char *p, size_t n);
/* Is every number in v finite?  (1e999 parses as infinity, printed null.) */
int	 ca_jfinite(const cJSON *v);
/* Is v a count of tokens: a whole number, 0 or more (not too large)? */
int	 ca_jtokens(const cJSON *v);
/* Is v a string that held a NUL (kept as a raw node)? */
int	 ca_jnulstr(const cJSON *v);
/* Does any member named key, anywhere in j, hold such a string? */
int	 ca_jnulkey(const cJSON *j, const char *key);
/*
 * Append the escaped JSON text of string v, without quotes, as strict
 * JSON; -1 if v is not a string, holds malformed UTF-8, or out is full.
 */
int	 ca_jstr_esc(struct ca_buf *out, const cJSON *v);
const char *ca_jstr(const cJSON *o, const char *key);	/* NULL if absent */
double	 ca_jnum(const cJSON *o, const char *key, double dflt);
cJSON	*ca_jobj(const cJSON *o, const char *key);	/* object or NULL */
cJSON	*ca_jarr(const cJSON *o, const char *key);	/* array or NULL */
char	*ca_jprint(const cJSON *o);		/* compact; caller frees */
/*
 * In the text of a JSON object (p, n bytes, known to be valid JSON),
 * find the member named key (written without escapes): *ms is where
 * the member starts (its key's quote), *vs and *ve bound its value.
 * 0 found, -1 not.
 */
int	 ca_jmember(const char *p, size_t n, const char *key, size_t *ms,
	    size_t *vs, size_t *ve);

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
	CA_BLK_TOOL_SEARCH_RESULT,
	CA_BLK_MCP_TOOL_USE,		/* the API called an MCP server's tool */
	CA_BLK_MCP_TOOL_RESULT,
	CA_BLK_COMPACTION		/* a summary of what came before */
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

/*
 * ca_ctool.c: client tool files.  A tool file is a JSON object: name,
 * description, input_schema (an object schema), command (an argv
 * array), and optional callers (["direct"], ["code"] or both), timeout
 * (seconds) and max_output (bytes); a relative command path (with a
 * '/') is taken from the file's directory.  ca-request declares the tool from
 * it; ca-exec runs a call's command only from a file given to it.
 */
#define CA_CALL_DIRECT		0x1u
#define CA_CALL_CODE		0x2u
#define CA_CTOOL_TIMEOUT	60		/* seconds, by default */
#define CA_CTOOL_TIMEOUT_MAX	240		/* under the API's 270 s */
#define CA_CTOOL_OUTPUT		((size_t)1 << 20)	/* bytes, by default */
#define CA_CTOOL_OUTPUT_MAX	((size_t)16 << 20)
struct ca_ctool {
	char	*file;		/* as given */
	char	*name;
	cJSON	*def;		/* the API's part: name, description, schema */
	char	**argv;		/* NULL-terminated */
	unsigned callers;	/* CA_CALL_* bits; 0: the file said nothing */
	double	 timeout;
	size_t	 max_output;
};
/*
 * Read file into t, or end with a usage error naming the file and the
 * field (bad JSON, no name, a schema that is not an object, a command
 * that is not an argv array or not executable, a bad limit).
 */
void	 ca_ctool_load(struct ca_ctool *t, const char *file);
/* The local part, for a request record: name, file, command, limits. */
cJSON	*ca_ctool_local(const struct ca_ctool *t);
/* Does a record's local part name t's command, argument for argument? */
int	 ca_ctool_same(const struct ca_ctool *t, const cJSON *local);
void	 ca_ctool_free(struct ca_ctool *t);

/*
 * ca_tcall.c: client tool calls answered (ca-exec, ca-batch).  params
 * is the request's (its tools say what is declared), local its record's
 * client_tools (or NULL), tools the files the user's command line gave.
 * A call runs only when a file in tools names its tool and local, if it
 * names a command for the tool, names that one; others are answered
 * with an error, never run.  For each call, head(ctx) makes a record
 * head (type tool_call and the caller's ids), the fields are added,
 * and emit(ctx, rec) takes it.
 */
struct ca_tcall {
	const cJSON		*params;
	const cJSON		*local;
	const struct ca_ctool	*tools;
	int			 ntools;
	cJSON			*(*head)(void *ctx);
	void			(*emit)(void *ctx, cJSON *rec);
	void			*ctx;
};
/* The tool_use blocks (client calls) in a message. */
int	 ca_tcall_count(const cJSON *msg);
/*
 * Run the calls of msg (at most 8 at once, all answered within 240 s)
 * and return the content of the user message that answers them: one
 * tool_result per call, in order.
 */
cJSON	*ca_tcall_answer(const struct ca_tcall *tc, const cJSON *msg);
/*
 * A turn's history from its records in order (response and tool_call
 * records of one request): the messages before the last part (the
 * assistant content up to each set of calls, then a user message of
 * their results), the content since, and the container.
 */
struct ca_turnlog {
	cJSON	*prior;		/* messages */
	cJSON	*turn;		/* assistant content since */
	cJSON	*results;	/* tool_result blocks not yet placed */
	char	*cid;		/* the last container id */
	int	 nresp;
};
void	 ca_turnlog_init(struct ca_turnlog *t);
void	 ca_turnlog_add(struct ca_turnlog *t, const cJSON *rec);
/*
 * Append the history to params' messages so that the turn goes on:
 * ending on the results when the last records were calls, else on the
 * assistant content (pause_turn); the container named.  -1 without
 * messages.  The log is used up.
 */
int	 ca_turnlog_continue(struct ca_turnlog *t, cJSON *params);
void	 ca_turnlog_free(struct ca_turnlog *t);

/*
 * ca_run.c: local commands run side by side.  The caller fills argv,
 * in/inlen (fed on stdin), timeout, max (stdout bytes kept) and limit
 * (a ca_now() time by which every answer is due: no command starts
 * after it, none runs past it); ca_run_all runs at most maxpar (<= 64)
 * at once, each in its own process group with only PATH, HOME, USER,
 * LOGNAME, LANG, LC_ALL, LC_CTYPE, TZ and TMPDIR in its environment,
 * and kills the group at the deadline or once the command exits.
 */
struct ca_run {
	char	*const *argv;
	const char *in;
	size_t	 inlen;
	double	 timeout, limit;
	size_t	 max;
	/* results */
	struct ca_buf out;	/* stdout, at most max bytes */
	struct ca_buf errtext;	/* stderr, its first 4 KiB */
	size_t	 bytes;		/* stdout bytes printed in all */
	int	 truncated;	/* printed more than max */
	int	 timed_out;	/* killed at the deadline */
	int	 late;		/* not started: limit passed */
	int	 err;		/* errno: could not start */
	int	 status;	/* exit status, 128+signal; -1 none */
	int	 sig;
	double	 secs;
	/* private */
	double	 started, deadline;
	pid_t	 pid;
	int	 fd[3];
	size_t	 inoff;
	int	 running, done;
};
void	 ca_run_all(struct ca_run *v, int n, int maxpar);
void	 ca_run_free(struct ca_run *r);
/* Append p (n bytes) as valid UTF-8: a bad byte or NUL becomes U+FFFD. */
void	 ca_utf8_clean(struct ca_buf *out, const char *p, size_t n);

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
	unsigned	 feats;		/* CA_F_* bits */
	const char	*eol;		/* end of life (YYYY-MM-DD), or NULL */
	int		 retired;	/* retired on a date not recorded */
};
#define CA_FILES_BETA	"files-api-2025-04-14"
/* The model a request names when none is given. */
#define CA_MODEL_DEFAULT	"claude-opus-5-5"
extern const struct ca_tool ca_tools[];	/* oldest first, NULL-terminated */
extern const struct ca_model ca_models[]; /* NULL-terminated */
const struct ca_tool *ca_tool_find(const char *type);
const struct ca_model *ca_model_find(const char *name);
/* The newest tool version in the mask, or NULL. */
const struct ca_tool *ca_tool_newest(unsigned mask);
/* "a, b, c" of the tool versions in mask; static storage. */
const char *ca_tool_list(unsigned mask);
/* Today (UTC), or $CA_TODAY when it is set, as YYYY-MM-DD. */
void	 ca_today(char buf[11]);
/*
 * Has m retired (its end of life is today or past)?  Requests naming a
 * retired model fail; ca-request refuses it, the emulator answers 404.
 */
int	 ca_model_retired(const struct ca_model *m);
/*
 * "Did you mean": the models (not retired) nearest to name by edit
 * distance, at most 3 and only close ones, as "a", "a or b" or
 * "a, b or c" in buf; returns how many (0: none is close).
 */
int	 ca_model_suggest(const char *name, char *buf, size_t n);
/*
 * What a model can do beyond code execution, as far as this table
 * knows (an unknown model: everything, it is newer than the table).
 */
#define CA_F_PTC	0x01u	/* programmatic tool calling, dynamic filtering */
#define CA_F_THINK	0x02u	/* thinking {type: enabled, budget_tokens} */
#define CA_F_ADAPTIVE	0x04u	/* thinking {type: adaptive} */
#define CA_F_EFFORT	0x08u	/* output_config.effort low/medium/high */
#define CA_F_EFFORT_MAX	0x10u	/* ... and max */
#define CA_F_COMPACT	0x20u	/* threshold compaction, compact_20260112 */
#define CA_F_SUMMARIZE	0x40u	/* on-demand compaction, compaction field */
unsigned ca_model_feats(const char *name);
/* The Anthropic-provided skill ids, NULL-terminated. */
extern const char *const ca_skills[];

/*
 * ca_price.c: what a response cost, at the table's list prices.  Cache
 * writes cost 1.25 times the input price (2 times for the 1-hour
 * cache), cache reads 0.1 times; all at half price for a response of
 * the batch tier (usage.service_tier "batch").  Returns -1 when the
 * model has no price.
 */
#define CA_CONTAINER_USD_H	0.05		/* per container-hour */
#define CA_CONTAINER_MIN_H	(5.0 / 60)	/* billed at least this long */
double	 ca_price_msg(const cJSON *msg);
/*
 * The input and output tokens billed for usage u: the sum over
 * usage.iterations when there are any (a compaction is billed there,
 * outside the top-level counts), else the top-level counts.
 */
void	 ca_price_tokens(const cJSON *u, double *in, double *out);
/* A usage object's cache writes: 5-minute and 1-hour tokens. */
void	 ca_cache_writes(const cJSON *usage, double *cw5, double *cw1h);
/* The smallest charge for n containers. */
double	 ca_price_containers(size_t n);
/*
 * Container time is billed only for a request that ran code or
 * preloaded files (container_upload blocks), and never for one that
 * also has a web search or fetch tool of version 20260209 or later.
 * ca_price_req reads the request's params (NULL: unknown), and
 * ca_price_billed says, with each response, whether its container
 * is billed.  The free hours each organization gets a month are not
 * known here: the estimate leaves them out.
 */
#define CA_CT_FREE	0x01u	/* web tools that make code execution free */
#define CA_CT_FILES	0x02u	/* files preloaded into the container */
unsigned ca_price_req(const cJSON *params);
int	 ca_price_billed(unsigned req, const cJSON *msg);
/*
 * The usage field of msg that cannot be priced (missing, negative, not
 * a whole number, a string...), as "usage.input_tokens", or NULL when
 * ca_price_msg can be trusted.  A spending cap must fail closed on it.
 */
const char *ca_price_bad(const cJSON *msg);

/*
 * ca_url.c: text bound for a request line or header, without libcurl.
 */
/* Refuse anything that could inject a header line (CR, LF, NUL). */
int	 ca_header_safe(const char *s);
/* Percent-encode one path segment; refuses "", ".", "..".  Caller frees. */
char	*ca_path_escape(const char *seg);

/* ca_time.c */
/* Monotonic seconds, for deadlines. */
double	 ca_now(void);
/* Sleep ms milliseconds, through interruptions; -1 on a real error. */
int	 ca_sleep_ms(long ms);
/*
 * Seconds since the epoch of an RFC 3339 time (2006-01-02T15:04:05.5Z,
 * or with a +hh:mm or -hh:mm offset), or of an HTTP-date (RFC 9110's
 * IMF-fixdate, Mon, 02 Jan 2006 15:04:05 GMT); -1 if unreadable.
 */
long long ca_rfc3339(const char *s);
long long ca_httpdate(const char *s);

/*
 * ca_http.c: the API endpoint, authentication and one transfer; with
 * ca_call.c, which builds on it, the only files that call libcurl, so
 * the ones a tool without HTTP must not link (see the Makefile).
 */
struct ca_api {
	char	*base;		/* no trailing slash */
	char	*auth;		/* the whole auth header line; never printed */
	const char *version;	/* anthropic-version */
	long	 connect_ms;	/* connect timeout */
	long	 timeout_ms;	/* per attempt; 0 none */
	long	 idle_ms;	/* abort when no byte arrives for this long */
	int	 plain;		/* plain http (to loopback only) */
	int	 retries;	/* ca_call's default policy: retries after the
				 * first attempt; ca_api_init sets the default */
	int	 reuse;		/* share connections, TLS sessions and DNS
				 * answers between the handles ca_api_easy
				 * makes (not for handles in a multi handle) */
	CURLSH	*share;		/* made by the first ca_api_easy with reuse;
				 * ca_api_free frees it */
	struct ca_pace *pace;	/* if set, ca_perform paces every attempt
				 * of the handles ca_api_easy makes to it */
};
/*
 * Read ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN and
 * CA_API_VERSION (the anthropic-version; CA_API_VERSION_DEFAULT).
 * Refuses plain http:// unless the host is loopback.  On failure reports
 * why and returns CA_EX_USAGE, else 0.
 */
int	 ca_api_init(struct ca_api *api);
/* Frees the share too: call it before curl_global_cleanup(). */
void	 ca_api_free(struct ca_api *api);

/*
 * libcurl's global setup (TLS library and all), once; ca_api_easy and
 * ca_api_share call it, so that a run that sends nothing never pays for
 * it.  curl_global_cleanup() at exit is harmless either way.
 */
void	 ca_http_init(void);
/* "libcurl 7.88.1", for --version; static storage. */
const char *ca_http_libs(void);

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
	char		 rl_limit[32];
	char		 rl_in_limit[32];	/* ...-input-tokens-* */
	char		 rl_in_remaining[32];
	char		 rl_in_reset[64];
	char		 rl_out_limit[32];	/* ...-output-tokens-* */
	char		 rl_out_remaining[32];
	char		 rl_out_reset[64];
	long long	 content_length;	/* -1 unknown */
	long		 idle_ms;	/* the idle limit in force */
	int		 retries;	/* the api's, for ca_call */
	struct ca_pace	*pace;		/* the api's, for ca_perform */
	long long	 idle_bytes;	/* bytes moved when last checked */
	double		 idle_since;	/* when they last moved */
	int		 idled;		/* aborted for silence */
	int		 paused;	/* the caller paused it: not silence */
	char		 errbuf[CURL_ERROR_SIZE];
};
void	 ca_resp_reset(struct ca_resp *r);
/*
 * A new easy handle for METHOD BASE+PATH with auth, anthropic-version,
 * the extra headers (not copied: keep them until the transfer is done),
 * no redirects, the protocol and timeout policy, the share (reuse), and
 * the response's headers and body captured into resp, which keeps the
 * api's retries and idle limit through ca_resp_reset.
 */
CURL	*ca_api_easy(struct ca_api *api, const char *method,
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
struct ca_retry;
/*
 * Perform a prepared easy handle with retries.  rewind(ctx) is called
 * before each retry so the caller can reset its body source and sink.
 * With resp->pace set (ca_api_easy copies the api's), each attempt
 * waits until the rate limiter lets it go, and its answer is told to
 * the limiter.
 * Returns 0 on a 2xx response, else CA_EX_FAIL or CA_EX_TEMPFAIL with
 * the last response left in resp.
 */
int	 ca_perform(CURL *h, struct ca_resp *resp, struct ca_retry *rp,
	    int (*rewind)(void *ctx), void *ctx);

/*
 * ca_fail.c: what a failure means, in one place: what went wrong, is it
 * temporary, what the error record says, what people are told.  Calls
 * no libcurl function, so tools without HTTP link it too.
 *
 * Is an error of this HTTP status (0: none) and type (NULL: none) worth
 * a later try?  The one place that knows 408, 409, 429 and 5xx.
 */
int	 ca_error_temporary(long status, const char *type);
/*
 * Is this failure temporary (overloaded, rate limited, unreachable)?
 * Not a spent spend limit (ca_resp_spent): that holds until someone
 * raises it or the month turns, and retrying only repeats the 429.
 */
int	 ca_resp_temporary(const struct ca_resp *resp);
/*
 * Is resp a spend-limit 429: no retry-after, and error.details.
 * error_code enforced_spend_limit_reached or contract_spend_limit_reached?
 */
int	 ca_resp_spent(const struct ca_resp *resp);
/*
 * Does the API's error object err say the spend limit is reached?  An
 * error record that does is permanent, its 429 notwithstanding.
 */
int	 ca_error_spent(const cJSON *err);
/* {"type": type, "message": msg}: the error of an error record. */
cJSON	*ca_errobj(const char *type, const char *msg);
/* The API's error object from resp, or one made up for a transport error. */
cJSON	*ca_resp_error(const struct ca_resp *resp);
/* "529 overloaded_error: Overloaded (request-id req_x)" into buf. */
void	 ca_resp_errmsg(const struct ca_resp *resp, char *buf, size_t n);
/*
 * Finish the error record rec (its type and ids already in it) with
 * "status" (null for 0), "request_id" (rid; null for NULL or "") and
 * "error" (err, taken), and tell people: "name: 529 overloaded_error:
 * ... (request-id ...)".
 */
void	 ca_error_rec(cJSON *rec, const char *name, long status,
	    const char *rid, cJSON *err);
/*
 * The same record, telling no one: for a failure already reported
 * once, such as a bad input line (ca_reader_warn), which must not be
 * reported twice.
 */
void	 ca_error_fill(cJSON *rec, long status, const char *rid, cJSON *err);
/*
 * The one report of a failed call: "what: 529 overloaded_error: ...
 * (request-id ...) [error_code]", or "what: redirected (302) to URL;
 * redirects are not followed".  what must be fit for a terminal
 * already (ca_sanitize).
 */
void	 ca_call_report(const char *what, const struct ca_resp *resp);
/* A 2xx answer that is not what the API sends: "what: malformed ...". */
void	 ca_call_malformed(const char *what, const struct ca_resp *resp);

/*
 * ca_mcp.c: MCP server tokens.  A record never chooses an environment
 * variable to read: only the tool's own --mcp-token-env SERVER=VARIABLE
 * options do, and no ANTHROPIC_ variable ever.
 */
struct ca_mcp_env {
	char	**name;		/* the servers, by name */
	char	**var;		/* the variable holding each one's token */
	int	  n;
};
/* Why var may not name a token's variable, or NULL if it may. */
const char *ca_mcp_var_bad(const char *var);
/* Add one --mcp-token-env SERVER=VARIABLE; a usage error if bad. */
void	 ca_mcp_env_add(struct ca_mcp_env *e, const char *arg);
/* The variable e allows for the server name, or NULL. */
const char *ca_mcp_env_var(const struct ca_mcp_env *e, const char *name);
void	 ca_mcp_env_free(struct ca_mcp_env *e);
/*
 * Set, in params (a Messages API body), the authorization_token of
 * each MCP server e names, from its variable; a record's mcp_token_env
 * (asked, NULL for none) must name only pairs e allows.  Each token
 * set is appended to *toks (*ntoks of them, copies to free) so the
 * caller can keep it out of what it shows.  NULL when done, else the
 * error object of the error record ("mcp_token_refused",
 * "mcp_token_missing" or "invalid_record"); then nothing is to be sent.
 */
cJSON	*ca_mcp_apply(const struct ca_mcp_env *e, cJSON *params,
	    const cJSON *asked, char ***toks, int *ntoks);

/*
 * ca_call.c: one API call.  ca_call performs h with retries (rp, or,
 * when rp is NULL, the default policy with the api's retries, which
 * ca_api_easy left in resp) as ca_perform does, and on failure reports
 * it with ca_call_report unless what is NULL.
 */
int	 ca_call(CURL *h, struct ca_resp *resp, struct ca_retry *rp,
	    int (*rewind)(void *ctx), void *ctx, const char *what);
/*
 * Emit one record {"type": TYPE, TYPE: item} for each item of a list
 * page's "data" array; -1, emitting nothing, if it has none.
 */
int	 ca_emit_page(const cJSON *page, const char *type);
/* One item of a list: 0 goes on, anything else stops the list. */
typedef int (*ca_item_fn)(void *ctx, const cJSON *item);
/*
 * Every item of a cursor-paged list: GET path (with its query, without
 * a cursor), then each next page by the cursor the page gives
 * (next_page, sent as page=; or has_more with last_id, sent as
 * after_id=), to the last.  Each item goes to fn(ctx, item), or, with
 * fn NULL, out as a record of type (ca_emit_page).  A page is at most
 * CA_PAGE_MAX bytes, a list at most CA_PAGES_MAX pages; a cursor seen
 * before (a loop, however long) or has_more without a cursor stops it
 * as a failure.  Failures are reported prefixed with what (fit for a
 * terminal).  Returns 0, what fn stopped with, or the exit status of
 * the failure (CA_EX_FAIL or CA_EX_TEMPFAIL).
 */
int	 ca_list(struct ca_api *api, struct curl_slist *hdrs,
	    const char *path, const char *type, ca_item_fn fn, void *ctx,
	    const char *what);

/*
 * ca_pace.c: a client's copy of the API's rate limits, to hold a
 * request back rather than send it into a certain 429 (no libcurl
 * calls).  Each limit is a token bucket refilled at limit/60 a second;
 * every answer's anthropic-ratelimit-{requests,input-tokens,
 * output-tokens}-{limit,remaining,reset} headers set it afresh (the
 * size from what is left and when it is full).  Limits set by hand
 * are buckets of one second's worth.  The requests in flight adapt:
 * at most max (-j), halved on a 429 or 529 (once a second at most),
 * grown back by one per window's worth of answers that went through.
 */
struct ca_bucket {
	double	 limit;		/* per minute; 0: not known, no pacing */
	double	 rate;		/* per second */
	double	 cap;		/* the bucket's size */
	double	 level;		/* left, as reckoned at t (may go below 0) */
	double	 t;
};
struct ca_pace {
	int		 on;		/* 0: send as -j allows (no pacing) */
	int		 max;		/* in flight at most (-j) */
	double		 window;	/* in flight now allowed, 1..max */
	double		 hold_until;	/* a 429's retry-after holds all */
	double		 last_cut;
	struct ca_bucket req, in, out;	/* the server's, from its headers */
	struct ca_bucket hand_req, hand_in;	/* by hand: RPM, input TPM */
	double		 out_req, out_tok;	/* sent, not yet answered */
	long		 nsent, n429, ncut;
};
/* rpm, tpm: limits by hand (0: none). */
void	 ca_pace_init(struct ca_pace *p, int jobs, double rpm, double tpm);
/* The local estimate of a request's input tokens from its body's size. */
double	 ca_pace_tokens(size_t body_len);
/* May one more request be in flight, with inflight there now? */
int	 ca_pace_room(const struct ca_pace *p, int inflight);
/* Seconds to hold a request of this many input tokens back (0: send). */
double	 ca_pace_wait(struct ca_pace *p, double now, double tokens);
/* It was sent: draw it from the buckets. */
void	 ca_pace_sent(struct ca_pace *p, double now, double tokens);
/*
 * An answer came (any status) to a request sent with ca_pace_sent with
 * this many tokens: its headers, and 429/529 or success.
 */
void	 ca_pace_seen(struct ca_pace *p, double now, const struct ca_resp *r,
	    double tokens);
/* The limiter's state in a line, for -v. */
void	 ca_pace_show(const struct ca_pace *p, double now, char *buf,
	    size_t n);

/* ca_retry.c: the official SDKs' retry policy (no libcurl calls). */
struct ca_retry {
	int	 max;		/* retries after the first attempt; 0 none */
	double	 budget_s;	/* total time allowed for waiting; 0 none */
	double	 waited_s;	/* spent so far */
};
/*
 * The default total wait for retries, in seconds: ca-exec(1) documents
 * it, and every tool starts from it.
 */
#define CA_RETRY_BUDGET_S	60
/* The default number of retries after a first attempt (ca-exec -r, ca-batch -r). */
#define CA_RETRY_MAX		2
void	 ca_retry_init(struct ca_retry *rp);
/*
 * Seconds to hold new requests back because the response said the
 * request rate limit is spent until its reset time (0: no need).
 */
double	 ca_ratelimit_wait(const struct ca_resp *resp);
/*
 * After failed attempt n (0-based): the delay before the next (from the
 * server's headers or backoff), charged to the budget, or -1 for none,
 * with why (if it is not the plain policy's no) in why.
 */
long	 ca_retry_next(struct ca_retry *rp, const struct ca_resp *resp, int n,
	    char *why, size_t whylen);

/*
 * ca_digest.c: SHA-256 (libcrypto), fed in pieces, and the stat cache
 * of file digests.
 */
struct ca_sha256 {
	void	*ctx;		/* libcrypto's EVP_MD_CTX */
};
void	 ca_sha256_init(struct ca_sha256 *s);
void	 ca_sha256_update(struct ca_sha256 *s, const void *p, size_t n);
/* Finish: the digest as 64 lower-case hex digits and a NUL. */
void	 ca_sha256_final(struct ca_sha256 *s, char hex[65]);
/* Drop an unfinished digest (final does this itself). */
void	 ca_sha256_free(struct ca_sha256 *s);
/* Same file, same size, same mtime and ctime to the nanosecond? */
int	 ca_stat_same(const struct stat *a, const struct stat *b);
/*
 * The digest recorded for a regular file whose device, inode, size,
 * mtime and ctime are st's: 0 with hex set, -1 if there is none.  Files
 * under 1 MiB are not kept: reading them is as cheap as their entry.
 */
int	 ca_statcache_get(const struct stat *st, char hex[65]);
/*
 * Record hex for st, the file's fstat after its bytes were read from
 * read_at (CLOCK_REALTIME) on; skipped when the file changed too close
 * to read_at for its timestamps to show a later change.
 */
void	 ca_statcache_put(const struct stat *st, const char *hex,
	    const struct timespec *read_at);
/*
 * Does the regular file name in dirfd (st its lstat) hold exactly size
 * bytes of digest hex?  The stat cache spares reading it again.
 */
int	 ca_file_holds(int dirfd, const char *name, const struct stat *st,
	    long long size, const char *hex);
/*
 * Hash exactly size bytes of fd (from offset 0) into hex: 0, -1 on a
 * read error (errno set), -2 when the file is shorter than size.
 */
int	 ca_sha256_fd(int fd, long long size, char hex[65]);

/* ca_file.c: directories and writes. */
/* mkdir -p, with mode (before the umask) for what it creates. */
int	 ca_mkdirs(const char *path, mode_t mode);
/* Write all n bytes, through short writes and EINTR; -1 with errno. */
int	 ca_write_all(int fd, const void *p, size_t n);

/*
 * ca_save.c: saving files under names from elsewhere (a server's).
 * The base name to save fname under, or NULL if nothing safe is left
 * of it: its last component, without control bytes, invalid UTF-8,
 * leading dots or a leading '-', at most 200 bytes with its extension
 * kept.  Caller frees.
 */
char	*ca_name_clean(const char *fname);
/* A name made from a file id and its MIME type's extension. */
char	*ca_name_from_id(const char *id, const char *mime);
/*
 * A name not yet in given (which it is then added to): NAME, else
 * NAME-2.EXT, NAME-3.EXT ...  Takes name; returns the one to use.
 */
char	*ca_name_unique(struct ca_strset *given, char *name);
/*
 * One temporary file at a time: created in dirfd as PREFIX and random
 * letters, O_EXCL|O_NOFOLLOW, mode 0600; -1 with errno.  Removed by
 * ca_tmp_remove (fit for atexit), and on SIGINT, SIGTERM and SIGHUP
 * once ca_tmp_catch was called (which also ignores SIGXFSZ, so a file
 * size limit is a write error).
 */
int	 ca_tmp_open(int dirfd, const char *prefix);
void	 ca_tmp_remove(void);
void	 ca_tmp_catch(void);
/*
 * Give the complete temporary file its final name in dirfd.  replace:
 * rename over whatever name is (never following a link there); else
 * an existing name fails with EEXIST, atomically.  -1 with errno and
 * the temporary kept.
 */
int	 ca_tmp_publish(int dirfd, const char *name, int replace);

/* ca_ftype.c: the MIME type to send a file as. */
/* By the extension of name (".profile" has none), or NULL. */
const char *ca_type_by_name(const char *name);
/*
 * By the first n bytes (partial: the file has more): a type magic
 * bytes say, text/plain for UTF-8 text, else application/octet-stream.
 */
const char *ca_type_sniff(const unsigned char *p, size_t n, int partial);
/* Is t fit for a part header: type/subtype, no spaces or controls? */
int	 ca_type_ok(const char *t);

/*
 * ca_cache.c: the cache directory and its entries, one small file of
 * JSON per key (letters, digits, '.', '_', '-').  Trouble with the
 * directory is reported once a run, and the work goes on without it.
 */
/* $XDG_CACHE_HOME/ca/SUB or ~/.cache/ca/SUB; NULL if neither is set. */
char	*ca_cache_dir(const char *sub);
struct ca_upcache {
	char	*dir;		/* NULL: no cache */
	int	 warned;	/* trouble was reported */
};
/* The entry's object (caller frees), or NULL: a miss or a damaged one. */
cJSON	*ca_cache_get(struct ca_upcache *c, const char *key);
/* Write it whole under a temporary name, then rename. */
void	 ca_cache_put(struct ca_upcache *c, const char *key,
	    const cJSON *meta);
void	 ca_cache_del(struct ca_upcache *c, const char *key);
/* The upload cache: the cached file id (caller frees), or NULL. */
char	*ca_upcache_load(struct ca_upcache *c, const char *key);
void	 ca_upcache_store(struct ca_upcache *c, const char *key,
	    const cJSON *meta);
/*
 * The skill cache (under ca_cache_dir("skills")): one entry per server
 * and skill name, {"base", "name", "skill": the Skill, "version",
 * "digest", "path"}, as ca-skills last made it.
 */
#define CA_SKKEY_MAX	96
void	 ca_skcache_key(const char *base, const char *name,
	    char key[CA_SKKEY_MAX]);
/* The entry for name on base, checked, or NULL (caller frees). */
cJSON	*ca_skcache_get(struct ca_upcache *c, const char *base,
	    const char *name);
/* Is name a skill's name: 1 to 64 of [a-z0-9-]? */
int	 ca_skill_name_ok(const char *name);

/*
 * ca_upcache.c: the upload cache's key, of everything that makes an
 * uploaded file what it is for a container: the server, the bytes'
 * digest, the name, the type, the expiry (libcrypto).
 */
void	 ca_upcache_key(const char *base, const char *digest,
	    const char *name, const char *type, long expires, char key[65]);

/* ca_sse.c: a text/event-stream parser (any framing, any chunking). */
struct ca_sse;
/* Called once per event that has an event: line; nonzero aborts. */
typedef int (*ca_sse_fn)(void *ctx, const char *event, const char *data,
	    size_t len);
struct ca_sse *ca_sse_new(size_t maxevent, ca_sse_fn fn, void *ctx);
int	 ca_sse_feed(struct ca_sse *s, const char *p, size_t n); /* -1 error */
const char *ca_sse_error(const struct ca_sse *s);
void	 ca_sse_free(struct ca_sse *s);

/*
 * ca_req.c: request records, as ca-exec and ca-batch both read them.
 * The anthropic-beta value of a record's betas (comma-joined; NULL for
 * none), or NULL with *bad saying what is wrong with them.
 */
char	*ca_req_betas(const cJSON *betas, const char **bad);
/*
 * pause_turn: make params continue the turn: an assistant message with
 * turn (all its content so far) ends messages, replacing the one an
 * earlier pause of the same turn added when again is set, in container
 * cid (if not NULL).  -1 if params has no messages.
 */
int	 ca_req_continue(cJSON *params, const cJSON *turn, const char *cid,
	    int again);
/* Name container cid (if not NULL) in params, keeping its skills. */
void	 ca_req_container(cJSON *params, const char *cid);

/*
 * ca_compact.c: compaction blocks.  The API ignores every block before
 * the last compaction block of a request and refuses one that differs
 * from what it sent; the tools fingerprint each block as it arrives.
 */
int	 ca_compact_is(const cJSON *block);	/* type "compaction"? */
/* The block's fingerprint: 16 hex digits of its compact JSON. */
void	 ca_compact_print(const cJSON *block, char hex[17]);
/* The fingerprints of content's compaction blocks, in order, or NULL. */
cJSON	*ca_compact_prints(const cJSON *content);
/*
 * 0 when content's compaction blocks match prints (or prints is NULL);
 * else the 1-based number of the first block that does not.
 */
int	 ca_compact_check(const cJSON *content, const cJSON *prints);
/*
 * Drop what the API would ignore: the messages before the one holding
 * the last compaction block, and the blocks before it there.  Returns
 * the number of messages dropped, -1 when there is no block.
 */
int	 ca_compact_trim(cJSON *msgs);

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

#endif
