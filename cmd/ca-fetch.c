/*
 * ca-fetch: download the files that code execution produced.
 *
 * Every record passes through unchanged; after each response record the
 * files its code execution results name are fetched into a directory.
 * The names come from the server, so they are never trusted: lib/
 * ca_save.c cleans them and publishes each file under its name only
 * once it is complete and synced.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

#define META_MAX	((size_t)1 << 20)	/* one metadata body */
#define IDLE_MS		60000L		/* abort a request stalled this long */
#define XFER_BUF	(512L << 10)	/* libcurl's buffer for a download */
/* No generated file is larger than a container's 5 GiB of disk. */
#define FETCH_MAX	((long long)5 << 30)
#define PROGRESS_MIN	((long long)1 << 20)

struct fetch {
	struct ca_api	 api;
	struct curl_slist *hdrs;	/* metadata requests */
	struct curl_slist *chdrs;	/* content requests */
	const char	*dir;		/* as the user named it */
	int		 dirfd;
	const char	*outpath;	/* -o, or NULL */
	const char	*outname;	/* its last component */
	int		 tostdout;	/* -o - */
	int		 fflag;
	int		 qflag;
	mode_t		 mode;		/* of published files */
	struct ca_strset seen;		/* ids fetched (or tried) this run */
	struct ca_strset names;		/* names given out this run */
	long		 idle_ms;	/* --idle-timeout */
	const char	**ids;		/* the --id operands, in order */
	size_t		  nids;
	struct ca_status st;	/* the exit-status rule's tally */
	/* Why the file being fetched failed, for its error record. */
	cJSON		*ferr;		/* the first cause, or NULL */
	long		 fstatus;	/* its HTTP status, or 0 */
	char		 frid[128];	/* its request-id, or "" */
};

/* The tool's state, filled by parse_opts(); its functions take &g. */
static struct fetch g = { .dir = ".", .dirfd = -1, .idle_ms = IDLE_MS };

/* Where a download's bytes go, and what we know about them. */
struct sink {
	CURL		*h;
	struct ca_resp	*resp;
	int		 fd;
	int		 tostdout;
	struct ca_sha256	 sha;
	char		*wbuf;		/* bytes for a file, gathered */
	size_t		 wlen;
	long long	 got;
	long long	 want;		/* size from the metadata, -1 unknown */
	long long	 max;		/* abort past this */
	int		 started;	/* the first body bytes were seen */
	int		 ok;		/* this response is a 2xx */
	int		 err;		/* errno of a failed write */
	char		 why[160];	/* why the transfer was aborted */
	/* progress */
	int		 progress;
	const char	*shown;
	struct timespec	 last;
};

/* "DIR/NAME" as records and messages show it. */
static char *
shown_path(const struct fetch *f, const char *name)
{
	size_t n = strlen(f->dir);
	char *s;

	if (f->outpath != NULL)
		return ca_xstrdup(f->outpath);
	s = ca_xmalloc(n + strlen(name) + 2);
	memcpy(s, f->dir, n);
	if (n == 0 || f->dir[n - 1] != '/')
		s[n++] = '/';
	strcpy(s + n, name);
	return s;
}

/*
 * Open the directory the user named.  It may itself be a symbolic link
 * the user chose; names inside it are never followed.
 */
