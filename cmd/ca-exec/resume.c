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

/* The group being read. */
struct scan {
	char		*id;	/* its custom_id; NULL: none open */
	struct rgroup	 gr;
};

struct resume {
	FILE		*fp;
	char		*path;
	struct ca_map	 ids;	/* custom_id -> index in v */
	struct rgroup	*v;
	size_t		 n, cap;
};

/* Which of two groups of one custom_id tells more: ended, paused
 * later, paused, nothing. */
static int
rank(const struct rgroup *gr)
{
	return gr->state == R_DONE ? 1 << 20 : gr->state == R_PAUSED ?
	    gr->parts : 0;
}

/*
 * The group being read is over: it goes into the index unless one of
 * its custom_id there tells more.  FILE may hold several runs, one
 * after the other (a killed run's output appended to the last one's):
 * a later, cut-short copy must not undo an earlier end.
 */
static void
group_end(struct resume *r, struct scan *sc)
{
	long i;

	if (sc->id == NULL)
		return;
	if ((i = ca_map_get(&r->ids, sc->id)) < 0) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 256;
			r->v = ca_xrealloc(r->v, r->cap * sizeof(*r->v));
		}
		i = (long)r->n++;
		ca_map_put(&r->ids, sc->id, i);
		r->v[i] = sc->gr;
	} else if (rank(&sc->gr) >= rank(&r->v[i]))
		r->v[i] = sc->gr;
	free(sc->id);
	sc->id = NULL;
}

/* One record of FILE, ending at pos: a request opens a group, the
 * responses of its custom_id that follow move its end, anything else
 * closes it. */
static void
scan_rec(struct resume *r, const cJSON *rec, off_t pos, struct scan *sc)
{
	const char *type = ca_jstr(rec, "type");
	const char *id = ca_jstr(rec, "custom_id"), *stop;

	if (type != NULL && strcmp(type, "request") == 0) {
		group_end(r, sc);
		if (id != NULL) {
			sc->id = ca_xstrdup(id);
			sc->gr.off = sc->gr.end = pos;
			sc->gr.state = R_NONE;
			sc->gr.parts = 0;
		}
		return;
	}
	if (sc->id == NULL || id == NULL || strcmp(id, sc->id) != 0) {
		group_end(r, sc);
		return;
	}
	if (type == NULL || strcmp(type, "response") != 0)
		return;
	stop = ca_jstr(ca_jobj(rec, "message"), "stop_reason");
	sc->gr.state = stop != NULL && strcmp(stop, "pause_turn") == 0 ?
	    R_PAUSED : R_DONE;
	sc->gr.parts = (int)ca_jnum(rec, "part", 1);
	sc->gr.end = pos;
}

struct resume *
resume_open(const char *path)
{
	struct resume *r = ca_xcalloc(1, sizeof(*r));
	struct stat st;
	struct scan sc = { NULL, { 0, 0, R_NONE, 0 } };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	off_t pos = 0;
	long lineno = 0;
	cJSON *rec;

	if ((r->fp = fopen(path, "r")) == NULL)
		ca_usage("--skip-done %s:", path);
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
			group_end(r, &sc);
			continue;
		}
		scan_rec(r, rec, pos, &sc);
		cJSON_Delete(rec);
	}
	group_end(r, &sc);
	if (ferror(r->fp))
		ca_die(CA_EX_FAIL, "--skip-done %s:", path);
	free(line);
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
