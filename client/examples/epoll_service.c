/*
 * epoll_service.c - a Linux service that embeds libwampc in its own epoll(7) loop, next to
 * file descriptors of its own: a timerfd that publishes a heartbeat, and a signalfd on which
 * SIGTERM and SIGINT make it leave cleanly (GOODBYE, then exit 0). Over WAMP it registers
 * PREFIX.add2 (the sum of two numbers) and subscribes to PREFIX.configure (kwargs label and
 * interval: what the heartbeat carries and how often it beats); it publishes
 * PREFIX.heartbeat [seq] {session, label, interval, joins} every interval while it has a
 * session. RawSocket over TCP or a Unix socket, JSON, MessagePack or CBOR, reconnecting
 * forever; the library registers and subscribes again after every new session.
 *
 *   wampc_epoll_service --url rs://HOST:PORT|unix:PATH [--serializer json|msgpack|cbor]
 *                       [--realm realm1] [--prefix com.example] [--heartbeat MS]
 *
 * stdout, one line each: "joined SESSION", "left REASON (reconnecting)" or "left REASON",
 * "configured LABEL INTERVAL", "signal NAME", "exit".
 *
 * THE LOOP (the libmosquitto model: mosquitto_socket / loop_read / loop_write / loop_misc)
 *
 * Every file descriptor in the epoll set carries a `struct source`, its handler, as the
 * event's data: the loop dispatches through it instead of comparing descriptors. Each round
 *   1. brings the client's registration up to date: the library's socket (wampc_socket)
 *      and the events it wants on it (wampc_loop_events) change as it connects, writes,
 *      stops reading under back-pressure and reconnects, so they are asked again every
 *      round and the epoll set is changed only when they differ from what it holds;
 *   2. waits in epoll_wait for at most wampc_loop_timeout (the library's next timer: call
 *      timeouts, the join and goodbye deadlines, the reconnect backoff; 0 when it has work
 *      to do at once, such as a connection to start);
 *   3. runs the handler of every ready descriptor: the client's calls wampc_loop_write and
 *      wampc_loop_read, the timer's publishes, the signal's calls wampc_leave;
 *   4. always calls wampc_loop_misc (timers, starting connections, closing).
 * A socket the library closed leaves the epoll set by itself (the kernel drops a closed
 * descriptor), and the next connection may get the same number: so the registration is
 * keyed by the descriptor *and* the connection attempt (wampc_stats.connects), and a new
 * attempt is always added afresh. A socket is registered only while the library wants an
 * event on it: epoll reports a hang-up even for an empty event mask, and a level-triggered
 * hang-up the library does not want to read yet would wake the loop without end.
 * The loop runs until the client stops (wampc_stopped): after the signal's GOODBYE was
 * answered (or its goodbye_timeout passed), or at once when the signal came while there
 * was no session.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sigabbrev_np; the build defines it already */
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "client/wampc.h"

#define MAX_EVENTS 8
#define LABEL_MAX 64
#define INTERVAL_MIN 10
#define INTERVAL_MAX 3600000

struct service;

/* A descriptor in the epoll set and what to do when it is ready. */
struct source {
	int fd;
	void (*ready)(struct service *s, uint32_t events);
};

struct service {
	wampc *c;
	int ep;
	struct source client; /* fd: what the epoll set holds for the library's socket */
	uint32_t client_ev;   /* its events there (0: not in the set) */
	uint64_t client_gen;  /* the connection attempt it belongs to */
	struct source timer, signal;
	char proc[256], topic_configure[256], topic_heartbeat[256];
	char label[LABEL_MAX];
	unsigned interval;    /* ms */
	uint64_t seq;         /* heartbeats published */
	bool leaving;         /* a signal asked us to leave */
};

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ------------------------------------------------------------------- WAMP side */

