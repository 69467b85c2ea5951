/*
 * ca-upload: upload files to the Files API, one "file" record per path.
 *
 * Files are streamed from the descriptor that was checked and hashed,
 * never read into memory, so a 500 MB upload costs a few MiB.  A cache
 * keyed by content, name, type and server lets a cron job run the same
 * pipeline every hour without uploading the same bytes every hour.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"


#define CHUNK		65536		/* read size for copying */
#define XFER_BUF	(512L << 10)	/* libcurl's buffer for the upload */
#define SNIFF_MAX	8192		/* bytes looked at to guess a type */
#define BAR_MIN		((long long)1 << 20)	/* files that get a bar */
#define EXPIRES_MIN	3600L
#define EXPIRES_MAX	7776000L
/* A cached file that expires sooner than this is uploaded again. */
#define EXPIRY_MARGIN_S	600

static struct {
	int		 nocache;
	int		 quiet;
	int		 nul;
	const char	*type;
	long		 expires;	/* 0: not sent */
	struct ca_upcache cache;
	struct ca_api	 api;
} g;

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-0nqv] [-e seconds] [-t type] [path ...]\n",
	    ca_prog);
	if (why != NULL)
		exit(CA_EX_USAGE);
	fprintf(fp,
	    "  -0, --null            paths on stdin end with NUL, not newline\n"
	    "  -e, --expires SECS    delete the file after SECS seconds "
	    "(%ld..%ld)\n"
	    "  -n, --no-cache        always upload; neither read nor write "
	    "the cache\n"
	    "  -q, --quiet           no progress bar\n"
	    "  -t, --type TYPE       send TYPE as the MIME type\n"
	    "  -v, --verbose         notes on stderr (cache hits, retries)\n"
	    "  -h, --help            this text\n"
	    "      --version         print the version and exit\n"
	    "Without paths, reads one path per line from standard input.\n",
	    EXPIRES_MIN, EXPIRES_MAX);
	exit(CA_EX_OK);
}

/* The last component of a path, as the Files API keeps it. */
static const char *
base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

/*
 * Does the file hold other than the bytes fstat said?  Files under
 * /proc say 0 bytes and /sys ones 4096, whatever they hold; a file
 * being appended to has grown.  Reading exactly st_size bytes would
 * send the wrong thing (for /proc, nothing at all).
 */
static int
size_lies(int fd, const struct stat *st)
{
	char c;
	ssize_t r;

	do
		r = pread(fd, &c, 1, st->st_size);
	while (r == -1 && errno == EINTR);
	if (r == 1)
		return 1;	/* more than it says */
	if (st->st_size == 0)
		return 0;
	do
		r = pread(fd, &c, 1, st->st_size - 1);
	while (r == -1 && errno == EINTR);
	return r != 1;		/* less than it says */
}

/*
 * Copy fd, read to its end, into an unlinked temporary file, and close
 * it: the copy's size is true, and the copy is what gets hashed and
 * sent.  Returns the copy (st describes it), or -1 having said why.
 */