static int
open_dir(const char *dir, int create)
{
	int fd;

	if (create && ca_mkdirs(dir, 0755) == -1) {
		(void)ca_refuse("file_error", "mkdir %s:", dir);
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		(void)ca_refuse("file_error", "%s:", dir);
	return fd;
}

/*
 * libcurl hands over 16 KiB at a time; a file gets them in writes of
 * XFER_BUF.  Standard output gets each piece as it comes.
 */
static int
sink_flush(struct sink *s)
{
	if (s->wlen > 0 && ca_write_all(s->fd, s->wbuf, s->wlen) == -1) {
		s->err = errno;
		return -1;
	}
	s->wlen = 0;
	return 0;
}

static int
sink_write(struct sink *s, const char *p, size_t n)
{
	if (s->tostdout || n >= XFER_BUF) {
		if (sink_flush(s) == -1)
			return -1;
		if (ca_write_all(s->fd, p, n) == -1) {
			s->err = errno;
			return -1;
		}
		return 0;
	}
	if (s->wlen + n > XFER_BUF && sink_flush(s) == -1)
		return -1;
	if (s->wbuf == NULL)
		s->wbuf = ca_xmalloc(XFER_BUF);
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
	return 0;
}

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
progress_line(struct sink *s, int done)
{
	double mib = (double)s->got / (1 << 20);
	char *shown = ca_sanitize(s->shown, 0);	/* -d DIR: any bytes */

	if (s->want > 0)
		fprintf(stderr, "\r%s: %s %3d%% %.1f/%.1f MiB", ca_prog,
		    shown, (int)(100.0 * (double)s->got / (double)s->want),
		    mib, (double)s->want / (1 << 20));
	else
		fprintf(stderr, "\r%s: %s %.1f MiB", ca_prog, shown, mib);
	free(shown);
	if (done)
		fputc('\n', stderr);
	fflush(stderr);
}

static int
on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct sink *s = ctx;
	struct timespec now;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (!s->progress || !s->ok || s->got == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed(&s->last, &now) >= 0.2) {
		s->last = now;
		progress_line(s, 0);
	}
	return 0;
}

/*
 * The body of the first response decides: a 2xx goes to the file (after
 * its Content-Length is checked against the metadata), anything else is
 * an error body kept for the message.  Returning short aborts.
 */
static size_t
on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;
	long long cl;

	if (!s->started) {
		long st = 0;

		s->started = 1;
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &st);
		s->ok = st >= 200 && st < 300;
		cl = s->resp->content_length;
		if (s->ok && cl >= 0 && s->want >= 0 && cl != s->want) {
			snprintf(s->why, sizeof(s->why), "the server announced "
			    "%lld bytes, the file's metadata says %lld",
			    cl, s->want);
			return 0;
		}
		if (s->ok && cl > s->max) {
			snprintf(s->why, sizeof(s->why), "the server announced "
			    "%lld bytes, over the limit of %lld", cl, s->max);
			return 0;
		}
	}
	if (!s->ok)
		return ca_buf_add(&s->resp->body, p, n) == -1 ? 0 : n;
	if ((long long)n > s->max - s->got) {
		if (s->want >= 0)
			snprintf(s->why, sizeof(s->why), "the server sent more "
			    "than the %lld bytes the file's metadata says",
			    s->want);
		else
			snprintf(s->why, sizeof(s->why), "the server sent more "
			    "than %lld bytes", s->max);
		return 0;
	}
	if (sink_write(s, p, n) == -1)
		return 0;
	ca_sha256_update(&s->sha, p, n);
	s->got += (long long)n;
	return n;
}

/* Before a retry: start the file over, or refuse if it is stdout. */
static int
sink_rewind(void *ctx)
{
	struct sink *s = ctx;

	if (s->tostdout && s->got > 0)
		return -1;
	if (!s->tostdout && (ftruncate(s->fd, 0) == -1 ||
	    lseek(s->fd, 0, SEEK_SET) == -1))
		return -1;
	ca_sha256_free(&s->sha);
	ca_sha256_init(&s->sha);
	s->wlen = 0;
	s->got = 0;
	s->started = s->ok = 0;
	s->why[0] = '\0';
	return 0;
}

/* Report a failed call on file id as "ID: WHAT: why". */
static void
report(const char *id, const char *what, const struct ca_resp *resp)
{
	char *sid = ca_sanitize(id, 100), *w;

	w = ca_xmalloc(strlen(sid) + strlen(what) + 3);
	sprintf(w, "%s: %s", sid, what);
	ca_call_report(w, resp);
	free(w);
	free(sid);
}

/*
 * The file being fetched failed: count rc, and keep the first cause for
 * the error record fetch_one writes, so that the tools after us see the
 * file missing, not only the person reading standard error.
 */
