/*
 * test_workers.c - router/workers/ without an event loop:
 *   - linebuf: output cut into lines, split anywhere, bounded per line;
 *   - supervise: the state machine on fake operations (a clock the test moves, a spawn
 *     that returns scripted pids or failures, recorded signals, timers the test fires):
 *     backoff doubling and capped, give-up after N fast exits with its log line, a long
 *     run resetting both, the restart policies, stop (SIGTERM, SIGKILL after the timeout,
 *     a pending restart cancelled), failures that cannot be retried;
 *   - spawn: the environment and program lookup, and real children (/bin/sh): argv, env,
 *     workdir, pipes, exit status, process group, wampd's descriptors and ignored signals
 *     not inherited, a failed exec reported as such;
 *   - the "processes" configuration (config_processes.c): defaults, relative paths,
 *     errors naming their key; workers_plan_* (what `wampd check` shows, no secrets);
 *     workers_prepare's internal listener (private directory, one trusted principal per
 *     router component) and its removal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "router/config/config.h"
#include "router/workers/linebuf.h"
#include "router/workers/spawn.h"
#include "router/workers/supervise.h"
#include "router/workers/workers.h"

extern char **environ;

/* ---------------------------------------------------------------------------------- */
/* log capture                                                                          */

static char *log_buf;
static size_t log_len;
static FILE *log_f;
static struct wlog_config log_cfg; /* installed while capturing */

static void log_capture(void)
{
	struct wlog_levels levels = {.def = WLOG_INFO};

	log_f = open_memstream(&log_buf, &log_len);
	assert_non_null(log_f);
	wlog_config_set(&log_cfg, &levels, WLOG_TEXT, log_f);
	wlog_use(&log_cfg);
}

/* The captured log so far (valid until log_end). */
static const char *log_text(void)
{
	fflush(log_f);
	return log_buf ? log_buf : "";
}

static void log_end(void)
{
	wlog_use(NULL);
	fclose(log_f);
	free(log_buf);
	log_buf = NULL;
	log_len = 0;
}

/* ---------------------------------------------------------------------------------- */
/* linebuf                                                                              */

struct lines {
	char text[16][LINEBUF_MAX + 1];
	size_t dropped[16];
	int n;
};

static void collect(void *arg, const char *text, size_t len, size_t dropped)
{
	struct lines *l = arg;

	assert_int_equal(strlen(text), len);
	assert_true(l->n < 16);
	memcpy(l->text[l->n], text, len + 1);
	l->dropped[l->n++] = dropped;
}

static void test_linebuf_lines(void **state)
{
	struct linebuf lb;
	struct lines l = {0};

	(void)state;
	linebuf_init(&lb);
	linebuf_feed(&lb, "hel", 3, collect, &l);
	assert_int_equal(l.n, 0); /* no line yet */
	linebuf_feed(&lb, "lo\nwor", 6, collect, &l);
	linebuf_feed(&lb, "ld\r\n\n", 5, collect, &l);
	linebuf_feed(&lb, "a\nb\nlast", 8, collect, &l);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.text[0], "hello");
	assert_string_equal(l.text[1], "world"); /* the \r of \r\n dropped */
	assert_string_equal(l.text[2], "");
	assert_string_equal(l.text[3], "a");
	assert_string_equal(l.text[4], "b");
	linebuf_flush(&lb, collect, &l); /* the stream ended without a newline */
	assert_int_equal(l.n, 6);
	assert_string_equal(l.text[5], "last");
	linebuf_flush(&lb, collect, &l); /* nothing left */
	assert_int_equal(l.n, 6);
}