static int
spool(const char *spath, int fd, struct stat *st)
{
	static unsigned char buf[CHUNK];
	const char *dir = getenv("TMPDIR");
	long long total = 0;
	char *tmp;
	ssize_t r;
	int t;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	tmp = ca_xmalloc(strlen(dir) + 24);
	sprintf(tmp, "%s/ca-upload.XXXXXX", dir);
	if ((t = mkstemp(tmp)) == -1) {
		ca_warn("%s: its size is not known, and no temporary copy "
		    "can be made in %s:", spath, dir);
		free(tmp);
		close(fd);
		return -1;
	}
	unlink(tmp);
	free(tmp);
	for (;;) {
		if ((r = read(fd, buf, sizeof(buf))) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if ((total += r) > CA_FILE_MAX) {
			ca_warn("%s: more than the Files API's limit of %lld "
			    "bytes (500 MB)", spath, CA_FILE_MAX);
			goto fail;
		}
		if (ca_write_all(t, buf, (size_t)r) == -1) {
			ca_warn("%s: temporary copy:", spath);
			goto fail;
		}
	}
	if (r == -1 || fstat(t, st) == -1) {
		ca_warn("%s:", spath);
		goto fail;
	}
	ca_note("%s: its size was not what the file system said; read to "
	    "its end: %lld bytes", spath, total);
	close(fd);
	return t;
fail:
	close(t);
	close(fd);
	return -1;
}

static void	lfail(const char *, const char *, const char *);
static void	lfail_errno(const char *);

/*
 * The cache needs the digest before deciding to upload: from the stat
 * cache when the file is unchanged since a run hashed it, else by
 * reading it (and noting the digest for the next run).
 */
static int
digest_first(const char *spath, int fd, const struct stat *st, char hex[65])
{
	struct timespec t0;
	struct stat after;

	if (ca_statcache_get(st, hex) == 0) {
		ca_note("%s: unchanged since it was last hashed", spath);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &t0);
	switch (ca_sha256_fd(fd, (long long)st->st_size, hex)) {
	case -1:
		lfail_errno(spath);
		return -1;
	case -2:
		lfail(spath, "file_error",
		    "the file changed while it was being read");
		return -1;
	}
	if (fstat(fd, &after) == 0 && ca_stat_same(st, &after))
		ca_statcache_put(st, hex, &t0);
	return 0;
}

/* The first bytes of fd, to guess a type from. */
static size_t
sniff_file(int fd, unsigned char *buf, size_t n)
{
	ssize_t r;

	do
		r = pread(fd, buf, n, 0);
	while (r == -1 && errno == EINTR);
	return r > 0 ? (size_t)r : 0;
}

/* Is this cached file no good for a new job? */
static const char *
stale(const cJSON *meta, long long size)
{
	const char *exp = ca_jstr(meta, "expires_at");
	long long t;

	if (ca_jnum(meta, "size_bytes", (double)size) != (double)size)
		return "has another size";
	if (exp != NULL && (t = ca_rfc3339(exp)) != -1 &&
	    t < (long long)time(NULL) + EXPIRY_MARGIN_S)
		return "expires within minutes";
	return NULL;
}

/* The progress bar, and the descriptor the upload reads from. */
struct src {
	int		 fd;
	long long	 size;
	long long	 off;
	const char	*name;		/* sanitised, for the bar */
	int		 bar;
	int		 drawn;		/* columns on screen */
	double		 last;
	int		 changed;	/* the file shrank under us */
	struct ca_sha256 *sha;		/* hash the bytes as they go, or NULL */
	long long	 hashed;	/* bytes hashed; a retry resends some */
};

static size_t
src_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct src *s = ctx;
	size_t want = size * nitems;
	ssize_t r;

	if ((long long)want > s->size - s->off)
		want = (size_t)(s->size - s->off);
	if (want == 0)
		return 0;
	do
		r = pread(s->fd, buf, want, (off_t)s->off);
	while (r == -1 && errno == EINTR);
	if (r <= 0) {
		s->changed = r == 0;
		return CURL_READFUNC_ABORT;
	}
	/* In order and once each, whatever retries and seeks resend. */
	if (s->sha != NULL && s->off <= s->hashed && s->off + r > s->hashed) {
		ca_sha256_update(s->sha, buf + (s->hashed - s->off),
		    (size_t)(s->off + r - s->hashed));
		s->hashed = s->off + r;
	}
	s->off += r;
	return (size_t)r;
}

