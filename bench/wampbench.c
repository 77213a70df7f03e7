/*
 * wampbench.c - a load generator for WAMP routers: many sessions in one event-driven
 * process (libwebsockets), JSON or MessagePack, over WebSocket or RawSocket, one JSON
 * result line per run.
 *
 *   wampbench --url ws://127.0.0.1:8080/ws --scenario S [options]
 *   wampbench --url rs://127.0.0.1:8080 --scenario S [options]     (RawSocket)
 *
 * Every WAMP session is a libwampc client (client/wampc.h) on this process's lws context
 * (its libwebsockets adapter, libwampc-ws: wampc_lws_attach), so the benchmark measures the
 * router through the project's own client library and the library carries the benchmark's
 * load: sessions, authentication, calls, registrations, events and their payload spans
 * (each request's arguments are encoded here once, as bytes, and forwarded as they are)
 * are the library's. The raw scenarios against the relay (no WAMP) keep their own lws
 * connections.
 *
 * Transport: a ws:// URL speaks WebSocket, an rs:// URL WAMP-over-RawSocket (for the
 * sessions: the library's RawSocket, a 2^24 length limit announced; for the relay's raw
 * modes: the handshake and 4-octet frame prefixes of serializers/rawsocket.c); --transport
 * rawsocket takes the host and port of a ws:// URL (a universal port). Every scenario runs
 * over either; against the relay the raw scenarios need the relay in the same transport
 * (relay --transport rawsocket), and wsconnect over RawSocket measures the RawSocket
 * handshake alone.
 *
 * WAMP scenarios (against a router):
 *   rpc      --callers C --callees M --window W --payload P : round trips/s + latency
 *            --rate R: open loop, R calls/s on a fixed schedule (at most W in flight per
 *            caller), latency timed from each call's scheduled moment (echo takes
 *            --rate too: the baseline at the same rate)
 *   fanout   --subscribers N --window K --payload P         : deliveries/s + latency
 *   connect  --concurrency K                                : HELLO->WELCOME sessions/s
 *   idle     --sessions K --router-pid PID                  : router RSS KiB per session
 *   publish  --callers C --window W --payload P             : acknowledged publications/s
 *            (PUBLISH {acknowledge: true} -> PUBLISHED, W in flight per session, no
 *            subscriber) + latency PUBLISH -> PUBLISHED
 * HTTP bridge scenario (against a router listener with a "publisher" HTTP service):
 *   http-publish --callers C --window W --payload P [--http-path /publish]
 *            C HTTP/1.1 keep-alive connections, W pipelined POSTs in flight on each, body
 *            {"topic":"bench.pub","args":[t,"xxx..."]} (the same args as publish's JSON):
 *            publications/s + latency request -> response. --url ws://HOST:PORT/... (its
 *            host and port) or http://HOST:PORT/PATH (PATH replaces the default path).
 *            Every response is parsed (status line, headers, Content-Length body; a 2xx
 *            body must be {"id": <integer>}); non-2xx answers are counted ("errors") and
 *            fail the run at its end.
 * Raw scenarios (against bench/relay, same connections and shapes, no WAMP):
 *   echo     --callers C --window W --payload P             : round trips/s (relay echo)
 *   pair     --callers C --window W --payload P             : caller->callee->caller (relay pair)
 *   broadcast --subscribers N --window K --payload P        : deliveries/s (relay broadcast)
 *   wsconnect --concurrency K                               : WebSocket handshakes/s (any mode)
 * fanout --slow K adds K subscribers that stop reading once subscribed: the router must
 * disconnect them (its send-queue bound) while every other subscriber keeps receiving every
 * event in order (checked: a reordered event fails the run, a lost one stalls the paced
 * publisher and fails it after 5 s). Reports slow_closed and the router's peak RSS. The run
 * continues, unmeasured, past --duration until every slow subscriber is dropped (at most
 * SLOW_GRACE_S more).
 * Common: --serializer json|msgpack, --transport websocket|rawsocket, --warmup S,
 * --duration S, --router-pid PID.
 * Clusters (several router nodes): --url takes a comma-separated list; callers, callees and
 * subscribers are spread over the nodes in turn (client k of a role on node k % n), the
 * fan-out publisher is on the first; --callee-url puts every callee on one node (e.g. all
 * callers on node B, the callee on node A: every call crosses nodes).
 * Authentication (any WAMP scenario): --authmethod ticket|wampcra|cryptosign --authid ID
 * --secret S (ticket: the ticket; wampcra: the unsalted secret; cryptosign: the private
 * key's 32-byte seed in hex).
 *
 * Latency: every request carries its send time (CLOCK_MONOTONIC ns) as the first element of
 * its payload; the answer (RESULT echoes the arguments; EVENT carries the publication's)
 * brings it back. Latencies go into a log-linear histogram (64 sub-buckets per power of
 * two: < 1.6% error) from which percentiles are read; no averages.
 *
 * Pacing: a caller keeps W calls in flight; the fan-out publisher publishes publication s
 * only when every subscriber has received publication s-K, so the router's queues never
 * hold more than K messages per subscriber (a benchmark must not trip the router's slow
 * consumer protection).
 *
 * CPU: wampbench's own CPU time (getrusage) and the router's (/proc/PID/stat) over the
 * measured interval are reported next to the figures: the tool must not be the bottleneck.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench/http_response.h"
#include "client/wampc_lws.h"
#include "serializers/rawsocket.h"
#include "serializers/codec.h"

#define SLOW_GRACE_S 90
/* Every client connected (and joined, subscribed, registered) within this, or the run
 * fails; lws' own connect/handshake timeout (and the library's join timeout) is shorter,
 * so that its reason is the one given. */
#define SETUP_TIMEOUT_S 120
#define LWS_HANDSHAKE_TIMEOUT_S 60

#define RS_VERBATIM 0xff /* wamp_out.ser of bytes written as they are (RawSocket handshake,
                            HTTP requests) */

/* WAMP scenarios first, then the raw ones (sc >= SC_ECHO: no WAMP on the connection) */
enum scenario { SC_RPC, SC_FANOUT, SC_CONNECT, SC_IDLE, SC_PUBLISH, SC_ECHO, SC_PAIR,
                SC_BROADCAST, SC_WSCONNECT, SC_HTTP_PUBLISH };
enum role { R_CALLER, R_CALLEE, R_PUBLISHER, R_SUBSCRIBER, R_SLOW, R_CONNECTOR, R_IDLE, R_RAW_SEND,
            R_RAW_ECHO, R_RAW_RECV, R_ACKPUB, R_HTTP };

#define HIST_SUB 64
#define HIST_BUCKETS (64 * HIST_SUB)

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n;
};

struct client;

#define BENCH_MAX_TARGETS 8

struct bench_target {           /* one router node to connect to */
	char host[64];
	int port;
	char path[256];
};

