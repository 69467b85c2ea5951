/*
 * context.c: what the API did to keep a long conversation in bounds: a
 * compaction block (a summary standing for what came before), and with
 * -v the context edits it applied (old tool results or thinking
 * cleared on the server's side).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-render.h"

void
show_compaction(const cJSON *b)
{
	const char *s = ca_jstr(b, "content");
	char *cut;

	g.fmt->line(T_DIM);
	if (s == NULL) {
		g.fmt->lit("(compaction failed: the history stays as it was)");
		g.fmt->eol();
		return;
	}
	g.fmt->lit("compacted: ");
	cut = brief(s, 300, 3, 1);
	g.fmt->val(cut);
	free(cut);
	g.fmt->eol();
}

/* One line an applied edit, -v only: it changes nothing on our side. */
void
show_edits(const cJSON *msg)
{
	const cJSON *e;
	const char *t;
	char buf[200];

	if (ca_verbose == 0)
		return;
	cJSON_ArrayForEach(e, ca_jarr(ca_jobj(msg, "context_management"),
	    "applied_edits")) {
		t = ca_jstr(e, "type");
		if (t != NULL && strncmp(t, "clear_thinking", 14) == 0)
			snprintf(buf, sizeof(buf), " cleared %.0f thinking "
			    "turns", ca_jnum(e, "cleared_thinking_turns", 0));
		else
			snprintf(buf, sizeof(buf), " cleared %.0f tool uses",
			    ca_jnum(e, "cleared_tool_uses", 0));
		g.fmt->line(T_DIM);
		g.fmt->lit("context edit ");
		g.fmt->code(nz(t));
		g.fmt->lit(buf);
		snprintf(buf, sizeof(buf), " (%.0f input tokens)",
		    ca_jnum(e, "cleared_input_tokens", 0));
		g.fmt->lit(buf);
		g.fmt->eol();
	}
}
