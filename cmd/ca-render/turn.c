/*
 * turn.c: the records of a turn (one custom_id) brought together.  The
 * terminal is written as records arrive, so a streamed turn appears as
 * it is generated; a report is written once the input ends, so that
 * each turn's parts, images and summary sit together even when the
 * turns of a parallel run arrive interleaved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-render.h"

struct turn {
	char		*cid;
	int		 closed;	/* a final response or error came */
	unsigned	 req;		/* its request: ca_price_req */
	int		 requested;	/* a request record came */
	int		 batched;	/* ... with a batch_id: may be pending */
	int		 answered;	/* an event or response came */
	int		 stopped;	/* message_stop of the current part */
	int		 paused;	/* the last response paused */
	int		 cut;		/* a response without stop_reason */
	int		 told;		/* reported interrupted */
	struct tally	 t;
	struct live	*live;
	struct ca_buf	 last;		/* -r: text of the last response */
	int		 haslast;
	int		 structured;	/* -r: the answer is a JSON document */
	cJSON		**recs;		/* reports: this turn's records */
	size_t		 nrec, caprec;
	struct turn	*hnext, *next;
};

static struct turn *turns, **lastturn = &turns, *cur;
static struct turn *thash[HASH_SIZE];
static struct tally total;
static long nturns;
static long ninterrupted;
static int answers;		/* the input holds answers: it was sent */
static long nlate;	/* errors counted after their turn's summary */

/* pause_turn and tool_use go on in a later part (tool_call records
 * between); a turn that was not continued is closed at the end. */
static int
final(const cJSON *msg)
{
	const char *stop = ca_jstr(msg, "stop_reason");

	return stop == NULL || (strcmp(stop, "pause_turn") != 0 &&
	    strcmp(stop, "tool_use") != 0);
}

/*
 * The turn a custom_id names.  A request, or the first part of a
 * response, after the turn ended starts a new turn with the same id:
 * a chat may reuse ids.
 */
static struct turn *
turn_get(const char *cid, int fresh)
{
	struct turn *tn;
	unsigned h;

	if (cid == NULL)
		cid = "";
	h = hashstr(cid) % HASH_SIZE;
	for (tn = thash[h]; tn != NULL; tn = tn->hnext)
		if (strcmp(tn->cid, cid) == 0)
			break;
	if (tn != NULL && !(fresh && tn->closed))
		return tn;
	tn = ca_xcalloc(1, sizeof(*tn));
	tn->cid = ca_xstrdup(cid);
	tn->hnext = thash[h];
	thash[h] = tn;
	*lastturn = tn;
	lastturn = &tn->next;
	return tn;
}

static const char *
turn_name(const struct turn *tn)
{
	return tn->cid[0] != '\0' ? tn->cid : "(no custom_id)";
}

static void
live_free(struct live *lv)
{
	size_t i;

	for (i = 0; i < lv->nb; i++) {
		cJSON_Delete(lv->b[i].start);
		ca_buf_free(&lv->b[i].json);
		ca_buf_free(&lv->b[i].think);
	}
	free(lv->b);
	free(lv);
}

void
turns_free(void)
{
	struct turn *tn, *n;
	struct live *lv, *ln;
	size_t i;

	for (tn = turns; tn != NULL; tn = n) {
		n = tn->next;
		for (lv = tn->live; lv != NULL; lv = ln) {
			ln = lv->next;
			live_free(lv);
		}
		for (i = 0; i < tn->nrec; i++)
			cJSON_Delete(tn->recs[i]);
		free(tn->recs);
		tally_free(&tn->t);
		ca_buf_free(&tn->last);
		free(tn->cid);
		free(tn);
	}
	tally_free(&total);
}

long
turn_count(void)
{
	return nturns;
}

long
turn_interrupted(void)
{
	return ninterrupted;
}

