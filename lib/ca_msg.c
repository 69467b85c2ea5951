/*
 * ca_msg.c: builds the Message a stream describes, the way the official
 * SDK's MessageStream does, so that a streamed turn and a non-streamed
 * one give the same JSON.
 *
 * Text and tool input arrive as many small deltas.  Appending each one
 * to a cJSON string would copy the whole string every time, so each
 * block gathers its deltas in a buffer and writes them back when the
 * field being built changes, when the block stops, or when the message
 * is taken.  Text is gathered as JSON-escaped text, not as C strings,
 * so that a \u0000 in it is kept: the events should be parsed with
 * ca_jparse, which keeps such strings too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

enum acc {
	ACC_NONE,
	ACC_TEXT,		/* "text" of a text block */
	ACC_THINKING		/* "thinking" of a thinking block */
};

struct blk {
	cJSON		*b;	/* the block, owned by the message */
	enum acc	 acc;	/* which field txt is building */
	struct ca_buf	 txt;
	struct ca_buf	 json;	/* input_json_delta fragments */
	int		 stopped;
};

struct ca_msg {
	cJSON		*msg;	/* NULL until message_start, after take */
	cJSON		*content;
	struct blk	*blk;
	size_t		 nblk;
	size_t		 blkcap;
	cJSON		*errobj;
	char		 err[256];
};

struct ca_msg *
ca_msg_new(void)
{
	return ca_xcalloc(1, sizeof(struct ca_msg));
}

static void
freeblocks(struct ca_msg *m)
{
	size_t i;

	for (i = 0; i < m->nblk; i++) {
		ca_buf_free(&m->blk[i].txt);
		ca_buf_free(&m->blk[i].json);
	}
	free(m->blk);
	m->blk = NULL;
	m->nblk = m->blkcap = 0;
}

void
ca_msg_free(struct ca_msg *m)
{
	if (m == NULL)
		return;
	freeblocks(m);
	cJSON_Delete(m->msg);
	cJSON_Delete(m->errobj);
	free(m);
}

const char *
ca_msg_error(const struct ca_msg *m)
{
	return m->err[0] != '\0' ? m->err : NULL;
}

const cJSON *
ca_msg_errobj(const struct ca_msg *m)
{
	return m->errobj;
}

static int	fail(struct ca_msg *, const char *, ...) CA_PRINTF(2, 3);

static int
fail(struct ca_msg *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Set (or add) key in o, taking ownership of v. */
static void
setitem(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	else
		cJSON_AddItemToObject(o, key, v);
}

static cJSON *
xdup(const cJSON *v)
{
	cJSON *d;

	if ((d = cJSON_Duplicate(v, 1)) == NULL)
		ca_die(CA_EX_FAIL, "out of memory copying JSON");
	return d;
}

static cJSON *
xstring(const char *s)
{
	cJSON *v;

	if ((v = cJSON_CreateString(s)) == NULL)
		ca_die(CA_EX_FAIL, "out of memory building JSON");
	return v;
}

static const char *
accfield(enum acc a)
{
	return a == ACC_TEXT ? "text" : "thinking";
}

/*
 * Write the text being gathered back into its block.  txt holds it
 * JSON-escaped, as the deltas came, so a \u0000 in it survives: parsed
 * again it is a string, or a raw node if it holds a NUL.
 */
static void
flush(struct blk *k)
{
	cJSON *v;

	if (k->acc == ACC_NONE)
		return;
	if (ca_buf_add(&k->txt, "\"", 1) == -1 ||
	    (v = ca_jparse(k->txt.p, k->txt.len)) == NULL)
		ca_die(CA_EX_FAIL, "cannot rebuild a %s field",
		    accfield(k->acc));
	setitem(k->b, accfield(k->acc), v);
	ca_buf_free(&k->txt);
	k->acc = ACC_NONE;
}

/* Start gathering a text field from its current value; add s to it. */
static int
gather(struct ca_msg *m, struct blk *k, enum acc a, const cJSON *s)
{
	const cJSON *cur;

	if (k->acc != a) {
		flush(k);
		k->acc = a;
		k->txt.max = CA_LINE_MAX;
		cur = cJSON_GetObjectItemCaseSensitive(k->b, accfield(a));
		if (ca_buf_add(&k->txt, "\"", 1) == -1 || ((cJSON_IsString(cur)
		    || ca_jnulstr(cur)) && ca_jstr_esc(&k->txt, cur) == -1))
			return fail(m, "%s larger than %zu bytes, or not "
			    "UTF-8", accfield(a), CA_LINE_MAX);
	}
	/* One byte is kept for the closing quote. */
	if (ca_jstr_esc(&k->txt, s) == -1 || k->txt.len >= CA_LINE_MAX)
		return fail(m, "%s larger than %zu bytes, or not UTF-8",
		    accfield(a), CA_LINE_MAX);
	return 0;
}

static void
addblock(struct ca_msg *m, cJSON *b, int stopped)
{
	struct blk *k;

	if (m->nblk == m->blkcap) {
		m->blkcap = m->blkcap ? m->blkcap * 2 : 16;
		m->blk = ca_xrealloc(m->blk, m->blkcap * sizeof(*m->blk));
	}
	k = &m->blk[m->nblk++];
	memset(k, 0, sizeof(*k));
	k->b = b;
	k->stopped = stopped;
}

/* The "index" of an event, or -1 if it is missing or not a count. */
static long
index_of(const cJSON *data)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "index");
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= 0 && d <= 1e9) || (double)(long)d != d)
		return -1;
	return (long)d;
}

