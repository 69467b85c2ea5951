/*
 * state.c: --state FILE, a state file that ca-batch updates in place,
 * safe from a full disk, from a second run and from records added
 * while a run goes on.
 *
 * A run locks FILE (fcntl, without waiting: a second run exits 75 and
 * sends nothing), makes its output a temporary file beside it, reads
 * FILE as its input, and renames the output over FILE only when all of
 * it was written and synced.  Records added with --add wait for the
 * lock, so none lands in a file that is being replaced; bytes appended
 * without it while a run reads are copied over before the rename.
 *
 * The lock is on the file, and the file is replaced: whoever gets the
 * lock checks that FILE still names the file it locked, and else locks
 * the new one.  Since every replacement is made under the lock of the
 * file it replaces, the holder of the lock on the file FILE names is
 * the only one who may change it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-batch.h"

static struct {
	const char	*path;
	int		 fd;		/* FILE, locked */
	int		 dirfd;		/* its directory */
	char		*base;		/* its name there */
	FILE		*in;
} st = { NULL, -1, -1, NULL, NULL };

/* Open path with flags and lock it (wait: until it is free); -1 when
 * another process holds it and wait is not set. */
static int
lock_open(const char *path, int flags, int wait)
{
	struct flock fl;
	struct stat a, b;
	int fd, tries, rv;

	for (tries = 0; tries < 1000; tries++) {
		if ((fd = open(path, flags | O_CLOEXEC, 0666)) == -1)
			ca_die(CA_EX_IOERR, "%s:", path);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		while ((rv = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl)) == -1 &&
		    errno == EINTR)
			;
		if (rv == -1 && !wait && (errno == EACCES || errno == EAGAIN)) {
			close(fd);
			return -1;
		}
		if (rv == -1)
			ca_die(CA_EX_IOERR, "%s: cannot lock it:", path);
		if (fstat(fd, &a) == -1)
			ca_die(CA_EX_IOERR, "%s:", path);
		if (stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);	/* replaced while we waited: lock the new one */
	}
	ca_die(CA_EX_TEMPFAIL, "%s: replaced again and again; try later", path);
}

static void
split_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (slash == NULL) {
		dir = ca_xstrdup(".");
		st.base = ca_xstrdup(path);
	} else {
		dir = ca_xmalloc((size_t)(slash - path) + 2);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash == path ? 1 : slash - path] = '\0';
		if (slash == path)
			dir[0] = '/';
		st.base = ca_xstrdup(slash + 1);
	}
	if (*st.base == '\0')
		ca_usage("--state %s names a directory", path);
	if ((st.dirfd = open(dir, O_RDONLY | O_CLOEXEC)) == -1)
		ca_die(CA_EX_IOERR, "%s:", dir);
	free(dir);
}

FILE *
state_open(const char *path)
{
	struct stat sb;
	int tfd;

	st.path = path;
	split_path(path);
	if ((st.fd = lock_open(path, O_RDWR, 0)) == -1) {
		ca_warn("%s: another ca-batch is updating it; nothing was "
		    "sent", path);
		exit(CA_EX_TEMPFAIL);
	}
	/* Before anything is sent: a run that cannot write its state
	 * must not create a batch it cannot record.  Until main catches
	 * the signals itself (to write what is pending), one removes it. */
	ca_tmp_catch();
	if ((tfd = ca_tmp_open(st.dirfd, ".ca-batch.")) == -1)
		ca_die(CA_EX_IOERR, "cannot make a temporary file beside %s:",
		    path);
	atexit(ca_tmp_remove);
	if (fstat(st.fd, &sb) == 0)
		fchmod(tfd, sb.st_mode & 0777);
	if (dup2(tfd, STDOUT_FILENO) == -1)
		ca_die(CA_EX_IOERR, "dup2:");
	close(tfd);
	/* Closing any descriptor of FILE would drop the lock: this one
	 * stays open until the process ends. */
	if ((st.in = fdopen(st.fd, "r")) == NULL)
		ca_die(CA_EX_IOERR, "%s:", path);
	return st.in;
}

/* Copy what was appended to FILE after the reader reached its end. */
static void
carry_tail(void)
{
	char buf[65536];
	off_t off = lseek(st.fd, 0, SEEK_CUR), n = 0;
	ssize_t r;

	if (off == -1)
		ca_die(CA_EX_IOERR, "%s:", st.path);
	for (;;) {
		if ((r = pread(st.fd, buf, sizeof(buf), off + n)) == -1) {
			if (errno == EINTR)
				continue;
			ca_die(CA_EX_IOERR, "%s:", st.path);
		}
		if (r == 0)
			break;
		if (ca_write_all(STDOUT_FILENO, buf, (size_t)r) == -1)
			ca_die(CA_EX_IOERR, "write error beside %s:", st.path);
		n += r;
	}
	if (n > 0)
		ca_note("%s: %lld bytes added during the run are kept", st.path,
		    (long long)n);
}

int
state_commit(int status, int input_ok)
{
	if (!input_ok) {
		ca_warn("%s: not read to its end; left as it was", st.path);
		return CA_EX_IOERR;
	}
	ca_out_flush();
	carry_tail();
	if (fsync(STDOUT_FILENO) == -1)
		ca_die(CA_EX_IOERR, "write error beside %s:", st.path);
	if (ca_tmp_publish(st.dirfd, st.base, 1) == -1)
		ca_die(CA_EX_IOERR, "%s: cannot replace it:", st.path);
	return status;
}

int
state_add(const char *path)
{
	struct ca_reader *r = ca_reader_new(stdin, CA_STDIN);
	struct ca_buf b = { NULL, 0, 0, (size_t)-1 / 2 };
	struct ca_status s = { 0, 0 };
	struct ca_rec rec;
	struct stat sb;
	int fd, rv;

	while ((rv = ca_reader_next(r, &rec)) != 0) {
		if (rv == -1) {
			ca_status_add(&s, CA_EX_FAIL);
			continue;
		}
		if (ca_buf_add(&b, rec.raw, rec.len) == -1 ||
		    ca_buf_add(&b, "\n", 1) == -1)
			ca_die(CA_EX_IOERR, "out of memory");
	}
	if (ca_reader_failed(r))
		ca_die(CA_EX_IOERR, "nothing was added to %s", path);
	ca_reader_free(r);
	fd = lock_open(path, O_WRONLY | O_APPEND | O_CREAT, 1);
	if (fstat(fd, &sb) == -1)
		ca_die(CA_EX_IOERR, "%s:", path);
	if (b.len > 0 && (ca_write_all(fd, b.p, b.len) == -1 ||
	    fsync(fd) == -1)) {
		/* Half a record would be a bad line in every later run. */
		rv = errno;
		if (ftruncate(fd, sb.st_size) == 0)
			fsync(fd);
		errno = rv;
		ca_die(CA_EX_IOERR, "%s: nothing was added:", path);
	}
	close(fd);
	ca_buf_free(&b);
	return ca_status_exit(&s);
}