static void test_linebuf_bounded(void **state)
{
	struct linebuf lb;
	struct lines l = {0};
	char *big = malloc(3 * LINEBUF_MAX);

	(void)state;
	memset(big, 'x', 3 * LINEBUF_MAX);
	linebuf_init(&lb);
	/* a line of 3 * LINEBUF_MAX + 5 bytes, fed in pieces: its first LINEBUF_MAX kept */
	linebuf_feed(&lb, big, 3 * LINEBUF_MAX, collect, &l);
	assert_int_equal(l.n, 0);
	assert_true(lb.len <= LINEBUF_MAX);
	linebuf_feed(&lb, "yyyyy\nnext\n", 11, collect, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(strlen(l.text[0]), LINEBUF_MAX);
	assert_int_equal(l.dropped[0], 2 * LINEBUF_MAX + 5);
	assert_string_equal(l.text[1], "next");
	assert_int_equal(l.dropped[1], 0);
	free(big);
}

/* ---------------------------------------------------------------------------------- */
/* supervise on fakes                                                                   */

struct fake {
	int64_t now;
	pid_t next_pid;
	int spawn_fail;          /* 0: works; 1: fails; 2: fails for good */
	int spawns;
	struct {
		pid_t pid;
		int sig;
	} kills[8];
	int nkills;
	/* one timer slot is all a supervisor ever holds */
	bool armed;
	uint32_t ms;
	void (*fn)(void *);
	void *arg;
	int timers, cancels;
};

static int64_t f_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static pid_t f_spawn(void *ctx, struct sup *s, bool *permanent, char *err, size_t errlen)
{
	struct fake *f = ctx;

	(void)s;
	f->spawns++;
	if (f->spawn_fail) {
		*permanent = f->spawn_fail == 2;
		snprintf(err, errlen, "no such program");
		return -1;
	}
	return f->next_pid++;
}

static void f_kill(void *ctx, struct sup *s, pid_t pid, int sig)
{
	struct fake *f = ctx;

	(void)s;
	assert_true(f->nkills < 8);
	f->kills[f->nkills].pid = pid;
	f->kills[f->nkills++].sig = sig;
}

static void *f_timer_start(void *ctx, uint32_t ms, void (*fn)(void *), void *arg)
{
	struct fake *f = ctx;

	assert_false(f->armed); /* never two at once */
	f->armed = true;
	f->ms = ms;
	f->fn = fn;
	f->arg = arg;
	f->timers++;
	return f;
}

static void f_timer_cancel(void *ctx, void *t)
{
	struct fake *f = ctx;

	assert_ptr_equal(t, f);
	assert_true(f->armed);
	f->armed = false;
	f->cancels++;
}

/* Move the clock to the timer and fire it. */
static void f_fire(struct fake *f)
{
	assert_true(f->armed);
	f->armed = false;
	f->now += f->ms;
	f->fn(f->arg);
}

static const struct sup_ops fake_ops = {f_now, f_spawn, f_kill, f_timer_start, f_timer_cancel};

static struct sup_policy policy(enum process_restart r)
{
	return (struct sup_policy){.restart = r, .delay_ms = 1000, .delay_max_ms = 4000,
	                           .min_uptime_ms = 10000, .give_up_after = 5,
	                           .stop_timeout_ms = 3000, .config_exit = 78,
	                           .config_exit_why = "no Autobahn"};
}

#define EXIT(code) ((code) << 8)

static void test_backoff_and_give_up(void **state)
{
	struct fake f = {.now = 1000, .next_pid = 100};
	struct sup_policy pol = policy(RESTART_ON_FAILURE);
	const uint32_t delays[] = {1000, 2000, 4000, 4000}; /* doubled, capped at the max */
	struct sup s;
	json_t *st;

	(void)state;
	log_capture();
	sup_init(&s, "crashy", &pol, &fake_ops, &f);
	assert_int_equal(s.state, SUP_IDLE);
	sup_start(&s);
	assert_int_equal(s.state, SUP_RUNNING);
	assert_int_equal(s.pid, 100);
	assert_true(sup_alive(&s));
	for (int i = 0; i < 4; i++) {
		f.now += 500; /* a fast exit */
		sup_exited(&s, EXIT(1));
		assert_int_equal(s.state, SUP_BACKOFF);
		assert_false(sup_alive(&s));
		assert_int_equal(s.fast_exits, i + 1);
		assert_true(f.armed);
		assert_int_equal(f.ms, delays[i]);
		if (i == 1) {
			st = sup_status_json(&s);
			assert_string_equal(json_string_value(json_object_get(st, "state")), "backoff");
			assert_int_equal(json_integer_value(json_object_get(st, "restart_in_ms")), 2000);
			assert_string_equal(json_string_value(json_object_get(st, "last_exit")),
			                    "exit 1");
			assert_true(json_is_null(json_object_get(st, "pid")));
			json_decref(st);
		}
		f_fire(&f);
		assert_int_equal(s.state, SUP_RUNNING);
		assert_int_equal(s.restarts, i + 1);
		assert_int_equal(s.pid, 101 + i);
	}
	assert_non_null(strstr(log_text(), "restarting worker=crashy in_ms=4000 fast_exits=4"));
	assert_null(strstr(log_text(), "gave up"));
	/* the fifth fast exit in a row: given up, with an error line, no timer */
	f.now += 10;
	sup_exited(&s, (int)SIGSEGV); /* killed by a signal */
	assert_int_equal(s.state, SUP_FAILED);
	assert_false(f.armed);
	assert_int_equal(f.spawns, 5);
	assert_non_null(strstr(log_text(), "error worker: gave up worker=crashy: 5 exits in a row "
	                                   "within min_uptime=10000ms of starting; not restarted"));
	assert_non_null(strstr(log_text(), "status=\"signal 11"));
	st = sup_status_json(&s);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(st, "error")), "5 exits"));
	json_decref(st);
	/* an exit that is not its own is ignored */
	sup_exited(&s, 0);
	assert_int_equal(s.state, SUP_FAILED);
	log_end();
}