/* What a record says of how far its turn got. */
static void
turn_note(struct turn *tn, const char *t, const cJSON *j)
{
	const cJSON *msg = ca_jobj(j, "message");
	const char *et = nz(ca_jstr(ca_jobj(j, "event"), "type"));

	if (strcmp(t, "request") == 0) {
		tn->requested = 1;
		tn->batched = ca_jstr(j, "batch_id") != NULL;
	} else if (strcmp(t, "event") == 0) {
		tn->answered = answers = 1;
		if (strcmp(et, "message_start") == 0)
			tn->stopped = tn->paused = 0;
		else if (strcmp(et, "message_stop") == 0)
			tn->stopped = 1;
	} else if (strcmp(t, "response") == 0) {
		tn->answered = answers = 1;
		tn->stopped = 0;
		tn->paused = !final(msg);
		if (ca_jstr(msg, "stop_reason") == NULL)
			tn->cut = 1;
	} else if (strcmp(t, "error") == 0)
		answers = 1;
}

/*
 * Why a turn did not finish, or NULL if it did.  A request alone is
 * unfinished only in input that holds answers (ca-exec's output, not
 * ca-request's), and not while a batch may still hold it.
 */
static const char *
unfinished(const struct turn *tn)
{
	if (tn->cut)
		return "its response has no stop_reason";
	if (tn->closed)
		return NULL;
	if (tn->paused)
		return "it paused (pause_turn) and was never continued";
	if (tn->answered && !tn->stopped)
		return "its stream stopped before message_stop";
	if (tn->answered)
		return "its stream ended without a response record";
	if (tn->requested && !tn->batched && answers)
		return "no response came for its request";
	return NULL;
}

/*
 * An interrupted turn is a failure (exit 1): shown in every view, and
 * said on stderr too, where -r and --stdout have no room for it.
 */
static void
turn_interrupt(struct turn *tn)
{
	const char *why = unfinished(tn);

	if (why == NULL || tn->told)
		return;
	tn->told = 1;
	ninterrupted++;
	ca_warn("turn %s was interrupted: %s", turn_name(tn), why);
	if (g.raw)
		return;
	g.fmt->line(T_ERR);
	g.fmt->lit("interrupted: turn ");
	g.fmt->code(turn_name(tn));
	g.fmt->lit(" did not finish: ");
	g.fmt->lit(why);
	g.fmt->lit("; what is shown is incomplete");
	g.fmt->eol();
}

/* The terminal shows which turn a line belongs to whenever that changes. */
static void
enter(struct turn *tn)
{
	if (tn == cur)
		return;
	g.fmt->heading(2, "turn ", turn_name(tn));
	cur = tn;
}

/* -r: the text blocks of a message, joined as the model wrote them. */
static void
keep_text(struct turn *tn, const cJSON *msg)
{
	const cJSON *b;
	int gap = 0;

	ca_buf_reset(&tn->last);
	tn->haslast = 1;
	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		if (ca_blk_kind(b) != CA_BLK_TEXT) {
			gap = 1;
			continue;
		}
		/* Structured output: the answer is the last text block
		 * alone, so that jq can read it. */
		if (tn->structured)
			ca_buf_reset(&tn->last);
		if (gap && tn->last.len > 0 &&
		    tn->last.p[tn->last.len - 1] != '\n')
			ca_buf_add(&tn->last, "\n", 1);
		gap = 0;
		if (ca_buf_addstr(&tn->last, nz(ca_jstr(b, "text"))) == -1)
			ca_die(CA_EX_FAIL, "%s: text too large", turn_name(tn));
	}
}

static void
write_last(struct turn *tn)
{
	if (!tn->haslast || tn->last.len == 0)
		return;
	raw_out(tn->last.p, tn->last.len);
	if (tn->last.p[tn->last.len - 1] != '\n')
		render_out("\n", 1);
	ca_buf_reset(&tn->last);
	tn->haslast = 0;
}

static void
turn_summary(struct turn *tn)
{
	if (tn->t.responses == 0 && tn->t.errors == 0)
		return;
	g.fmt->heading(3, "Summary of turn ", turn_name(tn));
	show_tally(&tn->t);
	tally_merge(&total, &tn->t);
	tally_free(&tn->t);
	nturns++;
}

static void
turn_close(struct turn *tn)
{
	tn->closed = 1;
	turn_interrupt(tn);
	if (g.raw)
		write_last(tn);
	else
		turn_summary(tn);
}

/* ---- Live: stream events as they arrive ---- */

static struct live *
live_get(struct turn *tn, int part, int create)
{
	struct live *lv;

	for (lv = tn->live; lv != NULL; lv = lv->next)
		if (lv->part == part)
			return lv;
	if (!create)
		return NULL;
	lv = ca_xcalloc(1, sizeof(*lv));
	lv->part = part;
	lv->next = tn->live;
	tn->live = lv;
	return lv;
}

