/*
 * workers.h - the processes of the configuration's "processes" list (Crossbar's guest and
 * container workers, a router worker's components): started once the listeners listen,
 * supervised (router/workers/supervise.h: restart with backoff, give up), their output in
 * wampd's log, stopped when wampd stops (after the router refuses new sessions: SIGTERM,
 * then SIGKILL), never left behind as zombies or orphans, and shown on the admin status
 * page. Python components run in one child per process: wampd's launcher
 * (wampd-component.py, installed next to wampd) with Debian's python3-autobahn.
 *
 * Router components (no transport) connect back into wampd over an internal RawSocket
 * listener on a Unix socket in a private directory (mode 0700, made when wampd starts),
 * each as Crossbar shows a router component (authmethod "trusted", a random UUID as authid,
 * its configured role) and proving a random secret of its own (auth/trusted.c; valid in its
 * realm only), handed to the launcher on its stdin, never in argv, the environment or a log.
 *
 * Lifetime, from main.c:
 *   workers_prepare(&cfg, &ws)   before router_init: the private directory and the internal
 *                                listener (appended to cfg->listeners)
 *   workers_start(ws, &rt, loop) after loop_new: SIGCHLD, every process started
 *   loop_run(...)                the loop stops them at shutdown (loop_on_stop)
 *   workers_free(ws)             before loop_free: whatever is left killed and reaped, the
 *                                directory removed
 */
#ifndef WAMPD_ROUTER_WORKERS_H
#define WAMPD_ROUTER_WORKERS_H

#include <jansson.h>
#include <stdbool.h>

#include "router/config/config.h"

struct workers;
struct router;
struct loop;

/*
 * Prepare cfg's processes (borrowed: cfg->processes must stay where they are until
 * workers_free; router_init moving cfg into the router keeps them). When a component needs
 * the internal listener, makes the private directory and appends that listener to
 * cfg->listeners (last, so --port and --host still mean the first one). *out is NULL when
 * there are no processes. false (logged) when the directory or listener cannot be made.
 */
bool workers_prepare(struct config *cfg, struct workers **out);

/*
 * Install the SIGCHLD handling on `loop`, start every process, and register with the loop
 * to be stopped at shutdown. rt and loop are borrowed and must outlive ws until
 * workers_free. Sets rt->workers (the admin status page reads it). ws NULL: nothing.
 * false (logged) when SIGCHLD cannot be watched; processes that fail to start do not make
 * it fail (they are in the status, state "failed" or "backoff", and in the log).
 */
bool workers_start(struct workers *ws, struct router *rt, struct loop *loop);

/* Stop every process (SIGTERM, SIGKILL after its stop_timeout). Called by the loop when
 * the router starts refusing new sessions. Idempotent. */
void workers_stop(struct workers *ws);

/* A process is still alive (has not been reaped). */
bool workers_busy(const struct workers *ws);

/* Kill (SIGKILL) and reap whatever is still alive, read its last output, stop watching,
 * remove the private directory, free. Call before loop_free. NULL: nothing. */
void workers_free(struct workers *ws);

/* The processes and their state: [{"id", "type", "state", "pid", "restarts",
 * "fast_exits", "last_exit", "for_ms", ["restart_in_ms"], ["error"], ["components"]}]
 * (new reference). NULL ws: an empty list. */
json_t *workers_status_json(const struct workers *ws);

/*
 * What `wampd check` shows: what will be started for cfg (borrowed), without starting
 * anything. workers_plan_json: [{"id", "type", "argv", "program" (resolved, or null),
 * "problem" (why it cannot start, or absent), "workdir", "env": {"inherit", "set": [names]},
 * "stdout", "stderr", "restart": {...}, "stop_timeout_ms", "components": [{"id",
 * "classname", "realm", "role" | "transport"}]}] (new reference; NULL: out of memory).
 * Values of env.vars and components' extra are never shown (they may hold secrets).
 * workers_plan_text: the same as lines of text ("" when there are none; caller frees;
 * NULL: out of memory).
 */
json_t *workers_plan_json(const struct config *cfg);
char *workers_plan_text(const struct config *cfg);

#endif
