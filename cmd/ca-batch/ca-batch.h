/*
 * ca-batch.h: what the files of ca-batch share.  ca-batch submits
 * request records as Message Batches, collects the batches that batch
 * records name, and writes the transcript ca-exec writes.
 *
 * main.c	options, reading the input, writing what is left
 * spool.c	the spool file, entries in output order, batch records
 * submit.c	checking the input as the API would; creating batches
 * collect.c	polling, results, pause_turn continuations
 * state.c	--state: the state file, locked, replaced when complete
 * tools.c	client tools: direct calls answered, code calls refused
 */
#ifndef CA_BATCH_H
#define CA_BATCH_H

#include <signal.h>
#include <sys/types.h>

#include "ca.h"

#define BATCH_REQUESTS	100000L			/* the API's limits */
#define BATCH_BYTES	((size_t)256 << 20)
#define POLL_MAX	60.0
#define BODY_HEAD	"{\"requests\":["
#define BODY_TAIL	"]}"

enum estate {
	E_NEW,		/* a request to submit */
	E_PENDING,	/* waiting for its batch's result */
	E_CONT,		/* paused: to continue */
	E_DONE,		/* complete, not yet written */
	E_WRITTEN
};

/* One request (or one record passed through) in output order. */
struct ent {
	char	*id;		/* custom_id; NULL for a passed record */
	long	 bat;		/* its batch, or -1 */
	off_t	 off;		/* its lines in the spool */
	size_t	 len;
	size_t	 reqlen;	/* of which its request record (0: none) */
	size_t	 isize;		/* its item's size in a create body */
	int	 group;		/* betas group of a new request */
	int	 parts;		/* response records so far */
	enum estate state;
};

struct bat {
	char	*id;
	char	*objtxt;	/* the MessageBatch as last seen, compact */
	cJSON	*obj;
	cJSON	*ids;		/* custom_ids from its record, or NULL */
	cJSON	*betas;
	char	*betas_h;	/* anthropic-beta value, or NULL */
	char	*raw;		/* its input record, to write back unchanged */
	char	*written;	/* processing_status last written, or NULL */
	char	*counts;	/* request_counts last shown */
	long	 pending;	/* entries waiting on it */
	double	 due, interval;
	int	 fresh;		/* created by this run */
	int	 done;		/* collected, or failed for good */
};

struct group {
	char	*h;		/* anthropic-beta value, or NULL */
	cJSON	*arr;
};

struct batch_g {
	struct ca_api	 api;
	int		 nowait, unordered, cancel, list, sync_cont, add;
	const char	*state;		/* --state FILE, or NULL */
	FILE		*in;		/* the input: stdin, or the state */
	const char	*in_name;
	int		 in_failed;	/* it could not be read to its end */
	long		 max_requests;
	size_t		 max_bytes;
	double		 poll;
	int		 max_parts;
	int		 retries;
	struct ent	*e;
	long		 ne, ecap, next;
	struct bat	*b;
	long		 nb;
	struct group	*gr;
	int		 ngr;
	long		*cont;		/* entries to continue */
	long		 ncont, contcap;
	struct ca_map	 bykey;		/* batch_id US custom_id -> entry */
	struct ca_map	 byid;		/* custom_id -> last held entry */
	struct ca_map	 present;	/* results passed through */
	struct ca_map	 newids;	/* custom_ids to submit */
	struct ca_map	 bats;		/* batch id -> index */
	struct ca_map	 groups;	/* anthropic-beta value -> group */
	int		 spool, body;	/* temporary files */
	off_t		 spend;
	struct ca_status st;
	int		 refuse;
	int		 progress;
	volatile sig_atomic_t sig;
	struct ca_ctool	*ctools;	/* --client-tool: commands allowed */
	int		 nctools;
};
/* The tool's state: defined in spool.c, the base; parse_opts fills it. */
extern struct batch_g g;

/* spool.c: the base the others stand on */
void	 add_jstring(struct ca_buf *b, const char *s);
long	 bat_find(const char *id, int make);
char	*bat_path(const char *id, const char *tail);
int	 bat_set(struct bat *b, const char *p, size_t n);
void	 ent_append(struct ent *e, const char *p, size_t n);
void	 ent_done(long i);
void	 ent_error(long i, long status, const char *rid, cJSON *err,
	    const char *result, int temporary);
long	 ent_new(const char *id, const char *line, size_t n);
char	*ent_text(const struct ent *e);
char	*batch_key(const char *bid, const char *cid);
void	 batch_pass(const struct ca_rec *rec);
void	 spool_get(off_t off, void *p, size_t n);
int	 tempfd(void);
void	 write_bat(struct bat *b);
void	 write_ent(struct ent *e);

/* submit.c */
cJSON	*cont_params(long i);
int	 group_of(const cJSON *betas, const char *h);
int	 is_batch_id(const char *s);
void	 submit(const long *v, long n, int gi);
void	 submit_new(void);
void	 submit_paused(void);
void	 take_batch(const struct ca_rec *rec);
void	 take_held(const struct ca_rec *rec, const char *bid);
void	 take_new(const struct ca_rec *rec);
void	 take_result(const struct ca_rec *rec, const char *bid,
	    const char *id);

/* state.c */
FILE	*state_open(const char *path);
int	 state_commit(int status, int input_ok);
int	 state_add(const char *path);

/* tools.c */
const char *tools_check(const cJSON *params);
int	 tools_answer(long i, const cJSON *msg);

/* collect.c */
void	 add_orphans(void);
void	 collect_all(void);

#endif
