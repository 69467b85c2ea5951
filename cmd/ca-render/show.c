/*
 * show.c: which block says what.  Every record and content block is
 * shown here once, through the back end's primitives (struct fmt), so
 * that the terminal, markdown and HTML say the same things.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-render.h"

static struct {
	char	*id, *path;
} edits[EDIT_IDS];		/* editor calls, for their results' paths */
static size_t editpos;

/* lit + code + optional lit, the commonest line. */
static void
line_lc(enum tone t, const char *lit, const char *code, const char *tail)
{
	g.fmt->line(t);
	g.fmt->lit(lit);
	g.fmt->code(nz(code));
	if (tail != NULL)
		g.fmt->lit(tail);
	g.fmt->eol();
}

static void
edit_remember(const char *id, const char *path)
{
	if (id == NULL || path == NULL)
		return;
	free(edits[editpos].id);
	free(edits[editpos].path);
	edits[editpos].id = ca_xstrdup(id);
	edits[editpos].path = ca_xstrdup(path);
	editpos = (editpos + 1) % EDIT_IDS;
}

static const char *
edit_path(const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < EDIT_IDS; i++)
		if (edits[i].id != NULL && strcmp(edits[i].id, id) == 0)
			return edits[i].path;
	return NULL;
}

static void
block_str(enum bk k, const char *label, const char *lang, const char *s)
{
	if (s != NULL && *s != '\0')
		g.fmt->block(k, label, lang, s, strlen(s));
}

/*
 * Short JSON on one line, longer JSON indented.  cJSON indents with
 * tabs; a raw tab in its output is always layout, as strings escape
 * theirs, so each becomes two spaces (one after a colon).
 */
static void
block_json(const char *label, const cJSON *j)
{
	struct ca_buf b = { NULL, 0, 0, 0 };
	char *s, *p;

	if (j == NULL)
		return;
	s = ca_jprint(j);
	if (strlen(s) > 72) {
		free(s);
		if ((s = cJSON_Print(j)) == NULL)
			ca_die(CA_EX_FAIL, "out of memory printing JSON");
	}
	for (p = s; *p != '\0'; p++)
		ca_buf_add(&b, *p != '\t' ? p : p > s && p[-1] == ':' ? " " :
		    "  ", *p != '\t' ? 1 : p > s && p[-1] == ':' ? 1 : 2);
	g.fmt->block(BK_INPUT, label, "json", b.p, b.len);
	ca_buf_free(&b);
	free(s);
}

/* old_str and new_str as a diff, one '-' or '+' per line. */
static void
diff_side(struct ca_buf *b, char sign, const char *s)
{
	const char *nl;

	if (s == NULL)
		return;
	do {
		nl = strchr(s, '\n');
		ca_buf_add(b, &sign, 1);
		ca_buf_add(b, s, nl != NULL ? (size_t)(nl - s) : strlen(s));
		ca_buf_add(b, "\n", 1);
		s = nl != NULL ? nl + 1 : NULL;
	} while (s != NULL && *s != '\0');
}

static void
show_editor_call(const cJSON *b, const cJSON *in)
{
	const char *cmd = ca_jstr(in, "command"), *path = ca_jstr(in, "path");
	struct ca_buf d = { NULL, 0, 0, 0 };

	edit_remember(ca_jstr(b, "id"), path);
	g.fmt->line(T_CALL);
	g.fmt->lit("editor ");
	g.fmt->code(cmd != NULL ? cmd : "?");
	g.fmt->lit(" ");
	g.fmt->code(nz(path));
	g.fmt->eol();
	if (cmd == NULL)
		block_json("input", in);
	else if (strcmp(cmd, "create") == 0)
		block_str(BK_CONTENT, "file text", NULL,
		    ca_jstr(in, "file_text"));
	else if (strcmp(cmd, "str_replace") == 0) {
		ca_buf_addstr(&d, "--- ");
		ca_buf_addstr(&d, nz(path));
		ca_buf_addstr(&d, "\n+++ ");
		ca_buf_addstr(&d, nz(path));
		ca_buf_addstr(&d, "\n");
		diff_side(&d, '-', ca_jstr(in, "old_str"));
		diff_side(&d, '+', ca_jstr(in, "new_str"));
		g.fmt->block(BK_DIFF, "diff", "diff", d.p, d.len);
		ca_buf_free(&d);
	} else if (strcmp(cmd, "view") != 0)
		block_json("input", in);
}

