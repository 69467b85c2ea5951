/*
 * ca_file.c: directories and writes, as the tools that save files need
 * them.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ca.h"

int
ca_mkdirs(const char *path, mode_t mode)
{
	char *p = ca_xstrdup(path), *q;
	int rv = 0;

	for (q = p + 1; *q && rv == 0; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			rv = -1;
		*q = '/';
	}
	if (rv == 0 && mkdir(p, mode) == -1 && errno != EEXIST)
		rv = -1;
	free(p);
	return rv;
}

int
ca_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
