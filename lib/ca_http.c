/*
 * ca_http.c: where requests go, with which credentials, and how a
 * transfer is set up.  The key lives in one header line and is never
 * printed; plain HTTP is for loopback only; redirects are not followed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ca.h"

#define CA_USER_AGENT	"ca/1.0"

static int
loopback(const char *host)
{
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "[::1]") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	/* The whole host must be a dotted quad: 127.0.0.1.evil.test is not. */
	{
		int dots = 0;
		size_t i;

		for (i = 0; i < n; i++) {
			if (host[i] == '.')
				dots++;
			else if (!isdigit((unsigned char)host[i]))
				return 0;
		}
		return dots == 3;
	}
}

static int
check_base(const char *base, int *plain)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		/* Show what was wrong; it is the user's own setting. */
		char *sb = ca_sanitize(base, 200);

		ca_refuse("environment_error", "ANTHROPIC_BASE_URL is not "
		    "a URL: \"%s\"", sb);
		free(sb);
	} else if (strcmp(scheme, "https") == 0)
		ok = 1;
	else if (strcmp(scheme, "http") != 0)
		ca_refuse("environment_error", "ANTHROPIC_BASE_URL: scheme "
		    "%s is not supported", scheme);
	else if (!loopback(host))
		ca_refuse("environment_error", "refusing to send the API "
		    "key over plain http to %s; use https (plain http is for "
		    "loopback hosts only)", host);
	else
		ok = *plain = 1;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

int
ca_api_init(struct ca_api *api)
{
	const char *base = getenv("ANTHROPIC_BASE_URL");
	const char *key = getenv("ANTHROPIC_API_KEY");
	const char *tok = getenv("ANTHROPIC_AUTH_TOKEN");
	struct ca_retry dflt;
	size_t n;

	const char *ver = getenv("CA_API_VERSION");

	memset(api, 0, sizeof(*api));
	api->version = ver != NULL && *ver != '\0' ? ver :
	    CA_API_VERSION_DEFAULT;
	if (!ca_header_safe(api->version))
		return ca_refuse("environment_error",
		    "CA_API_VERSION holds a control character");
	ca_retry_init(&dflt);
	api->retries = dflt.max;
	api->connect_ms = CA_CONNECT_MS;
	api->timeout_ms = CA_TIMEOUT_MS;
	if (base == NULL || *base == '\0')
		base = CA_BASE_DEFAULT;
	if (!ca_header_safe(base))
		return ca_refuse("environment_error",
		    "ANTHROPIC_BASE_URL holds a control character");
	if (!check_base(base, &api->plain))
		return CA_EX_USAGE;	/* check_base said why */
	/*
	 * Plain http (loopback) does no TLS, yet curl_global_init() sets up
	 * libcrypto for it: it reads the system's OpenSSL configuration,
	 * loads the error strings and the legacy cipher and digest names
	 * (which the first fetch then copies), and frees it all at exit.
	 * Without TLS, libcrypto only hashes (SHA-256) and draws curl's
	 * random numbers (the multipart boundary), so start it without
	 * those, with a random generator built on SHA-256 rather than AES,
	 * whose first use builds the table of every cipher.  1.2 ms of a
	 * 5 ms run of ca-upload (make bench).  https keeps the defaults.
	 */
	if (api->plain) {
		OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
		    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
		    OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
		    OPENSSL_INIT_NO_ADD_ALL_DIGESTS | OPENSSL_INIT_NO_ATEXIT,
		    NULL);
		RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256");
	}
	api->base = ca_xstrdup(base);
	n = strlen(api->base);
	while (n > 0 && api->base[n - 1] == '/')
		api->base[--n] = '\0';
	if (key != NULL && *key != '\0') {
		if (!ca_header_safe(key))
			goto bad;
		api->auth = ca_xmalloc(strlen(key) + 16);
		strcpy(api->auth, "x-api-key: ");
		strcat(api->auth, key);
	} else if (tok != NULL && *tok != '\0') {
		if (!ca_header_safe(tok))
			goto bad;
		api->auth = ca_xmalloc(strlen(tok) + 32);
		strcpy(api->auth, "Authorization: Bearer ");
		strcat(api->auth, tok);
	} else
		return ca_refuse("environment_error", "no API key: set "
		    "ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)");
	return 0;
bad:
	return ca_refuse("environment_error",
	    "the API key in the environment contains a line break");
}