static void
show_server_call(const cJSON *b)
{
	const char *name = nz(ca_jstr(b, "name"));
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(b, "input");
	const char *py = nz(ca_jstr(in, "code"));
	const char *sh = nz(ca_jstr(in, "command"));
	const char *q;

	if (strcmp(name, "code_execution") == 0)
		g.fmt->block(BK_CODE, "python", "python", py, strlen(py));
	else if (strcmp(name, "bash_code_execution") == 0)
		g.fmt->block(BK_CODE, "bash", "bash", sh, strlen(sh));
	else if (strcmp(name, "text_editor_code_execution") == 0)
		show_editor_call(b, in);
	else if (strcmp(name, "web_search") == 0 ||
	    strcmp(name, "web_fetch") == 0 ||
	    strncmp(name, "tool_search", 11) == 0) {
		q = ca_jstr(in, "query");
		if (q == NULL)
			q = ca_jstr(in, "url");
		if (q == NULL)
			q = ca_jstr(in, "pattern");
		g.fmt->line(T_CALL);
		g.fmt->lit(strcmp(name, "web_search") == 0 ? "web search: " :
		    strcmp(name, "web_fetch") == 0 ? "web fetch: " :
		    "tool search: ");
		g.fmt->val(nz(q));
		g.fmt->eol();
	} else {
		line_lc(T_CALL, "server tool ", name, NULL);
		block_json("input", in);
	}
}

static void
show_tool_use(const cJSON *b)
{
	const cJSON *caller = ca_jobj(b, "caller");
	const char *ct = ca_jstr(caller, "type");

	line_lc(T_CALL, "tool call ", ca_jstr(b, "name"),
	    ct != NULL && strcmp(ct, "direct") != 0 ? " (called from code)" :
	    NULL);
	block_json("input", cJSON_GetObjectItemCaseSensitive(b, "input"));
}

/* ca_tool_error_text explains the code execution tools' codes. */
static void
show_tool_error(const cJSON *c, const char *code, int explain)
{
	const char *msg = ca_jstr(c, "error_message");

	g.fmt->line(T_ERR);
	g.fmt->lit("tool error ");
	g.fmt->code(code);
	if (explain) {
		g.fmt->lit(": ");
		g.fmt->lit(ca_tool_error_text(code));
	}
	if (msg != NULL) {
		g.fmt->lit(" (");
		g.fmt->val(msg);
		g.fmt->lit(")");
	}
	g.fmt->eol();
}

/* lit, a file id and, when known, its name: a line left open. */
static void
file_line(enum tone t, const char *lit, const char *id,
    const struct finfo *fi)
{
	g.fmt->line(t);
	g.fmt->lit(lit);
	g.fmt->code(nz(id));
	if (fi != NULL && fi->name != NULL) {
		g.fmt->lit(" ");
		g.fmt->val(fi->name);
	}
}

/* An output file: shown in place when a report knows its local copy. */
static void
show_outfile(const char *id)
{
	struct finfo *fi = finfo_find(id);

	if (fi != NULL && fi->fetched && g.fmt->file != NULL) {
		g.fmt->file(fi);
		fi->shown = 1;
		return;
	}
	file_line(T_OK, "output file ", id, fi);
	if (fi != NULL && fi->fetched) {
		g.fmt->lit(" \xe2\x86\x92 ");
		g.fmt->code(fi->path);
	}
	g.fmt->eol();
}

static void
show_exec_result(const cJSON *b)
{
	const cJSON *c = ca_jobj(b, "content"), *f;
	const char *ct = nz(ca_jstr(c, "type")), *code;
	char buf[64];
	long long rc;

	if ((code = ca_blk_error_code(b)) != NULL) {
		show_tool_error(c, code, 1);
		return;
	}
	if (has_suffix(ct, "encrypted_code_execution_result"))
		line1(T_DIM, "(stdout encrypted: the code called web search)");
	else
		block_str(BK_STDOUT, "stdout", NULL, ca_jstr(c, "stdout"));
	block_str(BK_STDERR, "stderr", NULL, ca_jstr(c, "stderr"));
	rc = jll(c, "return_code", 0);
	if (rc != 0) {
		snprintf(buf, sizeof(buf), "return code %lld", rc);
		line1(T_ERR, buf);
	}
	cJSON_ArrayForEach(f, ca_jarr(c, "content"))
		if (ca_jstr(f, "file_id") != NULL)
			show_outfile(ca_jstr(f, "file_id"));
}

