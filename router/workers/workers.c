/*
 * workers.c - the supervised processes (see workers.h): the glue between the state machine
 * (supervise.c), the process start (spawn.c) and the event loop.
 *
 * Each process is one struct worker: its supervisor, its two output streams and its type's
 * row in the kind table (how its argv and stdin are made: a guest runs its executable with
 * its arguments and /dev/null as stdin; a Python process runs the launcher with the
 * interpreter and reads its components' description, secrets included, from a memfd as
 * stdin). The supervisor's operations are: the monotonic clock, spawn_start, kill(2) to
 * the process group, and the realm timers the loop provides.
 *
 * Exits are seen through a self-pipe: the SIGCHLD handler writes one byte (nothing else is
 * async-signal-safe enough to do there); the loop watches the pipe's other end, and its
 * callback reaps with waitpid(-1, WNOHANG) until none is left. wampd starts no other
 * children, and it is the workers' subreaper (PR_SET_CHILD_SUBREAPER): what a worker
 * started and left behind when it died comes back to wampd, not to init, and is reaped
 * here too, so there is never a zombie. Before an exit is handed to the supervisor, the
 * output still in the pipes is read, so that a crash's last words come before the "exited"
 * line. When a worker dies on its own, the rest of its process group gets SIGTERM (nothing
 * of an old run lingers next to the new one); at exit every child left gets SIGKILL and is
 * reaped.
 *
 * Output: each stream's pipe is read without blocking, at most READ_BUDGET bytes per
 * wake-up (a chatty child cannot hold the loop), cut into lines (linebuf.c, 4 KiB per line
 * at most) and logged as `worker=<id> <stream>: <line>` at notice level, control
 * characters escaped by the log.
 */
#include "router/workers/workers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/auth.h"
#include "common/clock.h"
#include "common/log.h"
#include "router/core/router.h"
#include "router/net/loop.h"
#include "router/workers/linebuf.h"
#include "router/workers/spawn.h"
#include "router/workers/supervise.h"
#include "serializers/serializer.h"

extern char **environ;

#define READ_BUDGET (64 * 1024)
#define EX_CONFIG 78          /* the launcher's "cannot run as configured" (sysexits.h) */
#define SECRET_BYTES 32
#define UUID_LEN 36           /* xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx */
#define LAUNCHER_BUILD_NAME "wampd-component.py"
#ifndef WAMPD_LAUNCHER_REL
#define WAMPD_LAUNCHER_REL "../libexec/wampd/wampd-component"
#endif

struct worker;

struct wstream {
	struct worker *w;
	const char *name; /* "stdout" or "stderr" */
	int fd;           /* -1: none */
	struct loop_watch *watch;
	struct linebuf lb;
};

/* What proves a router component on the internal listener (auth/trusted.c). */
struct rcomp {
	char authid[UUID_LEN + 1]; /* random, like the uuid4 Crossbar gives its components */
	char *secret;              /* random; NULL: the component has a transport (owned) */
};

struct worker {
	struct sup sup;
	struct workers *ws;
	const struct process_config *pc;
	const struct worker_kind *kind;
	struct wstream out, err;
	struct rcomp *rc; /* per component, or NULL: none is a router component (owned) */
};

struct workers {
	struct worker *w;
	size_t n;
	struct router *rt;
	struct loop *loop;
	char *base_dir;  /* the configuration's directory, or the working directory (owned) */
	char *dir;       /* the private directory of the internal socket, or NULL (owned) */
	char *sock;      /* the internal listener's socket path, or NULL (owned) */
	char *launcher;  /* the Python component launcher, or NULL: not found (owned) */
	struct loop_watch *chld_watch;
	struct sigaction old_chld;
	bool chld_installed;
	bool stopping;
};

/* The SIGCHLD self-pipe (process-wide: a signal handler has no context). */
static int chld_pipe[2] = {-1, -1};

static void chld_handler(int sig)
{
	int saved = errno;
	ssize_t n;

	(void)sig;
	n = write(chld_pipe[1], "c", 1); /* full: it is readable already, nothing is lost */
	(void)n;
	errno = saved;
}

/* ---------------------------------------------------------------------------------- */
/* kinds                                                                                */