static void
fail_api(struct fetch *f, int rc, const struct ca_resp *resp)
{
	ca_status_add(&f->st, rc);
	if (f->ferr != NULL)
		return;
	f->ferr = ca_resp_error(resp);
	f->fstatus = resp->cc == CURLE_OK ? resp->status : 0;
	snprintf(f->frid, sizeof(f->frid), "%s", f->fstatus > 0 ?
	    resp->request_id : "");
}

/* A failure of ours or of what the server sent: tell, and keep it. */
static void CA_PRINTF(3, 4)
fail(struct fetch *f, const char *etype, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	ca_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ca_warn("%s", msg);
	ca_status_add(&f->st, CA_EX_FAIL);
	if (f->ferr == NULL) {
		f->ferr = ca_errobj(etype, msg);
		f->fstatus = 0;
		f->frid[0] = '\0';
	}
}

/* The error record of a file not fetched (none on stdout for -o -). */
static void
emit_failed(struct fetch *f, const char *id, const char *custom_id)
{
	cJSON *r;

	if (f->ferr == NULL)
		return;
	if (f->tostdout) {
		cJSON_Delete(f->ferr);
		f->ferr = NULL;
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "type", "error");
	cJSON_AddStringToObject(r, "tool", ca_prog);
	if (custom_id != NULL)
		cJSON_AddStringToObject(r, "custom_id", custom_id);
	cJSON_AddStringToObject(r, "file_id", id);
	ca_error_fill(r, f->fstatus, f->frid, f->ferr);
	f->ferr = NULL;
	ca_emit(r);
	cJSON_Delete(r);
}

/* GET /v1/files/ID: the metadata, or NULL after reporting why. */
static cJSON *
get_meta(struct fetch *f, const char *id, const char *esc)
{
	struct ca_resp resp;
	char *path;
	CURL *h;
	cJSON *m = NULL;
	int rc;

	memset(&resp, 0, sizeof(resp));
	resp.body.max = META_MAX;
	ca_resp_reset(&resp);
	path = ca_xmalloc(strlen(esc) + 16);
	sprintf(path, "/v1/files/%s", esc);
	h = ca_api_easy(&f->api, "GET", path, f->hdrs, &resp);
	if ((rc = ca_call(h, &resp, NULL, NULL, NULL, NULL)) != 0) {
		report(id, "metadata", &resp);
		fail_api(f, rc, &resp);
	} else if ((m = ca_jparse(resp.body.p, resp.body.len)) == NULL ||
	    !cJSON_IsObject(m)) {
		char *sid = ca_sanitize(id, 100), *w;

		w = ca_xmalloc(strlen(sid) + 16);
		sprintf(w, "%s: metadata", sid);
		ca_call_malformed(w, &resp);
		free(w);
		free(sid);
		cJSON_Delete(m);
		m = NULL;
		fail_api(f, CA_EX_FAIL, &resp);
		cJSON_Delete(f->ferr);
		f->ferr = ca_errobj("invalid_response", "malformed metadata");
	}
	curl_easy_cleanup(h);
	ca_buf_free(&resp.body);
	free(path);
	return m;
}

/*
 * Give the complete temporary file its final name.  Without -f an
 * existing name (a symbolic link included) is an error, and linkat
 * makes that check atomic; with -f renameat replaces the name itself,
 * never what a link there points to.  A file that already holds the
 * same bytes is left alone, so make sees nothing new.
 */
static int
publish(struct fetch *f, int dirfd, const char *name, const char *shown,
    const char *hex, long long size, int *unchanged)
{
	struct stat st;

	*unchanged = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (ca_file_holds(dirfd, name, &st, size, hex)) {
			*unchanged = 1;
			ca_tmp_remove();
			return 0;
		}
		if (!f->fflag)
			goto exists;
		if (ca_tmp_publish(dirfd, name, 1) == 0)
			return 0;
	} else if (errno == ENOENT && ca_tmp_publish(dirfd, name, 0) == 0)
		return 0;
	else if (errno == EEXIST)
		goto exists;
	fail(f, "file_error", "%s:", shown);
	ca_tmp_remove();
	return -1;
exists:
	fail(f, "file_error", "%s exists (use -f to overwrite)", shown);
	ca_tmp_remove();
	return -1;
}

