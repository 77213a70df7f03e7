/*
 * supervise.c - one supervised process's state machine (see supervise.h for the states and
 * the restart policy). Every transition is one function; the timers and signals it asks
 * for go through struct sup_ops, and it logs each transition once, under "worker", with
 * worker=<id> and pid=.
 */
#include "router/workers/supervise.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"

static const char *const state_names[SUP__COUNT] = {
	[SUP_IDLE] = "idle",         [SUP_RUNNING] = "running", [SUP_BACKOFF] = "backoff",
	[SUP_STOPPING] = "stopping", [SUP_STOPPED] = "stopped", [SUP_EXITED] = "exited",
	[SUP_FAILED] = "failed",
};

const char *sup_state_name(enum sup_state st)
{
	return st < SUP__COUNT ? state_names[st] : "?";
}

const char *sup_status_text(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exit %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, len, "status 0x%x", (unsigned)wstatus);
	return buf;
}

static int64_t sup_now(const struct sup *s)
{
	return s->ops->now_ms(s->ctx);
}

static void sup_set(struct sup *s, enum sup_state st)
{
	s->state = st;
	s->since_ms = sup_now(s);
}

static void sup_cancel_timer(struct sup *s)
{
	if (s->timer)
		s->ops->timer_cancel(s->ctx, s->timer);
	s->timer = NULL;
}

void sup_drop_timer(struct sup *s)
{
	s->timer = NULL;
}

void sup_init(struct sup *s, const char *id, const struct sup_policy *pol,
              const struct sup_ops *ops, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->pol = *pol;
	s->ops = ops;
	s->ctx = ctx;
	s->next_delay_ms = pol->delay_ms;
	s->since_ms = ops->now_ms(ctx);
}