static void
live_drop(struct turn *tn, struct live *lv)
{
	struct live **pp;

	for (pp = &tn->live; *pp != NULL; pp = &(*pp)->next)
		if (*pp == lv) {
			*pp = lv->next;
			live_free(lv);
			return;
		}
}

static struct lblk *
live_blk(struct live *lv, const cJSON *ev, int create)
{
	double d = ca_jnum(ev, "index", -1);
	size_t i;

	if (d < 0 || d >= BLOCKS_MAX)
		return NULL;
	i = (size_t)d;
	if (i >= lv->nb) {
		if (!create)
			return NULL;
		lv->b = ca_xrealloc(lv->b, (i + 1) * sizeof(*lv->b));
		memset(lv->b + lv->nb, 0, (i + 1 - lv->nb) * sizeof(*lv->b));
		lv->nb = i + 1;
	}
	return &lv->b[i];
}

static void
live_start(struct turn *tn, struct lblk *lb, const cJSON *b)
{
	const char *t;

	cJSON_Delete(lb->start);
	ca_buf_free(&lb->json);
	ca_buf_free(&lb->think);
	memset(lb, 0, sizeof(*lb));
	lb->think.max = THINK_BYTES * 4;
	lb->kind = ca_blk_kind(b);
	switch (lb->kind) {
	case CA_BLK_TEXT:
		t = nz(ca_jstr(b, "text"));
		if (*t != '\0') {
			enter(tn);
			g.fmt->text(t, strlen(t));
			lb->textlen = strlen(t);
		}
		break;
	case CA_BLK_THINKING:
		ca_buf_addstr(&lb->think, nz(ca_jstr(b, "thinking")));
		break;
	case CA_BLK_TOOL_USE:
	case CA_BLK_SERVER_TOOL_USE:
	case CA_BLK_MCP_TOOL_USE:
		lb->start = cJSON_Duplicate(b, 1);
		break;
	default:
		/* Results arrive whole in their start event. */
		enter(tn);
		show_block(b);
		lb->shown = 1;
		break;
	}
}

static void
live_delta(struct turn *tn, struct lblk *lb, const cJSON *d)
{
	const char *dt = nz(ca_jstr(d, "type")), *s;

	if (strcmp(dt, "text_delta") == 0 && lb->kind == CA_BLK_TEXT) {
		s = nz(ca_jstr(d, "text"));
		enter(tn);
		g.fmt->text(s, strlen(s));
		lb->textlen += strlen(s);
	} else if (strcmp(dt, "input_json_delta") == 0) {
		if (ca_buf_addstr(&lb->json, nz(ca_jstr(d, "partial_json")))
		    == -1)
			ca_warn("tool input too large; shown from the "
			    "response");
	} else if (strcmp(dt, "thinking_delta") == 0)
		(void)ca_buf_addstr(&lb->think, nz(ca_jstr(d, "thinking")));
}

/* A tool call is shown once its input is complete. */
static void
live_stop(struct turn *tn, struct lblk *lb)
{
	cJSON *in;

	switch (lb->kind) {
	case CA_BLK_THINKING:
		enter(tn);
		show_thinking(lb->think.p);
		lb->shown = 1;
		break;
	case CA_BLK_TOOL_USE:
	case CA_BLK_SERVER_TOOL_USE:
	case CA_BLK_MCP_TOOL_USE:
		if (lb->start == NULL)
			break;
		in = lb->json.len > 0 ? ca_jparse(lb->json.p, lb->json.len) :
		    cJSON_CreateObject();
		if (in == NULL)
			break;		/* the response will show it */
		if (!cJSON_ReplaceItemInObjectCaseSensitive(lb->start, "input",
		    in))
			cJSON_AddItemToObject(lb->start, "input", in);
		enter(tn);
		show_block(lb->start);
		lb->shown = 1;
		break;
	default:
		break;
	}
}