struct worker_kind {
	const char *name;
	int config_exit;             /* -1: none */
	const char *config_exit_why;
	/* argv for one start (argv[0]: the program to resolve); false with why in err */
	bool (*argv)(const struct process_config *pc, const char *launcher, struct strv *argv,
	             char *err, size_t errlen);
	/* the child's stdin for one start: a descriptor the caller closes, or -1 (/dev/null);
	 * -2 on failure with why in err */
	int (*stdin_fd)(struct worker *w, char *err, size_t errlen);
};

static bool guest_argv(const struct process_config *pc, const char *launcher, struct strv *argv,
                       char *err, size_t errlen)
{
	(void)launcher, (void)err, (void)errlen;
	strv_add(argv, pc->executable);
	for (size_t i = 0; pc->arguments && pc->arguments[i]; i++)
		strv_add(argv, pc->arguments[i]);
	return true;
}

static bool python_argv(const struct process_config *pc, const char *launcher,
                        struct strv *argv, char *err, size_t errlen)
{
	if (!launcher) {
		snprintf(err, errlen, "the Python component launcher (%s) is not installed next to "
		         "wampd", LAUNCHER_BUILD_NAME);
		return false;
	}
	strv_add(argv, pc->executable);
	strv_add(argv, "-u");
	strv_add(argv, launcher);
	return true;
}

/* What the launcher reads on its stdin (router/workers/wampd-component.py): the
 * components, and for router components the internal socket, their authids and secrets. */
static json_t *python_spec(const struct worker *w)
{
	const struct process_config *pc = w->pc;
	json_t *spec, *comps = json_array(), *pp = json_array();

	for (size_t i = 0; pc->pythonpath && pc->pythonpath[i]; i++)
		json_array_append_new(pp, json_string(pc->pythonpath[i]));
	for (size_t i = 0; i < pc->ncomponents; i++) {
		const struct component_config *cc = &pc->components[i];
		json_t *c = json_pack("{s:s, s:s, s:s}", "id", cc->id, "classname", cc->classname,
		                      "realm", cc->realm);

		if (!c)
			continue;
		if (cc->extra)
			json_object_set(c, "extra", cc->extra);
		if (cc->transport)
			json_object_set(c, "transport", cc->transport);
		else
			json_object_set_new(c, "router",
			                    json_pack("{s:s, s:s, s:s, s:s}", "path", w->ws->sock,
			                              "authid", w->rc[i].authid, "role", cc->role,
			                              "secret", w->rc[i].secret));
		json_array_append_new(comps, c);
	}
	spec = json_pack("{s:s, s:s, s:o, s:o}", "worker", pc->id, "base_dir", w->ws->base_dir,
	                 "pythonpath", pp, "components", comps);
	return spec;
}

static int python_stdin(struct worker *w, char *err, size_t errlen)
{
	json_t *spec = python_spec(w);
	char *text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0, off = 0;
	int fd = -1;

	json_decref(spec);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	fd = memfd_create("wampd-component", MFD_CLOEXEC);
	while (fd >= 0 && off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)n;
	}
	sodium_memzero(text, len); /* the secrets */
	free(text);
	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "cannot hand the components over: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -2;
	}
	return fd;
}

static const struct worker_kind worker_kinds[] = {
	[PROCESS_GUEST] = {"guest", -1, NULL, guest_argv, NULL},
	[PROCESS_PYTHON] = {"python", EX_CONFIG,
	                    "its components cannot run as configured (the launcher's line above "
	                    "says why: python3-autobahn missing, a classname that cannot be "
	                    "loaded); routing goes on",
	                    python_argv, python_stdin},
};

/* ---------------------------------------------------------------------------------- */
/* output                                                                               */

static void stream_line(void *arg, const char *text, size_t len, size_t dropped)
{
	struct wstream *st = arg;

	(void)len;
	if (dropped)
		wlog_notice("worker", "worker=%s %s: %s [... %zu more bytes]", st->w->pc->id,
		            st->name, text, dropped);
	else
		wlog_notice("worker", "worker=%s %s: %s", st->w->pc->id, st->name, text);
}

static void stream_close(struct wstream *st)
{
	if (st->fd < 0)
		return;
	linebuf_flush(&st->lb, stream_line, st);
	loop_unwatch(st->watch);
	st->watch = NULL;
	close(st->fd);
	st->fd = -1;
}

