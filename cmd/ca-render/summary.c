/*
 * summary.c: what the input adds up to.  The files it names (uploaded,
 * generated, fetched), for the reports to link or embed; and per turn
 * and in all, the tokens, runs, edits, errors, containers and the cost
 * at list prices (ca_price_msg, which ca-exec --max-cost also uses).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-render.h"

static struct finfo *fhash[HASH_SIZE];

struct finfo *
finfo_find(const char *id)
{
	struct finfo *f;

	if (id == NULL)
		return NULL;
	for (f = fhash[hashstr(id) % HASH_SIZE]; f != NULL; f = f->hnext)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

/* Learn a file from a file or fetched record. */
struct finfo *
finfo_note(const cJSON *rec, int fetched)
{
	const cJSON *meta = ca_jobj(rec, "file");
	const char *id = ca_jstr(meta, "id");
	struct finfo *f;
	unsigned h;

	if (id == NULL)
		return NULL;
	if ((f = finfo_find(id)) == NULL) {
		f = ca_xcalloc(1, sizeof(*f));
		f->id = ca_xstrdup(id);
		f->size = -1;
		h = hashstr(id) % HASH_SIZE;
		f->hnext = fhash[h];
		fhash[h] = f;
	}
	setstr(&f->name, ca_jstr(meta, "filename"));
	setstr(&f->mime, ca_jstr(meta, "mime_type"));
	if (fetched || f->path == NULL) {
		setstr(&f->path, ca_jstr(rec, "path"));
		f->size = jll(rec, "size", jll(meta, "size_bytes", -1));
	}
	if (fetched && f->path != NULL)
		f->fetched = 1;
	return f;
}

void
finfo_freeall(void)
{
	struct finfo *f, *n;
	size_t i;

	for (i = 0; i < HASH_SIZE; i++)
		for (f = fhash[i]; f != NULL; f = n) {
			n = f->hnext;
			free(f->id);
			free(f->name);
			free(f->path);
			free(f->mime);
			free(f);
		}
}

/* Images a browser shows; the data: URI type comes only from this list. */
int
is_image(const struct finfo *fi, const char **mime)
{
	static const struct {
		const char *mime, *ext1, *ext2;
	} img[] = {
		{ "image/png", ".png", NULL },
		{ "image/jpeg", ".jpg", ".jpeg" },
		{ "image/gif", ".gif", NULL },
		{ "image/webp", ".webp", NULL },
		{ "image/svg+xml", ".svg", NULL },
	};
	const char *name = fi->path != NULL ? fi->path : nz(fi->name);
	size_t i, n = strlen(name);
	char ext[8];

	for (i = 0; i < sizeof(img) / sizeof(img[0]); i++)
		if (fi->mime != NULL && strcmp(fi->mime, img[i].mime) == 0) {
			*mime = img[i].mime;
			return 1;
		}
	for (i = n; i > 0 && name[i - 1] != '.' && name[i - 1] != '/'; i--)
		;
	if (i == 0 || name[i - 1] != '.' || n - i + 1 >= sizeof(ext))
		return 0;
	for (n = 0; name[i - 1 + n] != '\0'; n++)
		ext[n] = (char)(name[i - 1 + n] >= 'A' && name[i - 1 + n] <=
		    'Z' ? name[i - 1 + n] + 32 : name[i - 1 + n]);
	ext[n] = '\0';
	for (i = 0; i < sizeof(img) / sizeof(img[0]); i++)
		if (strcmp(ext, img[i].ext1) == 0 || (img[i].ext2 != NULL &&
		    strcmp(ext, img[i].ext2) == 0)) {
			*mime = img[i].mime;
			return 1;
		}
	return 0;
}

static void
tally_container(struct tally *t, const char *id, const char *expires,
    int billed)
{
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; i < t->nc; i++)
		if (strcmp(t->c[i].id, id) == 0) {
			setstr(&t->c[i].expires, expires);
			t->c[i].billed |= billed;
			return;
		}
	t->c = ca_xrealloc(t->c, (t->nc + 1) * sizeof(*t->c));
	t->c[t->nc].id = ca_xstrdup(id);
	t->c[t->nc].expires = expires != NULL ? ca_xstrdup(expires) : NULL;
	t->c[t->nc].billed = billed;
	t->nc++;
}

/*
 * Count one API response, priced by ca_price_msg; req is what its
 * request says of container time (ca_price_req; 0 if not seen).
 */
