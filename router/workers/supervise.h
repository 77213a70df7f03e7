/*
 * supervise.h - the life of one supervised process, as a state machine that does no I/O of
 * its own: starting, signalling, the clock and timers are operations it is given (struct
 * sup_ops), so the unit tests drive it with fakes and router/workers/workers.c with
 * fork/exec, kill(2) and the event loop's timers.
 *
 *   IDLE --start--> RUNNING --exit--> BACKOFF --timer--> RUNNING ...
 *                     |   \--exit, not restarted (policy, or a clean exit)--> EXITED
 *                     |   \--exit, too many fast exits in a row----------> FAILED
 *                     \--stop: SIGTERM--> STOPPING --exit--> STOPPED
 *                                            \--stop_timeout: SIGKILL (then exit)
 *   BACKOFF/IDLE --stop--> STOPPED          a start that cannot work (no such program) --> FAILED
 *
 * Restart policy (a systemd-like one, since Crossbar has none for its workers):
 * "on-failure" restarts after a non-zero exit or a signal, "always" after any exit wampd
 * did not ask for, "never" not at all. An exit within min_uptime of the start is a fast
 * one: the delay before the next start doubles from restart_delay up to restart_delay_max,
 * and after give_up_after fast exits in a row (0: never) the process is given up on with
 * an error line. A run longer than min_uptime resets both. An exit status the process type
 * reserves for "cannot run as configured" (the Python launcher's 78, EX_CONFIG: no
 * Autobahn|Python) is given up on at once: restarting cannot help.
 */
#ifndef WAMPD_ROUTER_WORKERS_SUPERVISE_H
#define WAMPD_ROUTER_WORKERS_SUPERVISE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "router/config/config.h"

enum sup_state {
	SUP_IDLE = 0, /* not started yet */
	SUP_RUNNING,
	SUP_BACKOFF,  /* exited; started again when its timer fires */
	SUP_STOPPING, /* asked to stop (SIGTERM), not exited yet */
	SUP_STOPPED,  /* stopped by wampd */
	SUP_EXITED,   /* exited and not restarted (its policy) */
	SUP_FAILED,   /* given up on */
	SUP__COUNT
};

struct sup_policy {
	enum process_restart restart;
	uint32_t delay_ms, delay_max_ms, min_uptime_ms, give_up_after, stop_timeout_ms;
	int config_exit;       /* exit status meaning "cannot run as configured" (-1: none) */
	const char *config_exit_why; /* said when it comes (static), or NULL */
};

struct sup;

struct sup_ops {
	int64_t (*now_ms)(void *ctx);
	/* Start s's process: its pid (> 0), or -1 with the reason in err (errlen bytes) and
	 * *permanent set when trying again cannot help (no such program, not executable). */
	pid_t (*spawn)(void *ctx, struct sup *s, bool *permanent, char *err, size_t errlen);
	/* Send sig to the process pid (and what it started: its process group). */
	void (*kill)(void *ctx, struct sup *s, pid_t pid, int sig);
	/* A one-shot timer: fn(arg) after ms unless cancelled; the handle is the ops' own and
	 * dead once fn runs. NULL when it cannot be set (out of memory). */
	void *(*timer_start)(void *ctx, uint32_t ms, void (*fn)(void *arg), void *arg);
	void (*timer_cancel)(void *ctx, void *timer);
};

struct sup {
	const char *id;                /* borrowed, for the log and the status */
	struct sup_policy pol;
	const struct sup_ops *ops;
	void *ctx;                     /* the ops' context */
	enum sup_state state;
	pid_t pid;                     /* > 0 while RUNNING or STOPPING */
	int64_t started_ms;            /* now_ms of the latest start */
	int64_t since_ms;              /* now_ms of the latest state change */
	uint32_t fast_exits;           /* in a row */
	uint32_t restarts;             /* starts after the first */
	uint32_t next_delay_ms;        /* the next restart's delay */
	int64_t restart_at_ms;         /* BACKOFF: when the restart is due */
	bool stop_requested;
	bool have_exit;                /* last_status is set */
	int last_status;               /* wait status of the latest exit */
	void *timer;                   /* BACKOFF: the restart; STOPPING: the SIGKILL */
	char error[160];               /* FAILED: why */
};

/* Set s up (IDLE). id and ops are borrowed and must outlive s; pol is copied. */
void sup_init(struct sup *s, const char *id, const struct sup_policy *pol,
              const struct sup_ops *ops, void *ctx);

/* Start the process (from IDLE, or again from EXITED/FAILED: a manual start). Nothing once
 * a stop was requested, or while it runs. */
void sup_start(struct sup *s);

/* The process exited with wait status `wstatus` (reaped by the caller). */
void sup_exited(struct sup *s, int wstatus);

/* Stop for good: SIGTERM and, after stop_timeout, SIGKILL; a pending restart is
 * cancelled. Idempotent. */
void sup_stop(struct sup *s);

/* A process is alive (RUNNING or STOPPING): it still has to be reaped. */
bool sup_alive(const struct sup *s);

/* "idle", "running", "backoff", "stopping", "stopped", "exited", "failed". */
const char *sup_state_name(enum sup_state st);

/* "exit 3" or "signal 9 (Killed)" for a wait status, into buf. Returns buf. */
const char *sup_status_text(int wstatus, char *buf, size_t len);

/* The status as JSON (new reference; NULL when out of memory): state, pid, restarts,
 * fast_exits, last_exit, for_ms (time in this state), restart_in_ms (BACKOFF), error. */
json_t *sup_status_json(const struct sup *s);

/* Forget the timer without cancelling it (the loop that owns it is going away). */
void sup_drop_timer(struct sup *s);

#endif
