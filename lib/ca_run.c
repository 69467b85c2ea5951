/*
 * ca_run.c: run local commands (client tools) side by side: each gets
 * its input on stdin, never in argv and never through a shell, a clean
 * environment, its own process group (killed whole at its deadline),
 * and a cap on what it may print.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"

extern char **environ;

/* Only these reach a tool: no key, no token, nothing of the API's. */
static const char *const keep_env[] = { "PATH", "HOME", "USER", "LOGNAME",
    "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", NULL };

#define ERR_MAX	4096		/* stderr kept, for the reason of a failure */

static char **
clean_env(void)
{
	char **env = ca_xcalloc(sizeof(keep_env) / sizeof(keep_env[0]),
	    sizeof(char *));
	const char *v;
	size_t n;
	int i, k = 0;

	for (i = 0; keep_env[i] != NULL; i++) {
		if ((v = getenv(keep_env[i])) == NULL)
			continue;
		n = strlen(keep_env[i]) + strlen(v) + 2;
		env[k] = ca_xmalloc(n);
		snprintf(env[k++], n, "%s=%s", keep_env[i], v);
	}
	return env;
}

static void
free_env(char **env)
{
	int i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static void
nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* fork and exec r's command; -1 (r->err set) if it could not start. */
static int
start(struct ca_run *r, char **env)
{
	int in[2], out[2], err[2];

	if (pipe(in) == -1 || pipe(out) == -1 || pipe(err) == -1) {
		r->err = errno;
		return -1;
	}
	r->started = ca_now();
	if ((r->pid = fork()) == -1) {
		r->err = errno;
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		return -1;
	}
	if (r->pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		/* A bare name is looked up on $PATH, never in the cwd. */
		if (strchr(r->argv[0], '/') != NULL)
			execve(r->argv[0], r->argv, env);
		else {
			environ = env;
			execvp(r->argv[0], r->argv);
		}
		_exit(127);
	}
	setpgid(r->pid, r->pid);	/* whichever runs first */
	close(in[0]);
	close(out[1]);
	close(err[1]);
	r->fd[0] = in[1];
	r->fd[1] = out[0];
	r->fd[2] = err[0];
	nonblock(r->fd[0]);
	nonblock(r->fd[1]);
	nonblock(r->fd[2]);
	r->deadline = r->started + r->timeout;
	if (r->deadline > r->limit)
		r->deadline = r->limit;
	r->running = 1;
	return 0;
}

static void
close_fd(struct ca_run *r, int i)
{
	if (r->fd[i] >= 0)
		close(r->fd[i]);
	r->fd[i] = -1;
}

static void
feed(struct ca_run *r)
{
	ssize_t n;

	n = write(r->fd[0], r->in + r->inoff, r->inlen - r->inoff);
	if (n > 0)
		r->inoff += (size_t)n;
	if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
	    r->inoff == r->inlen)
		close_fd(r, 0);
}

static void
drain(struct ca_run *r, int i)
{
	char buf[8192];
	ssize_t n;
	size_t room;

	while ((n = read(r->fd[i], buf, sizeof(buf))) > 0) {
		if (i == 2) {
			if (r->errtext.len < ERR_MAX)
				ca_buf_add(&r->errtext, buf, (size_t)n >
				    ERR_MAX - r->errtext.len ? ERR_MAX -
				    r->errtext.len : (size_t)n);
			continue;
		}
		r->bytes += (size_t)n;
		room = r->max > r->out.len ? r->max - r->out.len : 0;
		if ((size_t)n > room)
			r->truncated = 1;
		ca_buf_add(&r->out, buf, (size_t)n < room ? (size_t)n : room);
	}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		close_fd(r, i);
}

