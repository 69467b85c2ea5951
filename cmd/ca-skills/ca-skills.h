/*
 * ca-skills.h: what the files of ca-skills share.  ca-skills makes
 * custom Agent Skills from directories (a new version when one
 * changed, nothing when none did), lists skills and their versions,
 * and deletes the skills and versions that records name.
 *
 * main.c	options, main
 * check.c	a skill's directory, checked as the API checks it, and
 *		its content digest
 * zip.c	a zip of a skill's directory: its central directory and
 *		SKILL.md checked the same way
 * create.c	the upload (multipart, streamed from the files), the
 *		cache, the skill records
 * manage.c	listing and deleting
 */
#ifndef CA_SKILLS_H
#define CA_SKILLS_H

#include "ca.h"

/* The API's limit on a skill's files, all together, uncompressed. */
#define SKILL_MAX	30000000LL

struct sk {
	struct ca_api	 api;		/* with reuse: one connection */
	struct curl_slist *hdrs;
	struct ca_upcache cache;	/* dir NULL: -n or no home */
	long		 limit;		/* page size for lists */
	const char	*source;	/* -l: custom or anthropic */
	int		 force;		/* -d -f: delete even after an error */
	struct ca_status st;		/* the exit-status rule's tally */
};

struct skfile {
	char		*rel;		/* below the directory, '/'-separated */
	char		*path;		/* to open */
	long long	 size;
};

struct skdir {
	char		*dir;		/* as given */
	char		*top;		/* its base name: the parts' prefix */
	char		*name;		/* SKILL.md's name */
	struct skfile	*f;
	size_t		 n, cap;
	long long	 total;
	char		 digest[65];
	int		 zip;		/* f[0] is a zip of the directory */
};

/* check.c */
/* 0, or -1 with why (naming the rule and the file) filled in. */
int	 skdir_load(const char *dir, struct skdir *d, char *why, size_t n);
void	 skdir_free(struct skdir *d);
/*
 * SKILL.md's text (changed) checked, and top named like the skill:
 * 0 with *name set (to free), or -1 with why filled in.
 */
int	 skill_md_check(char *text, const char *top, char **name, char *why,
	    size_t whylen);
/* No control character, '"' or '\\': a part's filename carries it. */
int	 skname_ok(const char *s);
/* Appends a file to d's list. */
void	 skdir_add(struct skdir *d, const char *rel, const char *path,
	    long long size);

/* zip.c */
/* A .zip of a skill's directory, checked as skdir_load checks one. */
int	 skzip_load(const char *zip, struct skdir *d, char *why, size_t n);

/* create.c */
void	 create_skill(struct sk *s, const char *dir);
/*
 * One request (with d, its files as the multipart body); 0 with the
 * body in resp, else the status to count, reported when what is not
 * NULL.
 */
int	 sk_request(struct sk *s, const char *method, const char *path,
	    const struct skdir *d, struct ca_resp *resp, const char *what);

/* manage.c */
void	 list_skills(struct sk *s, const char *versions_of);
void	 delete_records(struct sk *s);

#endif
