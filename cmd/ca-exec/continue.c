/*
 * continue.c: what a message that arrived does in ca-exec: it is
 * written, its estimated cost counts against --max-cost, and a paused
 * turn (stop_reason pause_turn) is sent back to go on.
 */
#include <string.h>

#include "ca-exec.h"

/* pause_turn: send the turn so far back, in the same container. */
static int
continue_turn(struct job *j, const cJSON *msg)
{
	const cJSON *c = ca_jobj(msg, "container"), *b;

	/* Never continue in a container named by a prefix of its id. */
	if (ca_jnulstr(cJSON_GetObjectItemCaseSensitive(c, "id"))) {
		ca_warn("%s: the container id holds a NUL (\\u0000); not "
		    "continuing", job_name(j));
		return -1;
	}
	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		cJSON_AddItemToArray(j->turn, cJSON_Duplicate(b, 1));
	if (++j->pauses >= g.max_parts) {
		ca_warn("%s: still paused after %d continuations; giving up",
		    job_name(j), g.max_parts - 1);
		return -1;
	}
	if (ca_req_continue(j->params, j->turn, ca_jstr(c, "id"),
	    j->part > 1) == -1) {
		ca_warn("%s: the request has no messages to continue",
		    job_name(j));
		return -1;
	}
	ca_note("%s: %s; continuing (part %d)", job_name(j),
	    ca_jstr(msg, "stop_reason"), j->part + 1);
	j->part++;
	j->est = 0;		/* the body grew: estimate it again */
	j->attempt = 0;
	j->state = J_WAIT;
	j->due = ca_now();
	return 0;
}

/*
 * --max-cost: what ca-render would estimate, containers included.  An
 * answer whose usage cannot be priced stops a capped run: counted as
 * $0 it would let every request through.
 */
static void
spend(const struct job *j, const cJSON *msg)
{
	double usd = ca_price_msg(msg);
	const char *cid = ca_jstr(ca_jobj(msg, "container"), "id");
	const char *bad = g.max_cost >= 0 ? ca_price_bad(msg) : NULL;

	if (bad != NULL && g.unpriced == NULL) {
		ca_warn("%s: the answer's %s cannot be priced: --max-cost "
		    "stops the run, nothing more is sent", job_name(j), bad);
		g.unpriced = bad;
		ca_status_add(&g.st, CA_EX_FAIL);
	}

	/* Only a run with a cap needs to hear of it: stderr stays quiet. */
	if (usd < 0 && g.max_cost >= 0 && !g.noprice) {
		ca_warn("no price for model %s: its cost is not counted "
		    "against --max-cost", ca_jstr(msg, "model") ?
		    ca_jstr(msg, "model") : "(none)");
		g.noprice = 1;
	}
	if (usd > 0)
		g.spent += usd;
	/* A container's minimum, once, when it is first billed. */
	if (cid != NULL && ca_price_billed(ca_price_req(j->params), msg) &&
	    ca_strset_add(&g.containers, cid) == 0)
		g.spent += ca_price_containers(1);
}

/* A message arrived: write it (from raw, the body as it came, compacted,
 * when there is one), then continue a paused turn or finish. */
void
got_message(struct job *j, cJSON *msg, const struct ca_buf *raw)
{
	cJSON *r = exec_record("response", j);
	const char *stop = ca_jstr(msg, "stop_reason");
	/*
	 * pause_after_compaction stops a turn the way pause_turn does; the
	 * answer to an on-demand request (it has "compaction") is complete.
	 */
	int pause = stop != NULL && (strcmp(stop, "pause_turn") == 0 ||
	    (strcmp(stop, "compaction") == 0 &&
	    cJSON_GetObjectItem(j->params, "compaction") == NULL));
	cJSON *prints = ca_compact_prints(ca_jarr(msg, "content"));
	int tool = stop != NULL && strcmp(stop, "tool_use") == 0 &&
	    tools_on(j);

	spend(j, msg);
	if (expire_retry(j, msg)) {	/* not written: the turn goes again */
		cJSON_Delete(prints);
		cJSON_Delete(r);
		cJSON_Delete(msg);
		return;
	}
	cJSON_AddNumberToObject(r, "part", j->part);
	/* The turn went again in a new container: this one was gone. */
	if (j->lost != NULL)
		cJSON_AddStringToObject(r, "container_lost", j->lost);
	cJSON_AddStringToObject(r, "request_id", j->resp.request_id);
	cJSON_AddNumberToObject(r, "attempts", j->attempt);
	/* What --continue checks the blocks against: sent back verbatim. */
	if (prints != NULL)
		cJSON_AddItemToObject(r, "compaction_prints", prints);
	if (raw != NULL)
		exec_emit_wrapped(j, r, "message", raw);
	else {
		cJSON_AddItemToObject(r, "message", cJSON_Duplicate(msg, 1));
		exec_emit(j, r);
	}
	if (tool) {
		if (tools_answer(j, msg) == 0)
			j->state = J_DONE;	/* nothing to answer */
	} else if (!(pause && continue_turn(j, msg) == 0)) {
		if (pause) {
			ca_status_add(&g.st, CA_EX_FAIL);
			g.prog.nfailed++;
		}
		j->state = J_DONE;
	}
	cJSON_Delete(msg);
}