/* A view result with line numbers, counted from start_line. */
static void
show_view(const cJSON *c)
{
	const char *s = nz(ca_jstr(c, "content")), *nl;
	const char *ft = ca_jstr(c, "file_type");
	long long ln = jll(c, "start_line", 1);
	struct ca_buf b = { NULL, 0, 0, 0 };
	char num[32];

	if (ft != NULL && strcmp(ft, "text") != 0) {
		g.fmt->line(T_DIM);
		g.fmt->lit("viewed a file of type ");
		g.fmt->val(ft);
		g.fmt->eol();
		return;
	}
	while (*s != '\0') {
		nl = strchr(s, '\n');
		snprintf(num, sizeof(num), "%6lld  ", ln++);
		ca_buf_addstr(&b, num);
		ca_buf_add(&b, s, nl != NULL ? (size_t)(nl - s) + 1 :
		    strlen(s));
		s = nl != NULL ? nl + 1 : s + strlen(s);
	}
	if (b.len > 0)
		g.fmt->block(BK_CONTENT, "view", NULL, b.p, b.len);
	else
		line1(T_DIM, "(empty file)");
	ca_buf_free(&b);
}

static void
show_editor_result(const cJSON *b)
{
	const cJSON *c = ca_jobj(b, "content"), *l;
	const char *ct = nz(ca_jstr(c, "type")), *code;
	const char *path = edit_path(ca_jstr(b, "tool_use_id"));
	struct ca_buf d = { NULL, 0, 0, 0 };
	char buf[128];

	if ((code = ca_blk_error_code(b)) != NULL) {
		show_tool_error(c, code, 1);
		return;
	}
	if (has_suffix(ct, "_view_result"))
		show_view(c);
	else if (has_suffix(ct, "_create_result")) {
		g.fmt->line(T_OK);
		g.fmt->lit(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c,
		    "is_file_update")) ? "updated" : "created");
		if (path != NULL) {
			g.fmt->lit(" ");
			g.fmt->code(path);
		}
		g.fmt->eol();
	} else if (has_suffix(ct, "_str_replace_result")) {
		snprintf(buf, sizeof(buf),
		    "replaced: @@ -%lld,%lld +%lld,%lld @@",
		    jll(c, "old_start", 0), jll(c, "old_lines", 0),
		    jll(c, "new_start", 0), jll(c, "new_lines", 0));
		line1(T_OK, buf);
		cJSON_ArrayForEach(l, ca_jarr(c, "lines"))
			if (cJSON_IsString(l)) {
				ca_buf_addstr(&d, l->valuestring);
				ca_buf_add(&d, "\n", 1);
			}
		if (d.len > 0)
			g.fmt->block(BK_DIFF, "lines", "diff", d.p, d.len);
		ca_buf_free(&d);
	} else {
		line_lc(T_DIM, "[unknown editor result: ", ct, "]");
	}
}

static void
show_search_result(const cJSON *b, const char *what)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "content"), *r;
	const char *code;
	char buf[64];
	int n = 0;

	if ((code = ca_blk_error_code(b)) != NULL) {
		show_tool_error(c, code, 0);
		return;
	}
	if (cJSON_IsArray(c)) {
		snprintf(buf, sizeof(buf), "%s found %d result%s", what,
		    cJSON_GetArraySize(c), cJSON_GetArraySize(c) == 1 ?
		    "" : "s");
		line1(T_DIM, buf);
		cJSON_ArrayForEach(r, c) {
			if (++n > 5)
				break;
			g.fmt->line(T_DIM);
			g.fmt->lit("  ");
			g.fmt->val(nz(ca_jstr(r, "title")));
			g.fmt->lit(" ");
			g.fmt->code(nz(ca_jstr(r, "url")));
			g.fmt->eol();
		}
		return;
	}
	g.fmt->line(T_DIM);
	g.fmt->lit(what);
	g.fmt->lit(" found ");
	if (ca_jstr(c, "url") != NULL)
		g.fmt->code(ca_jstr(c, "url"));
	else {
		cJSON_ArrayForEach(r, ca_jarr(c, "tool_references")) {
			if (++n > 1)
				g.fmt->lit(", ");
			g.fmt->code(nz(ca_jstr(r, "tool_name")));
		}
		if (n == 0)
			g.fmt->lit("no result");
	}
	g.fmt->eol();
}