static void test_long_run_resets_backoff(void **state)
{
	struct fake f = {.now = 0, .next_pid = 10};
	struct sup_policy pol = policy(RESTART_ON_FAILURE);
	struct sup s;

	(void)state;
	log_capture();
	sup_init(&s, "w", &pol, &fake_ops, &f);
	sup_start(&s);
	for (int i = 0; i < 3; i++) { /* three fast exits: the delay is 4000 now */
		sup_exited(&s, EXIT(2));
		f_fire(&f);
	}
	assert_int_equal(s.fast_exits, 3);
	f.now += 60000; /* a long run */
	sup_exited(&s, EXIT(2));
	assert_int_equal(s.state, SUP_BACKOFF);
	assert_int_equal(s.fast_exits, 0);
	assert_int_equal(f.ms, 1000); /* back to the first delay */
	f_fire(&f);
	/* and give_up_after counts again from zero: four fast exits do not give up */
	for (int i = 0; i < 4; i++) {
		sup_exited(&s, EXIT(2));
		assert_int_equal(s.state, SUP_BACKOFF);
		f_fire(&f);
	}
	assert_int_equal(s.state, SUP_RUNNING);
	log_end();
}

static void test_restart_policies(void **state)
{
	struct fake f = {.now = 0, .next_pid = 10};
	struct sup_policy pol;
	struct sup s;

	(void)state;
	log_capture();
	/* on-failure: a clean exit stays down, a failure is restarted */
	pol = policy(RESTART_ON_FAILURE);
	sup_init(&s, "a", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_exited(&s, EXIT(0));
	assert_int_equal(s.state, SUP_EXITED);
	assert_false(f.armed);
	assert_non_null(strstr(log_text(), "notice worker: exited worker=a pid=10 "
	                                   "status=\"exit 0\""));
	/* always: a clean exit is restarted too */
	pol = policy(RESTART_ALWAYS);
	sup_init(&s, "b", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_exited(&s, EXIT(0));
	assert_int_equal(s.state, SUP_BACKOFF);
	f_fire(&f);
	assert_int_equal(s.state, SUP_RUNNING);
	/* never: a crash stays down */
	pol = policy(RESTART_NEVER);
	sup_init(&s, "c", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_exited(&s, (int)SIGKILL);
	assert_int_equal(s.state, SUP_EXITED);
	assert_false(f.armed);
	assert_non_null(strstr(log_text(), "warn worker: exited worker=c"));
	/* give_up_after 0: never given up */
	pol = policy(RESTART_ON_FAILURE);
	pol.give_up_after = 0;
	sup_init(&s, "d", &pol, &fake_ops, &f);
	sup_start(&s);
	for (int i = 0; i < 50; i++) {
		sup_exited(&s, EXIT(1));
		assert_int_equal(s.state, SUP_BACKOFF);
		assert_true(f.ms <= 4000);
		f_fire(&f);
	}
	/* the launcher's "cannot run as configured" (78): given up at once, saying why */
	pol = policy(RESTART_ALWAYS);
	sup_init(&s, "py", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_exited(&s, EXIT(78));
	assert_int_equal(s.state, SUP_FAILED);
	assert_false(f.armed);
	assert_non_null(strstr(log_text(), "gave up worker=py: exit 78: no Autobahn; not "
	                                   "restarted"));
	log_end();
}

static void test_stop(void **state)
{
	struct fake f = {.now = 0, .next_pid = 7};
	struct sup_policy pol = policy(RESTART_ALWAYS);
	struct sup s;

	(void)state;
	log_capture();
	/* exits within the grace period: SIGTERM only, the SIGKILL timer cancelled */
	sup_init(&s, "g", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_stop(&s);
	assert_int_equal(s.state, SUP_STOPPING);
	assert_int_equal(f.nkills, 1);
	assert_int_equal(f.kills[0].pid, 7);
	assert_int_equal(f.kills[0].sig, SIGTERM);
	assert_true(f.armed);
	assert_int_equal(f.ms, 3000);
	assert_true(sup_alive(&s)); /* still to be reaped */
	sup_stop(&s);               /* idempotent */
	assert_int_equal(f.nkills, 1);
	sup_exited(&s, (int)SIGTERM);
	assert_int_equal(s.state, SUP_STOPPED);
	assert_false(f.armed);
	assert_int_equal(f.cancels, 1);
	assert_false(sup_alive(&s));
	sup_start(&s); /* stopped for good */
	assert_int_equal(s.state, SUP_STOPPED);
	assert_int_equal(f.spawns, 1);
	/* ignores SIGTERM: SIGKILL when the grace period is over */
	sup_init(&s, "stubborn", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_stop(&s);
	f_fire(&f);
	assert_int_equal(f.nkills, 3);
	assert_int_equal(f.kills[2].pid, 8);
	assert_int_equal(f.kills[2].sig, SIGKILL);
	assert_int_equal(s.state, SUP_STOPPING);
	assert_non_null(strstr(log_text(), "killing worker=stubborn pid=8: still running 3000ms "
	                                   "after SIGTERM (SIGKILL)"));
	sup_exited(&s, (int)SIGKILL);
	assert_int_equal(s.state, SUP_STOPPED);
	/* waiting for a restart: the restart is cancelled, nothing is signalled */
	sup_init(&s, "waiting", &pol, &fake_ops, &f);
	sup_start(&s);
	sup_exited(&s, EXIT(1));
	assert_int_equal(s.state, SUP_BACKOFF);
	f.cancels = 0;
	sup_stop(&s);
	assert_int_equal(s.state, SUP_STOPPED);
	assert_false(f.armed);
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.nkills, 3);
	/* never started */
	sup_init(&s, "idle", &pol, &fake_ops, &f);
	sup_stop(&s);
	assert_int_equal(s.state, SUP_STOPPED);
	log_end();
}

static void test_spawn_failures(void **state)
{
	struct fake f = {.now = 0, .next_pid = 7, .spawn_fail = 2};
	struct sup_policy pol = policy(RESTART_ALWAYS);
	struct sup s;

	(void)state;
	log_capture();
	/* no such program: trying again cannot help */
	sup_init(&s, "missing", &pol, &fake_ops, &f);
	sup_start(&s);
	assert_int_equal(s.state, SUP_FAILED);
	assert_false(f.armed);
	assert_non_null(strstr(log_text(), "gave up worker=missing: cannot start: no such "
	                                   "program; not restarted"));
	/* a failure that may pass (fork): retried with backoff, and given up on in the end */
	f.spawn_fail = 1;
	sup_init(&s, "flaky", &pol, &fake_ops, &f);
	sup_start(&s);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s.state, SUP_BACKOFF);
		f_fire(&f);
	}
	assert_int_equal(s.state, SUP_FAILED);
	assert_int_equal(f.spawns, 6);
	f.spawn_fail = 0;
	sup_start(&s); /* a manual start of a failed process works */
	assert_int_equal(s.state, SUP_RUNNING);
	log_end();
}

/* ---------------------------------------------------------------------------------- */
/* spawn: environment, lookup, real children                                           */

static void test_spawn_env(void **state)
{
	char *parent[] = {"PATH=/bin", "HOME=/root", "SECRET=x", "PYTHONUNBUFFERED=0", NULL};
	const char *defaults[] = {"PYTHONUNBUFFERED=1", "LANG=C", NULL};
	char *keep[] = {"HOME", NULL}, *vars[] = {"HOME=/app", "NEW=1", NULL};
	struct process_config pc = {.env_inherit = true};
	struct strv env;

	(void)state;
	spawn_env(&pc, parent, defaults, &env);
	assert_false(env.failed);
	assert_string_equal(strv_getenv(&env, "SECRET"), "x");
	assert_string_equal(strv_getenv(&env, "PYTHONUNBUFFERED"), "0"); /* not overridden */
	assert_string_equal(strv_getenv(&env, "LANG"), "C");
	strv_free(&env);
	pc.env_inherit = false;
	pc.env_keep = keep;
	pc.env_vars = vars;
	spawn_env(&pc, parent, defaults, &env);
	assert_null(strv_getenv(&env, "PATH"));
	assert_null(strv_getenv(&env, "SECRET"));
	assert_string_equal(strv_getenv(&env, "HOME"), "/app"); /* vars win */
	assert_string_equal(strv_getenv(&env, "NEW"), "1");
	assert_string_equal(strv_getenv(&env, "PYTHONUNBUFFERED"), "1");
	assert_int_equal(env.n, 4);
	assert_null(env.v[env.n]);
	strv_free(&env);
	pc.env_keep = NULL;
	pc.env_vars = NULL;
	spawn_env(&pc, parent, NULL, &env); /* nothing at all: still a vector */
	assert_int_equal(env.n, 0);
	assert_non_null(env.v);
	assert_null(env.v[0]);
	strv_free(&env);
}

static void test_spawn_resolve(void **state)
{
	char err[256], dir[] = "/tmp/wampd-wk-XXXXXX", file[300];
	char *p;
	int fd;

	(void)state;
	p = spawn_resolve("sh", "/", "/nonexistent:/bin", err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(p, "/bin/sh");
	free(p);
	assert_null(spawn_resolve("no-such-program-xyz", "/", "/bin:/usr/bin", err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-program-xyz: not found in PATH (/bin:/usr/bin)"));
	/* a relative path is the working directory's; a file that is not executable is
	 * refused */
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/run.sh", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_null(spawn_resolve("./run.sh", dir, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not an executable file"));
	chmod(file, 0755);
	p = spawn_resolve("./run.sh", dir, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_non_null(strstr(p, "/run.sh"));
	assert_int_equal(access(p, X_OK), 0);
	free(p);
	assert_null(spawn_resolve("../nope/x", dir, NULL, err, sizeof(err)));
	unlink(file);
	rmdir(dir);
}

/* Read fd to its end. */
static char *slurp(int fd)
{
	static char buf[8192];
	size_t len = 0;

	fcntl(fd, F_SETFL, 0); /* blocking, for the test */
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static void test_spawn_real_child(void **state)
{
	char *argv[] = {"sh", "-c",
	                "echo \"$FOO\"; pwd; echo oops >&2; "
	                "[ -e /proc/self/fd/$KEPT ] && echo leaked || echo closed; "
	                "echo pgrp=$(cut -d' ' -f5 /proc/$$/stat) pid=$$; exit 3",
	                NULL};
	char kept[32], *envp[] = {"FOO=bar", kept, "PATH=/bin:/usr/bin", NULL};
	struct spawn_req rq = {.path = "/bin/sh", .argv = argv, .envp = envp, .workdir = "/tmp",
	                       .stdin_fd = -1, .pipe_out = true, .pipe_err = true};
	int ofd, efd, st, open_fd = open("/dev/null", O_RDONLY); /* not close-on-exec */
	bool permanent;
	char err[256], *out, want[64];
	pid_t pid;

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* as wampd has it: the child must not inherit it */
	snprintf(kept, sizeof(kept), "KEPT=%d", open_fd);
	pid = spawn_start(&rq, &ofd, &efd, &permanent, err, sizeof(err));
	assert_true(pid > 0);
	assert_true(ofd > 2 && efd > 2);
	assert_true(fcntl(ofd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(ofd, F_GETFL) & O_NONBLOCK);
	out = slurp(ofd);
	snprintf(want, sizeof(want), "pgrp=%d pid=%d", (int)pid, (int)pid);
	assert_non_null(strstr(out, "bar\n/tmp\nclosed\n"));
	assert_non_null(strstr(out, want)); /* its own process group */
	assert_string_equal(slurp(efd), "oops\n");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	close(open_fd);

	/* no signal ignored in the program (wampd's SIGPIPE, a SIGINT/SIGQUIT the shell that
	 * started wampd in the background left ignored, glibc's 32 and 33): read by the exec'd program itself, no
	 * shell in between (a shell changes its own dispositions while it waits for children) */
	{
		char *gargv[] = {"grep", "SigIgn", "/proc/self/status", NULL};
		struct spawn_req grq = rq;

		/* glibc's own two (32, 33) too, ignored through the kernel as CI's environment
		 * had them: glibc's sigaction cannot reset those */
		static const unsigned long ign[8] = {1 /* SIG_IGN */}, dfl[8];

		signal(SIGINT, SIG_IGN);
		syscall(SYS_rt_sigaction, 32, ign, NULL, (size_t)(NSIG / 8));
		syscall(SYS_rt_sigaction, 33, ign, NULL, (size_t)(NSIG / 8));
		grq.path = "/bin/grep";
		grq.argv = gargv;
		pid = spawn_start(&grq, &ofd, &efd, &permanent, err, sizeof(err));
		signal(SIGINT, SIG_DFL);
		syscall(SYS_rt_sigaction, 32, dfl, NULL, (size_t)(NSIG / 8));
		syscall(SYS_rt_sigaction, 33, dfl, NULL, (size_t)(NSIG / 8));
		assert_true(pid > 0);
		out = slurp(ofd);
		if (!strstr(out, "SigIgn:\t0000000000000000\n"))
			fail_msg("a signal is ignored in the child: %s", out);
		slurp(efd);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_int_equal(st, 0);
	}
	signal(SIGPIPE, SIG_DFL);

	/* streams not piped: /dev/null, no descriptors returned */
	rq.pipe_out = rq.pipe_err = false;
	argv[2] = "exit 0";
	pid = spawn_start(&rq, &ofd, &efd, &permanent, err, sizeof(err));
	assert_true(pid > 0);
	assert_int_equal(ofd, -1);
	assert_int_equal(efd, -1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
}

static void test_spawn_failed_exec(void **state)
{
	char *argv[] = {"x", NULL}, *envp[] = {NULL};
	struct spawn_req rq = {.path = "/bin/sh", .argv = argv, .envp = envp,
	                       .workdir = "/nonexistent-dir-xyz", .stdin_fd = -1};
	int ofd, efd;
	bool permanent;
	char err[256];

	(void)state;
	/* the working directory is missing: reported from the child, not as an exit 127 */
	assert_int_equal(spawn_start(&rq, &ofd, &efd, &permanent, err, sizeof(err)), -1);
	assert_true(permanent);
	assert_non_null(strstr(err, "chdir /nonexistent-dir-xyz: No such file or directory"));
	rq.workdir = "/";
	rq.path = "/etc/passwd"; /* not a program */
	assert_int_equal(spawn_start(&rq, &ofd, &efd, &permanent, err, sizeof(err)), -1);
	assert_true(permanent);
	assert_non_null(strstr(err, "execve /etc/passwd: Permission denied"));
	/* and no child is left to reap */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* ---------------------------------------------------------------------------------- */
/* configuration, plan, internal listener                                               */

static char cfg_dir[64];

/* Load text as <cfg_dir>/config.json. */
static bool load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	char file[128];
	FILE *f;

	snprintf(file, sizeof(file), "%s/config.json", cfg_dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return config_load_file(file, cfg, err, errlen);
}

static int setup_dir(void **state)
{
	(void)state;
	strcpy(cfg_dir, "/tmp/wampd-wkcfg-XXXXXX");
	assert_non_null(mkdtemp(cfg_dir));
	return 0;
}

static int teardown_dir(void **state)
{
	char file[128];

	(void)state;
	snprintf(file, sizeof(file), "%s/config.json", cfg_dir);
	unlink(file);
	rmdir(cfg_dir);
	return 0;
}

static void test_processes_config(void **state)
{
	struct config cfg;
	char err[512] = "", want[256];
	const struct process_config *g, *py;

	(void)state;
	assert_true(load("{\"realms\": [{\"name\": \"realm1\"}], \"processes\": ["
	                 " {\"type\": \"guest\", \"executable\": \"node\", \"arguments\": [\"b.js\"],"
	                 "  \"workdir\": \"node\", \"env\": {\"inherit\": [\"PATH\"],"
	                 "  \"vars\": {\"A\": \"1\"}}, \"stderr\": \"drop\","
	                 "  \"restart\": \"always\", \"give_up_after\": 0},"
	                 " {\"id\": \"app\", \"type\": \"python\", \"pythonpath\": [\"..\", \"/abs\"],"
	                 "  \"components\": [{\"classname\": \"a.B\", \"realm\": \"realm1\"},"
	                 "   {\"id\": \"c2\", \"classname\": \"a.C\", \"realm\": \"elsewhere\","
	                 "    \"extra\": [1], \"transport\": {\"url\": \"ws://h:1/ws\"}}]}]}",
	                 &cfg, err, sizeof(err)));
	assert_string_equal(cfg.base_dir, cfg_dir);
	assert_int_equal(cfg.nprocesses, 2);
	g = &cfg.processes[0];
	assert_string_equal(g->id, "process1");
	assert_int_equal(g->type, PROCESS_GUEST);
	assert_string_equal(g->executable, "node");
	assert_string_equal(g->arguments[0], "b.js");
	assert_null(g->arguments[1]);
	snprintf(want, sizeof(want), "%s/node", cfg_dir);
	assert_string_equal(g->workdir, want); /* relative to the file's directory */
	assert_false(g->env_inherit);
	assert_string_equal(g->env_keep[0], "PATH");
	assert_string_equal(g->env_vars[0], "A=1");
	assert_true(g->log_stdout);
	assert_false(g->log_stderr);
	assert_int_equal(g->restart, RESTART_ALWAYS);
	assert_int_equal(g->give_up_after, 0);
	assert_int_equal(g->restart_delay_ms, 1000);
	assert_int_equal(g->restart_delay_max_ms, 60000);
	assert_int_equal(g->min_uptime_ms, 10000);
	assert_int_equal(g->stop_timeout_ms, 5000);
	py = &cfg.processes[1];
	assert_int_equal(py->type, PROCESS_PYTHON);
	assert_string_equal(py->executable, "/usr/bin/python3");
	assert_null(py->arguments);
	assert_string_equal(py->workdir, cfg_dir);
	assert_true(py->env_inherit);
	assert_int_equal(py->restart, RESTART_ON_FAILURE);
	snprintf(want, sizeof(want), "%s/..", cfg_dir);
	assert_string_equal(py->pythonpath[0], want);
	assert_string_equal(py->pythonpath[1], "/abs");
	assert_int_equal(py->ncomponents, 2);
	assert_string_equal(py->components[0].id, "app.1");
	assert_string_equal(py->components[0].role, "anonymous"); /* a router component */
	assert_null(py->components[0].transport);
	assert_null(py->components[1].role);
	assert_non_null(py->components[1].transport);
	assert_true(json_is_array(py->components[1].extra));
	config_free(&cfg);
}

static void expect_error(const char *processes, const char *fragment)
{
	struct config cfg;
	char err[512] = "", text[2048];

	snprintf(text, sizeof(text), "{\"realms\": [{\"name\": \"realm1\"}], \"processes\": %s}",
	         processes);
	if (load(text, &cfg, err, sizeof(err))) {
		config_free(&cfg);
		fail_msg("loaded, expected an error with \"%s\": %s", fragment, processes);
	}
	if (!strstr(err, fragment))
		fail_msg("error \"%s\" does not contain \"%s\"", err, fragment);
}

static void test_processes_errors(void **state)
{
	(void)state;
	expect_error("{}", "processes: must be a list");
	expect_error("[{\"type\": \"router\"}]", "processes[0]: type must be \"guest\" or \"python\"");
	expect_error("[{\"type\": \"guest\"}]", "processes[0]: a guest needs an executable");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"components\": []}]",
	             "processes[0].components: unknown key");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"id\": \"a b\"}]",
	             "id \"a b\": 1 to 64 of");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"id\": \"a\"},"
	             " {\"type\": \"guest\", \"executable\": \"y\", \"id\": \"a\"}]",
	             "processes[1]: id \"a\" is used twice");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"arguments\": [1]}]",
	             "processes[0].arguments[0]: must be a string");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"env\": {\"vars\": {\"A\": 1}}}]",
	             "processes[0].env.vars.A: must be a string");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"env\": {\"inherit\": 1}}]",
	             "processes[0].env.inherit: must be true, false or a list");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"stdout\": \"file\"}]",
	             "stdout must be \"log\", \"drop\" or \"close\"");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"restart\": \"sometimes\"}]",
	             "restart must be");
	expect_error("[{\"type\": \"guest\", \"executable\": \"x\", \"stop_timeout\": 0}]",
	             "processes[0].stop_timeout: must be between 1");
	expect_error("[{\"type\": \"python\"}]", "processes[0].components: must be a non-empty list");
	expect_error("[{\"type\": \"python\", \"components\": [{\"classname\": \"NoModule\","
	             " \"realm\": \"realm1\"}]}]", "classname must name a class in a module");
	expect_error("[{\"type\": \"python\", \"components\": [{\"classname\": \"a.B\"}]}]",
	             "processes[0].components[0]: a component needs a realm");
	expect_error("[{\"type\": \"python\", \"components\": [{\"classname\": \"a.B\","
	             " \"realm\": \"nowhere\"}]}]", "realm \"nowhere\" is not defined");
	expect_error("[{\"type\": \"python\", \"components\": [{\"classname\": \"a.B\","
	             " \"realm\": \"x\", \"role\": \"r\", \"transport\": {\"url\": \"ws://h/\"}}]}]",
	             "role applies to router components");
	expect_error("[{\"type\": \"python\", \"components\": [{\"classname\": \"a.B\","
	             " \"realm\": \"x\", \"transport\": {\"type\": \"mqtt\", \"url\": \"x\"}}]}]",
	             "transport.type must be");
	expect_error("[{\"type\": \"python\", \"components\": [{\"classname\": \"a.B\","
	             " \"realm\": \"x\", \"transport\": {\"type\": \"rawsocket\"}}]}]",
	             "transport needs a url or an endpoint");
	/* a router component's id is its authid: one each across processes */
	expect_error("[{\"type\": \"python\", \"components\": [{\"id\": \"c\", \"classname\": \"a.B\","
	             " \"realm\": \"realm1\"}]}, {\"type\": \"python\", \"components\": [{\"id\":"
	             " \"c\", \"classname\": \"a.C\", \"realm\": \"realm1\"}]}]",
	             "processes[1].components[0]: id \"c\" is used twice");
}

static void test_plan(void **state)
{
	struct config cfg;
	char err[512] = "", *text;
	json_t *plan, *p;

	(void)state;
	assert_true(load("{\"realms\": [{\"name\": \"realm1\"}], \"processes\": ["
	                 " {\"id\": \"g\", \"type\": \"guest\", \"executable\": \"sh\","
	                 "  \"arguments\": [\"-c\", \"true\"], \"env\": {\"vars\":"
	                 "  {\"TOKEN\": \"s3cr3t-value\"}}},"
	                 " {\"id\": \"lost\", \"type\": \"guest\", \"executable\": \"no-such-prog\"},"
	                 " {\"id\": \"app\", \"type\": \"python\", \"components\": ["
	                 "  {\"classname\": \"a.B\", \"realm\": \"realm1\", \"role\": \"backend\","
	                 "   \"extra\": {\"password\": \"hunter2\"}}]}]}",
	                 &cfg, err, sizeof(err)));
	plan = workers_plan_json(&cfg);
	assert_int_equal(json_array_size(plan), 3);
	p = json_array_get(plan, 0);
	assert_string_equal(json_string_value(json_object_get(p, "id")), "g");
	assert_string_equal(json_string_value(json_array_get(json_object_get(p, "argv"), 1)), "-c");
	assert_non_null(strstr(json_string_value(json_object_get(p, "program")), "/sh"));
	assert_null(json_object_get(p, "problem"));
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(json_object_get(p, "env"), "set"), 0)), "TOKEN");
	p = json_array_get(plan, 1);
	assert_true(json_is_null(json_object_get(p, "program")) || !json_object_get(p, "program"));
	assert_non_null(strstr(json_string_value(json_object_get(p, "problem")),
	                       "no-such-prog: not found in PATH"));
	p = json_array_get(plan, 2);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(p, "components"), 0), "role")), "backend");
	text = workers_plan_text(&cfg);
	assert_non_null(text);
	assert_non_null(strstr(text, "process g (guest): sh -c true\n"));
	assert_non_null(strstr(text, "PROBLEM: no-such-prog: not found in PATH"));
	assert_non_null(strstr(text, "sets TOKEN"));
	assert_non_null(strstr(text, "component app.1: a.B in realm realm1, inside wampd as role "
	                             "backend"));
	/* values that may be secrets are never shown */
	assert_null(strstr(text, "s3cr3t"));
	assert_null(strstr(text, "hunter2"));
	{
		char *dumped = json_dumps(plan, 0);

		assert_null(strstr(dumped, "s3cr3t"));
		assert_null(strstr(dumped, "hunter2"));
		free(dumped);
	}
	free(text);
	json_decref(plan);
	config_free(&cfg);
}