static int
src_seek(void *ctx, curl_off_t offset, int origin)
{
	struct src *s = ctx;

	if (origin != SEEK_SET || offset < 0 || offset > s->size)
		return CURL_SEEKFUNC_CANTSEEK;
	s->off = offset;
	return CURL_SEEKFUNC_OK;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bar_clear(struct src *s)
{
	if (s->drawn > 0)
		fprintf(stderr, "\r%*s\r", s->drawn, "");
	s->drawn = 0;
}

/* Bytes of s that fit in max without cutting a character in two. */
static int
name_cut(const char *s, size_t max)
{
	size_t n = strlen(s), k, l;

	for (k = 0; k < n; k += l) {
		l = ca_utf8_len((const unsigned char *)s + k, n - k);
		l = l ? l : 1;
		if (k + l > max)
			break;
	}
	return (int)k;
}

static int
src_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct src *s = ctx;
	char bar[31];
	double t = now_s(), f;
	int i, fill;

	(void)dltotal;
	(void)dlnow;
	if (ultotal <= 0 || (s->drawn && t - s->last < 0.1))
		return 0;
	s->last = t;
	f = (double)ulnow / (double)ultotal;
	fill = (int)(f * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	/* At most 24 + 58 columns: one line on any terminal. */
	i = fprintf(stderr, "\r%.*s [%s] %3d%% %6.1f/%.1f MiB",
	    name_cut(s->name, 24), s->name,
	    bar, (int)(f * 100), (double)ulnow / 1048576.0,
	    (double)ultotal / 1048576.0);
	s->drawn = i > 1 ? i - 1 : 1;
	return 0;
}

static int
src_rewind(void *ctx)
{
	struct src *s = ctx;

	bar_clear(s);
	s->off = 0;
	return 0;
}

static void
add_field(curl_mime *mime, const char *name, const char *value)
{
	curl_mimepart *part = curl_mime_addpart(mime);

	curl_mime_name(part, name);
	curl_mime_data(part, value, CURL_ZERO_TERMINATED);
}

/* A 2xx body that is a FileMetadata, or NULL. */
static cJSON *
metadata(const struct ca_resp *resp)
{
	cJSON *j = ca_jparse(resp->body.p, resp->body.len);
	const char *id = ca_jstr(j, "id");

	if (!cJSON_IsObject(j) || id == NULL || *id == '\0') {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/*
 * Why the path at hand failed, for its error record: the API's error
 * object, or one made up here.  Set where the failure is reported.
 */
static struct {
	cJSON	*err;
	long	 status;		/* 0: no response */
	char	 request_id[128];
} fwhy;

static void
why_set(cJSON *err, const struct ca_resp *resp)
{
	cJSON_Delete(fwhy.err);
	fwhy.err = err;
	fwhy.status = resp != NULL && resp->cc == CURLE_OK ? resp->status : 0;
	snprintf(fwhy.request_id, sizeof(fwhy.request_id), "%s",
	    resp != NULL ? resp->request_id : "");
}

/* A local failure: say it on stderr, keep it for the record. */
static void
lfail(const char *spath, const char *type, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	ca_warn("%s: %s", spath, msg);
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "message", msg);
	why_set(e, NULL);
}

/* The same, for the failed call whose errno says why. */
static void
lfail_errno(const char *spath)
{
	lfail(spath, "file_error", strerror(errno));
}

/* A failed call: say it on stderr, keep the API's error for the record. */
static void
fail(const char *spath, const char *what, const struct ca_resp *resp)
{
	char *w = ca_xmalloc(strlen(spath) + strlen(what) + 3);

	sprintf(w, "%s: %s", spath, what);
	ca_call_report(w, resp);
	free(w);
	why_set(ca_resp_error(resp), resp);
}

/*
 * The error record for a path that could not be uploaded, so that the
 * tools downstream know the input is incomplete (ca-request then builds
 * no request from it).
 */
static void
emit_error(const char *path)
{
	cJSON *rec = cJSON_CreateObject();

	cJSON_AddStringToObject(rec, "type", "error");
	cJSON_AddStringToObject(rec, "path", path);
	if (fwhy.status > 0)
		cJSON_AddNumberToObject(rec, "status", fwhy.status);
	else
		cJSON_AddNullToObject(rec, "status");
	if (fwhy.request_id[0] != '\0')
		cJSON_AddStringToObject(rec, "request_id", fwhy.request_id);
	else
		cJSON_AddNullToObject(rec, "request_id");
	if (fwhy.err == NULL) {
		fwhy.err = cJSON_CreateObject();
		cJSON_AddStringToObject(fwhy.err, "type", "file_error");
		cJSON_AddStringToObject(fwhy.err, "message", "not uploaded");
	}
	cJSON_AddItemToObject(rec, "error", fwhy.err);
	fwhy.err = NULL;
	ca_emit(rec);
	cJSON_Delete(rec);
}

/*
 * POST /v1/files.  Returns 0 with *meta set, CA_EX_FAIL or
 * CA_EX_TEMPFAIL (already reported).  An empty digest is filled in
 * from the bytes as they are sent: one read of the file, not two.
 */
static int
upload(const char *spath, int fd, long long size, const char *name,
    const char *type, char digest[65], cJSON **meta)
{
	struct ca_api api = g.api;
	struct ca_resp resp;
	struct curl_slist *hdrs;
	struct ca_sha256 sha;
	struct src src;
	curl_mime *mime;
	curl_mimepart *part;
	char exp[32];
	CURL *h;
	int st;

	/* A big file on a slow link may take longer than any deadline. */
	api.timeout_ms = 0;
	api.idle_ms = 120000;
	memset(&resp, 0, sizeof(resp));
	ca_resp_reset(&resp);
	memset(&src, 0, sizeof(src));
	src.fd = fd;
	src.size = size;
	src.name = spath;
	src.bar = !g.quiet && size >= BAR_MIN && isatty(2);
	if (digest[0] == '\0') {
		ca_sha256_init(&sha);
		src.sha = &sha;
	}
	hdrs = ca_api_headers(&api, NULL);
	h = ca_api_easy(&api, "POST", "/v1/files", hdrs, &resp);
	g.api.share = api.share;	/* made for the copy, kept for all */
	mime = curl_mime_init(h);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "file");
	curl_mime_data_cb(part, (curl_off_t)size, src_read, src_seek, NULL,
	    &src);
	curl_mime_filename(part, name);
	curl_mime_type(part, type);
	if (g.expires > 0) {
		snprintf(exp, sizeof(exp), "%ld", g.expires);
		add_field(mime, "expires_in_seconds", exp);
	}
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	/* Fewer, bigger reads and sends than libcurl's 64 KiB. */
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, XFER_BUF);
	if (src.bar) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, src_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &src);
	}
	st = ca_call(h, &resp, NULL, src_rewind, &src, NULL);
	bar_clear(&src);
	*meta = NULL;
	if (src.changed) {
		lfail(spath, "file_error",
		    "the file changed while it was being uploaded");
		st = CA_EX_FAIL;
	} else if (st != 0)
		fail(spath, "upload failed", &resp);
	else if (src.sha != NULL && src.hashed != size) {
		ca_warn("%s: the upload did not read the whole file", spath);
		st = CA_EX_FAIL;
	} else if ((*meta = metadata(&resp)) == NULL) {
		char *snip = ca_sanitize(resp.body.p, 200);

		ca_warn("%s: upload answered %ld with no file metadata: %s",
		    spath, resp.status, snip);
		free(snip);
		why_set(cJSON_CreateObject(), &resp);
		cJSON_AddStringToObject(fwhy.err, "type", "invalid_response");
		cJSON_AddStringToObject(fwhy.err, "message",
		    "no file metadata in the answer");
		st = CA_EX_FAIL;
	}
	if (src.sha != NULL && st == 0)
		ca_sha256_final(src.sha, digest);
	else if (src.sha != NULL)
		ca_sha256_free(src.sha);
	if (st != 0) {
		cJSON_Delete(*meta);
		*meta = NULL;
	}
	curl_easy_cleanup(h);
	curl_mime_free(mime);
	curl_slist_free_all(hdrs);
	ca_buf_free(&resp.body);
	return st;
}