void
show_thinking(const char *s)
{
	char *t;

	if (g.nothink)
		return;
	t = brief(nz(s), THINK_BYTES, 1000, 1);
	g.fmt->line(T_DIM);
	g.fmt->lit("thinking: ");
	g.fmt->val(t);
	g.fmt->eol();
	free(t);
}

static void
show_upload(const char *id)
{
	file_line(T_DIM, "container upload ", id, finfo_find(id));
	g.fmt->eol();
}

/* The API called a tool on an MCP server: server, tool, input. */
static void
show_mcp_call(const cJSON *b)
{
	g.fmt->line(T_CALL);
	g.fmt->lit("mcp tool ");
	g.fmt->code(nz(ca_jstr(b, "name")));
	g.fmt->lit(" on ");
	g.fmt->code(nz(ca_jstr(b, "server_name")));
	g.fmt->eol();
	block_json("input", cJSON_GetObjectItemCaseSensitive(b, "input"));
}

/* Its result: a string or text blocks, maybe an error. */
static void
show_mcp_result(const cJSON *b)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "content"), *e;
	struct ca_buf txt = { NULL, 0, 0, 0 };
	int err = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b,
	    "is_error"));

	if (cJSON_IsString(c))
		ca_buf_addstr(&txt, c->valuestring);
	else
		cJSON_ArrayForEach(e, c) {
			if (txt.len > 0)
				ca_buf_addstr(&txt, "\n");
			ca_buf_addstr(&txt, nz(ca_jstr(e, "text")));
		}
	/* Not BK_STDOUT: --stdout is what the code printed, not this. */
	g.fmt->block(err ? BK_STDERR : BK_CONTENT, err ? "mcp error" :
	    "mcp result", NULL, txt.p != NULL ? txt.p : "",
	    txt.len);
	ca_buf_free(&txt);
}

/*
 * A tool_call record (ca-exec answered a client tool): who called, how
 * it ended, and the start of what went back.
 */
void
show_toolcall(const cJSON *rec)
{
	const char *caller = nz(ca_jstr(rec, "caller"));
	int err = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec,
	    "is_error"));
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(rec, "exit");
	char buf[128], *pre;

	g.fmt->line(err ? T_ERR : T_OK);
	g.fmt->lit("tool result ");
	g.fmt->code(nz(ca_jstr(rec, "name")));
	g.fmt->lit(strcmp(caller, "direct") == 0 ? " (direct call)" :
	    " (called from code)");
	if (cJSON_IsNumber(ex)) {
		snprintf(buf, sizeof(buf), ": exit %d, %.0f ms, %.0f bytes%s",
		    ex->valueint, ca_jnum(rec, "duration_ms", 0),
		    ca_jnum(rec, "bytes", 0), cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(rec, "truncated")) ?
		    " (cut)" : "");
		g.fmt->lit(buf);
	} else
		g.fmt->lit(": not run");
	g.fmt->eol();
	if (err) {
		block_str(BK_STDERR, "error", NULL, ca_jstr(rec, "error"));
		return;
	}
	/* A preview: the whole answer is in the record, for jq. */
	pre = brief(nz(ca_jstr(rec, "result")), 600, 8, 0);
	block_str(BK_CONTENT, "result", NULL, pre);
	free(pre);
}

/* A count record: what a request would cost in input tokens. */
void
show_count(const cJSON *rec)
{
	char buf[96];

	g.fmt->line(T_DIM);
	g.fmt->lit("count ");
	g.fmt->code(nz(ca_jstr(rec, "custom_id")));
	snprintf(buf, sizeof(buf), ": %.0f input tokens",
	    ca_jnum(rec, "input_tokens", 0));
	g.fmt->lit(buf);
	g.fmt->eol();
}