struct bench {
	enum scenario sc;
	enum wamp_ser ser;
	int rawsocket;        /* WAMP-over-RawSocket instead of WebSocket */
	const char *realm;
	struct bench_target targets[BENCH_MAX_TARGETS]; /* --url list */
	int ntargets;
	struct bench_target callee_target;              /* --callee-url */
	int has_callee_target;
	const char *authmethod, *authid, *secret; /* NULL: anonymous */
	unsigned authbit;                        /* its WAMPC_AUTH_* */
	uint8_t seed[32];                        /* cryptosign: --secret's seed */
	int port;
	int callers, callees, window, payload, subscribers, concurrency, sessions;
	double warmup, duration;
	int router_pid;
	int slow;             /* fanout: extra subscribers that stop reading (--slow) */
	int slow_closed;      /* ... of which the router disconnected */
	long rss_start_kib, rss_max_kib; /* router RSS at the measurement start / its peak */
	int64_t last_delivery; /* ns: fan-out stall detection */
	struct lws_context *ctx;
	struct client *clients;
	int nclients;
	/* phases */
	int ready;            /* clients that finished their setup */
	int started;          /* load is running */
	int64_t t_measure;    /* ns: measurement starts */
	int64_t t_end;        /* ns: measurement ends */
	int done;
	int failed;
	char why[256];
	/* results */
	uint64_t ops;
	struct hist hist;
	/* fan-out pacing */
	uint64_t pub_seq;
	uint32_t *delivered; /* per publication slot (seq % window) */
	uint64_t *slot_seq;
	/* connect scenario */
	int connects_open;
	/* cpu */
	struct rusage ru0;
	long router_ticks0;
	long rss0_kib;
	int cpu_marked;       /* CPU counters read at the start of the measured interval */
	char *payload_fill;
	lws_sorted_usec_list_t tick;
	/* rpc --rate: calls issued on a fixed schedule (open loop), each timed from the moment
	 * it was due, not from when a window slot let it go (no coordinated omission) */
	double rate;          /* calls/s over all callers; 0: closed loop (--window in flight) */
	int64_t t_pace0;      /* ns: the schedule's origin */
	uint64_t paced;       /* calls issued so far on the schedule */
	int next_caller;      /* round robin */
	int pace_fd;          /* timerfd ticking every PACE_TICK_US, polled by lws (a sul timer
	                         this fine would make lws poll with timeout 0, i.e. spin) */
	uint8_t *scratch;     /* a request's arguments, encoded here (the library copies them) */
	/* http-publish */
	char http_path[256];  /* request target (--http-path, or the http:// URL's path) */
	char http_host[96];   /* Host header: HOST:PORT */
	uint64_t errors;      /* non-2xx answers over the whole run (measured or not) */
	int first_error_status;
	char first_error[128]; /* the first non-2xx answer's body (start of it) */
};

/* A request in flight whose answer comes back in order (HTTP pipelining; a session's
 * PUBLISHED): its id (0 for HTTP) and send time. */
struct inflight {
	uint64_t id;
	int64_t t;
};

struct client {
	struct bench *b;
	const struct bench_target *target; /* the node it connects to */
	wampc *wc;          /* a WAMP session (scenarios before SC_ECHO) */
	struct lws *wsi;    /* a raw connection (the others) */
	enum role role;
	int index;
	int joined;
	int pending_setup;
	struct wamp_out **q;
	unsigned qh, qn, qcap;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	int in_flight;
	uint64_t received;
	int64_t opened_at;  /* connect scenarios: when the connection was started */
	uint8_t rs_hs[4];   /* RawSocket: the router's handshake reply */
	int rs_hs_have;
	struct rs_rx rs_rx; /* RawSocket: frame reassembly */
	int64_t last_event_t; /* fanout: send time of the last event (order check) */
	struct inflight *fl;  /* publish, http-publish: requests in flight, oldest first (ring
	                         of --window entries, owned) */
	unsigned fl_h, fl_n;
};

static volatile int stop;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void hist_add(struct hist *h, uint64_t v)
{
	unsigned idx;

	if (v < HIST_SUB) {
		idx = (unsigned)v;
	} else {
		int e = 63 - __builtin_clzll(v);             /* v in [2^e, 2^(e+1)) */
		unsigned sub = (unsigned)(v >> (e - 6)) & (HIST_SUB - 1);

		idx = (unsigned)(e - 5) * HIST_SUB + sub;
	}
	if (idx >= HIST_BUCKETS)
		idx = HIST_BUCKETS - 1;
	h->count[idx]++;
	h->n++;
}

/* The value (lower bound of its bucket) below which a fraction q of the samples lie. */
static uint64_t hist_pct(const struct hist *h, double q)
{
	uint64_t target = (uint64_t)(q * (double)h->n), seen = 0;

	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > target && h->count[i]) {
			if (i < HIST_SUB)
				return i;
			{
				unsigned e = i / HIST_SUB + 5, sub = i % HIST_SUB;

				return ((uint64_t)(HIST_SUB + sub)) << (e - 6);
			}
		}
	}
	return 0;
}

static void fail(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Make s (NUL-terminated, modified in place) safe inside a JSON string: quotes,
 * backslashes and control characters become '. */
static void json_safe(char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 32)
			*s = '\'';
}

static void fail(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
	b->failed = 1;
	stop = 1;
}

/* ---------------------------------------------------------------------------------- */
/* sending                                                                              */

static void cq_push(struct client *c, struct wamp_out *o)
{
	if (c->qn == c->qcap) {
		unsigned ncap = c->qcap ? c->qcap * 2 : 8;
		struct wamp_out **n = malloc(sizeof(*n) * ncap);

		for (unsigned i = 0; i < c->qn; i++)
			n[i] = c->q[(c->qh + i) % c->qcap];
		free(c->q);
		c->q = n;
		c->qh = 0;
		c->qcap = ncap;
	}
	c->q[(c->qh + c->qn) % c->qcap] = o;
	c->qn++;
	lws_callback_on_writable(c->wsi);
}

/* A raw message of the payload size starting with the timestamp (for relay scenarios). */
static void send_raw(struct client *c, int64_t t)
{
	size_t n = (size_t)c->b->payload + 24;
	struct wamp_out *o = wamp_out_new(n);

	o->len = (size_t)snprintf((char *)wamp_out_data(o), n, "%020" PRId64 ":", t);
	memcpy(wamp_out_data(o) + o->len, c->b->payload_fill, (size_t)c->b->payload);
	o->len += (size_t)c->b->payload;
	o->binary = wamp_ser_is_binary(c->b->ser);
	cq_push(c, o);
}

/* Arguments [t, "xxx..."] encoded in the bench's serializer, into buf; returns its length. */
static size_t encode_args(struct bench *b, uint8_t *buf, int64_t t)
{
	size_t n = 0;

	if (b->ser == WAMP_SER_JSON) {
		n = (size_t)sprintf((char *)buf, "[%" PRId64 ",\"", t);
		memcpy(buf + n, b->payload_fill, (size_t)b->payload);
		n += (size_t)b->payload;
		buf[n++] = '"';
		buf[n++] = ']';
		return n;
	}
	buf[n++] = 0x92;
	buf[n++] = 0xcf; /* uint64 */
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)((uint64_t)t >> (8 * i));
	if (b->payload < 256) {
		buf[n++] = 0xd9;
		buf[n++] = (uint8_t)b->payload;
	} else if (b->payload < 65536) {
		buf[n++] = 0xda;
		buf[n++] = (uint8_t)(b->payload >> 8);
		buf[n++] = (uint8_t)b->payload;
	} else {
		buf[n++] = 0xdb;
		for (int i = 3; i >= 0; i--)
			buf[n++] = (uint8_t)((uint32_t)b->payload >> (8 * i));
	}
	memcpy(buf + n, b->payload_fill, (size_t)b->payload);
	return n + (size_t)b->payload;
}

/* The timestamp at the start of an args span (see encode_args). */
static int64_t args_time(struct bench *b, const uint8_t *p, size_t n)
{
	if (!p || n < 10)
		return 0;
	if (b->ser == WAMP_SER_JSON)
		return strtoll((const char *)p + 1, NULL, 10);
	{
		uint64_t t = 0;

		for (int i = 0; i < 8; i++)
			t = (t << 8) | p[2 + i];
		return (int64_t)t;
	}
}

/* The arguments [t, "xxx..."] as a payload span in the bench's serializer (encoded into
 * the bench's scratch buffer: the library copies them into the message). */
static const struct wampc_payload *args_payload(struct bench *b, struct wampc_payload *p,
                                                int64_t t)
{
	memset(p, 0, sizeof(*p));
	p->ser = (enum wampc_ser)b->ser;
	p->args = b->scratch;
	p->args_len = encode_args(b, b->scratch, t);
	return p;
}

static void on_result(wampc *wc, const struct wampc_reply *r, void *ud);

/* A CALL whose latency counts from `due` (its send time, or its scheduled time). */
static void send_call_at(struct client *c, int64_t due)
{
	struct wampc_payload p;
	enum wampd_err err = wampc_call(c->wc, "bench.rpc", NULL, args_payload(c->b, &p, due),
	                                on_result, c, NULL);

	if (err != WAMPD_OK)
		fail(c->b, "client %d: CALL: %s", c->index, wampd_err_str(err));
	else
		c->in_flight++;
}