static void on_session(wampc *c, const struct wampc_session_info *info, void *ud)
{
	if (info->event == WAMPC_JOINED)
		line("joined %llu", (unsigned long long)info->session);
	else if (info->event == WAMPC_LEFT)
		line("left %s%s", info->reason ? info->reason : "-",
		     info->reconnecting ? " (reconnecting)" : "");
	else
		line("%s %s %s", info->event == WAMPC_REVOKED ? "revoked" : "restore-failed",
		     info->uri ? info->uri : "-", info->reason ? info->reason : "-");
}

static void invalid_argument(wampc *c, uint64_t request, const char *why)
{
	wampc_value *a = wampc_array();

	wampc_array_append(a, wampc_string(why));
	wampc_invocation_error(c, request, "wamp.error.invalid_argument", WAMPC_ARGS(a, NULL));
	wampc_value_free(a);
}

/* PREFIX.add2 [a, b] -> [a + b]: integers stay integers (an overflow is refused), a float
 * among them makes a float; anything else is wamp.error.invalid_argument. */
static void on_add2(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	wampc_value *args = wampc_payload_args(inv->payload, NULL), *r = NULL, *res;
	const wampc_value *a = wampc_array_get(args, 0), *b = wampc_array_get(args, 1);
	enum wampc_kind ka = wampc_value_kind(a), kb = wampc_value_kind(b);
	int64_t sum;

	if (wampc_array_size(args) != 2 || (ka != WAMPC_INT && ka != WAMPC_FLOAT) ||
	    (kb != WAMPC_INT && kb != WAMPC_FLOAT)) {
		invalid_argument(c, inv->request, "add2 takes two numbers");
	} else if (ka == WAMPC_INT && kb == WAMPC_INT) {
		if (__builtin_add_overflow(wampc_value_int(a, 0), wampc_value_int(b, 0), &sum))
			invalid_argument(c, inv->request, "the sum does not fit in 64 bits");
		else
			r = wampc_int(sum);
	} else {
		r = wampc_float(wampc_value_float(a, 0) + wampc_value_float(b, 0));
	}
	if (r) {
		res = wampc_array();
		if (wampc_array_append(res, r) != WAMPD_OK ||
		    wampc_yield(c, inv->request, false, WAMPC_ARGS(res, NULL)) != WAMPD_OK)
			wampc_invocation_error(c, inv->request, "wamp.error.internal_error", NULL);
		wampc_value_free(res);
	}
	wampc_value_free(args);
}

static void heartbeat_arm(struct service *s)
{
	struct itimerspec t = {
		.it_interval = {.tv_sec = s->interval / 1000, .tv_nsec = (long)(s->interval % 1000) * 1000000},
	};

	t.it_value = t.it_interval;
	if (timerfd_settime(s->timer.fd, 0, &t, NULL) != 0)
		perror("epoll_service: timerfd_settime");
}

/* PREFIX.configure {label, interval}: either may be absent; invalid values are ignored. */
static void on_configure(wampc *c, const struct wampc_event *e, void *ud)
{
	struct service *s = ud;
	wampc_value *kw = wampc_payload_kwargs(e->payload, NULL);
	const wampc_value *iv = wampc_map_get(kw, "interval");
	size_t len = 0;
	const char *label = wampc_value_string(wampc_map_get(kw, "label"), &len);

	if (label && len < sizeof(s->label) && !memchr(label, 0, len))
		memcpy(s->label, label, len + 1);
	if (wampc_value_kind(iv) == WAMPC_INT && wampc_value_int(iv, 0) >= INTERVAL_MIN &&
	    wampc_value_int(iv, 0) <= INTERVAL_MAX) {
		s->interval = (unsigned)wampc_value_int(iv, 0);
		heartbeat_arm(s);
	}
	line("configured %s %u", s->label, s->interval);
	wampc_value_free(kw);
}

/* ------------------------------------------------------------------ the sources */

/* The library's socket. */
static void client_ready(struct service *s, uint32_t events)
{
	if (events & (EPOLLOUT | EPOLLERR))
		wampc_loop_write(s->c);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))
		wampc_loop_read(s->c);
}