void
show_block(const cJSON *b)
{
	const char *t;

	switch (ca_blk_kind(b)) {
	case CA_BLK_TEXT:
		/* Adjacent text blocks (cited passages) read as one. */
		t = nz(ca_jstr(b, "text"));
		g.fmt->text(t, strlen(t));
		break;
	case CA_BLK_THINKING:
		show_thinking(ca_jstr(b, "thinking"));
		break;
	case CA_BLK_REDACTED_THINKING:
		if (!g.nothink)
			line1(T_DIM, "(redacted thinking)");
		break;
	case CA_BLK_MCP_TOOL_USE:
		show_mcp_call(b);
		break;
	case CA_BLK_MCP_TOOL_RESULT:
		show_mcp_result(b);
		break;
	case CA_BLK_TOOL_USE:
		show_tool_use(b);
		break;
	case CA_BLK_SERVER_TOOL_USE:
		show_server_call(b);
		break;
	case CA_BLK_CODE_RESULT:
	case CA_BLK_BASH_RESULT:
		show_exec_result(b);
		break;
	case CA_BLK_EDITOR_RESULT:
		show_editor_result(b);
		break;
	case CA_BLK_CONTAINER_UPLOAD:
		show_upload(ca_jstr(b, "file_id"));
		break;
	case CA_BLK_WEB_SEARCH_RESULT:
		show_search_result(b, "web search");
		break;
	case CA_BLK_WEB_FETCH_RESULT:
		show_search_result(b, "web fetch");
		break;
	case CA_BLK_TOOL_SEARCH_RESULT:
		show_search_result(b, "tool search");
		break;
	case CA_BLK_COMPACTION:
		show_compaction(b);
		break;
	case CA_BLK_OTHER:
		t = ca_jstr(b, "type");
		line_lc(T_DIM, "[unknown block: ", t != NULL ? t : "?", "]");
		break;
	}
}

/*
 * A message's blocks, skipping those a stream already showed.  A text
 * block the stream cut short shows the rest of its text.
 */
void
show_content(const cJSON *msg, const struct live *lv)
{
	const cJSON *b;
	const struct lblk *lb;
	const char *t;
	size_t i = 0, n;

	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		lb = lv != NULL && i < lv->nb ? &lv->b[i] : NULL;
		i++;
		if (lb != NULL && lb->shown)
			continue;
		if (lb != NULL && lb->textlen > 0 &&
		    ca_blk_kind(b) == CA_BLK_TEXT) {
			t = nz(ca_jstr(b, "text"));
			n = strlen(t);
			if (n > lb->textlen)
				g.fmt->text(t + lb->textlen, n - lb->textlen);
			continue;
		}
		show_block(b);
	}
	if (i == 0)
		line1(T_DIM, "(no content)");
	g.fmt->text_end();
}

void
show_footer(const cJSON *rec, const cJSON *msg)
{
	const cJSON *u = ca_jobj(msg, "usage"), *sd;
	const char *stop = ca_jstr(msg, "stop_reason");
	char buf[160];
	double cw, cr, in, out;

	ca_price_tokens(u, &in, &out);
	g.fmt->line(T_DIM);
	g.fmt->lit("stop reason ");
	g.fmt->code(stop != NULL ? stop : "none");
	g.fmt->lit(", model ");
	g.fmt->code(nz(ca_jstr(msg, "model")));
	snprintf(buf, sizeof(buf), ", %.0f input + %.0f output tokens",
	    in, out);
	g.fmt->lit(buf);
	cw = ca_jnum(u, "cache_creation_input_tokens", 0);
	cr = ca_jnum(u, "cache_read_input_tokens", 0);
	if (cw > 0 || cr > 0) {
		snprintf(buf, sizeof(buf), " (cache: %.0f written, %.0f read)",
		    cw, cr);
		g.fmt->lit(buf);
	}
	g.fmt->eol();
	show_edits(msg);
	if (stop == NULL)
		return;
	if (strcmp(stop, "compaction") == 0) {
		snprintf(buf, sizeof(buf), "paused after compaction; "
		    "continuing (part %lld)", jll(rec, "part", 1) + 1);
		line1(T_WARN, buf);
	} else if (strcmp(stop, "pause_turn") == 0) {
		snprintf(buf, sizeof(buf), "paused; continuing (part %lld)",
		    jll(rec, "part", 1) + 1);
		line1(T_WARN, buf);
	} else if (strcmp(stop, "max_tokens") == 0)
		line1(T_WARN, "stopped at max_tokens: the reply is cut short");
	else if (strcmp(stop, "model_context_window_exceeded") == 0)
		line1(T_WARN, "stopped: the context window is full");
	else if (strcmp(stop, "tool_use") == 0)
		line1(T_DIM, "waiting for a tool result");
	else if (strcmp(stop, "refusal") == 0) {
		sd = ca_jobj(msg, "stop_details");
		g.fmt->line(T_ERR);
		g.fmt->lit("refused");
		if (ca_jstr(sd, "explanation") != NULL) {
			g.fmt->lit(": ");
			g.fmt->val(ca_jstr(sd, "explanation"));
		}
		g.fmt->eol();
	}
}