/*
 * GET /v1/files/{id}: 0 with *meta set, -1 when the server no longer
 * has it, else CA_EX_FAIL or CA_EX_TEMPFAIL (already reported).
 */
static int
lookup(const char *spath, const char *id, cJSON **meta)
{
	struct ca_resp resp;
	struct curl_slist *hdrs;
	char *seg, *url;
	CURL *h;
	int st;

	*meta = NULL;
	if ((seg = ca_path_escape(id)) == NULL)
		return -1;
	url = ca_xmalloc(strlen(seg) + 16);
	sprintf(url, "/v1/files/%s", seg);
	free(seg);
	memset(&resp, 0, sizeof(resp));
	ca_resp_reset(&resp);
	hdrs = ca_api_headers(&g.api, NULL);
	h = ca_api_easy(&g.api, "GET", url, hdrs, &resp);
	free(url);
	/* Reported here: a 404 only means uploading again. */
	st = ca_call(h, &resp, NULL, NULL, NULL, NULL);
	if (st == 0 && (*meta = metadata(&resp)) == NULL)
		st = -1;	/* nonsense for an answer: upload afresh */
	else if (st != 0 && resp.cc == CURLE_OK && resp.status == 404)
		st = -1;
	else if (st != 0)
		fail(spath, "checking the cached upload", &resp);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	ca_buf_free(&resp.body);
	return st;
}