void
ca_api_free(struct ca_api *api)
{
	if (api->auth != NULL) {
		/* Best effort: don't leave the key lying around in the heap. */
		volatile char *p = api->auth;

		while (*p)
			*p++ = '\0';
	}
	free(api->auth);
	free(api->base);
	api->auth = api->base = NULL;
	if (api->share != NULL)
		curl_share_cleanup(api->share);
	api->share = NULL;
}

void
ca_resp_reset(struct ca_resp *r)
{
	struct ca_buf b = r->body;
	struct ca_pace *pace = r->pace;
	long idle = r->idle_ms;
	int retries = r->retries;

	ca_buf_reset(&b);
	memset(r, 0, sizeof(*r));
	r->body = b;
	r->idle_ms = idle;
	r->retries = retries;
	r->pace = pace;
	r->content_length = -1;
}

static void
hcopy(char *dst, size_t n, const char *v, size_t vlen)
{
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= n)
		vlen = n - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct ca_resp *r = ctx;
	size_t n = size * nmemb, klen;
	const char *colon = memchr(p, ':', n), *v;
	static const struct {
		const char *name;
		size_t off, len;
	} want[] = {
#define F(h, m) { h, offsetof(struct ca_resp, m), \
	sizeof(((struct ca_resp *)0)->m) }
		F("request-id", request_id),
		F("retry-after", retry_after),
		F("retry-after-ms", retry_after_ms),
		F("x-should-retry", should_retry),
		F("content-type", content_type),
		F("location", location),
		F("anthropic-ratelimit-requests-remaining", rl_remaining),
		F("anthropic-ratelimit-requests-reset", rl_reset),
		F("anthropic-ratelimit-requests-limit", rl_limit),
		F("anthropic-ratelimit-input-tokens-limit", rl_in_limit),
		F("anthropic-ratelimit-input-tokens-remaining",
		    rl_in_remaining),
		F("anthropic-ratelimit-input-tokens-reset", rl_in_reset),
		F("anthropic-ratelimit-output-tokens-limit", rl_out_limit),
		F("anthropic-ratelimit-output-tokens-remaining",
		    rl_out_remaining),
		F("anthropic-ratelimit-output-tokens-reset", rl_out_reset),
#undef F
	};
	size_t i;

	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100-continue): forget the old one. */
		r->request_id[0] = r->retry_after[0] = '\0';
		r->retry_after_ms[0] = r->should_retry[0] = '\0';
		r->content_type[0] = r->location[0] = '\0';
		r->rl_remaining[0] = r->rl_reset[0] = r->rl_limit[0] = '\0';
		r->rl_in_limit[0] = r->rl_in_remaining[0] = '\0';
		r->rl_in_reset[0] = r->rl_out_limit[0] = '\0';
		r->rl_out_remaining[0] = r->rl_out_reset[0] = '\0';
		r->content_length = -1;
		return n;
	}
	if (colon == NULL)
		return n;
	klen = (size_t)(colon - p);
	v = colon + 1;
	while (v < p + n && (*v == ' ' || *v == '\t'))
		v++;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strlen(want[i].name) == klen &&
		    strncasecmp(p, want[i].name, klen) == 0)
			hcopy((char *)r + want[i].off, want[i].len, v,
			    (size_t)(p + n - v));
	if (klen == 14 && strncasecmp(p, "content-length", 14) == 0)
		r->content_length = strtoll(v, NULL, 10);
	return n;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct ca_resp *r = ctx;

	if (ca_buf_add(&r->body, p, size * nmemb) == -1)
		return 0;	/* over the cap: abort the transfer */
	return size * nmemb;
}

/*
 * libcurl's low-speed limit averages over seconds, so a burst followed by
 * silence goes unnoticed; this counts the silence itself.  libcurl calls
 * it about once a second even when nothing moves.
 */
static int
on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct ca_resp *r = ctx;
	long long moved = (long long)dlnow + (long long)ulnow;
	double t = ca_now();

	(void)dltotal;
	(void)ultotal;
	if (r->idle_since == 0 || moved != r->idle_bytes || r->paused) {
		r->idle_bytes = moved;
		r->idle_since = t;
		return 0;
	}
	if ((t - r->idle_since) * 1000 >= (double)r->idle_ms) {
		r->idled = 1;
		return 1;
	}
	return 0;
}

CURLcode
ca_resp_result(struct ca_resp *r, CURLcode cc)
{
	if (r->idled) {
		snprintf(r->errbuf, sizeof(r->errbuf), "no data received for "
		    "%.3g s", r->idle_ms / 1000.0);
		return CURLE_OPERATION_TIMEDOUT;
	}
	/* libcurl's words for a failure, where it left none of its own. */
	if (cc != CURLE_OK && r->errbuf[0] == '\0')
		snprintf(r->errbuf, sizeof(r->errbuf), "%s",
		    curl_easy_strerror(cc));
	return cc;
}

