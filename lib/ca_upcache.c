/*
 * ca_upcache.c: the upload cache's key, so that a cron job running the
 * same pipeline every hour does not upload the same bytes every hour.
 * The entries themselves are ca_cache.c's.
 */
#include <stdio.h>
#include <string.h>

#include "ca.h"

/*
 * The key names everything that makes an uploaded file what it is for a
 * container: the server, the bytes, the name, the type and the expiry.
 */
void
ca_upcache_key(const char *base, const char *digest, const char *name,
    const char *type, long expires, char key[65])
{
	struct ca_sha256 s;
	char exp[32];

	snprintf(exp, sizeof(exp), "%ld", expires);
	ca_sha256_init(&s);
	ca_sha256_update(&s, "ca-upload cache v1", 19);
	ca_sha256_update(&s, base, strlen(base) + 1);
	ca_sha256_update(&s, digest, 65);
	ca_sha256_update(&s, name, strlen(name) + 1);
	ca_sha256_update(&s, type, strlen(type) + 1);
	ca_sha256_update(&s, exp, strlen(exp) + 1);
	ca_sha256_final(&s, key);
}

