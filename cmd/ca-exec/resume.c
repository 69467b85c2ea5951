/*
 * resume.c: --skip-done FILE, for a run that was cut short (a reboot, a
 * timeout, the OOM killer) and is run again on the same input.  FILE,
 * the earlier run's output, is read once into an index: for each
 * custom_id, where its records lie and whether its turn came to an end
 * (a final response), stopped at a pause_turn, or got nothing worth
 * keeping.  A request that ended is not sent again: its earlier records
 * are copied from FILE after it, so the output is complete.  A paused
 * one is sent on from where it stopped, its earlier parts copied.  The
 * index holds offsets, not records: its memory grows by one entry per
 * custom_id, whatever the responses weigh.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "ca-exec.h"

enum rstate { R_NONE, R_PAUSED, R_DONE };

struct rgroup {
	off_t		 off;	/* its first record after the request */
	off_t		 end;	/* just past its last response record */
	enum rstate	 state;
	int		 parts;	/* the last response's part */
};

struct resume {
	FILE		*fp;
	char		*path;
	struct ca_map	 ids;	/* custom_id -> index in v */
	struct rgroup	*v;
	size_t		 n, cap;
};

static long
group_new(struct resume *r, const char *id, off_t pos)
{
	long i = ca_map_get(&r->ids, id);

	if (i < 0) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 256;
			r->v = ca_xrealloc(r->v, r->cap * sizeof(*r->v));
		}
		i = (long)r->n++;
		ca_map_put(&r->ids, id, i);
	}
	/* Of two runs of one custom_id in FILE, the later counts. */
	r->v[i].off = r->v[i].end = pos;
	r->v[i].state = R_NONE;
	r->v[i].parts = 0;
	return i;
}

/* One record of FILE, ending at pos: a request opens a group, the
 * responses of its custom_id that follow move its end. */
static void
scan_rec(struct resume *r, const cJSON *rec, off_t pos, long *cur,
    char **curid)
{
	const char *type = ca_jstr(rec, "type");
	const char *id = ca_jstr(rec, "custom_id"), *stop;
	struct rgroup *g1;

	if (type != NULL && strcmp(type, "request") == 0) {
		free(*curid);
		*curid = id != NULL ? ca_xstrdup(id) : NULL;
		*cur = id != NULL ? group_new(r, id, pos) : -1;
		return;
	}
	if (*cur < 0 || id == NULL || strcmp(id, *curid) != 0) {
		*cur = -1;	/* another tool's record: the group is over */
		return;
	}
	if (type == NULL || strcmp(type, "response") != 0)
		return;
	g1 = &r->v[*cur];
	stop = ca_jstr(ca_jobj(rec, "message"), "stop_reason");
	g1->state = stop != NULL && strcmp(stop, "pause_turn") == 0 ?
	    R_PAUSED : R_DONE;
	g1->parts = (int)ca_jnum(rec, "part", 1);
	g1->end = pos;
}

struct resume *
resume_open(const char *path)
{
	struct resume *r = ca_xcalloc(1, sizeof(*r));
	struct stat st;
	char *line = NULL, *curid = NULL;
	size_t cap = 0;
	ssize_t len;
	off_t pos = 0;
	long cur = -1, lineno = 0;
	cJSON *rec;

	if ((r->fp = fopen(path, "r")) == NULL)
		ca_die(CA_EX_USAGE, "--skip-done %s:", path);
	if (fstat(fileno(r->fp), &st) == -1 || !S_ISREG(st.st_mode))
		ca_usage("--skip-done %s: not a regular file", path);
	r->path = ca_xstrdup(path);
	while ((len = getline(&line, &cap, r->fp)) != -1) {
		pos += len;
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len == 0)
			continue;
		/* A run killed mid-write leaves a cut last line. */
		if ((rec = ca_jparse(line, (size_t)len)) == NULL) {
			ca_note("--skip-done %s:%ld: not a record; ignored",
			    path, lineno);
			cur = -1;
			continue;
		}
		scan_rec(r, rec, pos, &cur, &curid);
		cJSON_Delete(rec);
	}
	if (ferror(r->fp))
		ca_die(CA_EX_FAIL, "--skip-done %s:", path);
	free(line);
	free(curid);
	return r;
}

/* A copied response of a paused turn: its content joins the turn. */
static void
take_part(struct job *j, const cJSON *rec, char **cid)
{
	const cJSON *msg = ca_jobj(rec, "message"), *b;
	const char *c = ca_jstr(ca_jobj(msg, "container"), "id");

	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		cJSON_AddItemToArray(j->turn, cJSON_Duplicate(b, 1));
	if (c != NULL) {
		free(*cid);
		*cid = ca_xstrdup(c);
	}
}

/* Copy the group's records from FILE to j's output; a paused turn's
 * content is gathered on the way. */
static int
copy_group(struct job *j, const struct rgroup *gr, char **cid)
{
	struct resume *r = g.done;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	off_t pos = gr->off;
	cJSON *rec;

	if (fseeko(r->fp, gr->off, SEEK_SET) == -1)
		return -1;
	while (pos < gr->end && (len = getline(&line, &cap, r->fp)) != -1) {
		pos += len;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len == 0 || (rec = ca_jparse(line, (size_t)len)) == NULL)
			continue;
		if (gr->state == R_PAUSED && strcmp(ca_jstr(rec, "type") ?
		    ca_jstr(rec, "type") : "", "response") == 0)
			take_part(j, rec, cid);
		cJSON_Delete(rec);
		slot_write(j->slot, line, (size_t)len);
		slot_write(j->slot, "\n", 1);
	}
	free(line);
	return ferror(r->fp) ? -1 : 0;
}

/*
 * j came in: 1 if FILE shows it done (its records copied, j finished),
 * else 0, with a paused turn set to go on from its next part.
 */
int
resume_job(struct job *j)
{
	long i = j->id != NULL ? ca_map_get(&g.done->ids, j->id) : -1;
	struct rgroup *gr;
	char *cid = NULL;

	if (i < 0 || (gr = &g.done->v[i])->state == R_NONE)
		return 0;
	if (copy_group(j, gr, &cid) == -1)
		ca_die(CA_EX_FAIL, "--skip-done %s:", g.done->path);
	if (gr->state == R_DONE) {
		ca_note("%s: done in %s; not sent", job_name(j), g.done->path);
		j->state = J_DONE;
		free(cid);
		return 1;
	}
	if (ca_req_continue(j->params, j->turn, cid, 0) == -1) {
		/* No messages to continue: send it whole again. */
		cJSON_Delete(j->turn);
		j->turn = cJSON_CreateArray();
	} else {
		j->part = gr->parts + 1;
		ca_note("%s: paused in %s; continuing (part %d)", job_name(j),
		    g.done->path, j->part);
	}
	free(cid);
	return 0;
}

void
resume_free(struct resume *r)
{
	if (r == NULL)
		return;
	fclose(r->fp);
	ca_map_free(&r->ids);
	free(r->v);
	free(r->path);
	free(r);
}