/* The user's words: the last user message's text, and what it attached. */
void
show_request(const cJSON *rec)
{
	const cJSON *p = ca_jobj(rec, "params"), *m, *last = NULL, *b, *c;
	const cJSON *arr;
	const char *model = ca_jstr(p, "model"), *id;
	struct ca_buf txt = { NULL, 0, 0, 0 };
	char *s;

	cJSON_ArrayForEach(m, ca_jarr(p, "messages"))
		if (strcmp(nz(ca_jstr(m, "role")), "user") == 0)
			last = m;
	g.fmt->line(T_DIM);
	g.fmt->lit("request");
	if (model != NULL) {
		g.fmt->lit(" to ");
		g.fmt->code(model);
	}
	g.fmt->eol();
	if (last == NULL)
		return;
	c = cJSON_GetObjectItemCaseSensitive(last, "content");
	arr = cJSON_IsArray(c) ? c : NULL;
	if (cJSON_IsString(c))
		ca_buf_addstr(&txt, c->valuestring);
	cJSON_ArrayForEach(b, arr) {
		if (ca_blk_kind(b) == CA_BLK_TEXT) {
			if (txt.len > 0)
				ca_buf_addstr(&txt, "\n\n");
			ca_buf_addstr(&txt, nz(ca_jstr(b, "text")));
		}
	}
	if (txt.len > 0) {
		s = g.fmt->brief ? brief(txt.p, BRIEF_BYTES, BRIEF_LINES, 0) :
		    ca_xstrdup(txt.p);
		g.fmt->block(BK_PROMPT, "prompt", NULL, s, strlen(s));
		free(s);
	}
	ca_buf_free(&txt);
	cJSON_ArrayForEach(b, arr) {
		id = ca_jstr(b, "file_id");
		if (id == NULL)
			id = ca_jstr(ca_jobj(b, "source"), "file_id");
		if (id == NULL)
			continue;
		file_line(T_DIM, "attached ", id, finfo_find(id));
		g.fmt->eol();
	}
}

/* ca-upload's error record for a path: no turn's. */
int
upload_error(const cJSON *rec)
{
	return strcmp(nz(ca_jstr(rec, "type")), "error") == 0 &&
	    ca_jstr(rec, "path") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(rec, "custom_id") == NULL;
}

/*
 * An error of no turn: a path ca-upload could not upload, a file
 * ca-fetch --id could not fetch, a tool that refused to run.
 */
int
loose_error(const cJSON *rec)
{
	return strcmp(nz(ca_jstr(rec, "type")), "error") == 0 &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec,
	    "custom_id"));
}

/* What failed, before the error: the path, the file, the tool. */
static void
error_what(const cJSON *rec)
{
	if (upload_error(rec)) {
		g.fmt->lit("not uploaded ");
		g.fmt->code(ca_jstr(rec, "path"));
		g.fmt->lit(": ");
	} else if (ca_jstr(rec, "file_id") != NULL) {
		g.fmt->lit("not fetched ");
		g.fmt->code(ca_jstr(rec, "file_id"));
		g.fmt->lit(": ");
	} else if (ca_jstr(rec, "tool") != NULL && loose_error(rec)) {
		g.fmt->code(ca_jstr(rec, "tool"));
		g.fmt->lit(" did not run: ");
	}
}

void
show_error(const cJSON *rec)
{
	const cJSON *e = ca_jobj(rec, "error");
	double st = ca_jnum(rec, "status", 0);
	const char *rid = ca_jstr(rec, "request_id");
	char buf[64];

	g.fmt->line(T_ERR);
	error_what(rec);
	g.fmt->lit("error");
	if (st > 0) {
		snprintf(buf, sizeof(buf), " %.0f", st);
		g.fmt->lit(buf);
	}
	g.fmt->lit(" ");
	g.fmt->code(nz(ca_jstr(e, "type")));
	g.fmt->lit(": ");
	g.fmt->val(ca_jstr(e, "message") != NULL ? ca_jstr(e, "message") :
	    "(no message)");
	g.fmt->eol();
	if (rid == NULL && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
	    rec, "attempts")))
		return;
	g.fmt->line(T_DIM);
	if (rid != NULL) {
		g.fmt->lit("request id ");
		g.fmt->code(rid);
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec,
	    "attempts"))) {
		snprintf(buf, sizeof(buf), "%s%lld attempt%s",
		    rid != NULL ? ", " : "", jll(rec, "attempts", 0),
		    jll(rec, "attempts", 0) == 1 ? "" : "s");
		g.fmt->lit(buf);
	}
	g.fmt->eol();
}