static struct blk *
block_at(struct ca_msg *m, const char *event, const cJSON *data)
{
	long i = index_of(data);

	if (i < 0) {
		fail(m, "%s without a valid index", event);
		return NULL;
	}
	if ((size_t)i >= m->nblk) {
		fail(m, "%s for unknown content block %ld", event, i);
		return NULL;
	}
	if (m->blk[i].stopped) {
		fail(m, "%s for content block %ld after its "
		    "content_block_stop", event, i);
		return NULL;
	}
	return &m->blk[i];
}

static int
message_start(struct ca_msg *m, const cJSON *data)
{
	const cJSON *msg = ca_jobj(data, "message");
	cJSON *b;

	if (m->msg != NULL)
		return fail(m, "message_start after message_start");
	if (msg == NULL)
		return fail(m, "message_start without a message");
	m->msg = xdup(msg);
	if ((m->content = ca_jarr(m->msg, "content")) == NULL) {
		if ((m->content = cJSON_CreateArray()) == NULL)
			ca_die(CA_EX_FAIL, "out of memory building JSON");
		setitem(m->msg, "content", m->content);
	}
	/* Blocks already present (there never are) keep their places. */
	cJSON_ArrayForEach(b, m->content)
		addblock(m, b, 1);
	return 0;
}

static int
block_start(struct ca_msg *m, const cJSON *data)
{
	const cJSON *cb = ca_jobj(data, "content_block");
	long i = index_of(data);
	cJSON *b;

	if (i < 0)
		return fail(m, "content_block_start without a valid index");
	if ((size_t)i != m->nblk)
		return fail(m, "content_block_start for block %ld, expected "
		    "block %zu", i, m->nblk);
	if (cb == NULL)
		return fail(m, "content_block_start without a content_block");
	b = xdup(cb);
	cJSON_AddItemToArray(m->content, b);
	addblock(m, b, 0);
	return 0;
}

/* Does this block take its input from input_json_delta fragments? */
static int
tracks_input(const cJSON *b)
{
	const char *type = ca_jstr(b, "type");

	if (type != NULL && (strcmp(type, "tool_use") == 0 ||
	    strcmp(type, "server_tool_use") == 0))
		return 1;
	return ca_jobj(b, "input") != NULL;
}

static int
citation(struct ca_msg *m, struct blk *k, const cJSON *delta)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(delta, "citation");
	cJSON *arr;

	if (c == NULL)
		return fail(m, "citations_delta without a citation");
	if ((arr = ca_jarr(k->b, "citations")) == NULL) {
		if ((arr = cJSON_CreateArray()) == NULL)
			ca_die(CA_EX_FAIL, "out of memory building JSON");
		setitem(k->b, "citations", arr);
	}
	cJSON_AddItemToArray(arr, xdup(c));
	return 0;
}

/* A string member, or one that held a NUL (ca_jparse kept it raw). */
static int
textval(const cJSON *o, const char *key, const cJSON **v)
{
	*v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(*v) || ca_jnulstr(*v);
}

