/*
 * ca-render.h: what the files of ca-render share.  ca-render shows a
 * session's records to a person: a live terminal view (text), or a
 * whole report (markdown, html).
 *
 * main.c	options, reading the input
 * out.c	writing stdout, escaping untrusted bytes, small helpers
 * text.c	the terminal back end (and --stdout's)
 * markdown.c	the markdown back end, links to local files
 * html.c	the HTML back end, embedding images
 * show.c	which block says what, through the back end's primitives
 * summary.c	files the input names, tallies of tokens, runs and cost
 * turn.c	turns: shown as records arrive, or collected for a report
 * context.c	compaction blocks and context edits
 *
 * The back ends meet the rest only through struct fmt, the output
 * layer, struct finfo and is_image(), and the choices in struct ropts.
 */
#ifndef CA_RENDER_H
#define CA_RENDER_H

#include <stddef.h>

#include "ca.h"

#define EMBED_MAX	((long long)20 << 20)	/* largest image embedded */
#define BRIEF_BYTES	600		/* a prompt on the terminal */
#define BRIEF_LINES	8
#define THINK_BYTES	200		/* a thinking block, everywhere */
#define BLOCKS_MAX	100000		/* stream block indexes we track */
#define EDIT_IDS	32		/* editor calls kept for results */
#define HASH_SIZE	4096

enum tone { T_PLAIN, T_DIM, T_HEAD, T_CALL, T_OK, T_WARN, T_ERR };

/* The multi-line things a session holds. */
enum bk {
	BK_PROMPT,	/* the user's words */
	BK_CODE,	/* a code call: python or bash */
	BK_INPUT,	/* a tool's JSON input */
	BK_STDOUT,
	BK_STDERR,
	BK_CONTENT,	/* a file's text */
	BK_DIFF
};

/* What is known about a file id: uploaded, generated, fetched. */
struct finfo {
	char		*id;
	char		*name;		/* its filename, if known */
	char		*path;		/* local path (uploaded or fetched) */
	char		*mime;
	long long	 size;		/* -1 unknown */
	int		 fetched;
	int		 shown;		/* a report already shows it */
	struct finfo	*hnext;
};

struct container {
	char	*id;
	char	*expires;
	int	 billed;	/* ran code or had files (ca_price_billed) */
};

/* Tokens, runs and containers of a turn, or of the whole input. */
struct tally {
	double		 in, out, cw5, cw1h, cr;
	double		 usd;		/* tokens at list prices */
	char		*unknown;	/* first model not in the price table */
	long		 responses, runs, edits, errors;
	long		 toolerrs;	/* tool errors, non-zero exits shown */
	long		 batched;	/* responses at the batch rate */
	struct container *c;
	size_t		 nc;
};

/* One block of a streamed message, as far as it has arrived. */
struct lblk {
	enum ca_blk	 kind;
	cJSON		*start;		/* tool calls: the opening block */
	struct ca_buf	 json;		/* input_json_delta fragments */
	struct ca_buf	 think;
	size_t		 textlen;	/* text bytes already shown */
	int		 shown;
};

/* A streamed API response: one (custom_id, part). */
struct live {
	int		 part;
	struct lblk	*b;
	size_t		 nb;
	struct live	*next;
};

/*
 * A format is a handful of primitives; everything above them (which
 * block says what) is written once.  lit is our own words, val and code
 * are untrusted one-liners, block and text are untrusted many-liners.
 */
struct fmt {
	const char *name;
	int	 brief;			/* shorten prompts */
	void	(*start)(void);
	void	(*finish)(void);
	void	(*heading)(int, const char *, const char *);
	void	(*text)(const char *, size_t);
	void	(*text_end)(void);
	void	(*line)(enum tone);
	void	(*lit)(const char *);
	void	(*val)(const char *);
	void	(*code)(const char *);
	void	(*eol)(void);
	void	(*block)(enum bk, const char *, const char *, const char *,
		    size_t);
	void	(*file)(struct finfo *);	/* NULL: name it on a line */
};

/* What the options chose: set by parse_opts() before any output. */
struct ropts {
	const struct fmt *fmt;		/* the back end */
	int		 color;		/* ANSI colour on the terminal */
	int		 raw;		/* -r: the model's final text */
	int		 nothink;	/* --no-thinking */
	int		 tty;		/* stdout is a terminal */
	char		*linkdir;	/* -o: the report's directory */
};

typedef void (*sink_fn)(const char *, size_t);

/* The tool's state: defined in out.c, the base; parse_opts fills it. */
extern struct ropts g;

extern const struct fmt fmt_text, fmt_raw, fmt_md, fmt_html;

/* out.c */
void	 render_out(const char *, size_t);
void	 render_outs(const char *);
void	 render_outf(const char *, ...) CA_PRINTF(1, 2);
void	 out_ctl(const char *);
void	 newline(void);
void	 blankline(void);
void	 clean(const char *, size_t, int, sink_fn);
void	 raw_out(const char *, size_t);
void	 out_text(const char *, size_t);
void	 clean_indented(const char *, const char *, size_t);
size_t	 longest_run(const char *, size_t, char);
const char *nz(const char *);
long long jll(const cJSON *, const char *, long long);
char	*brief(const char *, size_t, int, int);
int	 has_suffix(const char *, const char *);
unsigned hashstr(const char *);
void	 setstr(char **, const char *);
void	 line1(enum tone, const char *);

/* markdown.c */
void	 pct_path(const char *);

/* html.c */
int	 emb_dir(const char *);
void	 emb_close(void);

/* summary.c */
struct finfo *finfo_find(const char *);
struct finfo *finfo_note(const cJSON *, int);
void	 finfo_freeall(void);
int	 is_image(const struct finfo *, const char **);
void	 tally_message(struct tally *, const cJSON *, unsigned);
void	 tally_merge(struct tally *, const struct tally *);
void	 tally_free(struct tally *);
void	 show_tally(const struct tally *);

/* context.c */
void	 show_compaction(const cJSON *);
void	 show_edits(const cJSON *);

/* show.c */
void	 show_thinking(const char *);
void	 show_block(const cJSON *);
void	 show_content(const cJSON *, const struct live *);
void	 show_footer(const cJSON *, const cJSON *);
void	 show_request(const cJSON *);
int	 upload_error(const cJSON *);
int	 loose_error(const cJSON *);
void	 show_error(const cJSON *);
const char *file_origin(const cJSON *);
void	 show_filerec(const cJSON *);
void	 show_fetched(const cJSON *);
void	 show_deleted(const cJSON *);
void	 show_batch(const cJSON *);
void	 show_count(const cJSON *);
void	 show_toolcall(const cJSON *);
void	 show_other(const char *);
void	 show_free(void);

/* turn.c */
void	 stream_record(const struct ca_rec *);
void	 stream_end(void);
void	 doc_collect(const struct ca_rec *);
void	 doc_render(void);
long	 turn_count(void);
long	 turn_interrupted(void);
void	 turns_free(void);

#endif