static void sup_fail(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sup_fail(struct sup *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	sup_cancel_timer(s);
	sup_set(s, SUP_FAILED);
	wlog_error("worker", "gave up worker=%s: %s; not restarted", s->id, s->error);
}

static void sup_restart_fire(void *arg)
{
	struct sup *s = arg;

	s->timer = NULL; /* one-shot: the handle died before this call */
	if (s->state != SUP_BACKOFF || s->stop_requested)
		return;
	s->restarts++;
	sup_start(s);
}

/* The process is gone (or could not be started) without wampd asking: restart it after
 * the backoff delay, or give up. fast: it ran for less than min_uptime. */
static void sup_schedule(struct sup *s, bool fast)
{
	uint32_t delay;

	if (!fast) {
		s->fast_exits = 0;
		s->next_delay_ms = s->pol.delay_ms;
	} else {
		s->fast_exits++;
	}
	if (s->pol.give_up_after && s->fast_exits >= s->pol.give_up_after) {
		sup_fail(s, "%u exits in a row within min_uptime=%ums of starting", s->fast_exits,
		         s->pol.min_uptime_ms);
		return;
	}
	delay = s->next_delay_ms;
	s->next_delay_ms = delay > s->pol.delay_max_ms / 2 ? s->pol.delay_max_ms : delay * 2;
	if (s->next_delay_ms < s->pol.delay_ms)
		s->next_delay_ms = s->pol.delay_ms;
	sup_set(s, SUP_BACKOFF);
	s->restart_at_ms = s->since_ms + delay;
	s->timer = s->ops->timer_start(s->ctx, delay, sup_restart_fire, s);
	if (!s->timer) {
		sup_fail(s, "out of memory for its restart timer");
		return;
	}
	wlog_notice("worker", "restarting worker=%s in_ms=%u fast_exits=%u", s->id, delay,
	            s->fast_exits);
}

void sup_start(struct sup *s)
{
	char err[160];
	bool permanent = false;
	pid_t pid;

	if (s->stop_requested || sup_alive(s))
		return;
	sup_cancel_timer(s);
	err[0] = '\0';
	pid = s->ops->spawn(s->ctx, s, &permanent, err, sizeof(err));
	s->started_ms = sup_now(s);
	if (pid > 0) {
		s->pid = pid;
		sup_set(s, SUP_RUNNING);
		wlog_notice("worker", "started worker=%s pid=%ld", s->id, (long)pid);
		return;
	}
	if (permanent) {
		sup_fail(s, "cannot start: %s", err);
		return;
	}
	wlog_error("worker", "cannot start worker=%s: %s", s->id, err);
	sup_schedule(s, true);
}

static void sup_kill_fire(void *arg)
{
	struct sup *s = arg;

	s->timer = NULL;
	if (s->state != SUP_STOPPING || s->pid <= 0)
		return;
	wlog_warn("worker", "killing worker=%s pid=%ld: still running %ums after SIGTERM "
	          "(SIGKILL)", s->id, (long)s->pid, s->pol.stop_timeout_ms);
	s->ops->kill(s->ctx, s, s->pid, SIGKILL);
}

void sup_exited(struct sup *s, int wstatus)
{
	int64_t uptime = sup_now(s) - s->started_ms;
	pid_t pid = s->pid;
	char st[64];
	bool clean;

	if (!sup_alive(s))
		return;
	s->pid = 0;
	s->have_exit = true;
	s->last_status = wstatus;
	sup_status_text(wstatus, st, sizeof(st));
	if (s->state == SUP_STOPPING) {
		sup_cancel_timer(s);
		sup_set(s, SUP_STOPPED);
		wlog_notice("worker", "stopped worker=%s pid=%ld status=\"%s\"", s->id, (long)pid, st);
		return;
	}
	clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	wlog_at(clean ? WLOG_NOTICE : WLOG_WARN, "worker",
	        "exited worker=%s pid=%ld status=\"%s\" uptime_ms=%lld", s->id, (long)pid, st,
	        (long long)uptime);
	if (s->pol.config_exit >= 0 && WIFEXITED(wstatus) &&
	    WEXITSTATUS(wstatus) == s->pol.config_exit) {
		sup_fail(s, "%s: %s", st,
		         s->pol.config_exit_why ? s->pol.config_exit_why
		                                : "it cannot run as configured (see its output)");
		return;
	}
	if (s->pol.restart == RESTART_NEVER || (s->pol.restart == RESTART_ON_FAILURE && clean)) {
		sup_set(s, SUP_EXITED);
		return;
	}
	sup_schedule(s, uptime < (int64_t)s->pol.min_uptime_ms);
}

void sup_stop(struct sup *s)
{
	if (s->stop_requested)
		return;
	s->stop_requested = true;
	switch (s->state) {
	case SUP_RUNNING:
		sup_set(s, SUP_STOPPING);
		wlog_notice("worker", "stopping worker=%s pid=%ld (SIGTERM)", s->id, (long)s->pid);
		s->ops->kill(s->ctx, s, s->pid, SIGTERM);
		s->timer = s->ops->timer_start(s->ctx, s->pol.stop_timeout_ms, sup_kill_fire, s);
		if (!s->timer) /* cannot wait for it: no grace */
			s->ops->kill(s->ctx, s, s->pid, SIGKILL);
		break;
	case SUP_IDLE:
	case SUP_BACKOFF:
		sup_cancel_timer(s);
		sup_set(s, SUP_STOPPED);
		break;
	default:
		break;
	}
}

bool sup_alive(const struct sup *s)
{
	return s->pid > 0 && (s->state == SUP_RUNNING || s->state == SUP_STOPPING);
}

json_t *sup_status_json(const struct sup *s)
{
	int64_t now = sup_now(s);
	json_t *o = json_pack("{s:s, s:I, s:i, s:i}", "state", sup_state_name(s->state), "for_ms",
	                      (json_int_t)(now - s->since_ms), "restarts", (int)s->restarts,
	                      "fast_exits", (int)s->fast_exits);
	char st[64];

	if (!o)
		return NULL;
	json_object_set_new(o, "pid", sup_alive(s) ? json_integer(s->pid) : json_null());
	json_object_set_new(o, "last_exit",
	                    s->have_exit ? json_string(sup_status_text(s->last_status, st,
	                                                               sizeof(st)))
	                                 : json_null());
	if (s->state == SUP_BACKOFF)
		json_object_set_new(o, "restart_in_ms",
		                    json_integer(s->restart_at_ms > now ? s->restart_at_ms - now : 0));
	if (s->state == SUP_FAILED)
		json_object_set_new(o, "error", json_string(s->error));
	return o;
}
