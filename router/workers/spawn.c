/*
 * spawn.c - fork + execve for the supervisor (see spawn.h).
 *
 * Everything the child needs (program path, argv, envp, working directory, /dev/null) is
 * prepared before fork; between fork and execve the child makes only async-signal-safe
 * system calls. A close-on-exec pipe reports a failed chdir or execve to the parent as
 * {stage, errno}: an exec that works closes it, so the parent's read sees end of file at
 * once, and one that fails is told apart from a program that ran and exited 127.
 * Every other descriptor of wampd (listening sockets, connections, the log) is marked
 * close-on-exec in the child with close_range(CLOSE_RANGE_CLOEXEC) (Linux 5.11), or closed
 * one by one where that is missing, so a child never holds a port open after wampd stops.
 */
#include "router/workers/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* ---- string vectors ---- */

static bool strv_grow(struct strv *sv)
{
	char **v;
	size_t cap = sv->cap ? sv->cap * 2 : 32;

	if (sv->n + 1 < sv->cap)
		return true;
	if (!(v = realloc(sv->v, cap * sizeof(*v)))) {
		sv->failed = true;
		return false;
	}
	sv->v = v;
	sv->cap = cap;
	return true;
}

void strv_add(struct strv *sv, const char *s)
{
	char *copy;

	if (!strv_grow(sv))
		return;
	if (!(copy = strdup(s))) {
		sv->failed = true;
		return;
	}
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
}

static size_t env_name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static ssize_t strv_find(const struct strv *sv, const char *name, size_t len)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strncmp(sv->v[i], name, len) && sv->v[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

void strv_setenv(struct strv *sv, const char *kv, bool override)
{
	ssize_t at = strv_find(sv, kv, env_name_len(kv));
	char *copy;

	if (at < 0) {
		strv_add(sv, kv);
		return;
	}
	if (!override)
		return;
	if (!(copy = strdup(kv))) {
		sv->failed = true;
		return;
	}
	free(sv->v[at]);
	sv->v[at] = copy;
}

const char *strv_getenv(const struct strv *sv, const char *name)
{
	ssize_t at = strv_find(sv, name, strlen(name));

	return at < 0 ? NULL : sv->v[at] + strlen(name) + 1;
}

void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

/* ---- environment and program ---- */

void spawn_env(const struct process_config *pc, char *const *parent, const char *const *defaults,
               struct strv *out)
{
	memset(out, 0, sizeof(*out));
	strv_grow(out); /* an empty environment is still a vector */
	if (out->v)
		out->v[0] = NULL;
	for (size_t i = 0; parent && parent[i]; i++) {
		bool keep = pc->env_inherit;

		for (size_t k = 0; !keep && pc->env_keep && pc->env_keep[k]; k++)
			keep = env_name_len(parent[i]) == strlen(pc->env_keep[k]) &&
			       !strncmp(parent[i], pc->env_keep[k], strlen(pc->env_keep[k]));
		if (keep && strchr(parent[i], '='))
			strv_setenv(out, parent[i], true);
	}
	for (size_t i = 0; defaults && defaults[i]; i++)
		strv_setenv(out, defaults[i], false);
	for (size_t i = 0; pc->env_vars && pc->env_vars[i]; i++)
		strv_setenv(out, pc->env_vars[i], true);
}

static bool spawn_is_program(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

static char *spawn_join(const char *dir, size_t dlen, const char *name)
{
	size_t n = dlen + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%.*s/%s", (int)dlen, dir, name);
	return p;
}

char *spawn_resolve(const char *exe, const char *workdir, const char *path_var, char *err,
                    size_t errlen)
{
	const char *p;
	char *found;

	if (strchr(exe, '/')) {
		found = exe[0] == '/' ? strdup(exe) : spawn_join(workdir, strlen(workdir), exe);
		if (!found) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		if (spawn_is_program(found))
			return found;
		snprintf(err, errlen, "%s: %s", found,
		         access(found, F_OK) ? strerror(errno) : "not an executable file");
		free(found);
		return NULL;
	}
	if (!path_var)
		path_var = DEFAULT_PATH;
	for (p = path_var;; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		/* an empty entry is the working directory (the child's: workdir) */
		found = len ? (p[0] == '/' ? spawn_join(p, len, exe) : NULL) : NULL;
		if (!found) {
			char dir[4096];

			snprintf(dir, sizeof(dir), "%s/%.*s", workdir, (int)len, p);
			found = spawn_join(dir, strlen(dir), exe);
		}
		if (found && spawn_is_program(found))
			return found;
		free(found);
		if (!end)
			break;
		p = end;
	}
	snprintf(err, errlen, "%s: not found in PATH (%.200s)", exe, path_var);
	return NULL;
}

/* ---- the start ---- */

struct spawn_fail {
	int stage; /* 1: chdir, 2: execve */
	int err;
};

/* fd moved to a number above 2 (close-on-exec), so that the child's dup2 onto 0, 1, 2
 * never overwrites a descriptor it still has to place. */
static int fd_high(int fd)
{
	int hi;

	if (fd < 0 || fd > 2)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return hi;
}

static bool pipe_high(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return false;
	p[0] = fd_high(p[0]);
	p[1] = fd_high(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		return false;
	}
	return true;
}

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A kernel struct sigaction of SIG_DFL, no flags, no restorer, an empty mask (room for
 * every architecture's layout). */
static const unsigned long kernel_dfl[8];

/* In the child, after fork: async-signal-safe calls only. */
static void __attribute__((noreturn))
spawn_child(const struct spawn_req *rq, pid_t parent, int in, int out, int errfd, int report)
{
	struct sigaction sa;
	sigset_t none;
	struct spawn_fail f = {0, 0};
	int targets[3] = {in, out, errfd};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &sa, NULL) != 0)
			/* glibc refuses its own two (32, 33: SIGCANCEL, SIGSETXID), but an ignore
			 * inherited from whoever started wampd survives exec: ask the kernel. Its
			 * struct is all zeros for SIG_DFL with no flags, whatever its layout. */
			syscall(SYS_rt_sigaction, sig, kernel_dfl, NULL, (size_t)(NSIG / 8));
	/* SIG_IGN (wampd's SIGPIPE) survives exec, hence the reset of every signal */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent) /* wampd died before the line above */
		_exit(127);
	for (int t = 0; t < 3; t++)
		if (dup2(targets[t], t) < 0)
			_exit(127);
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		struct rlimit rl;
		long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
		                   ? (long)rl.rlim_cur
		                   : 65536;

		for (long fd = 3; fd < max; fd++)
			if (fd != report)
				close((int)fd);
	}
	if (chdir(rq->workdir) < 0) {
		f.stage = 1;
		f.err = errno;
	} else {
		execve(rq->path, rq->argv, rq->envp);
		f.stage = 2;
		f.err = errno;
	}
	if (write(report, &f, sizeof(f)) < 0)
		_exit(127);
	_exit(127);
}

