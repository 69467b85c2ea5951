/*
 * ca_price.c: the price of a response, from the model table's list
 * prices, and whether its container's time is billed.  ca-render shows
 * it; ca-exec --max-cost stops on it.  Both must agree, so the
 * arithmetic lives here once.
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"

void
ca_cache_writes(const cJSON *usage, double *cw5, double *cw1h)
{
	const cJSON *cc = ca_jobj(usage, "cache_creation");

	*cw5 = ca_jnum(usage, "cache_creation_input_tokens", 0);
	*cw1h = 0;
	/* The split by TTL, when given, replaces the plain total. */
	if (cc != NULL && ca_jnum(cc, "ephemeral_5m_input_tokens", 0) +
	    ca_jnum(cc, "ephemeral_1h_input_tokens", 0) > 0) {
		*cw5 = ca_jnum(cc, "ephemeral_5m_input_tokens", 0);
		*cw1h = ca_jnum(cc, "ephemeral_1h_input_tokens", 0);
	}
}

void
ca_price_tokens(const cJSON *u, double *in, double *out)
{
	const cJSON *it;
	int n = 0;

	*in = *out = 0;
	/* A compaction's iteration is billed beside the top-level counts,
	 * which then hold only the last one: the entries sum to the bill. */
	cJSON_ArrayForEach(it, ca_jarr(u, "iterations")) {
		*in += ca_jnum(it, "input_tokens", 0);
		*out += ca_jnum(it, "output_tokens", 0);
		n++;
	}
	if (n > 0)
		return;
	*in = ca_jnum(u, "input_tokens", 0);
	*out = ca_jnum(u, "output_tokens", 0);
}

double
ca_price_msg(const cJSON *msg)
{
	const cJSON *u = ca_jobj(msg, "usage");
	const char *model = ca_jstr(msg, "model");
	const char *tier = ca_jstr(u, "service_tier");
	const struct ca_model *m = model != NULL ? ca_model_find(model) : NULL;
	double in, out, cw5, cw1h, cr, rate = 1;

	if (m == NULL)
		return -1;
	ca_price_tokens(u, &in, &out);
	cr = ca_jnum(u, "cache_read_input_tokens", 0);
	ca_cache_writes(u, &cw5, &cw1h);
	/* The Message Batches API charges half the price for tokens. */
	if (tier != NULL && strcmp(tier, "batch") == 0)
		rate = 0.5;
	return rate * (m->in_usd * (in + 1.25 * cw5 + 2 * cw1h + 0.1 * cr) +
	    m->out_usd * out) / 1e6;
}

double
ca_price_containers(size_t n)
{
	return (double)n * CA_CONTAINER_MIN_H * CA_CONTAINER_USD_H;
}

/*
 * A web search or fetch tool of version 20260209 or later makes code
 * execution free in the request that has it.
 */
static int
free_with(const char *type)
{
	static const char *const web[] = { "web_search_", "web_fetch_" };
	size_t i, n;

	for (i = 0; i < sizeof(web) / sizeof(web[0]); i++) {
		n = strlen(web[i]);
		if (strncmp(type, web[i], n) == 0 && strlen(type + n) == 8 &&
		    strcmp(type + n, "20260209") >= 0)
			return 1;
	}
	return 0;
}

unsigned
ca_price_req(const cJSON *params)
{
	const cJSON *t, *m, *b;
	unsigned f = 0;

	cJSON_ArrayForEach(t, ca_jarr(params, "tools"))
		if (ca_jstr(t, "type") != NULL && free_with(ca_jstr(t, "type")))
			f |= CA_CT_FREE;
	cJSON_ArrayForEach(m, ca_jarr(params, "messages"))
		cJSON_ArrayForEach(b, ca_jarr(m, "content"))
			if (ca_blk_kind(b) == CA_BLK_CONTAINER_UPLOAD)
				f |= CA_CT_FILES;
	return f;
}

int
ca_price_billed(unsigned req, const cJSON *msg)
{
	const cJSON *b;

	if (req & CA_CT_FREE)
		return 0;
	if (req & CA_CT_FILES)
		return 1;
	cJSON_ArrayForEach(b, ca_jarr(msg, "content"))
		switch (ca_blk_kind(b)) {
		case CA_BLK_CODE_RESULT:
		case CA_BLK_BASH_RESULT:
		case CA_BLK_EDITOR_RESULT:
			return 1;
		default:
			break;
		}
	return 0;
}

/* Is v a count of tokens (or null or absent, when it may lack)? */
static int
count_ok(const cJSON *v, int may_lack)
{
	if (v == NULL || cJSON_IsNull(v))
		return may_lack;
	return ca_jtokens(v);
}

const char *
ca_price_bad(const cJSON *msg)
{
	static const char *const opt[] = {
	    "usage.cache_creation_input_tokens",
	    "usage.cache_read_input_tokens", NULL };
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(msg, "usage"), *cc;
	int i;

	if (!cJSON_IsObject(u))
		return "usage";
	if (!count_ok(cJSON_GetObjectItemCaseSensitive(u, "input_tokens"), 0))
		return "usage.input_tokens";
	if (!count_ok(cJSON_GetObjectItemCaseSensitive(u, "output_tokens"), 0))
		return "usage.output_tokens";
	for (i = 0; opt[i] != NULL; i++)
		if (!count_ok(cJSON_GetObjectItemCaseSensitive(u,
		    opt[i] + strlen("usage.")), 1))
			return opt[i];
	cc = cJSON_GetObjectItemCaseSensitive(u, "cache_creation");
	if (cc != NULL && !cJSON_IsNull(cc) && (!cJSON_IsObject(cc) ||
	    !count_ok(cJSON_GetObjectItemCaseSensitive(cc,
	    "ephemeral_5m_input_tokens"), 1) ||
	    !count_ok(cJSON_GetObjectItemCaseSensitive(cc,
	    "ephemeral_1h_input_tokens"), 1)))
		return "usage.cache_creation";
	return NULL;
}