/* The heartbeat: only while there is a session (a stale beat is worth nothing later). */
static void timer_ready(struct service *s, uint32_t events)
{
	uint64_t expirations;
	wampc_value *args, *kw;
	struct wampc_stats st;
	enum wampd_err err;

	if (read(s->timer.fd, &expirations, sizeof(expirations)) != sizeof(expirations) ||
	    !wampc_joined(s->c) || s->leaving)
		return;
	wampc_get_stats(s->c, &st);
	args = wampc_array();
	kw = wampc_map();
	wampc_array_append(args, wampc_int((int64_t)s->seq + 1));
	wampc_map_set(kw, "session", wampc_int((int64_t)wampc_session_id(s->c)));
	wampc_map_set(kw, "label", wampc_string(s->label));
	wampc_map_set(kw, "interval", wampc_int(s->interval));
	wampc_map_set(kw, "joins", wampc_int((int64_t)st.joins));
	if (!args || !kw)
		err = WAMPD_ERR_NOMEM;
	else
		err = wampc_publish(s->c, s->topic_heartbeat, NULL, WAMPC_ARGS(args, kw), NULL, NULL,
		                    NULL);
	if (err == WAMPD_OK)
		s->seq++;
	else
		fprintf(stderr, "epoll_service: heartbeat: %s\n", wampd_err_str(err));
	wampc_value_free(args);
	wampc_value_free(kw);
}

/* SIGTERM, SIGINT: GOODBYE (or stop at once without a session); the loop ends when the
 * client has stopped. */
static void signal_ready(struct service *s, uint32_t events)
{
	struct signalfd_siginfo si;

	if (read(s->signal.fd, &si, sizeof(si)) != sizeof(si))
		return;
	line("signal %s", sigabbrev_np((int)si.ssi_signo));
	if (!s->leaving) {
		s->leaving = true;
		wampc_leave(s->c, NULL);
	}
}

/* Step 1 of the loop: the epoll set holds the library's socket of this connection attempt
 * with the events it wants now, or does not hold it when it wants none. 0, or -1 when
 * epoll_ctl fails. */
static int client_sync(struct service *s)
{
	struct wampc_stats st;
	int fd = wampc_socket(s->c);
	unsigned want = fd >= 0 ? wampc_loop_events(s->c) : 0;
	uint32_t ev = (want & WAMPC_POLLIN ? EPOLLIN | EPOLLRDHUP : 0u) |
	              (want & WAMPC_POLLOUT ? EPOLLOUT : 0u);
	struct epoll_event e = {.events = ev, .data.ptr = &s->client};

	wampc_get_stats(s->c, &st);
	if (fd == s->client.fd && st.connects == s->client_gen && ev == s->client_ev)
		return 0;
	if (s->client_ev && fd == s->client.fd && st.connects == s->client_gen && ev) {
		s->client_ev = ev;
		return epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &e);
	}
	/* another socket (or none), or in or out of the set: the old registration goes (it
	 * may be gone already with its closed socket: ENOENT, EBADF) */
	if (s->client_ev && s->client.fd >= 0 &&
	    epoll_ctl(s->ep, EPOLL_CTL_DEL, s->client.fd, NULL) != 0 && errno != ENOENT &&
	    errno != EBADF)
		return -1;
	s->client.fd = fd;
	s->client_gen = st.connects;
	s->client_ev = ev;
	return ev ? epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) : 0;
}

static int add_source(struct service *s, struct source *src)
{
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = src};

	return src->fd < 0 ? -1 : epoll_ctl(s->ep, EPOLL_CTL_ADD, src->fd, &e);
}