/*
 * The summary comes whole in one delta: as the SDK does, content is
 * appended and encrypted_content replaced, each only when present.
 */
static int
compaction(struct ca_msg *m, struct blk *k, const cJSON *delta)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(delta, "content");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(k->b, "content");
	struct ca_buf b = { NULL, 0, 0, CA_LINE_MAX };
	cJSON *s;

	if (cJSON_IsString(v)) {
		if (cJSON_IsString(old))
			ca_buf_addstr(&b, old->valuestring);
		if (ca_buf_addstr(&b, v->valuestring) == -1) {
			ca_buf_free(&b);
			return fail(m, "compaction summary larger than %zu "
			    "bytes", CA_LINE_MAX);
		}
		s = xstring(b.p != NULL ? b.p : "");
		ca_buf_free(&b);
		setitem(k->b, "content", s);
	}
	v = cJSON_GetObjectItemCaseSensitive(delta, "encrypted_content");
	if (v != NULL)
		setitem(k->b, "encrypted_content", xdup(v));
	return 0;
}

/*
 * Apply one delta.  As in the SDK, a delta that does not fit its block's
 * type, or a delta type we do not know, changes nothing.
 */
static int
block_delta(struct ca_msg *m, const cJSON *data)
{
	const cJSON *delta = ca_jobj(data, "delta"), *v;
	const char *btype, *dtype, *s;
	struct blk *k;

	if ((k = block_at(m, "content_block_delta", data)) == NULL)
		return -1;
	if (delta == NULL || (dtype = ca_jstr(delta, "type")) == NULL)
		return fail(m, "content_block_delta without a delta type");
	btype = ca_jstr(k->b, "type");
	if (btype == NULL)
		btype = "";
	if (strcmp(dtype, "text_delta") == 0) {
		if (strcmp(btype, "text") != 0)
			return 0;
		if (!textval(delta, "text", &v))
			return fail(m, "text_delta without text");
		return gather(m, k, ACC_TEXT, v);
	}
	if (strcmp(dtype, "thinking_delta") == 0) {
		if (strcmp(btype, "thinking") != 0)
			return 0;
		if (!textval(delta, "thinking", &v))
			return fail(m, "thinking_delta without thinking");
		return gather(m, k, ACC_THINKING, v);
	}
	if (strcmp(dtype, "signature_delta") == 0) {
		if (strcmp(btype, "thinking") != 0)
			return 0;
		if ((s = ca_jstr(delta, "signature")) == NULL)
			return fail(m, "signature_delta without signature");
		/* The SDK replaces the signature; it comes whole. */
		setitem(k->b, "signature", xstring(s));
		return 0;
	}
	if (strcmp(dtype, "citations_delta") == 0)
		return strcmp(btype, "text") == 0 ? citation(m, k, delta) : 0;
	if (strcmp(dtype, "compaction_delta") == 0)
		return strcmp(btype, "compaction") == 0 ?
		    compaction(m, k, delta) : 0;
	if (strcmp(dtype, "input_json_delta") == 0) {
		if (!tracks_input(k->b))
			return 0;
		if ((s = ca_jstr(delta, "partial_json")) == NULL)
			return fail(m, "input_json_delta without partial_json");
		k->json.max = CA_LINE_MAX;
		if (ca_buf_addstr(&k->json, s) == -1)
			return fail(m, "tool input larger than %zu bytes",
			    CA_LINE_MAX);
		return 0;
	}
	return 0;
}

/* The input JSON is complete only now, so this is where it is parsed. */
static int
block_stop(struct ca_msg *m, const cJSON *data)
{
	struct blk *k;
	long i;
	cJSON *in;

	if ((k = block_at(m, "content_block_stop", data)) == NULL)
		return -1;
	i = (long)(k - m->blk);
	k->stopped = 1;
	if (k->json.len > 0) {
		in = ca_jparse(k->json.p, k->json.len);
		ca_buf_free(&k->json);
		if (in == NULL)
			return fail(m, "content block %ld: tool input is not "
			    "valid JSON", i);
		setitem(k->b, "input", in);
	} else if (tracks_input(k->b) &&
	    cJSON_GetObjectItemCaseSensitive(k->b, "input") == NULL) {
		if ((in = cJSON_CreateObject()) == NULL)
			ca_die(CA_EX_FAIL, "out of memory building JSON");
		cJSON_AddItemToObject(k->b, "input", in);
	}
	flush(k);
	return 0;
}