static void
emit_fetched(const char *custom_id, const cJSON *meta, const char *shown,
    const char *hex, long long size, int unchanged)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "type", "fetched");
	if (custom_id != NULL)
		cJSON_AddStringToObject(r, "custom_id", custom_id);
	else
		cJSON_AddNullToObject(r, "custom_id");
	cJSON_AddItemToObject(r, "file", cJSON_Duplicate(meta, 1));
	cJSON_AddStringToObject(r, "path", shown);
	cJSON_AddStringToObject(r, "sha256", hex);
	cJSON_AddNumberToObject(r, "size", (double)size);
	if (unchanged)
		cJSON_AddTrueToObject(r, "unchanged");
	ca_emit(r);
	cJSON_Delete(r);
}

/*
 * Refuse early, before downloading anything, when the name is taken
 * by something that cannot be the same file.
 */
static int
taken(struct fetch *f, int dirfd, const char *name, const char *shown,
    long long want)
{
	struct stat st;

	if (f->fflag || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (S_ISREG(st.st_mode) && (want < 0 || st.st_size == want))
		return 0;
	fail(f, "file_error", "%s exists (use -f to overwrite)", shown);
	return 1;
}

/* Report a download that did not complete; the temporary is gone. */
static void
download_failed(struct fetch *f, const char *id, struct sink *s,
    struct ca_resp *resp, int rc)
{
	char *sid = ca_sanitize(id, 100);

	if (s->err == EPIPE && s->tostdout)	/* the reader went away */
		ca_status_add(&f->st, CA_EX_FAIL);
	else if (s->err != 0) {
		errno = s->err;
		fail(f, "file_error", "%s: write %s:", sid, s->shown);
	} else if (s->why[0] != '\0')
		fail(f, "invalid_response", "%s: content: %s", sid, s->why);
	else if (rc == 0)
		fail(f, "invalid_response", "%s: content: received %lld "
		    "bytes, the file's metadata says %lld", sid, s->got,
		    s->want);
	else {
		report(id, "content", resp);
		fail_api(f, rc, resp);
	}
	free(sid);
}

/* Finish the temporary file: mode, data on disk, descriptor closed. */
static int
tmp_finish(struct fetch *f, struct sink *s, const char *id)
{
	char *sid;
	int rc = 0;

	if (fchmod(s->fd, f->mode) == -1 || fsync(s->fd) == -1)
		rc = -1;
	if (close(s->fd) == -1 && rc == 0)
		rc = -1;
	s->fd = -1;
	if (rc == -1) {
		sid = ca_sanitize(id, 100);
		fail(f, "file_error", "%s: write %s:", sid, s->shown);
		free(sid);
		ca_tmp_remove();
	}
	return rc;
}

/* GET the content of one file into dirfd/name (or stdout). */
static int
download(struct fetch *f, const char *id, const char *esc, int dirfd,
    const char *shown, long long want, struct sink *s)
{
	struct ca_resp resp;
	char *path;
	CURL *h;
	int rc;

	memset(&resp, 0, sizeof(resp));
	resp.body.max = META_MAX;
	ca_resp_reset(&resp);
	memset(s, 0, sizeof(*s));
	s->resp = &resp;
	s->want = want;
	s->max = want >= 0 ? want : CA_FILE_MAX;
	s->shown = shown;
	s->tostdout = f->tostdout;
	ca_sha256_init(&s->sha);
	if (f->tostdout)
		s->fd = STDOUT_FILENO;
	else if ((s->fd = ca_tmp_open(dirfd, ".ca-fetch.")) == -1) {
		fail(f, "file_error", "cannot create a temporary file in %s:",
		    f->outpath ? f->outpath : f->dir);
		return -1;
	}
	path = ca_xmalloc(strlen(esc) + 24);
	sprintf(path, "/v1/files/%s/content", esc);
	s->h = h = ca_api_easy(&f->api, "GET", path, f->chdrs, &resp);
	/* Big files take long: only a stalled transfer is cut off. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (f->idle_ms + 999) / 1000);
	/* Fewer, bigger writes and hash updates than libcurl's 16 KiB. */
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, XFER_BUF);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	if (!f->qflag && isatty(STDERR_FILENO) &&
	    (want < 0 || want >= PROGRESS_MIN)) {
		s->progress = 1;
		clock_gettime(CLOCK_MONOTONIC, &s->last);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	/* Reported by download_failed, which knows more. */
	rc = ca_call(h, &resp, NULL, sink_rewind, s, NULL);
	if (rc == 0)
		(void)sink_flush(s);	/* a failure is in s->err */
	free(s->wbuf);
	s->wbuf = NULL;
	if (s->progress && s->got > 0)
		progress_line(s, 1);
	if (rc != 0 || s->err != 0 || s->why[0] != '\0' ||
	    (want >= 0 && s->got != want)) {
		download_failed(f, id, s, &resp, rc);
		if (!f->tostdout) {
			close(s->fd);
			ca_tmp_remove();
		}
		rc = -1;
	} else if (!f->tostdout)
		rc = tmp_finish(f, s, id);
	curl_easy_cleanup(h);
	ca_buf_free(&resp.body);
	free(path);
	return rc;
}

/* Fetch one file: metadata, then the bytes, then the fetched record. */
static void
fetch_one(struct fetch *f, const char *id, const char *custom_id)
{
	struct sink s;
	cJSON *meta;
	char *esc, *name = NULL, *shown = NULL, hex[65];
	const char *fname;
	long long want = -1;
	double sz;
	int dirfd = f->dirfd, unchanged = 0;

	if ((esc = ca_path_escape(id)) == NULL) {
		char *sid = ca_sanitize(id, 100);

		fail(f, "invalid_response", "invalid file id \"%s\"", sid);
		free(sid);
		emit_failed(f, id, custom_id);
		return;
	}
	if ((meta = get_meta(f, id, esc)) == NULL)
		goto done;
	sz = ca_jnum(meta, "size_bytes", -1);
	if (sz > (double)FETCH_MAX) {
		char *sid = ca_sanitize(id, 100);

		/* Trusting it would let a server fill the disk. */
		fail(f, "invalid_response", "%s: the metadata claims %.0f "
		    "bytes, more than the %lld a container can hold; not "
		    "fetched", sid, sz, FETCH_MAX);
		free(sid);
		goto done;
	}
	if (sz >= 0)
		want = (long long)sz;
	fname = ca_jstr(meta, "filename");
	if (f->outpath != NULL)
		name = ca_xstrdup(f->outname);
	else if ((name = ca_name_clean(fname)) == NULL)
		name = ca_name_from_id(id, ca_jstr(meta, "mime_type"));
	if (f->outpath == NULL)
		name = ca_name_unique(&f->names, name);
	shown = shown_path(f, name);
	if (ca_verbose) {
		char *c = ca_sanitize(id, 100);

		ca_note("%s: \"%s\", %lld bytes -> %s", c, fname, want,
		    shown);
		free(c);
	}
	if (!f->tostdout && taken(f, dirfd, name, shown, want))
		goto done;
	if (download(f, id, esc, dirfd, shown, want, &s) == -1) {
		ca_sha256_free(&s.sha);
		goto done;
	}
	ca_sha256_final(&s.sha, hex);
	if (f->tostdout)
		goto done;
	if (publish(f, dirfd, name, shown, hex, s.got, &unchanged) == -1)
		goto done;
	if (unchanged)
		ca_note("%s: unchanged", shown);
	emit_fetched(custom_id, meta, shown, hex, s.got, unchanged);
done:
	emit_failed(f, id, custom_id);
	cJSON_Delete(meta);
	free(esc);
	free(name);
	free(shown);
}

struct pending {
	char	*id;
	char	*custom_id;
};

struct collect {
	struct fetch	*f;
	struct pending	*p;
	size_t		 n;
};

static void
on_file(void *ctx, const char *id, const cJSON *block)
{
	struct collect *c = ctx;

	(void)block;
	if (ca_strset_add(&c->f->seen, id)) {
		char *sid = ca_sanitize(id, 100);

		ca_note("%s: already fetched in this run, skipped", sid);
		free(sid);
		return;
	}
	c->p = ca_xrealloc(c->p, (c->n + 1) * sizeof(*c->p));
	c->p[c->n].id = ca_xstrdup(id);
	c->p[c->n].custom_id = NULL;
	c->n++;
}

static void
pending_free(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->p[i].id);
		free(c->p[i].custom_id);
	}
	free(c->p);
	c->p = NULL;
	c->n = 0;
}