/* Read what the pipe has (up to READ_BUDGET); at end of file, close it. */
static void stream_read(struct wstream *st)
{
	char buf[4096];
	size_t total = 0;

	while (st->fd >= 0 && total < READ_BUDGET) {
		ssize_t n = read(st->fd, buf, sizeof(buf));

		if (n > 0) {
			linebuf_feed(&st->lb, buf, (size_t)n, stream_line, st);
			total += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		stream_close(st); /* end of file or an error */
	}
}

static void stream_ready(void *arg)
{
	stream_read(arg);
}

static void stream_open(struct wstream *st, int fd)
{
	st->fd = fd;
	linebuf_init(&st->lb);
	if (fd >= 0 && !(st->watch = loop_watch_fd(st->w->ws->loop, fd, stream_ready, st))) {
		close(fd);
		st->fd = -1;
	}
}

/* ---------------------------------------------------------------------------------- */
/* the supervisor's operations                                                          */

static int64_t w_now(void *ctx)
{
	(void)ctx;
	return clock_mono_ms();
}

static pid_t w_spawn(void *ctx, struct sup *s, bool *permanent, char *err, size_t errlen)
{
	static const char *const defaults[] = {"PYTHONUNBUFFERED=1", NULL};
	struct worker *w = ctx;
	const struct process_config *pc = w->pc;
	struct strv env, argv = {0};
	char *program = NULL;
	int in = -1, ofd = -1, efd = -1;
	pid_t pid = -1;

	(void)s;
	*permanent = false;
	spawn_env(pc, environ, defaults, &env);
	if (!w->kind->argv(pc, w->ws->launcher, &argv, err, errlen)) {
		*permanent = true;
		goto out;
	}
	if (env.failed || argv.failed || !argv.n) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!(program = spawn_resolve(argv.v[0], pc->workdir, strv_getenv(&env, "PATH"), err,
	                              errlen))) {
		*permanent = true;
		goto out;
	}
	if (w->kind->stdin_fd && (in = w->kind->stdin_fd(w, err, errlen)) == -2)
		goto out;
	/* a grandchild may still hold the last run's pipes: that output is not this run's */
	stream_close(&w->out);
	stream_close(&w->err);
	{
		struct spawn_req rq = {.path = program, .argv = argv.v, .envp = env.v,
		                       .workdir = pc->workdir, .stdin_fd = in,
		                       .pipe_out = pc->log_stdout, .pipe_err = pc->log_stderr};

		pid = spawn_start(&rq, &ofd, &efd, permanent, err, errlen);
	}
	if (pid > 0) {
		stream_open(&w->out, ofd);
		stream_open(&w->err, efd);
	}
out:
	if (in >= 0)
		close(in);
	free(program);
	strv_free(&env);
	strv_free(&argv);
	return pid;
}

static void w_kill(void *ctx, struct sup *s, pid_t pid, int sig)
{
	(void)ctx, (void)s;
	/* the group: what a shell script or a launcher started goes too */
	if (kill(-pid, sig) < 0)
		kill(pid, sig);
}

static void *w_timer_start(void *ctx, uint32_t ms, void (*fn)(void *arg), void *arg)
{
	struct worker *w = ctx;
	struct realm_timer_ops *t = &w->ws->rt->realms.timers;

	return t->start ? t->start(t->ctx, ms, fn, arg) : NULL;
}

static void w_timer_cancel(void *ctx, void *timer)
{
	struct worker *w = ctx;
	struct realm_timer_ops *t = &w->ws->rt->realms.timers;

	if (t->cancel)
		t->cancel(t->ctx, timer);
}

static const struct sup_ops worker_sup_ops = {
	.now_ms = w_now,
	.spawn = w_spawn,
	.kill = w_kill,
	.timer_start = w_timer_start,
	.timer_cancel = w_timer_cancel,
};

/* ---------------------------------------------------------------------------------- */
/* exits                                                                                */

/* Child pid exited with wait status st (reaped): a worker's, or an orphan of one. */
static void w_exited(struct workers *ws, pid_t pid, int st)
{
	for (size_t i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		bool asked;

		if (!sup_alive(&w->sup) || w->sup.pid != pid)
			continue;
		asked = w->sup.state == SUP_STOPPING;
		stream_read(&w->out); /* its last words before its exit */
		stream_read(&w->err);
		sup_exited(&w->sup, st);
		/* what it started and left behind goes with it (as systemd's control group
		 * does): nothing of an old run lingers when it is restarted */
		if (!asked)
			kill(-pid, SIGTERM);
		return;
	}
	/* wampd is the workers' subreaper: their orphans come back to it to be reaped */
	wlog_debug("worker", "reaped pid=%ld (an orphan of a worker)", (long)pid);
}

