/*
 * ca-request.h: what the files of ca-request share.  ca-request builds
 * a Messages API request record from a prompt, the file records on
 * stdin and, with --continue, the transcript of earlier turns.  It
 * sends nothing; ca-exec does that.
 *
 * main.c	options, the prompt, main
 * continue.c	reading stdin: records passed on, files, the transcript
 * params.c	the request: model, tool version, messages, betas
 * features.c	what goes beyond code execution: skills, web tools, MCP,
 *		structured output, thinking, effort, caching, -P
 * skills.c	custom skills from skill records and ca-skills' cache
 * compact.c	long conversations: compaction and context editing
 * ctools.c	--client-tool: tools the client answers
 */
#ifndef CA_REQUEST_H
#define CA_REQUEST_H

#include "ca.h"

#define SKILLS_MAX	8		/* the API's limit per request */
#define WORD_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789._-"

enum betas { BETAS_AUTO, BETAS_LEGACY, BETAS_NONE };

/* The long options without a letter: main.c's table, features.c's cases. */
enum {
	O_BETAS = 256, O_ANY, O_FRESH, O_SKILL, O_WDOM, O_WBLOCK, O_WMAX,
	O_MCP, O_MCPENV, O_SCHEMA, O_CACHE, O_THINK, O_EFFORT,
	O_COMPACT_AT = 300, O_COMPACT_INSTR, O_CLEAR_TOOLS, O_CLEAR_THINK,
	O_COMPACT, O_CTOOL
};

struct opts {
	const char	*model;
	long		 max_tokens;
	const char	*system;
	const char	*container;
	const char	*id;
	const char	*tool;
	const char	*promptfile;
	enum betas	 betas;
	int		 betas_set;
	char		**extra_betas;
	int		 nextra;
	int		 any_model;
	int		 inline_files;
	int		 cont;
	int		 fresh;
	int		 nostdin;
	int		 keep;		/* -k: build even after an error record */
	/* Features beyond code execution: see feature_params(). */
	cJSON		*skills;	/* SkillParams, or NULL */
	int		 web_search, web_fetch;
	cJSON		*web_allow, *web_block;	/* string arrays, or NULL */
	long		 web_max_uses;	/* 0: not set */
	cJSON		*mcp;		/* MCP server objects, or NULL */
	cJSON		*mcp_env;	/* server name -> variable name */
	cJSON		*schema;	/* output JSON Schema, or NULL */
	const char	*schemafile;
	const char	*cache;		/* "5m", "1h", or NULL */
	const char	*thinking;	/* "", "adaptive" or a budget */
	const char	*effort;
	cJSON		*extra;		/* -P: top-level fields */
	/* Long conversations: see compact.c. */
	long		 compact_at;	/* trigger tokens; 0: none */
	char		*compact_instr;	/* the summary prompt, or NULL */
	const char	*clear_tools;	/* "" default trigger, or tokens */
	const char	*clear_think;	/* "" default keep, N or "all" */
	int		 compact_now;	/* --compact: on-demand */
	struct ca_ctool	*ctools;	/* --client-tool files */
	int		 nctools;
};

/* What the transcript and the stdin records told us. */
struct input {
	cJSON		*files;		/* FileMetadata objects to attach */
	struct ca_buf	 held;		/* file records held back (continue) */
	long		 nrequests;	/* request records seen */
	cJSON		*last_req;	/* the last request record */
	struct ca_turnlog log;		/* its responses, calls and results */
	cJSON		*base_prior;	/* the base's messages before
					 * base_turn: calls and results */
	cJSON		*container;	/* the last response's container */
	int		 nresp;		/* responses to last_req */
	int		 bad;
	cJSON		*base;		/* the last request with a response */
	cJSON		*base_turn;	/* the assistant content answering it */
	cJSON		*skipped;	/* requests after base without one */
	cJSON		*again;		/* file blocks of the skipped turns */
	struct ca_status up;		/* error records in the new input */
	long		 errline;	/* the first one's line, and what */
	char		*errwhat;	/* it says, sanitised */
	cJSON		*skills;	/* SkillParams of skill records */
};

/* continue.c */
void	 read_input(struct input *in, const struct opts *o);
cJSON	*continue_params(struct input *in, const struct opts *o,
	    const char **tool);
void	 reattach(cJSON *params, const struct input *in);
void	 input_free(struct input *in);

/* params.c */
cJSON	*build_request(const struct opts *o, struct input *in,
	    const char *prompt);

/* features.c */
char	*slurp(const char *path);
/* A feature option (ch as getopt_long returned it) into o; 0: not one. */
int	 feature_opt(struct opts *o, int ch, const char *arg);
/* What the feature options say together, once all are read. */
void	 feature_check(const struct opts *o);
void	 feature_params(cJSON *params, const struct opts *o,
	    const char *model, const char *tool, const cJSON *prevcont);
void	 feature_betas(cJSON *betas, const struct opts *o,
	    const cJSON *params);
void	 opts_free(struct opts *o);

/* skills.c */
/* Letters, digits and "._-", 1 to max of them. */
int	 plain_word(const char *s, size_t max);
int	 take_skill(struct input *in, const struct ca_rec *rec);
int	 merge_skills(struct opts *o, struct input *in);
void	 resolve_skill_name(const char *name, char **id, char **ver);
/* ctools.c */
void	 ctool_opt(struct opts *o, const char *file);
void	 ctool_params(cJSON *params, cJSON *rec, const struct opts *o,
	    const char *model, const char *tool, const cJSON *prev);

/* compact.c */
int	 compact_opt(struct opts *o, int ch, const char *arg);
void	 compact_check(const struct opts *o);
void	 compact_params(cJSON *params, const struct opts *o,
	    const char *model);
void	 compact_trim(cJSON *params);
void	 compact_betas(cJSON *betas, const cJSON *params);

#endif