/*
 * Where a file record's file came from.  ca-upload's records carry the
 * local path; the Files API marks the files a tool generated, and only
 * those, downloadable (ca-files lists both kinds).
 */
const char *
file_origin(const cJSON *rec)
{
	const cJSON *meta = ca_jobj(rec, "file");
	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(meta, "downloadable");

	if (ca_jstr(rec, "path") != NULL || cJSON_IsFalse(dl))
		return "uploaded";
	if (cJSON_IsTrue(dl))
		return "generated";
	return "file";
}

void
show_filerec(const cJSON *rec)
{
	const cJSON *meta = ca_jobj(rec, "file");
	const char *path = ca_jstr(rec, "path");
	long long size = jll(meta, "size_bytes", -1);
	char buf[64];

	finfo_note(rec, 0);
	g.fmt->line(T_OK);
	g.fmt->lit(file_origin(rec));
	g.fmt->lit(" ");
	g.fmt->code(path != NULL ? path : nz(ca_jstr(meta, "filename")));
	g.fmt->lit(" \xe2\x86\x92 ");
	g.fmt->code(nz(ca_jstr(meta, "id")));
	if (size >= 0) {
		snprintf(buf, sizeof(buf), " (%lld bytes)", size);
		g.fmt->lit(buf);
	}
	g.fmt->eol();
}

void
show_fetched(const cJSON *rec)
{
	struct finfo *fi = finfo_note(rec, 1);
	const char *id = ca_jstr(ca_jobj(rec, "file"), "id");
	long long size = jll(rec, "size", -1);
	char buf[64];

	g.fmt->line(T_OK);
	g.fmt->lit("fetched ");
	g.fmt->code(nz(id));
	g.fmt->lit(" \xe2\x86\x92 ");
	g.fmt->code(nz(ca_jstr(rec, "path")));
	if (size >= 0) {
		snprintf(buf, sizeof(buf), " (%lld bytes)", size);
		g.fmt->lit(buf);
	}
	g.fmt->eol();
	if (fi != NULL && fi->fetched && !fi->shown && g.fmt->file != NULL) {
		g.fmt->file(fi);
		fi->shown = 1;
	}
}

void
show_deleted(const cJSON *rec)
{
	g.fmt->line(T_DIM);
	g.fmt->lit("deleted ");
	g.fmt->code(nz(ca_jstr(rec, "id")));
	if (ca_jstr(rec, "path") != NULL) {
		g.fmt->lit(" ");
		g.fmt->code(ca_jstr(rec, "path"));
	}
	g.fmt->eol();
}

/* A batch record (ca-batch): its id, status, counts and expiry. */
void
show_batch(const cJSON *rec)
{
	const cJSON *b = ca_jobj(rec, "batch");
	const cJSON *c = ca_jobj(b, "request_counts");
	char buf[256];

	g.fmt->line(T_DIM);
	g.fmt->lit("batch ");
	g.fmt->code(nz(ca_jstr(b, "id")));
	g.fmt->lit(" ");
	g.fmt->val(nz(ca_jstr(b, "processing_status")));
	snprintf(buf, sizeof(buf), ": %lld processing, %lld succeeded, "
	    "%lld errored, %lld canceled, %lld expired",
	    jll(c, "processing", 0), jll(c, "succeeded", 0),
	    jll(c, "errored", 0), jll(c, "canceled", 0), jll(c, "expired", 0));
	g.fmt->lit(buf);
	if (ca_jstr(b, "expires_at") != NULL) {
		g.fmt->lit("; expires ");
		g.fmt->val(ca_jstr(b, "expires_at"));
	}
	g.fmt->eol();
}

void
show_other(const char *type)
{
	line_lc(T_DIM, "[unknown record: ", type, "]");
}

void
show_free(void)
{
	size_t i;

	for (i = 0; i < EDIT_IDS; i++) {
		free(edits[i].id);
		free(edits[i].path);
	}
}