/* Reap every child that has exited, without waiting. */
static void w_reap(struct workers *ws)
{
	int st;
	pid_t r;

	while ((r = waitpid(-1, &st, WNOHANG)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: none left */
		}
		w_exited(ws, r, st);
	}
}

static void chld_ready(void *arg)
{
	struct workers *ws = arg;
	char buf[64];

	while (read(chld_pipe[0], buf, sizeof(buf)) > 0)
		;
	w_reap(ws);
}

/* SIGKILL to every process whose parent is wampd (the workers, and their orphans that came
 * back to wampd as their subreaper). Returns how many. */
static int w_kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	int n = 0;

	while (d && (e = readdir(d))) {
		char path[300], stat[512], *close_paren;
		long ppid;
		ssize_t len;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (len <= 0)
			continue;
		stat[len] = '\0';
		/* "pid (comm) state ppid ...": comm may hold anything, the last ')' ends it */
		if (!(close_paren = strrchr(stat, ')')) ||
		    sscanf(close_paren + 1, " %*c %ld", &ppid) != 1 || ppid != self)
			continue;
		kill((pid_t)atol(e->d_name), SIGKILL);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* At exit: kill and reap every child left, orphans that came back included, so that wampd
 * leaves neither a running process nor a zombie. Bounded: SIGKILL cannot be ignored. */
static void w_reap_all(struct workers *ws)
{
	for (int round = 0; round < 400; round++) {
		struct timespec ts = {0, 5 * 1000 * 1000};

		w_kill_children();
		w_reap(ws);
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		nanosleep(&ts, NULL);
	}
	wlog_warn("worker", "child processes still left after SIGKILL");
}

/* ---------------------------------------------------------------------------------- */
/* the internal listener                                                                */

static char *w_runtime_base(void)
{
	const char *d = getenv("RUNTIME_DIRECTORY"); /* systemd's RuntimeDirectory= */
	const char *colon;

	if (!d || !*d)
		d = getenv("XDG_RUNTIME_DIR");
	if (!d || !*d || d[0] != '/')
		d = "/tmp";
	colon = strchr(d, ':');
	return colon ? strndup(d, (size_t)(colon - d)) : strdup(d);
}

/* A random secret, 64 hex digits. */
static char *w_secret(void)
{
	unsigned char raw[SECRET_BYTES];
	char *hex = malloc(SECRET_BYTES * 2 + 1);

	if (!hex)
		return NULL;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, SECRET_BYTES * 2 + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return hex;
}

/* A random (version 4) UUID in its usual text form. */
static void w_uuid(char out[UUID_LEN + 1])
{
	unsigned char u[16];
	char hex[33];

	randombytes_buf(u, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 10 */
	sodium_bin2hex(hex, sizeof(hex), u, sizeof(u));
	snprintf(out, UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
	         hex + 20);
}

static bool w_principal(struct auth_method_config *mc, const struct component_config *cc,
                        const struct rcomp *rc)
{
	struct auth_principal *p = calloc(1, sizeof(*p));
	json_t *o = json_pack("{s:s}", "secret", rc->secret);
	char err[160];
	bool ok = p && o && (p->authid = strdup(rc->authid)) && (p->role = strdup(cc->role)) &&
	          (p->realm = strdup(cc->realm)) &&
	          auth_principal_configure(AUTH_TRUSTED, p, o, err, sizeof(err));

	json_decref(o);
	if (!ok) {
		auth_principal_free(p);
		return false;
	}
	HASH_ADD_KEYPTR(hh, mc->principals, p->authid, strlen(p->authid), p);
	return true;
}

/* The private directory and the internal RawSocket listener (auth "trusted" only, one
 * principal per router component: a random authid and secret, its realm and role),
 * appended to cfg->listeners. */
static bool w_internal_listener(struct workers *ws, struct config *cfg)
{
	struct listener_config *ls, *l;
	char *base = w_runtime_base(), *tmpl = NULL;
	size_t n;

	if (!base)
		return false;
	n = strlen(base) + 32;
	if (!(tmpl = malloc(n))) {
		free(base);
		return false;
	}
	snprintf(tmpl, n, "%s/wampd-XXXXXX", base);
	free(base);
	if (!mkdtemp(tmpl)) { /* mode 0700: only wampd's user reaches the socket */
		wlog_error("worker", "cannot make the private directory %s for router components: %s",
		           tmpl, strerror(errno));
		free(tmpl);
		return false;
	}
	ws->dir = tmpl;
	n = strlen(tmpl) + 16;
	if (!(ws->sock = malloc(n)))
		return false;
	snprintf(ws->sock, n, "%s/router.sock", tmpl);
	if (strlen(ws->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		wlog_error("worker", "the internal socket path %s is too long", ws->sock);
		return false;
	}
	if (!(ls = realloc(cfg->listeners, (cfg->nlisteners + 1) * sizeof(*ls))))
		return false;
	cfg->listeners = ls;
	l = &ls[cfg->nlisteners];
	memset(l, 0, sizeof(*l));
	l->port_owner = cfg->nlisteners; /* a socket of its own */
	l->max_message_size = cfg->max_message_size; /* the file's limits, as every listener */
	l->ping_interval_s = cfg->ping_interval_s;
	l->ping_timeout_s = cfg->ping_timeout_s;
	cfg->nlisteners++;
	l->rawsocket = true;
	l->serializers = wamp_ser_supported_set();
	l->auth.m[AUTH_TRUSTED].enabled = true; /* nothing else: no listener of the
	                                           configuration can enable it */
	if (!(l->unix_path = strdup(ws->sock)) || !(l->path = strdup("/")))
		return false;
	for (size_t i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		for (size_t k = 0; k < w->pc->ncomponents; k++) {
			const struct component_config *cc = &w->pc->components[k];

			if (cc->transport)
				continue;
			if (!w->rc && !(w->rc = calloc(w->pc->ncomponents, sizeof(*w->rc))))
				return false;
			w_uuid(w->rc[k].authid);
			if (!(w->rc[k].secret = w_secret()) ||
			    !w_principal(&l->auth.m[AUTH_TRUSTED], cc, &w->rc[k]))
				return false;
			wlog_notice("worker", "router component worker=%s component=%s joins as "
			            "authid=%s authrole=%s realm=%s", w->pc->id, cc->id, w->rc[k].authid,
			            cc->role, cc->realm);
		}
	}
	return true;
}

/* ---------------------------------------------------------------------------------- */
/* lifetime                                                                             */

/* The launcher: next to the binary (the build tree), or where it is installed relative to
 * it (prefix/sbin/wampd -> prefix/libexec/wampd/wampd-component). */
static char *w_find_launcher(void)
{
	char exe[PATH_MAX], *slash, cand[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return NULL;
	*slash = '\0';
	snprintf(cand, sizeof(cand), "%s/%s", exe, LAUNCHER_BUILD_NAME);
	if (!access(cand, R_OK))
		return strdup(cand);
	snprintf(cand, sizeof(cand), "%s/%s", exe, WAMPD_LAUNCHER_REL);
	if (!access(cand, R_OK))
		return realpath(cand, NULL);
	return NULL;
}

static bool w_needs_launcher(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nprocesses; i++)
		if (cfg->processes[i].type == PROCESS_PYTHON)
			return true;
	return false;
}

bool workers_prepare(struct config *cfg, struct workers **out)
{
	struct workers *ws;
	bool internal = false;

	*out = NULL;
	if (!cfg->nprocesses)
		return true;
	if (sodium_init() < 0 || !(ws = calloc(1, sizeof(*ws)))) {
		wlog_error("worker", "cannot set the worker processes up");
		return false;
	}
	*out = ws;
	if (!(ws->w = calloc(cfg->nprocesses, sizeof(*ws->w))))
		goto nomem;
	ws->n = cfg->nprocesses;
	ws->base_dir = cfg->base_dir ? strdup(cfg->base_dir) : getcwd(NULL, 0);
	if (!ws->base_dir)
		goto nomem;
	if (w_needs_launcher(cfg) && !(ws->launcher = w_find_launcher()))
		wlog_error("worker", "the Python component launcher %s is not installed next to "
		           "wampd: Python components are not started", LAUNCHER_BUILD_NAME);
	for (size_t i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		w->ws = ws;
		w->pc = &cfg->processes[i];
		w->kind = &worker_kinds[w->pc->type];
		w->out = (struct wstream){.w = w, .name = "stdout", .fd = -1};
		w->err = (struct wstream){.w = w, .name = "stderr", .fd = -1};
		for (size_t k = 0; k < w->pc->ncomponents; k++)
			internal = internal || !w->pc->components[k].transport;
	}
	if (internal && !w_internal_listener(ws, cfg)) {
		wlog_error("worker", "cannot set up the internal listener for router components");
		workers_free(ws);
		*out = NULL;
		return false;
	}
	return true;
nomem:
	wlog_error("worker", "out of memory");
	workers_free(ws);
	*out = NULL;
	return false;
}

static void w_stop_hook(void *arg)
{
	workers_stop(arg);
}

static bool w_busy_hook(void *arg)
{
	return workers_busy(arg);
}

bool workers_start(struct workers *ws, struct router *rt, struct loop *loop)
{
	struct sigaction sa;
	uint32_t max_stop = 0;

	if (!ws)
		return true;
	ws->rt = rt;
	ws->loop = loop;
	rt->workers = ws;
	if (chld_pipe[0] < 0 && pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		wlog_error("worker", "cannot make the SIGCHLD pipe: %s", strerror(errno));
		return false;
	}
	if (!(ws->chld_watch = loop_watch_fd(loop, chld_pipe[0], chld_ready, ws)))
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = chld_handler;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, &ws->old_chld) < 0) {
		wlog_error("worker", "cannot handle SIGCHLD: %s", strerror(errno));
		return false;
	}
	ws->chld_installed = true;
	/* orphans of the workers (what a shell script started in the background) are
	 * reparented to wampd, not to init: wampd reaps them, and kills them at exit */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		wlog_warn("worker", "cannot become the workers' subreaper: %s", strerror(errno));
	for (size_t i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		const struct process_config *pc = w->pc;
		struct sup_policy pol = {
			.restart = pc->restart, .delay_ms = pc->restart_delay_ms,
			.delay_max_ms = pc->restart_delay_max_ms, .min_uptime_ms = pc->min_uptime_ms,
			.give_up_after = pc->give_up_after, .stop_timeout_ms = pc->stop_timeout_ms,
			.config_exit = w->kind->config_exit, .config_exit_why = w->kind->config_exit_why};

		if (pc->stop_timeout_ms > max_stop)
			max_stop = pc->stop_timeout_ms;
		sup_init(&w->sup, pc->id, &pol, &worker_sup_ops, w);
	}
	/* the loop waits for them at shutdown: their grace, then SIGKILL and the reaping */
	loop_on_stop(loop, w_stop_hook, w_busy_hook, ws, (int)max_stop + 2000);
	for (size_t i = 0; i < ws->n; i++)
		sup_start(&ws->w[i].sup);
	return true;
}

void workers_stop(struct workers *ws)
{
	if (!ws || ws->stopping)
		return;
	ws->stopping = true;
	for (size_t i = 0; i < ws->n; i++)
		sup_stop(&ws->w[i].sup);
}

bool workers_busy(const struct workers *ws)
{
	for (size_t i = 0; ws && i < ws->n; i++)
		if (sup_alive(&ws->w[i].sup))
			return true;
	return false;
}

void workers_free(struct workers *ws)
{
	if (!ws)
		return;
	if (ws->rt) {
		workers_stop(ws);
		for (size_t i = 0; i < ws->n; i++)
			if (sup_alive(&ws->w[i].sup))
				w_kill(&ws->w[i], &ws->w[i].sup, ws->w[i].sup.pid, SIGKILL);
		w_reap_all(ws);
		for (size_t i = 0; i < ws->n; i++) {
			struct worker *w = &ws->w[i];

			if (w->sup.timer)
				w_timer_cancel(w, w->sup.timer);
			sup_drop_timer(&w->sup);
			stream_read(&w->out);
			stream_read(&w->err);
			stream_close(&w->out);
			stream_close(&w->err);
		}
		loop_unwatch(ws->chld_watch);
		if (ws->chld_installed) {
			sigaction(SIGCHLD, &ws->old_chld, NULL);
			for (int i = 0; i < 2; i++) {
				close(chld_pipe[i]);
				chld_pipe[i] = -1;
			}
		}
		ws->rt->workers = NULL;
	}
	for (size_t i = 0; ws->w && i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		for (size_t k = 0; w->rc && k < w->pc->ncomponents; k++)
			if (w->rc[k].secret) {
				sodium_memzero(w->rc[k].secret, strlen(w->rc[k].secret));
				free(w->rc[k].secret);
			}
		free(w->rc);
	}
	if (ws->sock)
		unlink(ws->sock); /* the listener's socket file (listeners_close tries again) */
	if (ws->dir && rmdir(ws->dir) < 0 && errno != ENOENT)
		wlog_warn("worker", "cannot remove %s: %s", ws->dir, strerror(errno));
	free(ws->sock);
	free(ws->dir);
	free(ws->launcher);
	free(ws->base_dir);
	free(ws->w);
	free(ws);
}

/* ---------------------------------------------------------------------------------- */
/* status and plan                                                                      */

static json_t *w_component_ids(const struct process_config *pc)
{
	json_t *list = json_array();

	for (size_t k = 0; k < pc->ncomponents; k++)
		json_array_append_new(list, json_string(pc->components[k].id));
	return list;
}

json_t *workers_status_json(const struct workers *ws)
{
	json_t *list = json_array();

	for (size_t i = 0; ws && i < ws->n; i++) {
		const struct worker *w = &ws->w[i];
		json_t *o = sup_status_json(&w->sup);

		if (!o)
			continue;
		json_object_set_new(o, "id", json_string(w->pc->id));
		json_object_set_new(o, "type", json_string(w->kind->name));
		if (w->pc->ncomponents)
			json_object_set_new(o, "components", w_component_ids(w->pc));
		json_array_append_new(list, o);
	}
	return list;
}

static const char *const restart_names[] = {[RESTART_ON_FAILURE] = "on-failure",
                                            [RESTART_ALWAYS] = "always",
                                            [RESTART_NEVER] = "never"};

static json_t *w_plan_one(const struct process_config *pc, const char *launcher)
{
	static const char *const defaults[] = {"PYTHONUNBUFFERED=1", NULL};
	const struct worker_kind *kind = &worker_kinds[pc->type];
	struct strv argv = {0}, env;
	json_t *o, *a = json_array(), *set = json_array(), *comps = json_array(), *inherit;
	char err[256] = "", *program = NULL;
	bool ok = kind->argv(pc, launcher, &argv, err, sizeof(err));

	spawn_env(pc, environ, defaults, &env);
	if (ok)
		program = spawn_resolve(argv.v[0], pc->workdir, strv_getenv(&env, "PATH"), err,
		                        sizeof(err));
	for (size_t i = 0; i < argv.n; i++)
		json_array_append_new(a, json_string(argv.v[i]));
	if (pc->env_inherit) {
		inherit = json_true();
	} else if (pc->env_keep) {
		inherit = json_array();
		for (size_t i = 0; pc->env_keep[i]; i++)
			json_array_append_new(inherit, json_string(pc->env_keep[i]));
	} else {
		inherit = json_false();
	}
	for (size_t i = 0; pc->env_vars && pc->env_vars[i]; i++)
		json_array_append_new(set, json_stringn(pc->env_vars[i],
		                                        strcspn(pc->env_vars[i], "=")));
	for (size_t k = 0; k < pc->ncomponents; k++) {
		const struct component_config *cc = &pc->components[k];
		json_t *c = json_pack("{s:s, s:s, s:s}", "id", cc->id, "classname", cc->classname,
		                      "realm", cc->realm);
		json_t *t = cc->transport;

		if (!t)
			json_object_set_new(c, "role", json_string(cc->role));
		else if (json_is_string(json_object_get(t, "url")))
			json_object_set(c, "transport", json_object_get(t, "url"));
		else
			json_object_set(c, "transport", json_object_get(t, "endpoint"));
		json_array_append_new(comps, c);
	}
	o = json_pack("{s:s, s:s, s:o, s:s?, s:s, s:{s:o, s:o}, s:s, s:s, "
	              "s:{s:s, s:i, s:i, s:i, s:i}, s:i}",
	              "id", pc->id, "type", kind->name, "argv", a, "program", program, "workdir",
	              pc->workdir, "env", "inherit", inherit, "set", set, "stdout",
	              pc->log_stdout ? "log" : "drop", "stderr", pc->log_stderr ? "log" : "drop",
	              "restart", "policy", restart_names[pc->restart], "delay_ms",
	              (int)pc->restart_delay_ms, "delay_max_ms", (int)pc->restart_delay_max_ms,
	              "min_uptime_ms", (int)pc->min_uptime_ms, "give_up_after",
	              (int)pc->give_up_after, "stop_timeout_ms", (int)pc->stop_timeout_ms);
	if (o && !program)
		json_object_set_new(o, "problem", json_string(err));
	if (o && pc->ncomponents)
		json_object_set_new(o, "components", comps);
	else
		json_decref(comps);
	free(program);
	strv_free(&argv);
	strv_free(&env);
	return o;
}

json_t *workers_plan_json(const struct config *cfg)
{
	json_t *list = json_array();
	char *launcher = w_needs_launcher(cfg) ? w_find_launcher() : NULL;

	for (size_t i = 0; list && i < cfg->nprocesses; i++) {
		json_t *o = w_plan_one(&cfg->processes[i], launcher);

		if (!o) {
			json_decref(list);
			list = NULL;
			break;
		}
		json_array_append_new(list, o);
	}
	free(launcher);
	return list;
}

char *workers_plan_text(const struct config *cfg)
{
	json_t *plan = workers_plan_json(cfg), *p;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	if (!plan || !(f = open_memstream(&buf, &len))) {
		json_decref(plan);
		return NULL;
	}
	json_array_foreach(plan, i, p) {
		json_t *a, *c, *env = json_object_get(p, "env"), *r = json_object_get(p, "restart");
		size_t k;

		fprintf(f, "process %s (%s):", json_string_value(json_object_get(p, "id")),
		        json_string_value(json_object_get(p, "type")));
		json_array_foreach(json_object_get(p, "argv"), k, a)
			fprintf(f, " %s", json_string_value(a));
		fprintf(f, "\n  program %s\n", json_string_value(json_object_get(p, "program"))
		                                   ?: "(none)");
		if (json_object_get(p, "problem"))
			fprintf(f, "  PROBLEM: %s\n",
			        json_string_value(json_object_get(p, "problem")));
		fprintf(f, "  workdir %s\n", json_string_value(json_object_get(p, "workdir")));
		fprintf(f, "  environment: %s", json_is_true(json_object_get(env, "inherit"))
		                                    ? "wampd's"
		                                    : json_is_false(json_object_get(env, "inherit"))
		                                          ? "empty"
		                                          : "wampd's");
		json_array_foreach(json_object_get(env, "inherit"), k, a)
			fprintf(f, "%s%s", k ? ", " : " (only ", json_string_value(a));
		if (json_array_size(json_object_get(env, "inherit")))
			fprintf(f, ")");
		json_array_foreach(json_object_get(env, "set"), k, a)
			fprintf(f, "%s%s", k ? ", " : "; sets ", json_string_value(a));
		fprintf(f, "\n  output: stdout %s, stderr %s\n",
		        json_string_value(json_object_get(p, "stdout")),
		        json_string_value(json_object_get(p, "stderr")));
		fprintf(f, "  restart %s (delay %lld..%lld ms, give up after %lld exits within %lld "
		        "ms of starting), SIGKILL %lld ms after SIGTERM\n",
		        json_string_value(json_object_get(r, "policy")),
		        json_integer_value(json_object_get(r, "delay_ms")),
		        json_integer_value(json_object_get(r, "delay_max_ms")),
		        json_integer_value(json_object_get(r, "give_up_after")),
		        json_integer_value(json_object_get(r, "min_uptime_ms")),
		        json_integer_value(json_object_get(p, "stop_timeout_ms")));
		json_array_foreach(json_object_get(p, "components"), k, c) {
			json_t *t = json_object_get(c, "transport");
			char *ts = t && !json_is_string(t) ? json_dumps(t, JSON_COMPACT) : NULL;

			fprintf(f, "  component %s: %s in realm %s, ",
			        json_string_value(json_object_get(c, "id")),
			        json_string_value(json_object_get(c, "classname")),
			        json_string_value(json_object_get(c, "realm")));
			if (t)
				fprintf(f, "over %s\n", json_is_string(t) ? json_string_value(t) : ts);
			else
				fprintf(f, "inside wampd as role %s\n",
				        json_string_value(json_object_get(c, "role")));
			free(ts);
		}
	}
	json_decref(plan);
	if (fclose(f))
		return NULL;
	return buf;
}
