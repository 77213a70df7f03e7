/*
 * loop.c - the event loop (see loop.h): the libwebsockets context, the listeners on it,
 * the timers realm/ asks for, a periodic tick, the process's descriptor limit, and the
 * graceful shutdown.
 *
 * One loop is one thread's worth of the router: everything it owns hangs off struct loop
 * (nothing global), so that one day several loops, one per core, can each run their own.
 *
 * Timers: realm/'s timers (struct realm_timer_ops) are lws sorted-usec-list entries, one
 * allocation each, freed before their callback runs (one-shot).
 *
 * Shutdown (loop_run after *stop): calls waiting for a callee are answered first, then
 * every session is told GOODBYE wamp.close.system_shutdown through the connection core's
 * registry and every HTTP service answers what it holds, and the stop hook (the worker
 * processes, loop_on_stop) begins; the loop goes on serving until every connection has
 * closed or the grace period is over, and the hook is done or its own limit is over.
 *
 * Watched descriptors (loop_watch_fd: child processes' pipes, the SIGCHLD self-pipe) are
 * adopted as lws raw files on a vhost of their own; the callback only tells the owner
 * that the descriptor wants reading.
 */
#include "router/net/loop.h"

#include <fcntl.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uthash.h>

#include "common/clock.h"
#include "common/log.h"
#include "router/core/conn.h"
#include "router/http/httpsvc.h"
#include "router/net/listen.h"
#include "router/core/protocol.h"

struct loop {
	struct router *rt;
	struct lws_context *ctx;
	struct listeners listeners;
	lws_sorted_usec_list_t tick;
	unsigned ticks;
	volatile int *stop;
	/* loop_watch_fd: raw file descriptors adopted on a vhost of their own */
	struct lws_vhost *watch_vhost;
	struct lws_protocols watch_protocols[2];
	/* loop_on_stop */
	void (*stop_begin)(void *arg);
	bool (*stop_busy)(void *arg);
	void *stop_arg;
	int stop_max_ms;
};

static void loop_lws_log(int level, const char *line)
{
	char buf[512];
	size_t n;

	/* lws 4.1.6 reports every adoption of a socket with prefetched data at error level */
	if (strstr(line, "calling service"))
		return;

	/* lws lines carry their own timestamp prefix "[date] E: "; keep the text only */
	{
		const char *p = strstr(line, ": ");

		if (p && p - line < 40)
			line = p + 2;
	}
	n = strlen(line);
	snprintf(buf, sizeof(buf), "%.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
	if (level & LLL_ERR)
		wlog_error("lws", "%s", buf);
	else if (level & LLL_WARN)
		wlog_warn("lws", "%s", buf);
	else
		wlog_info("lws", "%s", buf);
}

struct realm_timer {
	lws_sorted_usec_list_t sul;
	void (*fn)(void *arg);
	void *arg;
};

static void loop_timer_fire(lws_sorted_usec_list_t *sul)
{
	struct realm_timer *t = lws_container_of(sul, struct realm_timer, sul);
	void (*fn)(void *) = t->fn;
	void *arg = t->arg;

	free(t); /* one-shot: the handle is gone before the callback runs */
	fn(arg);
}

static struct realm_timer *loop_timer_start(void *ctx, uint32_t ms, void (*fn)(void *arg),
                                          void *arg)
{
	struct loop *lp = ctx;
	struct realm_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	lws_sul_schedule(lp->ctx, 0, &t->sul, loop_timer_fire, (lws_usec_t)ms * LWS_US_PER_MS);
	return t;
}

static void loop_timer_cancel(void *ctx, struct realm_timer *t)
{
	(void)ctx;
	lws_sul_cancel(&t->sul);
	free(t);
}

static void loop_tick(lws_sorted_usec_list_t *sul)
{
	struct loop *lp = lws_container_of(sul, struct loop, tick);

	/* forget addresses whose failed-authentication window has passed (every ~10 s) */
	if (++lp->ticks % 40 == 0)
		iplimit_sweep(&lp->rt->ipl, clock_mono_ms());
	/* wakes lws_service() so a stop request is seen within a tick */
	lws_sul_schedule(lp->ctx, 0, &lp->tick, loop_tick, 250 * LWS_US_PER_MS);
}

/*
 * Size the process's descriptor limit to the configured capacity before libwebsockets
 * sizes its fd tables from it. libwebsockets 4.1.6 as Debian builds it checks every new
 * connection against its whole fd table (a scan of RLIMIT_NOFILE entries: at a limit of
 * 20,000 it was more than half of a session setup), so a limit far above what the router
 * may use only slows it down; one below max_sessions caps the sessions instead. Soft limit
 * := min(hard limit, max_sessions + a reserve for handshakes in flight, listeners, logs).
 */
static void loop_size_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_sessions + cfg->max_sessions / 8 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
		wlog_warn("router", "limits.max_sessions=%u is above the file-descriptor limit %llu: "
		          "connections beyond it will be refused (raise LimitNOFILE / ulimit -Hn)",
		          cfg->max_sessions, (unsigned long long)rl.rlim_max);
		want = rl.rlim_max;
	}
	if (want == rl.rlim_cur)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		wlog_warn("router", "cannot set the file-descriptor limit to %llu",
		          (unsigned long long)want);
	else
		wlog_info("router", "file-descriptor limit %llu (max_sessions %u)",
		          (unsigned long long)want, cfg->max_sessions);
}

struct loop *loop_new(struct router *rt)
{
	struct lws_context_creation_info info;
	struct loop *lp = calloc(1, sizeof(*lp));
	const struct config *cfg = &rt->cfg;