/*
 * Read records, pass them on and fetch after each response.  With -o
 * the one file is fetched at the end, once it is known to be one.
 */
static int
run_records(struct fetch *f)
{
	static const char *const own[] = { "response", NULL };
	struct ca_reader *r = ca_reader_new(stdin, CA_STDIN);
	struct collect c;
	struct ca_rec rec;
	const char *cid;
	size_t i, before;
	int n, bad = 0;

	memset(&c, 0, sizeof(c));
	c.f = f;
	ca_reader_own(r, own);
	while ((n = ca_reader_next(r, &rec)) != 0) {
		if (n == -1) {
			bad = 1;
			continue;
		}
		if (!f->tostdout)
			ca_emit_raw(&rec);
		/* An error that passes through is this tool's failure too. */
		ca_status_rec(&f->st, rec.json);
		if (strcmp(rec.type, "response") != 0)
			continue;
		/* A prefix of an id could name another file or place. */
		if (ca_jnulkey(ca_jobj(rec.json, "message"), "file_id") ||
		    ca_jnulstr(cJSON_GetObjectItemCaseSensitive(rec.json,
		    "custom_id"))) {
			ca_reader_warn(r, rec.lineno, "response record with a "
			    "file_id or custom_id that holds a NUL (\\u0000), "
			    "refused");
			bad = 1;
			continue;
		}
		before = c.n;
		ca_walk_files(ca_jobj(rec.json, "message"), on_file, &c);
		cid = ca_jstr(rec.json, "custom_id");
		for (i = before; i < c.n; i++)
			c.p[i].custom_id = cid ? ca_xstrdup(cid) : NULL;
		if (f->outpath != NULL)
			continue;
		for (i = 0; i < c.n; i++)
			fetch_one(f, c.p[i].id, c.p[i].custom_id);
		pending_free(&c);
	}
	if (ca_reader_failed(r))
		bad = 1;
	ca_reader_free(r);
	if (bad)
		ca_status_add(&f->st, CA_EX_FAIL);
	if (f->outpath != NULL) {
		if (c.n > 1) {
			size_t many = c.n;

			pending_free(&c);
			return ca_refuse("usage_error", "-o takes one file; "
			    "the input has %zu", many);
		}
		if (c.n == 0) {
			ca_warn("no file in the input");
			ca_status_add(&f->st, CA_EX_FAIL);
		} else
			fetch_one(f, c.p[0].id, c.p[0].custom_id);
		pending_free(&c);
	}
	return 0;
}

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-fqv] [-d dir] [-o file] [--idle-timeout "
	    "seconds]\n"
	    "                [--id file_id ...]\n"
	    "       %s --version\n", ca_prog, ca_prog);
	if (why == NULL)
		fputs("  -d DIR              write the files into DIR "
		    "(default .)\n"
		    "  -f                  overwrite an existing file that "
		    "differs\n"
		    "  -i, --id FILE_ID    fetch this file; stdin is not "
		    "read\n"
		    "      --idle-timeout S  give up a request silent this "
		    "long (default 60)\n"
		    "  -o FILE             write the one file to FILE "
		    "(- for stdout)\n"
		    "  -q                  no progress bar\n"
		    "  -v                  notes on standard error\n"
		    "  -h, --help          this text\n"
		    "      --version       print the version and exit\n", fp);
	exit(why != NULL ? CA_EX_USAGE : CA_EX_OK);
}