const char *
ca_http_libs(void)
{
	static char buf[64];
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	snprintf(buf, sizeof(buf), "libcurl %s",
	    cv != NULL && cv->version != NULL ? cv->version : "?");
	return buf;
}

void
ca_http_init(void)
{
	static int done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		ca_die(CA_EX_FAIL, "cannot initialise libcurl");
	done = 1;
}

CURLSH *
ca_api_share(void)
{
	CURLSH *sh;

	ca_http_init();
	if ((sh = curl_share_init()) == NULL)
		return NULL;
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	return sh;
}

struct curl_slist *
ca_api_headers(const struct ca_api *api, const char *betas)
{
	struct curl_slist *h = NULL;
	char line[256];

	h = curl_slist_append(h, api->auth);
	snprintf(line, sizeof(line), "anthropic-version: %s", api->version);
	h = curl_slist_append(h, line);
	if (betas != NULL && *betas != '\0') {
		char *b = ca_xmalloc(strlen(betas) + 32);

		strcpy(b, "anthropic-beta: ");
		strcat(b, betas);
		h = curl_slist_append(h, b);
		free(b);
	}
	/* No "Expect: 100-continue" round trip for uploads. */
	h = curl_slist_append(h, "Expect:");
	return h;
}

CURL *
ca_api_easy(struct ca_api *api, const char *method, const char *path,
    struct curl_slist *hdrs, struct ca_resp *resp)
{
	CURL *h;
	char *url;

	ca_http_init();
	if ((h = curl_easy_init()) == NULL)
		ca_die(CA_EX_FAIL, "cannot create a curl handle");
	url = ca_xmalloc(strlen(api->base) + strlen(path) + 1);
	strcpy(url, api->base);
	strcat(url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, api->plain ? "http" :
	    "https");
	/* A proxy would carry plain http, key and all, off this machine. */
	if (api->plain)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, api->connect_ms);
	if (api->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, api->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
	if (api->idle_ms > 0) {
		resp->idle_ms = api->idle_ms;
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, resp);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		/* A backstop for callers that install a progress function
		 * of their own (a progress bar): libcurl's own, coarser
		 * averaging check, a little later. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
		    (api->idle_ms + 999) / 1000 + 5);
	}
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 60L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 60L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, CA_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	curl_easy_setopt(h, CURLOPT_PRIVATE, resp);
	resp->retries = api->retries;
	resp->pace = api->pace;
	/* Made with the first transfer, so a run that sends nothing does
	 * not pay for it. */
	if (api->reuse && api->share == NULL)
		api->share = ca_api_share();
	if (api->share != NULL)
		curl_easy_setopt(h, CURLOPT_SHARE, api->share);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	return h;
}

/* One call at a time: wait until the limiter lets it go. */
static void
pace_wait(struct ca_pace *p)
{
	double w;

	if (p == NULL)
		return;
	if ((w = ca_pace_wait(p, ca_now(), 0)) > 0) {
		ca_note("pacing: holding the next request for %.2f s", w);
		ca_sleep_ms((long)(w * 1000) + 1);
	}
	ca_pace_sent(p, ca_now(), 0);
}

int
ca_perform(CURL *h, struct ca_resp *resp, struct ca_retry *rp,
    int (*rewind)(void *ctx), void *ctx)
{
	char msg[600], why[128];
	long d;
	int n;

	for (n = 0;; n++) {
		pace_wait(resp->pace);
		resp->cc = ca_resp_result(resp, curl_easy_perform(h));
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		if (resp->pace != NULL)
			ca_pace_seen(resp->pace, ca_now(), resp, 0);
		if (resp->cc == CURLE_OK && resp->status >= 200 &&
		    resp->status < 300)
			return 0;
		why[0] = '\0';
		if ((d = ca_retry_next(rp, resp, n, why, sizeof(why))) < 0)
			break;
		ca_resp_errmsg(resp, msg, sizeof(msg));
		ca_note("%s; retry %d of %d in %.2f s", msg, n + 1, rp->max,
		    d / 1000.0);
		if (ca_sleep_ms(d) == -1)
			break;
		if (rewind != NULL && rewind(ctx) == -1)
			break;
		ca_resp_reset(resp);
	}
	if (why[0] != '\0')
		ca_note("not retrying: %s", why);
	return ca_resp_temporary(resp) ? CA_EX_TEMPFAIL : CA_EX_FAIL;
}