void
tally_message(struct tally *t, const cJSON *msg, unsigned req)
{
	const cJSON *u = ca_jobj(msg, "usage"), *b;
	const cJSON *ct = ca_jobj(msg, "container");
	const char *model = ca_jstr(msg, "model");
	const char *tier = ca_jstr(u, "service_tier");
	double usd = ca_price_msg(msg);
	double cw5, cw1h, in, out;

	ca_cache_writes(u, &cw5, &cw1h);
	ca_price_tokens(u, &in, &out);	/* compaction iterations too */
	t->in += in;
	t->out += out;
	t->cw5 += cw5;
	t->cw1h += cw1h;
	t->cr += ca_jnum(u, "cache_read_input_tokens", 0);
	t->responses++;
	if (tier != NULL && strcmp(tier, "batch") == 0)
		t->batched++;	/* priced at half by ca_price_msg */
	if (usd >= 0)
		t->usd += usd;
	else if (t->unknown == NULL)
		t->unknown = ca_xstrdup(model != NULL ? model : "(none)");
	tally_container(t, ca_jstr(ct, "id"), ca_jstr(ct, "expires_at"),
	    ca_price_billed(req, msg));
	cJSON_ArrayForEach(b, ca_jarr(msg, "content")) {
		switch (ca_blk_kind(b)) {
		case CA_BLK_CODE_RESULT:
		case CA_BLK_BASH_RESULT:
			t->runs++;
			/* Shown in red above: the summary must not say 0. */
			if (ca_blk_error_code(b) != NULL ||
			    jll(ca_jobj(b, "content"), "return_code", 0) != 0)
				t->toolerrs++;
			break;
		case CA_BLK_EDITOR_RESULT:
			t->edits++;
			if (ca_blk_error_code(b) != NULL)
				t->toolerrs++;
			break;
		default:
			break;
		}
	}
}

void
tally_merge(struct tally *to, const struct tally *t)
{
	size_t i;

	to->in += t->in;
	to->out += t->out;
	to->cw5 += t->cw5;
	to->cw1h += t->cw1h;
	to->cr += t->cr;
	to->usd += t->usd;
	to->responses += t->responses;
	to->batched += t->batched;
	to->runs += t->runs;
	to->edits += t->edits;
	to->errors += t->errors;
	to->toolerrs += t->toolerrs;
	if (to->unknown == NULL && t->unknown != NULL)
		to->unknown = ca_xstrdup(t->unknown);
	for (i = 0; i < t->nc; i++)
		tally_container(to, t->c[i].id, t->c[i].expires,
		    t->c[i].billed);
}

void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->nc; i++) {
		free(t->c[i].id);
		free(t->c[i].expires);
	}
	free(t->c);
	free(t->unknown);
	memset(t, 0, sizeof(*t));
}

void
show_tally(const struct tally *t)
{
	char buf[256], tool[64] = "", ct[96];
	double cusd;
	long nerr = t->errors + t->toolerrs;
	size_t i, nb = 0;

	if (t->responses == 0) {
		snprintf(buf, sizeof(buf), "no response, %ld error%s",
		    t->errors, t->errors == 1 ? "" : "s");
		line1(T_DIM, buf);
		return;
	}
	snprintf(buf, sizeof(buf), "tokens: %.0f input, %.0f output, "
	    "%.0f cache write, %.0f cache read", t->in, t->out,
	    t->cw5 + t->cw1h, t->cr);
	line1(T_DIM, buf);
	if (t->toolerrs > 0)
		snprintf(tool, sizeof(tool), " (%ld in code execution)",
		    t->toolerrs);
	/* Of all input, the share read from the cache. */
	if (t->cw5 + t->cw1h + t->cr > 0) {
		snprintf(buf, sizeof(buf), "cache hit ratio: %.0f%% of input "
		    "tokens read from the cache", 100 * t->cr /
		    (t->in + t->cw5 + t->cw1h + t->cr));
		line1(T_DIM, buf);
	}
	snprintf(buf, sizeof(buf), "%ld response%s, %ld code run%s, "
	    "%ld file edit%s, %ld error%s%s", t->responses,
	    t->responses == 1 ? "" : "s", t->runs, t->runs == 1 ? "" : "s",
	    t->edits, t->edits == 1 ? "" : "s", nerr,
	    nerr == 1 ? "" : "s", tool);
	line1(T_DIM, buf);
	for (i = 0; i < t->nc; i++) {
		g.fmt->line(T_DIM);
		g.fmt->lit("container ");
		g.fmt->code(t->c[i].id);
		if (t->c[i].expires != NULL) {
			g.fmt->lit(" expires ");
			g.fmt->val(t->c[i].expires);
		}
		g.fmt->eol();
	}
	for (i = 0; i < t->nc; i++)
		nb += t->c[i].billed != 0;
	cusd = ca_price_containers(nb);
	/* Only containers that ran code or held files are billed. */
	snprintf(ct, sizeof(ct), "container time $%.4f: %zu \xc3\x97 "
	    "5-minute minimum", cusd, nb);
	if (nb < t->nc)
		snprintf(ct + strlen(ct), sizeof(ct) - strlen(ct),
		    ", %zu not billed", t->nc - nb);
	g.fmt->line(T_DIM);
	if (t->unknown != NULL) {
		g.fmt->lit("estimated cost: unknown (no price for model ");
		g.fmt->code(t->unknown);
		g.fmt->lit(")");
	} else if (t->batched > 0) {
		snprintf(buf, sizeof(buf), "estimated cost: $%.4f (tokens "
		    "$%.4f, %ld of %ld response%s at the batch rate, 50 %%; "
		    "%s)", t->usd + cusd, t->usd, t->batched, t->responses,
		    t->responses == 1 ? "" : "s", ct);
		g.fmt->lit(buf);
	} else {
		snprintf(buf, sizeof(buf), "estimated cost: $%.4f (tokens "
		    "$%.4f, %s)", t->usd + cusd, t->usd, ct);
		g.fmt->lit(buf);
	}
	g.fmt->eol();
}