static int
setup(struct fetch *f)
{
	mode_t um;
	int rc;

	if ((rc = ca_api_init(&f->api)) != 0)
		return rc;
	/* The metadata GET too: a server that never answers must not
	 * hold us for the whole request timeout. */
	f->api.idle_ms = f->idle_ms;
	f->api.reuse = 1;	/* one connection for all requests */
	f->hdrs = ca_api_headers(&f->api, NULL);
	f->chdrs = ca_api_headers(&f->api, NULL);
	f->chdrs = curl_slist_append(f->chdrs, "Accept: application/binary");
	um = umask(022);
	umask(um);
	f->mode = 0644 & ~um;
	if (f->tostdout) {
		f->dirfd = -1;
		f->outname = "-";
	} else if (f->outpath != NULL) {
		const char *sl = strrchr(f->outpath, '/');
		char *d;

		f->outname = sl != NULL ? sl + 1 : f->outpath;
		if (*f->outname == '\0' || strcmp(f->outname, ".") == 0 ||
		    strcmp(f->outname, "..") == 0)
			ca_usage("-o %s: not a file name", f->outpath);
		d = sl == NULL ? ca_xstrdup(".") : sl == f->outpath ?
		    ca_xstrdup("/") : ca_xstrdup(f->outpath);
		if (sl != NULL && sl != f->outpath)
			d[sl - f->outpath] = '\0';
		f->dirfd = open_dir(d, 0);
		free(d);
	} else
		f->dirfd = open_dir(f->dir, 1);
	if (!f->tostdout && f->dirfd == -1)
		return CA_EX_USAGE;
	ca_tmp_catch();
	/* ca_die paths (out of memory) must not leave a temporary behind. */
	atexit(ca_tmp_remove);
	return 0;
}