static void
live_event(const cJSON *rec)
{
	const cJSON *ev = ca_jobj(rec, "event");
	const char *et = ca_jstr(ev, "type");
	int part = (int)jll(rec, "part", 1);
	struct turn *tn;
	struct live *lv;
	struct lblk *lb;

	if (et == NULL)
		return;
	tn = turn_get(ca_jstr(rec, "custom_id"), part == 1 &&
	    strcmp(et, "message_start") == 0);
	turn_note(tn, "event", rec);
	if (g.raw)
		return;
	if (strcmp(et, "message_start") == 0) {
		/* A stream started over shows its blocks again. */
		if ((lv = live_get(tn, part, 0)) != NULL)
			live_drop(tn, lv);
		(void)live_get(tn, part, 1);
		return;
	}
	lv = live_get(tn, part, 1);
	if (strcmp(et, "content_block_start") == 0) {
		if ((lb = live_blk(lv, ev, 1)) != NULL)
			live_start(tn, lb, ca_jobj(ev, "content_block"));
	} else if (strcmp(et, "content_block_delta") == 0) {
		if ((lb = live_blk(lv, ev, 0)) != NULL && !lb->shown)
			live_delta(tn, lb, ca_jobj(ev, "delta"));
	} else if (strcmp(et, "content_block_stop") == 0) {
		if ((lb = live_blk(lv, ev, 0)) != NULL && !lb->shown)
			live_stop(tn, lb);
	}
}

/* ---- The terminal: records shown as they arrive ---- */

static void
stream_response(const cJSON *rec)
{
	const cJSON *msg = ca_jobj(rec, "message");
	int part = (int)jll(rec, "part", 1);
	struct turn *tn = turn_get(ca_jstr(rec, "custom_id"), part == 1);
	struct live *lv = live_get(tn, part, 0);

	turn_note(tn, "response", rec);
	if (g.raw) {
		keep_text(tn, msg);
		if (final(msg))
			turn_close(tn);
		return;
	}
	enter(tn);
	show_content(msg, lv);
	show_footer(rec, msg);
	tally_message(&tn->t, msg, tn->req);
	if (lv != NULL)
		live_drop(tn, lv);
	if (final(msg))
		turn_close(tn);
}

static void
stream_error(const cJSON *rec)
{
	struct turn *tn = turn_get(ca_jstr(rec, "custom_id"), 0);

	turn_note(tn, "error", rec);
	if (!g.raw) {
		enter(tn);
		show_error(rec);
	}
	if (tn->closed) {
		total.errors++;
		nlate++;
		return;
	}
	tn->t.errors++;
	turn_close(tn);
}

void
stream_record(const struct ca_rec *rec)
{
	const cJSON *j = rec->json;
	const char *t = rec->type, *cid = ca_jstr(j, "custom_id");
	struct turn *tn;

	if (strcmp(t, "event") == 0)
		live_event(j);
	else if (strcmp(t, "response") == 0)
		stream_response(j);
	else if (loose_error(j)) {
		if (!g.raw)
			show_error(j);
		total.errors++;
		nlate++;
	} else if (strcmp(t, "error") == 0)
		stream_error(j);
	else if (g.raw) {
		if (strcmp(t, "file") == 0 || strcmp(t, "fetched") == 0)
			finfo_note(j, strcmp(t, "fetched") == 0);
		else if (strcmp(t, "request") == 0) {
			tn = turn_get(cid, 1);
			turn_note(tn, t, j);
			tn->structured = ca_jobj(ca_jobj(ca_jobj(j, "params"),
			    "output_config"), "format") != NULL;
		}
	} else if (strcmp(t, "count") == 0) {
		if (cid != NULL)
			enter(turn_get(cid, 0));
		show_count(j);
	} else if (strcmp(t, "tool_call") == 0) {
		enter(turn_get(cid, 0));
		show_toolcall(j);
	} else if (strcmp(t, "request") == 0) {
		enter(turn_get(cid, 1));
		turn_note(cur, t, j);
		cur->req = ca_price_req(ca_jobj(j, "params"));
		show_request(j);
	} else if (strcmp(t, "file") == 0)
		show_filerec(j);
	else if (strcmp(t, "fetched") == 0) {
		if (cid != NULL)
			enter(turn_get(cid, 0));
		show_fetched(j);
	} else if (strcmp(t, "deleted") == 0)
		show_deleted(j);
	else if (strcmp(t, "batch") == 0)
		show_batch(j);
	else
		show_other(t);
}