	if (!lp)
		return NULL;
	lp->rt = rt;
	lws_set_log_level(LLL_ERR | LLL_WARN, loop_lws_log);
	loop_size_fd_limit(cfg);

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
	               LWS_SERVER_OPTION_DISABLE_IPV6;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].tls_cert)
			info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.fd_limit_per_thread = 0;
	info.timeout_secs = (unsigned)cfg->hello_timeout_s;
	lp->ctx = lws_create_context(&info);
	if (!lp->ctx) {
		wlog_error("router", "cannot create the libwebsockets context");
		goto fail;
	}

	if (!listeners_open(&lp->listeners, rt, lp->ctx))
		goto fail;
	lws_sul_schedule(lp->ctx, 0, &lp->tick, loop_tick, 250 * LWS_US_PER_MS);
	rt->realms.timers.start = loop_timer_start;
	rt->realms.timers.cancel = loop_timer_cancel;
	rt->realms.timers.ctx = lp;
	return lp;
fail:
	loop_free(lp);
	return NULL;
}

int loop_run(struct loop *lp, volatile int *stop, int grace_ms)
{
	int64_t deadline, busy_deadline;

	lp->stop = stop;
	while (!*stop)
		if (lws_service(lp->ctx, 0) < 0)
			return -1;

	wlog_notice("router", "shutting down: %u connection(s)", lp->rt->nconns);
	lp->rt->shutting_down = true;
	{
		struct realm *r, *rtmp;

		/* pending calls are answered first, then every session is told goodbye */
		HASH_ITER(hh, lp->rt->realms.by_name, r, rtmp)
			dealer_cancel_all(&r->dealer);
	}
	conn_shutdown_all(lp->rt);
	httpsvc_shutdown_all(lp->rt);
	/* the supervised processes stop now that no new session is admitted */
	if (lp->stop_begin)
		lp->stop_begin(lp->stop_arg);
	deadline = clock_mono_ms() + grace_ms;
	busy_deadline = clock_mono_ms() + lp->stop_max_ms;
	while ((lp->rt->nconns && clock_mono_ms() < deadline) ||
	       (lp->stop_busy && lp->stop_busy(lp->stop_arg) && clock_mono_ms() < busy_deadline))
		if (lws_service(lp->ctx, 0) < 0)
			break;
	if (lp->rt->nconns)
		wlog_notice("router", "closing %u connection(s) that did not finish in time",
		            lp->rt->nconns);
	return 0;
}

void loop_free(struct loop *lp)
{
	if (!lp)
		return;
	/* what is still open is going away together: nothing more is queued to it while
	 * the sessions leave their realms one by one below */
	conn_abandon_all(lp->rt);
	httpsvc_abandon(lp->rt);
	if (lp->ctx)
		lws_context_destroy(lp->ctx); /* closes what is left: LWS_CALLBACK_CLOSED each */
	httpsvc_free_all(lp->rt);
	memset(&lp->rt->realms.timers, 0, sizeof(lp->rt->realms.timers));
	listeners_close(&lp->listeners);
	free(lp);
}

struct lws_context *loop_context(struct loop *lp)
{
	return lp->ctx;
}

/* ---------------------------------------------------------------------------------- */
/* watched descriptors                                                                  */

struct loop_watch {
	struct lws *wsi; /* NULL once lws closed it (hang-up) */
	void (*fn)(void *arg);
	void *arg;
};

static int loop_watch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                               void *in, size_t len)
{
	struct loop_watch *w = lws_get_opaque_user_data(wsi);

	(void)user, (void)in, (void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (w)
			w->fn(w->arg);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		/* a hang-up without data left: lws gave the descriptor up; the owner reads the end
		 * of file and unwatches */
		if (w && w->wsi == wsi) {
			w->wsi = NULL;
			w->fn(w->arg);
		}
		return 0;
	default:
		return 0;
	}
}

struct loop_watch *loop_watch_fd(struct loop *lp, int fd, void (*fn)(void *arg), void *arg)
{
	struct loop_watch *w;
	lws_sock_file_fd_type u;

	if (!lp->watch_vhost) {
		struct lws_context_creation_info info;

		lp->watch_protocols[0].name = "wampd-watch";
		lp->watch_protocols[0].callback = loop_watch_callback;
		memset(&info, 0, sizeof(info));
		info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
		info.protocols = lp->watch_protocols;
		info.vhost_name = "watch";
		info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
		if (!(lp->watch_vhost = lws_create_vhost(lp->ctx, &info))) {
			wlog_error("router", "cannot create the vhost for watched descriptors");
			return NULL;
		}
	}
	if (!(w = calloc(1, sizeof(*w))))
		return NULL;
	w->fn = fn;
	w->arg = arg;
	/* lws closes what it adopted: it gets a duplicate, the caller keeps fd */
	u.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (u.filefd < 0 ||
	    !(w->wsi = lws_adopt_descriptor_vhost(lp->watch_vhost, LWS_ADOPT_RAW_FILE_DESC, u,
	                                          "wampd-watch", NULL))) {
		if (u.filefd >= 0)
			close(u.filefd);
		wlog_error("router", "cannot watch descriptor %d", fd);
		free(w);
		return NULL;
	}
	lws_set_opaque_user_data(w->wsi, w);
	return w;
}

void loop_unwatch(struct loop_watch *w)
{
	if (!w)
		return;
	if (w->wsi) {
		lws_set_opaque_user_data(w->wsi, NULL);
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	free(w);
}

void loop_on_stop(struct loop *lp, void (*begin)(void *arg), bool (*busy)(void *arg),
                  void *arg, int max_ms)
{
	lp->stop_begin = begin;
	lp->stop_busy = busy;
	lp->stop_arg = arg;
	lp->stop_max_ms = max_ms;
}