static void
cleanup(struct fetch *f)
{
	ca_strset_free(&f->seen);
	ca_strset_free(&f->names);
	curl_slist_free_all(f->hdrs);
	curl_slist_free_all(f->chdrs);
	if (f->dirfd != -1)
		close(f->dirfd);
	ca_api_free(&f->api);
	curl_global_cleanup();
}

static void
parse_opts(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "id", required_argument, NULL, 'i' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "version", no_argument, NULL, CA_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch, dflag = 0;

	while ((ch = getopt_long(argc, argv, ":d:fhi:o:qv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			g.dir = optarg;
			dflag = 1;
			break;
		case 'f':
			g.fflag = 1;
			break;
		case 'h':
			usage(NULL);
		case 'i':
			g.ids = ca_xrealloc(g.ids, (g.nids + 1) *
			    sizeof(*g.ids));
			g.ids[g.nids++] = optarg;
			break;
		case 'I':
			g.idle_ms = (long)(ca_seconds(optarg,
			    "idle timeout") * 1000);
			break;
		case 'o':
			g.outpath = optarg;
			/* The file's bytes, not records: no error record. */
			ca_norecords = strcmp(optarg, "-") == 0;
			break;
		case 'q':
			g.qflag = 1;
			break;
		default:
			ca_opt_common(ch, argv, ca_http_libs());
		}
	}
	if (optind < argc)
		ca_usage("unexpected operand %s", argv[optind]);
	if (*g.dir == '\0')
		ca_usage("-d: empty directory name");
	if (g.outpath != NULL && dflag)
		ca_usage("-d and -o cannot be used together");
	if (g.outpath != NULL && g.nids > 1)
		ca_usage("-o takes one file; %zu ids given", g.nids);
	if (g.outpath != NULL && strcmp(g.outpath, "-") == 0)
		g.tostdout = 1;
}

int
main(int argc, char *argv[])
{
	size_t i;
	int rc;

	ca_setprog(argv[0], usage);
	parse_opts(argc, argv);
	if ((rc = setup(&g)) != 0) {
		free(g.ids);
		cleanup(&g);
		return rc;
	}
	if (g.nids > 0) {
		for (i = 0; i < g.nids; i++)
			if (!ca_strset_add(&g.seen, g.ids[i]))
				fetch_one(&g, g.ids[i], NULL);
	} else
		rc = run_records(&g);
	free(g.ids);
	cleanup(&g);
	if (rc == 0)
		rc = ca_status_exit(&g.st);
	return ca_finish(rc);
}