/*
 * The summary of everything: of the turns, and of the errors no turn's
 * summary counted (they came later, or belong to no turn).
 */
static void
summary_heading(int level, char *buf, size_t len)
{
	if (nturns > 1)
		snprintf(buf, len, "Summary of all %ld turns", nturns);
	else
		snprintf(buf, len, "Summary of the run");
	g.fmt->heading(level, buf, NULL);
}

void
stream_end(void)
{
	struct turn *tn;
	char buf[64];

	for (tn = turns; tn != NULL; tn = tn->next) {
		if (tn->closed)
			continue;
		if (!g.raw && unfinished(tn) != NULL)
			enter(tn);
		turn_interrupt(tn);
		if (g.raw)
			write_last(tn);
		else
			turn_summary(tn);
	}
	if (!g.raw && (nturns > 1 || nlate > 0)) {
		summary_heading(3, buf, sizeof(buf));
		show_tally(&total);
	}
	g.fmt->finish();
}

/* ---- Reports: the whole input, grouped by turn ---- */

static cJSON **others;
static size_t nothers, capothers;

static void
push(cJSON ***v, size_t *n, size_t *cap, cJSON *j)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = ca_xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = j;
}

/*
 * Keep a record past the next read.  The reader owns the object it
 * parsed, so its members move to a new object and the reader frees an
 * empty one.
 */
static cJSON *
take(cJSON *j)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		ca_die(CA_EX_FAIL, "out of memory");
	o->child = j->child;
	j->child = NULL;
	return o;
}

void
doc_collect(const struct ca_rec *rec)
{
	cJSON *j = take(rec->json);
	const char *t = ca_jstr(j, "type");
	const cJSON *cidj = cJSON_GetObjectItemCaseSensitive(j, "custom_id");
	const char *cid = ca_jstr(j, "custom_id");
	int part = (int)jll(j, "part", 1), fresh = 0, close = 0;
	struct turn *tn;

	if (strcmp(t, "file") == 0)
		finfo_note(j, 0);
	else if (strcmp(t, "fetched") == 0)
		finfo_note(j, 1);
	if (strcmp(t, "request") == 0)
		fresh = 1;
	else if (strcmp(t, "response") == 0) {
		fresh = part == 1;
		close = final(ca_jobj(j, "message"));
	} else if (strcmp(t, "event") == 0)
		fresh = part == 1 && strcmp(nz(ca_jstr(ca_jobj(j, "event"),
		    "type")), "message_start") == 0;
	else if (strcmp(t, "error") == 0 && !loose_error(j))
		close = 1;
	else if (strcmp(t, "file") == 0 || strcmp(t, "deleted") == 0 ||
	    cidj == NULL || loose_error(j)) {
		push(&others, &nothers, &capothers, j);
		return;
	}
	tn = turn_get(cid, fresh);
	turn_note(tn, t, j);
	push(&tn->recs, &tn->nrec, &tn->caprec, j);
	if (close)
		tn->closed = 1;
}

static int
has_response(const struct turn *tn, int part)
{
	size_t i;

	for (i = 0; i < tn->nrec; i++)
		if (strcmp(nz(ca_jstr(tn->recs[i], "type")), "response") == 0 &&
		    jll(tn->recs[i], "part", 1) == part)
			return 1;
	return 0;
}

/* A stream with no response record (it broke off) is shown as far as it got. */
static void
doc_stream(struct turn *tn, size_t from, int part)
{
	struct ca_msg *m = ca_msg_new();
	const cJSON *ev;
	const char *et;
	cJSON *msg;
	size_t i;

	for (i = from; i < tn->nrec; i++) {
		if (strcmp(nz(ca_jstr(tn->recs[i], "type")), "event") != 0 ||
		    jll(tn->recs[i], "part", 1) != part)
			continue;
		ev = ca_jobj(tn->recs[i], "event");
		et = nz(ca_jstr(ev, "type"));
		if (strcmp(et, "message_start") == 0 && i > from) {
			ca_msg_free(m);
			m = ca_msg_new();
		}
		if (ca_msg_event(m, et, ev) == -1)
			break;
	}
	msg = ca_msg_take(m);
	ca_msg_free(m);
	line1(T_WARN, "the stream ended without a response; shown as far as "
	    "it arrived");
	if (msg != NULL) {
		show_content(msg, NULL);
		show_footer(tn->recs[from], msg);
		tally_message(&tn->t, msg, tn->req);
		cJSON_Delete(msg);
	}
}