static void send_call(struct client *c)
{
	send_call_at(c, now_ns());
}

#define PACE_TICK_US 1000

/* rpc --rate: issue every call that has come due, round robin over the callers with a
 * free window slot; calls that find none wait for one and are timed from when they were
 * due (a router that falls behind is charged for it); a call sent within one pacing tick
 * of its due time is timed from its send (the pacer's own granularity is not the
 * router's latency). Runs every PACE_TICK_US and after each RESULT. */
static void pace_calls(struct bench *b)
{
	int64_t now = now_ns();
	uint64_t due = (uint64_t)((double)(now - b->t_pace0) * b->rate / 1e9);

	while (b->paced < due && !stop) {
		struct client *c = NULL;

		for (int tries = 0; tries < b->nclients && !c; tries++) {
			struct client *k = &b->clients[b->next_caller];

			b->next_caller = (b->next_caller + 1) % b->nclients;
			if (k->in_flight < b->window &&
			    ((k->role == R_CALLER && k->joined) ||
			     (k->role == R_RAW_SEND && b->sc == SC_ECHO && k->wsi)))
				c = k;
		}
		if (!c)
			return; /* every window full: the backlog goes out as answers come */
		{
			int64_t t_due = b->t_pace0 + (int64_t)((double)b->paced * 1e9 / b->rate);
			int64_t t = now - t_due <= PACE_TICK_US * 1000 ? now : t_due;

			if (c->role == R_CALLER) {
				send_call_at(c, t);
			} else {
				send_raw(c, t); /* echo: the baseline at the same rate */
				c->in_flight++;
			}
		}
		b->paced++;
	}
}

static struct bench *pace_bench; /* the pacer's (the timerfd's lws protocol has no user) */

static int callback_pace(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len)
{
	uint64_t expirations;

	(void)wsi, (void)user, (void)in, (void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE) {
		if (read(pace_bench->pace_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			return -1;
		pace_calls(pace_bench);
	}
	return 0;
}

/* Start the pacer: a periodic timerfd adopted into the event loop. */
static int pace_start(struct bench *b)
{
	struct itimerspec its = {.it_interval = {0, PACE_TICK_US * 1000},
	                         .it_value = {0, PACE_TICK_US * 1000}};
	lws_sock_file_fd_type fd;

	b->t_pace0 = now_ns();
	pace_bench = b;
	b->pace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->pace_fd < 0 || timerfd_settime(b->pace_fd, 0, &its, NULL) < 0)
		return -1;
	fd.filefd = b->pace_fd;
	return lws_adopt_descriptor_vhost(lws_get_vhost_by_name(b->ctx, "default"),
	                                  LWS_ADOPT_RAW_FILE_DESC, fd, "wampbench-pace", NULL)
	               ? 0
	               : -1;
}

static void send_publish(struct client *c)
{
	struct bench *b = c->b;
	struct wampc_payload p;
	unsigned slot = (unsigned)(b->pub_seq % (uint64_t)b->window);
	enum wampd_err err;

	b->slot_seq[slot] = b->pub_seq++;
	b->delivered[slot] = 0;
	err = wampc_publish(c->wc, "bench.fan", NULL, args_payload(b, &p, now_ns()), NULL, NULL,
	                    NULL);
	if (err != WAMPD_OK)
		fail(b, "PUBLISH: %s", wampd_err_str(err));
}

/* The publisher's send queue holds more than about 64 events: let it drain first. */
static bool publisher_backlog(struct bench *b, struct client *pub)
{
	struct wampc_stats st;

	if (b->sc == SC_BROADCAST)
		return pub->qn > 64;
	wampc_get_stats(pub->wc, &st);
	return st.queue_bytes > 64 * ((uint64_t)b->payload + 64);
}

/* Fan-out pacing: publish while the oldest in-flight publication is fully delivered. */
static void fanout_pump(struct bench *b)
{
	struct client *pub = &b->clients[0];

	while (b->started && !stop) {
		uint64_t next = b->pub_seq;

		if (next >= (uint64_t)b->window) {
			unsigned slot = (unsigned)(next % (uint64_t)b->window);

			if (b->delivered[slot] < (uint32_t)b->subscribers)
				return;
		}
		if (b->sc == SC_BROADCAST) {
			unsigned slot = (unsigned)(b->pub_seq % (uint64_t)b->window);

			b->slot_seq[slot] = b->pub_seq++;
			b->delivered[slot] = 0;
			send_raw(pub, now_ns());
		} else {
			send_publish(pub);
		}
		if (publisher_backlog(b, pub))
			return; /* let it drain */
	}
}

/* ---------------------------------------------------------------------------------- */
/* publish and http-publish: W requests in flight per client, answered in order           */

static void measured(struct bench *b, int64_t sent_at);

/* Remember a request sent: its id and send time. The ring has --window entries and the
 * caller never has more in flight. */
static void fl_push(struct client *c, uint64_t id, int64_t t)
{
	unsigned cap = (unsigned)c->b->window;

	c->fl[(c->fl_h + c->fl_n) % cap] = (struct inflight){.id = id, .t = t};
	c->fl_n++;
	c->in_flight++;
}

/* The answer to the oldest request in flight arrived: its send time into *t. Fails the
 * run (and returns -1) if nothing is in flight or the answer is for another request
 * (id != 0 given: a PUBLISHED out of order). */
static int fl_answered(struct client *c, uint64_t id, int64_t *t)
{
	struct inflight q;

	if (!c->fl_n) {
		fail(c->b, "client %d: an answer with no request in flight", c->index);
		return -1;
	}
	q = c->fl[c->fl_h];
	c->fl_h = (c->fl_h + 1) % (unsigned)c->b->window;
	c->fl_n--;
	c->in_flight--;
	if (id && q.id != id) {
		fail(c->b, "client %d: answer to request %" PRIu64 " while %" PRIu64 " was oldest",
		     c->index, id, q.id);
		return -1;
	}
	*t = q.t;
	return 0;
}

static void on_published(wampc *wc, const struct wampc_reply *r, void *ud);

/* PUBLISH {acknowledge: true} to bench.pub with the args [t, "xxx..."]. */
static void send_ack_publish(struct client *c)
{
	static const struct wampc_publish_opts ack = {.acknowledge = true};
	struct bench *b = c->b;
	struct wampc_payload p;
	int64_t t = now_ns();
	uint64_t id;
	enum wampd_err err = wampc_publish(c->wc, "bench.pub", &ack, args_payload(b, &p, t),
	                                   on_published, c, &id);

	if (err != WAMPD_OK)
		fail(b, "client %d: PUBLISH: %s", c->index, wampd_err_str(err));
	else
		fl_push(c, id, t);
}

/* POST <http_path> with {"topic":"bench.pub","args":[t,"xxx..."]}: one wamp_out written
 * verbatim on the raw connection. */
static void send_http_publish(struct client *c)
{
	static const char pre[] = "{\"topic\":\"bench.pub\",\"args\":";
	struct bench *b = c->b;
	int64_t t = now_ns();
	size_t cap = (size_t)b->payload + sizeof(b->http_path) + sizeof(b->http_host) + 256;
	struct wamp_out *o = wamp_out_new(cap);
	uint8_t *body = malloc((size_t)b->payload + 64);
	size_t blen = sizeof(pre) - 1;
	char *d = (char *)wamp_out_data(o);

	memcpy(body, pre, blen);
	blen += encode_args(b, body + blen, t); /* b->ser is JSON for http-publish */
	body[blen++] = '}';
	o->len = (size_t)snprintf(d, cap, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	                                  "Content-Type: application/json\r\n"
	                                  "Content-Length: %zu\r\n\r\n",
	                          b->http_path, b->http_host, blen);
	memcpy(d + o->len, body, blen);
	o->len += blen;
	o->ser = RS_VERBATIM;
	free(body);
	fl_push(c, 0, t);
	cq_push(c, o);
}

/* A final answer to the oldest POST in flight: 2xx with {"id": <integer>} is measured,
 * another status is counted (the run fails at its end); the next POST goes out, unless
 * the router said it closes the connection (that fails the run). */
static void on_http_response(struct client *c, const struct http_resp *r)
{
	struct bench *b = c->b;
	int status = r->status;
	const char *body = r->body;
	size_t blen = r->body_len;
	int64_t t;

	if (fl_answered(c, 0, &t) < 0)
		return;
	if (status >= 200 && status < 300) {
		json_t *j = json_loadb(body, blen, 0, NULL);
		int ok = json_is_integer(json_object_get(j, "id"));

		json_decref(j);
		if (!ok) {
			fail(b, "%d answer without an integer \"id\": %.*s", status,
			     (int)(blen < 80 ? blen : 80), body);
			return;
		}
		measured(b, t);
	} else if (!b->errors++) {
		b->first_error_status = status;
		while (blen && isspace((unsigned char)body[blen - 1]))
			blen--;
		snprintf(b->first_error, sizeof(b->first_error), "%.*s", (int)blen, body);
	}
	if (r->close)
		fail(b, "the router closes the connection after a %d answer (Connection: close)",
		     status);
	else if (!stop)
		send_http_publish(c);
}

/* Bytes from the router on an http-publish connection: every complete response in them
 * (interim 1xx ones skipped), the rest kept in c->rx for the next read. */
static int http_receive(struct client *c, const uint8_t *in, size_t len)
{
	size_t off = 0;

	if (c->rx_len + len > c->rx_cap) {
		c->rx_cap = (c->rx_len + len) * 2;
		c->rx = realloc(c->rx, c->rx_cap);
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	while (off < c->rx_len && !c->b->failed) {
		struct http_resp r;
		char why[128];
		enum http_resp_result k = http_resp_parse((const char *)c->rx + off,
		                                          c->rx_len - off, &r, why, sizeof(why));

		if (k == HTTP_RESP_MORE)
			break;
		if (k == HTTP_RESP_BAD) {
			fail(c->b, "malformed HTTP response: %s", why);
			return -1;
		}
		off += r.used;
		if (r.status >= 200)
			on_http_response(c, &r);
	}
	memmove(c->rx, c->rx + off, c->rx_len - off);
	c->rx_len -= off;
	return c->b->failed ? -1 : 0;
}

/* ---------------------------------------------------------------------------------- */
/* setup and measurement                                                                */

static long router_ticks(int pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	long ut = 0, st = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	/* fields after the comm: state(3) ... utime(14) stime(15) */
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) == 2)
		return ut + st;
	return 0;
}

