/*
 * ca-exec.h: what the files of ca-exec share.  ca-exec sends each
 * request record to the Messages API and writes what came back: the
 * request, then response records (one per API response of the turn,
 * pause_turn continuations included) or an error record.  All
 * transfers run on one libcurl multi handle.
 *
 * main.c	options, the loop: input admitted, jobs started and reaped
 * out.c	output slots in input order, the records written
 * jobs.c	one request's transfers: start, stream, retry, finish
 * continue.c	what a message does: its cost, pause_turn continuations
 * expire.c	a container that is gone: the turn again in a new one
 * tools.c	client tools: tool_use answered, tool_call records
 * pace.c	the rate limiter's gate, and the stop at a spend limit
 * resume.c	--skip-done: what an earlier run's output already holds
 */
#ifndef CA_EXEC_H
#define CA_EXEC_H

#include "ca.h"

enum jstate { J_WAIT, J_RUN, J_DONE };

/* Input records held behind an unfinished one, beyond the jobs. */
#define SLOTS_MAX	4096
/*
 * Bytes of output held behind an unfinished request (ca-exec(1) says
 * so): past this, input is not read until the head is done.  Records
 * of up to CA_LINE_MAX each would otherwise pile up by the gigabyte.
 */
#define HOLD_MAX	((size_t)256 << 20)

/* Output of one input record, kept in input order. */
struct slot {
	struct ca_buf	 out;
	int		 done;
	struct slot	*next;
};

struct job {
	struct slot	*slot;
	char		*id;		/* custom_id */
	cJSON		*params;	/* grows with pause_turn continuations */
	cJSON		*turn;		/* assistant content of this turn */
	char		*betas;		/* comma-joined, or NULL */
	int		 part;		/* API responses so far, 1-based */
	int		 attempt;	/* attempts at the current part */
	int		 emitted;	/* output of this attempt written */
	enum jstate	 state;
	double		 due;
	CURL		*h;
	struct curl_slist *hdrs;
	char		*body;
	struct ca_resp	 resp;
	struct ca_retry	 retry;
	struct ca_sse	*sse;
	struct ca_msg	*msg;
	int		 streaming;	/* this response is an event stream */
	int		 paused;	/* its transfer waits for held output */
	size_t		 fed;		/* bytes of it counted in g.inflight */
	int		 stopped;	/* message_stop seen */
	char		 serr[256];	/* stream failure, if any */
	cJSON		*serrobj;	/* error event's object */
	char		*lost;		/* the container that was gone, or NULL */
	char		**secrets;	/* MCP tokens in params: never shown */
	int		 nsecrets;
	int		 told;		/* its failure is reported already */
	cJSON		*ctools;	/* the record's client_tools */
	int		 ncalls;	/* client tool calls answered */
	int		 pauses;	/* pause_turn continuations */
	double		 est;		/* input tokens, estimated; 0 unknown */
	int		 counting;	/* --count-first: its count in flight */
	int		 counted;	/* ... and done (or failed: est stands) */
	struct job	*next;
};

/* The progress line: for a person at a terminal, with more than one
 * request; never where stderr is a file. */
struct exec_prog {
	int	 on;
	long	 nreq, ndone, nfailed;
	int	 shown;		/* a line is on the screen */
	char	 last[160];	/* what it says */
};

struct exec_g {
	struct ca_api	 api;
	CURLM		*multi;
	int		 jobs;
	int		 unordered;
	int		 stream;
	int		 retries;
	double		 budget;
	int		 max_parts;
	const char	*version;
	long		 connect_ms, timeout_ms, idle_ms;
	double		 hold_until;	/* a 429 pauses every new attempt */
	struct slot	*head, *tail;
	int		 nslots;	/* input records not yet written */
	size_t		 held;		/* bytes in the slots' buffers */
	size_t		 inflight;	/* bytes of streams not at the head */
	int		 npaused;	/* streams paused for held output */
	struct job	*lead;		/* unordered: the one never paused */
	struct job	*jlist;
	int		 active;
	struct ca_status st;	/* the exit-status rule's tally */
	int		 count;		/* --count: count_tokens instead */
	int		 count_first;	/* --count-first: count, then send */
	double		 max_cost;	/* --max-cost; < 0 none */
	double		 spent;		/* estimated so far */
	const char	*unpriced;	/* a usage field that could not be priced */
	struct ca_strset containers;	/* charged their minimum */
	int		 noprice;	/* warned of a model without price */
	struct exec_prog prog;		/* the progress line */
	struct ca_mcp_env mcp_env;	/* --mcp-token-env: allowed tokens */
	struct ca_ctool	*ctools;	/* --client-tool: commands allowed */
	int		 nctools;
	int		 max_calls;	/* --max-tool-calls, per request */
	struct ca_pace	 pace;		/* the rate limiter */
	double		 rpm, tpm;	/* --rate, --tpm; 0 none */
	int		 nopace;	/* --no-pace */
	int		 running;	/* transfers running */
	int		 spent_stop;	/* a spend-limit 429 came: send no more */
	const char	*skip_done;	/* --skip-done FILE */
	struct resume	*done;		/* its index, or NULL */
};
/* The tool's state: defined in out.c, the base; parse_opts fills it. */
extern struct exec_g g;


/* main.c */
void	 progress_clear(void);

/* out.c */
const char *job_name(const struct job *j);
struct slot *slot_new(void);
void	 slot_write(struct slot *s, const char *p, size_t n);
void	 slot_done(struct slot *s);
void	 exec_emit(struct job *j, cJSON *rec);
void	 exec_emit_wrapped(struct job *j, cJSON *head, const char *key,
	    const struct ca_buf *json);
int	 exec_compact(struct ca_buf *b, const char *json, size_t len);
cJSON	*exec_record(const char *type, const struct job *j);
void	 job_fail(struct job *j, long status, cJSON *err, int temporary);
int	 job_must_wait(struct job *j);
void	 jobs_resume(void);

/* jobs.c */
void	 add_request(const struct ca_rec *rec, struct slot *s);
void	 exec_start(struct job *j);
void	 finished(struct job *j, CURLcode cc);
void	 job_free(struct job *j);

/* expire.c: 1 when the request goes again without its container
 * (after an HTTP error with msg NULL, or for msg's results). */
int	 expire_retry(struct job *j, const cJSON *msg);
/* tools.c */
int	 tools_on(const struct job *j);
int	 tools_answer(struct job *j, const cJSON *msg);

/* pace.c */
int	 pace_gate(struct job *j, double t, double *until);
void	 pace_sent(struct job *j);
void	 pace_seen(struct job *j);
void	 pace_counted(struct job *j, CURLcode cc);

/* resume.c */
struct resume *resume_open(const char *path);
int	 resume_job(struct job *j);
void	 resume_free(struct resume *r);

/* continue.c */
void	 got_message(struct job *j, cJSON *msg, const struct ca_buf *raw);

#endif