static void
doc_turn(struct turn *tn)
{
	const cJSON *j;
	const char *t;
	int *seen = NULL, part;
	size_t nseen = 0, i, k;
	char buf[32];

	g.fmt->heading(2, "Turn ", turn_name(tn));
	for (i = 0; i < tn->nrec; i++) {
		j = tn->recs[i];
		t = nz(ca_jstr(j, "type"));
		part = (int)jll(j, "part", 1);
		if (strcmp(t, "request") == 0) {
			tn->req = ca_price_req(ca_jobj(j, "params"));
			show_request(j);
		}
		else if (strcmp(t, "response") == 0) {
			if (part > 1) {
				snprintf(buf, sizeof(buf), "Part %d", part);
				g.fmt->heading(3, buf, NULL);
			}
			show_content(ca_jobj(j, "message"), NULL);
			show_footer(j, ca_jobj(j, "message"));
			tally_message(&tn->t, ca_jobj(j, "message"), tn->req);
		} else if (strcmp(t, "event") == 0) {
			for (k = 0; k < nseen && seen[k] != part; k++)
				;
			if (k < nseen)
				continue;
			seen = ca_xrealloc(seen, (nseen + 1) * sizeof(*seen));
			seen[nseen++] = part;
			if (!has_response(tn, part))
				doc_stream(tn, i, part);
		} else if (strcmp(t, "error") == 0) {
			show_error(j);
			tn->t.errors++;
		} else if (strcmp(t, "fetched") == 0)
			show_fetched(j);
		else if (strcmp(t, "deleted") == 0)
			show_deleted(j);
		else if (strcmp(t, "count") == 0)
			show_count(j);
		else if (strcmp(t, "tool_call") == 0)
			show_toolcall(j);
		else
			show_other(t);
	}
	free(seen);
	turn_interrupt(tn);
	turn_summary(tn);
}

void
doc_render(void)
{
	struct turn *tn;
	size_t i;
	int files = 0, uploads = 1;
	const char *t;
	char buf[64];

	g.fmt->start();
	/* "Uploaded files" only when no file there was generated. */
	for (i = 0; i < nothers; i++)
		if (strcmp(nz(ca_jstr(others[i], "type")), "file") == 0 &&
		    strcmp(file_origin(others[i]), "uploaded") != 0)
			uploads = 0;
	for (i = 0; i < nothers; i++)
		if (strcmp(nz(ca_jstr(others[i], "type")), "file") == 0 ||
		    upload_error(others[i])) {
			if (!files++)
				g.fmt->heading(2, uploads ? "Uploaded files" :
				    "Files", NULL);
			if (upload_error(others[i])) {
				show_error(others[i]);
				total.errors++;
				nlate++;
			} else
				show_filerec(others[i]);
		}
	for (tn = turns; tn != NULL; tn = tn->next)
		doc_turn(tn);
	if ((size_t)files < nothers)
		g.fmt->heading(2, "Other records", NULL);
	for (i = 0; i < nothers; i++) {
		t = nz(ca_jstr(others[i], "type"));
		if (strcmp(t, "file") == 0 || upload_error(others[i]))
			continue;
		if (loose_error(others[i])) {
			show_error(others[i]);
			total.errors++;
			nlate++;
		} else if (strcmp(t, "fetched") == 0)
			show_fetched(others[i]);
		else if (strcmp(t, "deleted") == 0)
			show_deleted(others[i]);
		else if (strcmp(t, "batch") == 0)
			show_batch(others[i]);
		else
			show_other(t);
	}
	/*
	 * One turn has its own summary already: not a second, the same,
	 * unless errors of no turn came too.
	 */
	if (nturns > 1 || nlate > 0) {
		if (nturns > 1)
			snprintf(buf, sizeof(buf), "Summary of %ld turns",
			    nturns);
		else
			snprintf(buf, sizeof(buf), "Summary of the run");
		g.fmt->heading(2, buf, NULL);
		show_tally(&total);
	}
	g.fmt->finish();
	for (i = 0; i < nothers; i++)
		cJSON_Delete(others[i]);
	free(others);
}

/* ---- Main ---- */