/* The loop; 0 when it ended because a signal asked it to, 1 otherwise. */
static int run(struct service *s)
{
	struct epoll_event evs[MAX_EVENTS];

	wampc_start(s->c);
	while (!wampc_stopped(s->c)) {
		int n;

		if (client_sync(s) != 0) {
			perror("epoll_service: epoll_ctl");
			return 1;
		}
		n = epoll_wait(s->ep, evs, MAX_EVENTS, wampc_loop_timeout(s->c));
		if (n < 0 && errno != EINTR) {
			perror("epoll_service: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct source *src = evs[i].data.ptr;

			src->ready(s, evs[i].events);
		}
		wampc_loop_misc(s->c);
	}
	return s->leaving ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct service s = {.ep = -1, .client = {.fd = -1, .ready = client_ready},
	                    .timer = {.fd = -1, .ready = timer_ready},
	                    .signal = {.fd = -1, .ready = signal_ready},
	                    .label = "-", .interval = 1000};
	struct wampc_config cfg = {
		.realm = "realm1", .serializer = WAMPC_JSON, .reconnect = true, .retry_initial = 100,
		.retry_max = 5000,
		.roles = WAMPC_ROLE_CALLEE | WAMPC_ROLE_SUBSCRIBER | WAMPC_ROLE_PUBLISHER,
		.on_session = on_session, .ud = &s};
	const char *prefix = "com.example";
	enum wampd_err err;
	sigset_t sigs;
	int rc = 2;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--url")) {
			cfg.url = argv[i + 1];
		} else if (!strcmp(argv[i], "--serializer")) {
			int ser = wampc_ser_from_name(argv[i + 1]);

			if (ser < 0)
				goto usage;
			cfg.serializer = (enum wampc_ser)ser;
		} else if (!strcmp(argv[i], "--realm")) {
			cfg.realm = argv[i + 1];
		} else if (!strcmp(argv[i], "--prefix")) {
			prefix = argv[i + 1];
		} else if (!strcmp(argv[i], "--heartbeat")) {
			s.interval = (unsigned)strtoul(argv[i + 1], NULL, 10);
		} else {
			goto usage;
		}
	}
	if (!cfg.url || argc % 2 == 0 || s.interval < INTERVAL_MIN || s.interval > INTERVAL_MAX)
		goto usage;
	snprintf(s.proc, sizeof(s.proc), "%s.add2", prefix);
	snprintf(s.topic_configure, sizeof(s.topic_configure), "%s.configure", prefix);
	snprintf(s.topic_heartbeat, sizeof(s.topic_heartbeat), "%s.heartbeat", prefix);

	/* the signals arrive on a descriptor, not in a handler */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0) {
		perror("epoll_service: sigprocmask");
		return 2;
	}
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	s.timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s.signal.fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s.ep < 0 || add_source(&s, &s.timer) != 0 || add_source(&s, &s.signal) != 0) {
		perror("epoll_service: epoll, timerfd, signalfd");
		goto out;
	}
	heartbeat_arm(&s);

	if (!(s.c = wampc_new(&cfg, &err))) {
		fprintf(stderr, "epoll_service: %s\n", wampd_err_str(err));
		goto out;
	}
	/* made now, sent after the first WELCOME, made again after every later one */
	if ((err = wampc_register(s.c, s.proc, NULL, on_add2, &s, NULL, NULL, NULL)) != WAMPD_OK ||
	    (err = wampc_subscribe(s.c, s.topic_configure, NULL, on_configure, &s, NULL, NULL,
	                           NULL)) != WAMPD_OK) {
		fprintf(stderr, "epoll_service: %s\n", wampd_err_str(err));
		goto out;
	}
	rc = run(&s);
	line("exit");
out:
	wampc_free(s.c);
	if (s.signal.fd >= 0)
		close(s.signal.fd);
	if (s.timer.fd >= 0)
		close(s.timer.fd);
	if (s.ep >= 0)
		close(s.ep);
	return rc;
usage:
	fprintf(stderr, "usage: wampc_epoll_service --url rs://HOST:PORT|unix:PATH "
	                "[--serializer json|msgpack|cbor] [--realm R] [--prefix P] "
	                "[--heartbeat MS]\n");
	return 2;
}
