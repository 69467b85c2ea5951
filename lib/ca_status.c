/*
 * ca_status.c: the toolkit's one exit-status rule (ca(7), EXIT STATUS).
 *
 * A tool exits 1 if any permanent failure happened in it or passed
 * through it as an error record, else 75 if any temporary one did, else
 * 0; so the last command of a pipeline tells the truth without
 * pipefail.  A tool's own usage or environment error exits 2 before it
 * gets this far; the record it leaves (usage_error, environment_error)
 * is, for every tool after it, a permanent failure that passed through:
 * 1, not 2, since their own command lines were fine.
 */
#include <string.h>

#include "ca.h"

void
ca_status_add(struct ca_status *s, int rc)
{
	if (rc == CA_EX_TEMPFAIL)
		s->tempfailed = 1;
	else if (rc != CA_EX_OK)
		s->failed = 1;
}

/* CA_EX_TEMPFAIL or CA_EX_FAIL for an error record. */
static int
error_rec_status(const cJSON *rec)
{
	const cJSON *e = ca_jobj(rec, "error");
	const char *type = e != NULL ? ca_jstr(e, "type") : NULL;

	if (ca_error_spent(e))
		return CA_EX_FAIL;	/* a 429, yet no later try helps */
	return ca_error_temporary((long)ca_jnum(rec, "status", 0), type) ?
	    CA_EX_TEMPFAIL : CA_EX_FAIL;
}

void
ca_status_rec(struct ca_status *s, const cJSON *rec)
{
	const char *type = ca_jstr(rec, "type");

	if (type != NULL && strcmp(type, "error") == 0)
		ca_status_add(s, error_rec_status(rec));
}

int
ca_status_exit(const struct ca_status *s)
{
	return s->failed ? CA_EX_FAIL : s->tempfailed ? CA_EX_TEMPFAIL :
	    CA_EX_OK;
}

int
ca_status_delete_ok(const struct ca_status *up, int force, int n)
{
	if (ca_status_exit(up) == CA_EX_OK || force || n == 0)
		return 1;
	ca_warn("an error record came through; deleting nothing "
	    "(-f deletes anyway)");
	return 0;
}