static long router_rss_kib(int pid)
{
	char path[64], line[256];
	FILE *f;
	long kib = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

static void start_load(struct bench *b)
{
	b->started = 1;
	b->t_measure = now_ns() + (int64_t)(b->warmup * 1e9);
	b->t_end = b->t_measure + (int64_t)(b->duration * 1e9);
	for (int i = 0; i < b->nclients; i++) {
		struct client *c = &b->clients[i];

		if (c->role == R_CALLER && !b->rate)
			for (int k = 0; k < b->window; k++)
				send_call(c);
		else if (c->role == R_RAW_SEND && b->sc != SC_BROADCAST && !b->rate)
			for (int k = 0; k < b->window; k++)
				send_raw(c, now_ns());
		else if (c->role == R_ACKPUB)
			for (int k = 0; k < b->window; k++)
				send_ack_publish(c);
		else if (c->role == R_HTTP)
			for (int k = 0; k < b->window; k++)
				send_http_publish(c);
	}
	if (b->sc == SC_FANOUT || b->sc == SC_BROADCAST)
		fanout_pump(b);
	if (b->rate > 0 && (b->sc == SC_RPC || b->sc == SC_ECHO) && pace_start(b) < 0)
		fail(b, "cannot start the call pacer (timerfd)");
}

static void measured(struct bench *b, int64_t sent_at)
{
	int64_t t = now_ns();

	if (t < b->t_measure || t > b->t_end)
		return;
	b->ops++;
	if (sent_at > 0 && t > sent_at)
		hist_add(&b->hist, (uint64_t)(t - sent_at) / 100); /* 0.1 us units */
}

static void setup_done(struct client *c)
{
	struct bench *b = c->b;

	if (++b->ready < b->nclients)
		return;
	if (b->sc == SC_IDLE) {
		b->t_measure = now_ns();
		b->done = 1;
		stop = 1;
		return;
	}
	start_load(b);
}

static bool open_client(struct bench *b, struct client *c);

/* ---------------------------------------------------------------------------------- */
/* receiving                                                                            */

/* WAMP sessions: the library's callbacks. Anything but the expected answer fails the run. */

static void on_result(wampc *wc, const struct wampc_reply *r, void *ud)
{
	struct client *c = ud;
	struct bench *b = c->b;

	if (r->error) {
		fail(b, "router answered ERROR %s to a CALL", r->error);
		return;
	}
	c->in_flight--;
	measured(b, args_time(b, r->payload->args, r->payload->args_len));
	if (stop)
		return;
	if (b->rate > 0)
		pace_calls(b); /* a slot is free: the backlog, if any */
	else
		send_call(c);
}

static void on_invoke(wampc *wc, const struct wampc_invocation *inv, void *ud)
{
	enum wampd_err err = wampc_yield(wc, inv->request, false, inv->payload);

	if (err != WAMPD_OK)
		fail(((struct client *)ud)->b, "YIELD: %s", wampd_err_str(err));
}

static void on_event(wampc *wc, const struct wampc_event *e, void *ud)
{
	struct client *c = ud;
	struct bench *b = c->b;
	int64_t t = args_time(b, e->payload->args, e->payload->args_len);
	unsigned slot;

	if (c->role == R_SLOW)
		return; /* draining after the run */
	if (t <= c->last_event_t) {
		fail(b, "subscriber %d: event out of order", c->index);
		return;
	}
	c->last_event_t = t;
	b->last_delivery = now_ns();
	measured(b, t);
	/* pacing: find the publication by its timestamp's slot (the publisher's order) */
	c->received++;
	slot = (unsigned)((c->received - 1) % (uint64_t)b->window);
	b->delivered[slot]++;
	if (b->delivered[slot] == (uint32_t)b->subscribers)
		fanout_pump(b);
}

static void on_published(wampc *wc, const struct wampc_reply *r, void *ud)
{
	struct client *c = ud;
	int64_t t;

	if (r->error) {
		fail(c->b, "router answered ERROR %s to a PUBLISH", r->error);
		return;
	}
	if (fl_answered(c, r->request, &t) < 0)
		return;
	measured(c->b, t);
	if (!stop)
		send_ack_publish(c);
}

/* SUBSCRIBED, REGISTERED: the client's setup is done (an idle session needs both). */
static void on_setup_reply(wampc *wc, const struct wampc_reply *r, void *ud)
{
	struct client *c = ud;

	if (r->error) {
		fail(c->b, "router answered ERROR %s to the setup of client %d", r->error, c->index);
		return;
	}
	if (c->role == R_IDLE && --c->pending_setup > 0)
		return;
	if (c->role == R_SLOW) {
		struct lws *wsi = wampc_lws_wsi(wc);
		int small = 4096;

		/* from now on it reads nothing; a small receive buffer keeps the kernel from
		 * absorbing megabytes first, so the router's own bound is what it meets */
		setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		lws_rx_flow_control(wsi, 0);
	}
	setup_done(c);
}

/* WELCOME: each role's setup. */
static void on_joined(struct client *c)
{
	struct bench *b = c->b;
	enum wampd_err err = WAMPD_OK;
	char uri[64];

	c->joined = 1;
	switch (c->role) {
	case R_CALLEE: {
		struct wampc_register_opts o = {.invoke = b->callees > 1 ? WAMPC_INVOKE_ROUNDROBIN
		                                                         : WAMPC_INVOKE_SINGLE};

		err = wampc_register(c->wc, "bench.rpc", &o, on_invoke, c, on_setup_reply, c, NULL);
		break;
	}
	case R_SUBSCRIBER:
	case R_SLOW:
		err = wampc_subscribe(c->wc, "bench.fan", NULL, on_event, c, on_setup_reply, c, NULL);
		break;
	case R_IDLE:
		c->pending_setup = 2;
		snprintf(uri, sizeof(uri), "bench.idle.s%d", c->index);
		err = wampc_subscribe(c->wc, uri, NULL, on_event, c, on_setup_reply, c, NULL);
		snprintf(uri, sizeof(uri), "bench.idle.r%d", c->index);
		if (err == WAMPD_OK)
			err = wampc_register(c->wc, uri, NULL, on_invoke, c, on_setup_reply, c, NULL);
		break;
	case R_CONNECTOR:
		/* one more session: measured, its connection dropped, and the next one made at
		 * once (without GOODBYE, as the session core before the library did) */
		measured(b, c->opened_at);
		c->joined = 0;
		if (!stop) {
			c->opened_at = now_ns();
			wampc_reconnect(c->wc);
		}
		return;
	default:
		setup_done(c);
		return;
	}
	if (err != WAMPD_OK)
		fail(b, "client %d: setup: %s", c->index, wampd_err_str(err));
}

static void on_session(wampc *wc, const struct wampc_session_info *info, void *ud)
{
	struct client *c = ud;
	struct bench *b = c->b;

	switch (info->event) {
	case WAMPC_JOINED:
		on_joined(c);
		return;
	case WAMPC_LEFT:
		c->joined = 0;
		if (c->role == R_CONNECTOR && info->reconnecting)
			return; /* its own wampc_reconnect */
		if (c->role == R_SLOW && b->started)
			b->slow_closed++;
		else if (!stop)
			/* before the load starts too: a setup that lost a session cannot finish */
			fail(b, "client %d: the session ended during %s: %s%s%s", c->index,
			     b->started ? "the run" : "setup", info->reason ? info->reason : "?",
			     info->transport_error ? ": " : "",
			     info->transport_error ? info->transport_error : "");
		return;
	default:
		fail(b, "client %d: the router revoked its subscription or registration", c->index);
		return;
	}
}

static void on_raw(struct client *c, const uint8_t *p, size_t n)
{
	struct bench *b = c->b;
	int64_t t = n >= 20 ? strtoll((const char *)p, NULL, 10) : 0;

	switch (c->role) {
	case R_RAW_SEND: /* echo or pair: our message came back */
		measured(b, t);
		if (stop)
			return;
		if (b->rate > 0) {
			c->in_flight--;
			pace_calls(b);
		} else {
			send_raw(c, now_ns());
		}
		return;
	case R_RAW_ECHO: { /* pair: send it back to the caller */
		struct wamp_out *o = wamp_out_new(n);

		memcpy(wamp_out_data(o), p, n);
		o->len = n;
		o->binary = wamp_ser_is_binary(b->ser);
		cq_push(c, o);
		return;
	}
	case R_RAW_RECV: {
		unsigned slot;

		measured(b, t);
		c->received++;
		slot = (unsigned)((c->received - 1) % (uint64_t)b->window);
		b->delivered[slot]++;
		if (b->delivered[slot] == (uint32_t)b->subscribers)
			fanout_pump(b);
		return;
	}
	default:
		return;
	}
}

/* The transport of a raw connection is open (WebSocket established, RawSocket handshake
 * answered). */
static void on_open(struct client *c)
{
	if (c->b->sc == SC_WSCONNECT) {
		measured(c->b, c->opened_at);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else {
		setup_done(c);
	}
}

/* WRITEABLE: one queued message, one lws_write (a RawSocket frame's prefix goes into the
 * buffer's headroom). */
static int on_writeable(struct client *c)
{
	struct wamp_out *o;
	int n;

	if (!c->qn)
		return 0;
	o = c->q[c->qh];
	c->qh = (c->qh + 1) % c->qcap;
	c->qn--;
	if (o->ser == RS_VERBATIM) { /* RawSocket handshake, HTTP request */
		n = lws_write(c->wsi, wamp_out_data(o), o->len, LWS_WRITE_RAW);
	} else if (!c->b->rawsocket) {
		n = lws_write(c->wsi, wamp_out_data(o), o->len,
		              o->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	} else {
		uint8_t *p = wamp_out_data(o) - 4;

		rs_prefix(p, RS_MSG, (uint32_t)o->len);
		n = lws_write(c->wsi, p, o->len + 4, LWS_WRITE_RAW);
	}
	wamp_out_unref(o);
	if (n < 0)
		return -1;
	if (c->qn)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static void on_connect_error(struct client *c, const char *why)
{
	c->wsi = NULL;
	if (c->role == R_SLOW && c->b->started) {
		c->b->slow_closed++;
		return;
	}
	fail(c->b, "connection error: %s", why ? why : "?");
}

static void on_closed(struct client *c)
{
	c->wsi = NULL;
	while (c->qn) {
		wamp_out_unref(c->q[c->qh]);
		c->qh = (c->qh + 1) % c->qcap;
		c->qn--;
	}
	rs_rx_clear(&c->rs_rx);
	if (c->role == R_SLOW) {
		c->b->slow_closed++;
	} else if (c->role == R_CONNECTOR && !stop) {
		c->joined = 0;
		open_client(c->b, c); /* the next session */
	} else if (!stop) {
		/* before the load starts too: a setup that lost a connection cannot finish */
		fail(c->b, "the router closed a connection during %s",
		     c->b->started ? "the run" : "setup");
	}
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
	struct client *c = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		on_open(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE: {
		int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

		if (first && final) {
			on_raw(c, in, len);
			return 0;
		}
		if (first)
			c->rx_len = 0;
		if (c->rx_len + len > c->rx_cap) {
			c->rx_cap = (c->rx_len + len) * 2;
			c->rx = realloc(c->rx, c->rx_cap);
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (final)
			on_raw(c, c->rx, c->rx_len);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_connect_error(c, in);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_closed(c);
		return 0;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------------------------- */
/* raw connections: RawSocket, and HTTP/1.1 for http-publish                            */

static bool rs_on_frame(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	struct client *c = ctx;

	if (t == RS_MSG)
		on_raw(c, data, len);
	else if (t == RS_PING)
		fail(c->b, "unexpected RawSocket PING from the server");
	return true; /* keep the stream in step even after the run (slow subscribers drain) */
}

/* The RawSocket handshake: our length limit 2^24 and the serializer. */
static void rs_send_handshake(struct client *c)
{
	struct wamp_out *o = wamp_out_new(4);

	rs_client_hello(wamp_out_data(o), c->b->ser, RS_MAX_LEN);
	o->len = 4;
	o->ser = RS_VERBATIM;
	c->rs_hs_have = 0;
	cq_push(c, o);
}

static int rs_receive(struct client *c, const uint8_t *in, size_t len)
{
	if (c->rs_hs_have < 4) {
		size_t k = (size_t)(4 - c->rs_hs_have) < len ? (size_t)(4 - c->rs_hs_have) : len;

		memcpy(c->rs_hs + c->rs_hs_have, in, k);
		c->rs_hs_have += (int)k;
		in += k;
		len -= k;
		if (c->rs_hs_have < 4)
			return 0;
		uint32_t peer_max;

		if (rs_client_reply(c->rs_hs, c->b->ser, &peer_max) != RS_OK) {
			fail(c->b, "RawSocket handshake refused: %02x %02x %02x %02x", c->rs_hs[0],
			     c->rs_hs[1], c->rs_hs[2], c->rs_hs[3]);
			return -1;
		}
		on_open(c);
	}
	switch (rs_rx_feed(&c->rs_rx, in, len, RS_MAX_LEN, rs_on_frame, c)) {
	case RS_RX_OK:
	case RS_RX_STOP:
		return 0;
	default:
		fail(c->b, "malformed RawSocket frame from the server");
		return -1;
	}
}

static int callback_raw(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
	struct client *c = user;

	switch (reason) {
	case LWS_CALLBACK_RAW_CONNECTED:
		if (c->b->sc == SC_HTTP_PUBLISH) {
			int one = 1;

			setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			setup_done(c);
		} else {
			rs_send_handshake(c);
		}
		return 0;
	case LWS_CALLBACK_RAW_RX:
		return c->b->sc == SC_HTTP_PUBLISH ? http_receive(c, in, len) : rs_receive(c, in, len);
	case LWS_CALLBACK_RAW_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_connect_error(c, in);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE:
		if (c)
			on_closed(c);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{"wampbench", callback, 0, 1 << 16, 0, NULL, 0},
	{"wampbench-raw", callback_raw, 0, 1 << 16, 0, NULL, 0},
	{"wampbench-pace", callback_pace, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* A raw connection (relay scenarios, http-publish). */
static bool open_raw(struct bench *b, struct client *c)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = b->ctx;
	i.address = c->target->host;
	i.port = c->target->port;
	i.path = c->target->path;
	i.host = c->target->host;
	i.origin = c->target->host;
	i.protocol = wamp_ser_desc(b->ser)->subprotocol;
	i.local_protocol_name = "wampbench";
	if (b->rawsocket || b->sc == SC_HTTP_PUBLISH) {
		i.method = "RAW";
		i.protocol = NULL;
		i.local_protocol_name = "wampbench-raw";
	}
	i.userdata = c;
	i.pwsi = &c->wsi;
	c->opened_at = now_ns();
	return lws_client_connect_via_info(&i) != NULL;
}

/* A WAMP session: a libwampc client on the bench's context, started. */
static bool open_session(struct bench *b, struct client *c)
{
	/* the roles each client plays (HELLO announces only those, as the session core before
	 * the library announced its four without features); a connector's one role stands for
	 * a device's */
	static const unsigned role_of[] = {
		[R_CALLER] = WAMPC_ROLE_CALLER, [R_CALLEE] = WAMPC_ROLE_CALLEE,
		[R_PUBLISHER] = WAMPC_ROLE_PUBLISHER, [R_ACKPUB] = WAMPC_ROLE_PUBLISHER,
		[R_SUBSCRIBER] = WAMPC_ROLE_SUBSCRIBER, [R_SLOW] = WAMPC_ROLE_SUBSCRIBER,
		[R_IDLE] = WAMPC_ROLE_SUBSCRIBER | WAMPC_ROLE_CALLEE,
		[R_CONNECTOR] = WAMPC_ROLE_SUBSCRIBER,
	};
	char url[sizeof(c->target->host) + sizeof(c->target->path) + 32];
	struct wampc_config cfg = {
		.roles = (size_t)c->role < sizeof(role_of) / sizeof(role_of[0]) ? role_of[c->role] : 0,
		.url = url, .realm = b->realm, .serializer = (enum wampc_ser)b->ser,
		.max_message = RS_MAX_LEN, .max_queue_bytes = 16u << 20,
		.join_timeout = LWS_HANDSHAKE_TIMEOUT_S * 1000, .authid = b->authid,
		.authmethods = b->authbit, .ticket = b->secret, .secret = b->secret,
		.cryptosign_seed = b->authbit == WAMPC_AUTH_CRYPTOSIGN ? b->seed : NULL,
		.on_session = on_session, .ud = c};
	enum wampd_err err;

	if (b->rawsocket)
		snprintf(url, sizeof(url), "rs://%s:%d", c->target->host, c->target->port);
	else
		snprintf(url, sizeof(url), "ws://%s:%d%s", c->target->host, c->target->port,
		         c->target->path);
	c->opened_at = now_ns();
	if (!(c->wc = wampc_new(&cfg, &err)) || (err = wampc_lws_attach(c->wc, b->ctx)) ||
	    (err = wampc_start(c->wc))) {
		fprintf(stderr, "wampbench: %s: %s\n", url, wampd_err_str(err));
		wampc_free(c->wc);
		c->wc = NULL;
		return false;
	}
	return true;
}

static bool open_client(struct bench *b, struct client *c)
{
	return b->sc < SC_ECHO ? open_session(b, c) : open_raw(b, c);
}


static void tick(lws_sorted_usec_list_t *sul)
{
	struct bench *b = lws_container_of(sul, struct bench, tick);

	if (b->started && !b->cpu_marked && now_ns() >= b->t_measure) {
		getrusage(RUSAGE_SELF, &b->ru0);
		b->router_ticks0 = router_ticks(b->router_pid);
		b->cpu_marked = 1;
	}
	if (b->router_pid && b->started && b->cpu_marked) {
		long rss = router_rss_kib(b->router_pid);

		if (!b->rss_start_kib)
			b->rss_start_kib = rss;
		if (rss > b->rss_max_kib)
			b->rss_max_kib = rss;
	}
	if (b->sc == SC_FANOUT && b->started && !stop && b->last_delivery &&
	    now_ns() - b->last_delivery > 5 * (int64_t)1000000000)
		fail(b, "fan-out stalled for 5 s: an event was lost");
	/* --slow: the run goes on past its (measured) duration, unmeasured, until the router
	 * has dropped every slow subscriber (its kernel buffers must fill first, which takes
	 * longer on a loaded machine), for at most SLOW_GRACE_S more */
	if (b->started && b->t_end && now_ns() > b->t_end &&
	    (b->slow_closed >= b->slow ||
	     now_ns() > b->t_end + SLOW_GRACE_S * (int64_t)1000000000)) {
		b->done = 1;
		stop = 1;
	}
	lws_sul_schedule(b->ctx, 0, &b->tick, tick, 50 * LWS_US_PER_MS);
}

/* The sessions end with the run (before their lws context). */
static void free_sessions(struct bench *b)
{
	for (int i = 0; i < b->nclients; i++) {
		wampc_free(b->clients[i].wc);
		b->clients[i].wc = NULL;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *scenario_name(enum scenario s)
{
	static const char *const n[] = {"rpc", "fanout", "connect", "idle", "publish", "echo",
	                                "pair", "broadcast", "wsconnect", "http-publish"};
	return n[s];
}

static const char *transport_name(const struct bench *b)
{
	return b->sc == SC_HTTP_PUBLISH ? "http" : b->rawsocket ? "rawsocket" : "websocket";
}

static void usage(void)
{
	fprintf(stderr, "usage: wampbench --url ws://HOST:PORT/PATH|rs://HOST:PORT|http://HOST:PORT/PATH "
	                "--scenario rpc|fanout|connect|idle|publish|echo|pair|broadcast|wsconnect|"
	                "http-publish [--serializer json|msgpack] "
	                "[--transport websocket|rawsocket] "
	                "[--callers C] [--callees M] [--window W] [--rate R] [--payload P] [--subscribers N] "
	                "[--concurrency K] [--sessions K] [--warmup S] [--duration S] "
	                "[--router-pid PID] [--realm R] [--http-path PATH] "
	                "[--authmethod ticket|wampcra|cryptosign --authid ID --secret S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b = {.ser = WAMP_SER_JSON, .realm = "realm1", .callers = 4, .callees = 1,
	                  .window = 16, .payload = 64, .subscribers = 100, .concurrency = 32,
	                  .sessions = 1000, .warmup = 1, .duration = 5};
	struct lws_context_creation_info info;
	const char *url = NULL, *sc = NULL, *callee_url = NULL, *http_path = NULL;
	struct rlimit rl;
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--url"))
			url = v;
		else if (!strcmp(a, "--callee-url"))
			callee_url = v;
		else if (!strcmp(a, "--scenario"))
			sc = v;
		else if (!strcmp(a, "--serializer")) /* encode_args writes JSON or MessagePack */
			b.ser = wamp_ser_by_name(v) == wamp_ser_desc(WAMP_SER_MSGPACK) ? WAMP_SER_MSGPACK
			                                                            : WAMP_SER_JSON;
		else if (!strcmp(a, "--transport") && (!strcmp(v, "rawsocket") ||
		                                       !strcmp(v, "websocket")))
			b.rawsocket = !strcmp(v, "rawsocket");
		else if (!strcmp(a, "--callers"))
			b.callers = atoi(v);
		else if (!strcmp(a, "--callees"))
			b.callees = atoi(v);
		else if (!strcmp(a, "--window"))
			b.window = atoi(v);
		else if (!strcmp(a, "--rate"))
			b.rate = atof(v);
		else if (!strcmp(a, "--payload"))
			b.payload = atoi(v);
		else if (!strcmp(a, "--slow"))
			b.slow = atoi(v);
		else if (!strcmp(a, "--subscribers"))
			b.subscribers = atoi(v);
		else if (!strcmp(a, "--concurrency"))
			b.concurrency = atoi(v);
		else if (!strcmp(a, "--sessions"))
			b.sessions = atoi(v);
		else if (!strcmp(a, "--warmup"))
			b.warmup = atof(v);
		else if (!strcmp(a, "--duration"))
			b.duration = atof(v);
		else if (!strcmp(a, "--router-pid"))
			b.router_pid = atoi(v);
		else if (!strcmp(a, "--realm"))
			b.realm = v;
		else if (!strcmp(a, "--http-path") && v[0] == '/')
			http_path = v;
		else if (!strcmp(a, "--authmethod"))
			b.authmethod = v;
		else if (!strcmp(a, "--authid"))
			b.authid = v;
		else if (!strcmp(a, "--secret"))
			b.secret = v;
		else
			usage();
	}
	if (!url || !sc)
		usage();
	for (const char *p = url; p && *p && b.ntargets < BENCH_MAX_TARGETS; b.ntargets++) {
		struct bench_target *t = &b.targets[b.ntargets];

		if (!strncmp(p, "rs://", 5)) {
			if (sscanf(p, "rs://%63[^:]:%d", t->host, &t->port) != 2)
				usage();
			b.rawsocket = 1;
		} else if (!strncmp(p, "http://", 7)) {
			if (sscanf(p, "http://%63[^:]:%d%255[^,]", t->host, &t->port, t->path) < 2)
				usage();
		} else if (sscanf(p, "ws://%63[^:]:%d%255[^,]", t->host, &t->port, t->path) < 2) {
			usage();
		}
		if (!t->path[0])
			strcpy(t->path, "/");
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	if (callee_url) {
		struct bench_target *t = &b.callee_target;

		if (sscanf(callee_url, "%*[rsw]://%63[^:]:%d%255s", t->host, &t->port, t->path) < 2)
			usage();
		if (!t->path[0])
			strcpy(t->path, "/");
		b.has_callee_target = 1;
	}
	if (sodium_init() < 0)
		return 1;
	if (b.authmethod) {
		if (!b.authid || !b.secret)
			usage();
		if (!strcmp(b.authmethod, "ticket"))
			b.authbit = WAMPC_AUTH_TICKET;
		else if (!strcmp(b.authmethod, "wampcra"))
			b.authbit = WAMPC_AUTH_WAMPCRA;
		else if (!strcmp(b.authmethod, "cryptosign"))
			b.authbit = WAMPC_AUTH_CRYPTOSIGN;
		else
			usage();
		if (b.authbit == WAMPC_AUTH_CRYPTOSIGN &&
		    (strlen(b.secret) != 64 || sodium_hex2bin(b.seed, sizeof(b.seed), b.secret, 64,
		                                              NULL, NULL, NULL)))
			usage();
	}
	if (!strcmp(sc, "rpc"))
		b.sc = SC_RPC;
	else if (!strcmp(sc, "fanout"))
		b.sc = SC_FANOUT;
	else if (!strcmp(sc, "connect"))
		b.sc = SC_CONNECT;
	else if (!strcmp(sc, "idle"))
		b.sc = SC_IDLE;
	else if (!strcmp(sc, "echo"))
		b.sc = SC_ECHO;
	else if (!strcmp(sc, "pair"))
		b.sc = SC_PAIR;
	else if (!strcmp(sc, "broadcast"))
		b.sc = SC_BROADCAST;
	else if (!strcmp(sc, "wsconnect"))
		b.sc = SC_WSCONNECT;
	else if (!strcmp(sc, "publish"))
		b.sc = SC_PUBLISH;
	else if (!strcmp(sc, "http-publish"))
		b.sc = SC_HTTP_PUBLISH;
	else
		usage();
	if (b.sc == SC_HTTP_PUBLISH) {
		/* the path: --http-path, else an http:// URL's own, else /publish */
		const char *path = http_path ? http_path
		                   : !strncmp(url, "http://", 7) && strcmp(b.targets[0].path, "/")
		                           ? b.targets[0].path
		                           : "/publish";

		if (b.ser != WAMP_SER_JSON || b.rawsocket || b.ntargets != 1) {
			fprintf(stderr, "wampbench: http-publish posts JSON to one ws:// or http:// "
			                "URL\n");
			usage();
		}
		snprintf(b.http_path, sizeof(b.http_path), "%s", path);
		snprintf(b.http_host, sizeof(b.http_host), "%s:%d", b.targets[0].host,
		         b.targets[0].port);
	}
	if (b.window < 1 || b.payload < 0 || b.callers < 1 || b.subscribers < 1)
		usage();

	switch (b.sc) {
	case SC_RPC:
		b.nclients = b.callees + b.callers;
		break;
	case SC_FANOUT:
	case SC_BROADCAST:
		b.nclients = 1 + b.subscribers + (b.sc == SC_FANOUT ? b.slow : 0);
		break;
	case SC_CONNECT:
	case SC_WSCONNECT:
		b.nclients = b.concurrency;
		break;
	case SC_IDLE:
		b.nclients = b.sessions;
		break;
	case SC_ECHO:
	case SC_PUBLISH:
	case SC_HTTP_PUBLISH:
		b.nclients = b.callers;
		break;
	case SC_PAIR:
		b.nclients = 2 * b.callers;
		break;
	}
	/* as many descriptors as the sessions need, and no more: libwebsockets 4.1.6 (Debian)
	 * scans its whole fd table, sized from this limit, for every new connection */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rlim_t want = (rlim_t)b.nclients + 64;

		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	b.payload_fill = malloc((size_t)b.payload + 1);
	memset(b.payload_fill, 'x', (size_t)b.payload);
	b.delivered = calloc((size_t)b.window, sizeof(*b.delivered));
	b.slot_seq = calloc((size_t)b.window, sizeof(*b.slot_seq));
	b.scratch = malloc((size_t)b.payload + 64);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	/* the sessions' receive chunk (libwampc-ws takes the context's): a 4 KiB payload's
	 * message whole in one piece, and not so large that each connection's buffer comes
	 * from fresh pages (64 KiB did: page faults on every new connection) */
	info.pt_serv_buf_size = 16384;
	/* lws gives up on a connection whose TCP connect or WebSocket handshake takes longer
	 * than this (its default, 5 s, is what a loaded shared machine can stall a process
	 * for); the run's own limit is the setup deadline */
	info.timeout_secs = LWS_HANDSHAKE_TIMEOUT_S;
	info.connect_timeout_secs = LWS_HANDSHAKE_TIMEOUT_S;
	b.ctx = lws_create_context(&info);
	if (!b.ctx) {
		fprintf(stderr, "wampbench: cannot create the lws context\n");
		return 1;
	}

	b.clients = calloc((size_t)b.nclients, sizeof(*b.clients));
	if (b.sc == SC_IDLE && b.router_pid)
		b.rss0_kib = router_rss_kib(b.router_pid);
	for (int i = 0; i < b.nclients; i++) {
		struct client *c = &b.clients[i];

		c->b = &b;
		c->index = i;
		c->target = &b.targets[0];
		switch (b.sc) {
		case SC_RPC:
			c->role = i < b.callees ? R_CALLEE : R_CALLER;
			if (c->role == R_CALLEE && b.has_callee_target)
				c->target = &b.callee_target;
			else
				c->target = &b.targets[(i < b.callees ? i : i - b.callees) % b.ntargets];
			break;
		case SC_FANOUT:
			c->role = i == 0 ? R_PUBLISHER : i <= b.subscribers ? R_SUBSCRIBER : R_SLOW;
			if (i)
				c->target = &b.targets[(i - 1) % b.ntargets];
			break;
		case SC_BROADCAST:
			c->role = i == 0 ? R_RAW_SEND : R_RAW_RECV;
			break;
		case SC_CONNECT:
		case SC_WSCONNECT:
			c->role = R_CONNECTOR;
			break;
		case SC_IDLE:
			c->role = R_IDLE;
			break;
		case SC_ECHO:
			c->role = R_RAW_SEND;
			break;
		case SC_PUBLISH:
		case SC_HTTP_PUBLISH:
			c->role = b.sc == SC_PUBLISH ? R_ACKPUB : R_HTTP;
			c->target = &b.targets[i % b.ntargets];
			c->fl = calloc((size_t)b.window, sizeof(*c->fl));
			break;
		case SC_PAIR:
			c->role = i % 2 ? R_RAW_ECHO : R_RAW_SEND;
			break;
		}
	}
	/* callees (and the relay's pairs) must be in place before the others: connect in
	 * order, one at a time for pair mode. Setup (these waits included) has one deadline;
	 * a connection that cannot even be started fails the run like any other failure, so
	 * that the result line says why. */
	int64_t setup_deadline = now_ns() + SETUP_TIMEOUT_S * (int64_t)1000000000;

	for (int i = 0; i < b.nclients && !stop; i++) {
		if (!open_client(&b, &b.clients[i])) {
			fail(&b, "cannot connect to %s:%d", b.clients[i].target->host,
			     b.clients[i].target->port);
			break;
		}
		if (b.sc == SC_PAIR || (b.sc == SC_RPC && i < b.callees))
			while (!b.clients[i].joined && b.ready <= i && !stop && n >= 0) {
				n = lws_service(b.ctx, 0);
				if (now_ns() > setup_deadline)
					fail(&b, "client %d not connected within %d s", i, SETUP_TIMEOUT_S);
			}
		if ((b.sc == SC_CONNECT || b.sc == SC_WSCONNECT) && i == 0) {
			/* connect: the clock starts with the first connection */
			b.started = 1;
			b.t_measure = now_ns() + (int64_t)(b.warmup * 1e9);
			b.t_end = b.t_measure + (int64_t)(b.duration * 1e9);
		}
	}
	lws_sul_schedule(b.ctx, 0, &b.tick, tick, 50 * LWS_US_PER_MS);
	while (!stop && n >= 0) {
		n = lws_service(b.ctx, 0);
		if (!b.started && b.sc != SC_IDLE && now_ns() > setup_deadline)
			fail(&b, "setup did not finish within %d s (%d of %d ready)", SETUP_TIMEOUT_S,
			     b.ready, b.nclients);
		if (b.sc == SC_IDLE && !b.done && now_ns() > setup_deadline)
			fail(&b, "idle sessions not set up within %d s (%d of %d)", SETUP_TIMEOUT_S,
			     b.ready, b.nclients);
	}

	if (b.slow && !b.failed) {
		/* read again: a slow subscriber the router dropped now sees its close */
		int64_t until = now_ns() + 3 * (int64_t)1000000000;

		for (int i = 0; i < b.nclients; i++)
			if (b.clients[i].role == R_SLOW && b.clients[i].wc && wampc_lws_wsi(b.clients[i].wc))
				lws_rx_flow_control(wampc_lws_wsi(b.clients[i].wc), 1);
		n = 0;
		while (b.slow_closed < b.slow && now_ns() < until && n >= 0)
			n = lws_service(b.ctx, 0);
	}
	if (b.errors) {
		/* http-publish: a run with non-2xx answers reports its figures (if it got to the
		 * end), and fails; the answers are named first, before what followed them (a
		 * router closing after an error answer, say) */
		char why[sizeof(b.why)];

		snprintf(why, sizeof(why), "%s", b.why);
		snprintf(b.why, sizeof(b.why), "%" PRIu64 " non-2xx answers, the first: %d %.80s%s%.100s",
		         b.errors, b.first_error_status, b.first_error, b.failed ? "; then: " : "",
		         b.failed ? why : "");
	}
	json_safe(b.why);
	if (b.failed) {
		printf("{\"scenario\":\"%s\",\"serializer\":\"%s\",\"transport\":\"%s\","
		       "\"errors\":%" PRIu64 ",\"error\":\"%s\"}\n", scenario_name(b.sc),
		       wamp_ser_name(b.ser), transport_name(&b), b.errors, b.why);
		fflush(stdout);
		free_sessions(&b);
		lws_context_destroy(b.ctx);
		return 1;
	}

	if (b.sc == SC_IDLE) {
		long rss = b.router_pid ? router_rss_kib(b.router_pid) : 0;

		printf("{\"scenario\":\"idle\",\"serializer\":\"%s\",\"transport\":\"%s\","
		       "\"sessions\":%d,"
		       "\"router_rss_kib_before\":%ld,\"router_rss_kib\":%ld,\"kib_per_session\":%.2f,"
		       "\"ops\":%d}\n",
		       wamp_ser_name(b.ser), transport_name(&b), b.sessions,
		       b.rss0_kib, rss,
		       b.sessions ? (double)(rss - b.rss0_kib) / b.sessions : 0.0, b.sessions);
	} else {
		struct rusage ru1;
		double secs = b.duration, own, router;
		long hz = sysconf(_SC_CLK_TCK);

		getrusage(RUSAGE_SELF, &ru1);
		own = (double)(ru1.ru_utime.tv_sec - b.ru0.ru_utime.tv_sec +
		               ru1.ru_stime.tv_sec - b.ru0.ru_stime.tv_sec) +
		      (double)(ru1.ru_utime.tv_usec - b.ru0.ru_utime.tv_usec +
		               ru1.ru_stime.tv_usec - b.ru0.ru_stime.tv_usec) / 1e6;
		router = b.router_pid ? (double)(router_ticks(b.router_pid) - b.router_ticks0) / hz : -1;
		printf("{\"scenario\":\"%s\",\"serializer\":\"%s\",\"transport\":\"%s\","
		       "\"callers\":%d,\"callees\":%d,"
		       "\"subscribers\":%d,\"window\":%d,\"rate\":%.0f,\"payload\":%d,\"concurrency\":%d,"
		       "\"duration\":%.1f,\"ops\":%" PRIu64 ",\"ops_per_s\":%.0f,"
		       "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f},"
		       "\"bench_cpu_s\":%.2f,\"router_cpu_s\":%.2f,\"auth\":\"%s\","
		       "\"slow\":%d,\"slow_closed\":%d,\"router_rss_start_kib\":%ld,"
		       "\"router_rss_max_kib\":%ld,\"errors\":%" PRIu64 "%s%s%s}\n",
		       scenario_name(b.sc), wamp_ser_name(b.ser), transport_name(&b),
		       b.callers, b.callees, b.subscribers,
		       b.window, b.rate, b.payload, b.concurrency, secs, b.ops, (double)b.ops / secs,
		       hist_pct(&b.hist, 0.50) / 10.0, hist_pct(&b.hist, 0.90) / 10.0,
		       hist_pct(&b.hist, 0.99) / 10.0, hist_pct(&b.hist, 0.999) / 10.0,
		       own, router, b.authmethod ? b.authmethod : "anonymous", b.slow, b.slow_closed,
		       b.rss_start_kib, b.rss_max_kib, b.errors, b.errors ? ",\"error\":\"" : "",
		       b.errors ? b.why : "", b.errors ? "\"" : "");
	}
	fflush(stdout);
	stop = 1;
	free_sessions(&b);
	lws_context_destroy(b.ctx);
	free(b.scratch);
	return b.errors ? 1 : 0;
}