pid_t spawn_start(const struct spawn_req *rq, int *out_fd, int *err_fd, bool *permanent,
                  char *err, size_t errlen)
{
	int devnull = -1, outp[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	int in = rq->stdin_fd;
	struct spawn_fail f;
	pid_t pid = -1;
	ssize_t n;

	*permanent = false;
	*out_fd = *err_fd = -1;
	if ((devnull = fd_high(open("/dev/null", O_RDWR | O_CLOEXEC))) < 0 ||
	    (rq->pipe_out && !pipe_high(outp)) || (rq->pipe_err && !pipe_high(errp)) ||
	    !pipe_high(rep)) {
		snprintf(err, errlen, "cannot make its pipes: %s", strerror(errno));
		goto out;
	}
	if (in >= 0 && in <= 2 && (in = fcntl(in, F_DUPFD_CLOEXEC, 3)) < 0) {
		snprintf(err, errlen, "cannot place its stdin: %s", strerror(errno));
		goto out;
	}
	{
		pid_t parent = getpid();

		pid = fork();
		if (pid == 0)
			spawn_child(rq, parent, in >= 0 ? in : devnull, rq->pipe_out ? outp[1] : devnull,
			            rq->pipe_err ? errp[1] : devnull, rep[1]);
	}
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	setpgid(pid, pid); /* also here: no signal to the group can come before it exists */
	close(rep[1]);
	rep[1] = -1;
	do
		n = read(rep[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(f)) {
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		snprintf(err, errlen, "%s %s: %s", f.stage == 1 ? "chdir" : "execve",
		         f.stage == 1 ? rq->workdir : rq->path, strerror(f.err));
		*permanent = f.err == ENOENT || f.err == EACCES || f.err == ENOTDIR ||
		             f.err == ENOEXEC || f.err == ELOOP || f.err == ENAMETOOLONG ||
		             f.err == EPERM;
		pid = -1;
		goto out;
	}
	if (rq->pipe_out) {
		fcntl(outp[0], F_SETFL, O_NONBLOCK);
		*out_fd = outp[0];
		outp[0] = -1;
	}
	if (rq->pipe_err) {
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
		*err_fd = errp[0];
		errp[0] = -1;
	}
out:
	if (in != rq->stdin_fd)
		close_if(in);
	close_if(devnull);
	close_if(outp[0]);
	close_if(outp[1]);
	close_if(errp[0]);
	close_if(errp[1]);
	close_if(rep[0]);
	close_if(rep[1]);
	return pid;
}