/* 1 when exactly one principal of mc has this realm and role, a UUID (version 4) as its
 * authid and a secret; else 0 */
static int test_workers_uuid_principal(const struct auth_method_config *mc, const char *realm,
                                       const char *role)
{
	const struct auth_principal *p, *tmp;
	int n = 0;

	HASH_ITER(hh, mc->principals, p, tmp) {
		const char *a = p->authid;

		if (strcmp(p->realm, realm) || strcmp(p->role, role))
			continue;
		if (strlen(a) != 36 || a[8] != '-' || a[13] != '-' || a[14] != '4' || a[18] != '-' ||
		    !strchr("89ab", a[19]) || a[23] != '-' || !p->cred)
			return 0;
		n++;
	}
	return n == 1;
}

static void test_internal_listener(void **state)
{
	struct config cfg;
	char err[512] = "", dir[256];
	struct workers *ws;
	const struct listener_config *l;
	struct auth_principal *p;
	struct stat st;
	size_t nl;

	(void)state;
	log_capture();
	assert_true(load("{\"realms\": [{\"name\": \"realm1\"}, {\"name\": \"two\"}], \"processes\": ["
	                 " {\"id\": \"app\", \"type\": \"python\", \"components\": ["
	                 "  {\"id\": \"c1\", \"classname\": \"a.B\", \"realm\": \"realm1\","
	                 "   \"role\": \"backend\"},"
	                 "  {\"id\": \"c2\", \"classname\": \"a.C\", \"realm\": \"two\"},"
	                 "  {\"id\": \"c3\", \"classname\": \"a.D\", \"realm\": \"x\","
	                 "   \"transport\": {\"url\": \"ws://h:1/ws\"}}]}]}",
	                 &cfg, err, sizeof(err)));
	nl = cfg.nlisteners;
	assert_true(workers_prepare(&cfg, &ws));
	assert_non_null(ws);
	assert_int_equal(cfg.nlisteners, nl + 1); /* appended: listeners[0] stays the first */
	l = &cfg.listeners[nl];
	assert_true(l->rawsocket);
	assert_false(l->websocket);
	assert_non_null(l->unix_path);
	assert_null(l->tls_cert);
	assert_int_equal(l->port_owner, nl); /* its own socket, not listeners[0]'s */
	assert_int_equal(l->max_message_size, cfg.max_message_size);
	snprintf(dir, sizeof(dir), "%s", l->unix_path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700); /* only wampd's user */
	/* "trusted" only, one principal per router component: a random UUID as authid (as
	 * Crossbar gives them), bound to its realm and role */
	for (int m = 0; m < AUTH__COUNT; m++)
		assert_int_equal(l->auth.m[m].enabled, m == AUTH_TRUSTED);
	assert_false(l->auth.m[AUTH_TRUSTED].dynamic);
	assert_int_equal(HASH_COUNT(l->auth.m[AUTH_TRUSTED].principals), 2);
	assert_true(test_workers_uuid_principal(&l->auth.m[AUTH_TRUSTED], "realm1", "backend"));
	assert_true(test_workers_uuid_principal(&l->auth.m[AUTH_TRUSTED], "two", "anonymous"));
	HASH_FIND_STR(l->auth.m[AUTH_TRUSTED].principals, "c1", p);
	assert_null(p); /* not the component's id */
	HASH_FIND_STR(l->auth.m[AUTH_TRUSTED].principals, "c3", p);
	assert_null(p); /* it connects over its own transport */
	workers_free(ws);
	assert_int_equal(stat(dir, &st), -1); /* removed */
	config_free(&cfg);
	/* no processes: nothing prepared */
	assert_true(load("{\"realms\": [{\"name\": \"realm1\"}]}", &cfg, err, sizeof(err)));
	nl = cfg.nlisteners;
	assert_true(workers_prepare(&cfg, &ws));
	assert_null(ws);
	assert_int_equal(cfg.nlisteners, nl);
	config_free(&cfg);
	/* the status of no processes */
	{
		json_t *s = workers_status_json(NULL);

		assert_true(json_is_array(s) && json_array_size(s) == 0);
		json_decref(s);
	}
	log_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linebuf_lines),
		cmocka_unit_test(test_linebuf_bounded),
		cmocka_unit_test(test_backoff_and_give_up),
		cmocka_unit_test(test_long_run_resets_backoff),
		cmocka_unit_test(test_restart_policies),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_spawn_failures),
		cmocka_unit_test(test_spawn_env),
		cmocka_unit_test(test_spawn_resolve),
		cmocka_unit_test(test_spawn_real_child),
		cmocka_unit_test(test_spawn_failed_exec),
		cmocka_unit_test_setup_teardown(test_processes_config, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_processes_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_plan, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_internal_listener, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