static void
emit(const char *path, cJSON *meta, const char *digest, int cached)
{
	cJSON *rec = cJSON_CreateObject();

	cJSON_AddStringToObject(rec, "type", "file");
	cJSON_AddStringToObject(rec, "path", path);
	cJSON_AddItemToObject(rec, "file", meta);
	cJSON_AddStringToObject(rec, "sha256", digest);
	if (cached)
		cJSON_AddTrueToObject(rec, "cached");
	ca_emit(rec);
	cJSON_Delete(rec);
}

/* Open path for reading only if it is a regular file we may send. */
static int
open_regular(const char *spath, const char *path, struct stat *st)
{
	int fd;

	/* O_NONBLOCK: a FIFO must not hang us before we can refuse it. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		lfail_errno(spath);
		return -1;
	}
	if (fstat(fd, st) == -1) {
		lfail_errno(spath);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISDIR(st->st_mode) ? EISDIR : 0;
		if (errno != 0)
			lfail_errno(spath);
		else
			lfail(spath, "file_error", "not a regular file");
		close(fd);
		return -1;
	}
	if ((long long)st->st_size > CA_FILE_MAX) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%lld bytes is over the Files "
		    "API's limit of %lld bytes (500 MB)",
		    (long long)st->st_size, CA_FILE_MAX);
		lfail(spath, "file_error", msg);
		close(fd);
		return -1;
	}
	return fd;
}

static int
cached_or_upload(const char *spath, const char *path, int fd,
    const struct stat *before, const char *name, const char *type,
    char digest[65], const char *key)
{
	long long size = (long long)before->st_size;
	struct stat after;
	cJSON *meta = NULL;
	const char *why;
	char *id;
	int st;

	if (key != NULL && (id = ca_upcache_load(&g.cache, key)) != NULL) {
		char *sid = ca_sanitize(id, 100);

		st = lookup(spath, id, &meta);
		free(id);
		if (st == 0 && (why = stale(meta, size)) == NULL) {
			ca_note("%s: cached as %s; not uploading again",
			    spath, sid);
			free(sid);
			emit(path, meta, digest, 1);
			return 0;
		}
		if (st == 0)
			ca_note("%s: cached %s %s; uploading again", spath,
			    sid, why);
		else if (st == -1)
			ca_note("%s: cached %s is gone from the server; "
			    "uploading again", spath, sid);
		free(sid);
		cJSON_Delete(meta);
		if (st > 0)
			return st;
	}
	if ((st = upload(spath, fd, size, name, type, digest, &meta)) != 0)
		return st;
	/*
	 * Rewritten in place between the hash and the upload, the file
	 * sent may not be the file hashed: say so rather than cache a lie.
	 */
	if (fstat(fd, &after) == -1 || !ca_stat_same(before, &after)) {
		lfail(spath, "file_error", "the file changed while it was "
		    "being uploaded; upload it again");
		cJSON_Delete(meta);
		return CA_EX_FAIL;
	}
	if (ca_verbose) {
		char *sid = ca_sanitize(ca_jstr(meta, "id"), 100);

		ca_note("%s: uploaded as %s (%lld bytes, %s)", spath, sid,
		    size, type);
		free(sid);
	}
	if (key != NULL)
		ca_upcache_store(&g.cache, key, meta);
	emit(path, meta, digest, 0);
	return 0;
}