/* The child is gone (or killed): collect it, and the stragglers. */
static void
reaped(struct ca_run *r, int status)
{
	kill(-r->pid, SIGKILL);		/* anything it left behind */
	if (r->fd[1] >= 0)
		drain(r, 1);
	if (r->fd[2] >= 0)
		drain(r, 2);
	close_fd(r, 0);
	close_fd(r, 1);
	close_fd(r, 2);
	r->secs = ca_now() - r->started;
	if (WIFEXITED(status))
		r->status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status)) {
		r->status = 128 + WTERMSIG(status);
		r->sig = WTERMSIG(status);
	}
	r->running = 0;
	r->done = 1;
}

static void
check(struct ca_run *r, double now)
{
	int status;
	pid_t p;

	if (now >= r->deadline && !r->timed_out) {
		r->timed_out = 1;
		kill(-r->pid, SIGKILL);
	}
	/*
	 * Done once it exited: all it wrote is in the pipe by then (a
	 * write to a full pipe blocks), and what it left running in the
	 * background, holding the pipe open, is killed with the group.
	 */
	p = waitpid(r->pid, &status, r->timed_out ? 0 : WNOHANG);
	if (p == r->pid)
		reaped(r, status);
}

static void
step(struct ca_run *v, int n)
{
	struct pollfd pfd[3 * 64];
	struct ca_run *who[3 * 64];
	int idx[3 * 64];
	int i, k, np = 0;
	double now = ca_now(), next = -1;

	for (i = 0; i < n && np < 3 * 64 - 3; i++) {
		if (!v[i].running)
			continue;
		for (k = 0; k < 3; k++) {
			if (v[i].fd[k] < 0)
				continue;
			pfd[np].fd = v[i].fd[k];
			pfd[np].events = k == 0 ? POLLOUT : POLLIN;
			pfd[np].revents = 0;
			who[np] = &v[i];
			idx[np++] = k;
		}
		if (next < 0 || v[i].deadline < next)
			next = v[i].deadline;
	}
	/* An exit without output to read still wakes us within 100 ms. */
	k = next < 0 ? 100 : (int)((next - now) * 1000) + 1;
	poll(pfd, (nfds_t)np, k > 100 || k < 0 ? 100 : k);
	for (i = 0; i < np; i++) {
		if (pfd[i].revents == 0 || who[i]->fd[idx[i]] != pfd[i].fd)
			continue;
		if (idx[i] == 0)
			feed(who[i]);
		else
			drain(who[i], idx[i]);
	}
	now = ca_now();
	for (i = 0; i < n; i++)
		if (v[i].running)
			check(&v[i], now);
}

void
ca_run_all(struct ca_run *v, int n, int maxpar)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	char **env = clean_env();
	int i, running, next = 0;

	if (maxpar > 64)
		maxpar = 64;
	for (i = 0; i < n; i++) {
		v[i].fd[0] = v[i].fd[1] = v[i].fd[2] = -1;
		v[i].status = -1;
	}
	for (;;) {
		running = 0;
		for (i = 0; i < n; i++)
			running += v[i].running;
		while (running < maxpar && next < n) {
			struct ca_run *r = &v[next++];

			/* No start after the common limit: no answer in time. */
			if (ca_now() >= r->limit) {
				r->late = 1;
				r->done = 1;
			} else if (start(r, env) == 0)
				running++;
			else
				r->done = 1;
		}
		if (running == 0 && next >= n)
			break;
		step(v, n);
	}
	free_env(env);
	signal(SIGPIPE, old);
}

void
ca_run_free(struct ca_run *r)
{
	ca_buf_free(&r->out);
	ca_buf_free(&r->errtext);
}

void
ca_utf8_clean(struct ca_buf *out, const char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = p[i] != '\0' ? ca_utf8_len((const unsigned char *)p + i,
		    n - i) : 0;
		if (k == 0) {
			ca_buf_addstr(out, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
		} else {
			ca_buf_add(out, p + i, k);
			i += k;
		}
	}
	if (out->p == NULL)
		ca_buf_addstr(out, "");
}