/* Usage numbers in message_delta are running totals: replace, never add. */
static int
message_delta(struct ca_msg *m, const cJSON *data)
{
	static const char *const keys[] = {
		"stop_reason", "stop_sequence", "stop_details"
	};
	const cJSON *delta = ca_jobj(data, "delta");
	const cJSON *v, *usage;
	cJSON *mu;
	size_t i;

	if (delta == NULL)
		return fail(m, "message_delta without a delta");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(delta,
		    keys[i])) != NULL)
			setitem(m->msg, keys[i], xdup(v));
	v = cJSON_GetObjectItemCaseSensitive(delta, "container");
	if (v != NULL && !cJSON_IsNull(v))
		setitem(m->msg, "container", xdup(v));
	/* Context editing reports its applied_edits here. */
	v = cJSON_GetObjectItemCaseSensitive(data, "context_management");
	if (v == NULL)
		v = cJSON_GetObjectItemCaseSensitive(delta,
		    "context_management");
	if (v != NULL && !cJSON_IsNull(v))
		setitem(m->msg, "context_management", xdup(v));
	if ((usage = ca_jobj(data, "usage")) == NULL)
		return 0;
	if ((mu = ca_jobj(m->msg, "usage")) == NULL) {
		if ((mu = cJSON_CreateObject()) == NULL)
			ca_die(CA_EX_FAIL, "out of memory building JSON");
		setitem(m->msg, "usage", mu);
	}
	cJSON_ArrayForEach(v, usage)
		if (!cJSON_IsNull(v) && v->string != NULL)
			setitem(mu, v->string, xdup(v));
	return 0;
}

static int
error_event(struct ca_msg *m, const cJSON *data)
{
	const cJSON *e = ca_jobj(data, "error");
	char *type, *msg;

	cJSON_Delete(m->errobj);
	m->errobj = NULL;
	if (e == NULL)
		return fail(m, "error event without an error object");
	m->errobj = xdup(e);
	/* The text comes from the server: keep it printable. */
	type = ca_sanitize(ca_jstr(e, "type") ? ca_jstr(e, "type") :
	    "error", 64);
	msg = ca_sanitize(ca_jstr(e, "message") ? ca_jstr(e, "message") :
	    "(no message)", 160);
	fail(m, "%s: %s", type, msg);
	free(type);
	free(msg);
	return -1;
}

int
ca_msg_event(struct ca_msg *m, const char *event, const cJSON *data)
{
	const char *type;

	if (strcmp(event, "error") == 0)
		return error_event(m, data);
	if (strcmp(event, "message_start") != 0 &&
	    strcmp(event, "message_delta") != 0 &&
	    strcmp(event, "message_stop") != 0 &&
	    strcmp(event, "content_block_start") != 0 &&
	    strcmp(event, "content_block_delta") != 0 &&
	    strcmp(event, "content_block_stop") != 0)
		return 0;	/* ping, and event types newer than us */
	if (strcmp(event, "message_stop") != 0 && !cJSON_IsObject(data))
		return fail(m, "%s without a JSON object", event);
	/* The SDK goes by the data's type; the API never lets them differ. */
	type = ca_jstr(data, "type");
	if (type != NULL && strcmp(type, event) != 0)
		return fail(m, "%s event with data of another type", event);
	if (strcmp(event, "message_start") == 0)
		return message_start(m, data);
	if (m->msg == NULL)
		return fail(m, "%s before message_start", event);
	if (strcmp(event, "content_block_start") == 0)
		return block_start(m, data);
	if (strcmp(event, "content_block_delta") == 0)
		return block_delta(m, data);
	if (strcmp(event, "content_block_stop") == 0)
		return block_stop(m, data);
	if (strcmp(event, "message_delta") == 0)
		return message_delta(m, data);
	return 1;
}

cJSON *
ca_msg_take(struct ca_msg *m)
{
	cJSON *msg = m->msg;
	size_t i;

	/* A block still open gives up the text it has so far. */
	for (i = 0; i < m->nblk; i++)
		flush(&m->blk[i]);
	freeblocks(m);
	m->msg = NULL;
	m->content = NULL;
	return msg;
}