/* One path: 0, CA_EX_FAIL or CA_EX_TEMPFAIL, having said why. */
static int
do_path(const char *path)
{
	static unsigned char sniff[SNIFF_MAX];
	char *spath = ca_sanitize(path, 0), digest[65], key[65];
	const char *name = base_name(path), *type;
	struct stat st;
	size_t sniffn;
	int fd, r = CA_EX_FAIL;

	if (strcmp(path, "-") == 0) {
		lfail("-", "file_error", "cannot upload standard input; save "
		    "it to a file first");
		goto out;
	}
	if ((fd = open_regular(spath, path, &st)) == -1)
		goto out;
	/* Reads must block from now on; the file is known to be regular. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (size_lies(fd, &st) && (fd = spool(spath, fd, &st)) == -1)
		goto out;
	if ((type = g.type) == NULL && (type = ca_type_by_name(name)) == NULL) {
		sniffn = sniff_file(fd, sniff, SNIFF_MAX);
		type = ca_type_sniff(sniff, sniffn,
		    (long long)sniffn < (long long)st.st_size);
	}
	/*
	 * Hash even without the cache: the record carries the digest, so
	 * that a round trip through ca-fetch can be checked.  Without the
	 * cache, upload() hashes what it sends.
	 */
	digest[0] = '\0';
	if (g.cache.dir != NULL) {
		if (digest_first(spath, fd, &st, digest) == -1)
			goto close;
		ca_upcache_key(g.api.base, digest, name, type,
		    g.expires, key);
	}
	r = cached_or_upload(spath, path, fd, &st, name, type, digest,
	    g.cache.dir != NULL ? key : NULL);
close:
	close(fd);
out:
	if (r != 0)
		emit_error(path);
	free(spath);
	return r;
}

/*
 * Read one path ending in delim into buf (size n).  Returns 1 with a
 * path, 0 at the end, -1 for a path too long (skipped to its end).
 */
static int
read_path(FILE *fp, int delim, char *buf, size_t n)
{
	size_t len = 0;
	int c, toolong = 0;

	while ((c = getc(fp)) != EOF && c != delim) {
		if (len + 1 < n)
			buf[len++] = (char)c;
		else
			toolong = 1;
	}
	buf[len] = '\0';
	if (c == EOF && len == 0 && !toolong)
		return 0;
	return toolong ? -1 : 1;
}

/* The options; the path operands start at optind. */
static void
parse_opts(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "null",	no_argument,		NULL, '0' },
		{ "expires",	required_argument,	NULL, 'e' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "no-cache",	no_argument,		NULL, 'n' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "type",	required_argument,	NULL, 't' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, CA_OPT_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+:0e:hnqt:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '0':
			g.nul = 1;
			break;
		case 'e':
			g.expires = ca_strtonum(optarg, EXPIRES_MIN,
			    EXPIRES_MAX, "--expires");
			break;
		case 'h':
			usage(NULL);
		case 'n':
			g.nocache = 1;
			break;
		case 'q':
			g.quiet = 1;
			break;
		case 't':
			if (!ca_type_ok(optarg))
				ca_usage("-t: not a MIME type: %s", optarg);
			g.type = optarg;
			break;
		default:
			ca_opt_common(ch, argv, ca_http_libs());
		}
	}
	if (g.nul && optind < argc)
		ca_usage("-0 is for paths on standard input; "
		    "got path operands too");
}

int
main(int argc, char *argv[])
{
	struct ca_status st = { 0, 0 };
	char buf[PATH_MAX + 1];
	long lineno = 0;
	int i, r;

	ca_setprog(argv[0], usage);
	parse_opts(argc, argv);
	argc -= optind;
	argv += optind;
	if (ca_api_init(&g.api) != 0)
		return CA_EX_USAGE;
	/* One connection for all the files, not one each. */
	g.api.reuse = 1;
	if (!g.nocache && (g.cache.dir = ca_cache_dir("files")) == NULL)
		ca_note("no HOME or XDG_CACHE_HOME; not using the cache");

	if (argc > 0)
		for (i = 0; i < argc; i++)
			ca_status_add(&st, do_path(argv[i]));
	else
		while ((r = read_path(stdin, g.nul ? '\0' : '\n', buf,
		    sizeof(buf))) != 0) {
			lineno++;
			if (r == -1) {
				ca_warn(CA_STDIN ":%ld: a path longer than "
				    "%d bytes, skipped", lineno, PATH_MAX);
				ca_status_add(&st, CA_EX_FAIL);
			} else if (buf[0] != '\0')
				ca_status_add(&st, do_path(buf));
		}
	if (argc == 0 && ferror(stdin)) {
		ca_warn(CA_STDIN ": read error");
		ca_status_add(&st, CA_EX_FAIL);
	}

	ca_api_free(&g.api);
	curl_global_cleanup();
	free(g.cache.dir);
	return ca_finish(ca_status_exit(&st));
}
