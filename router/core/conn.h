/*
 * conn.h - the connection core: what every transport connection needs, written once.
 *
 * A transport's connection (WebSocket, RawSocket, ...) embeds a struct conn as its first
 * member and describes itself with a table of operations (struct conn_ops, in the manner
 * of redis' ConnectionType): how to ask for a WRITEABLE callback, how to close, its socket
 * and its description for the meta API. The core does the rest, the same way for every
 * transport:
 *   - admission (conn_admit): refused while shutting down or at limits.max_sessions;
 *   - the registry of live connections (rt->conns) and their count (rt->nconns), used by
 *     the shutdown, the admin statistics and the metrics;
 *   - sending (conn_send): the session's bounded send queue (router/core/outq.c); a message
 *     that would take it over limits.send_queue_bytes closes the connection at once as a
 *     slow consumer (one log line, one counter, the socket reset), never buffered or
 *     dropped silently (a resumable session keeps it in its replay log and detaches);
 *   - the realm's peer interface (conn_peer_ops): every session's peer is its conn.
 * The core has no libwebsockets in it: a transport's operations do the I/O.
 *
 * Ownership: the transport allocates and frees its connection; between conn_open and
 * conn_release the core links it into the registry. The session is the transport's (it
 * creates and frees it), the queue is the core's (conn_release clears it).
 */
#ifndef WAMPD_ROUTER_CONN_H
#define WAMPD_ROUTER_CONN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "realm/session.h"
#include "router/core/outq.h"
#include "router/core/router.h"

struct conn;

struct conn_ops {
	const char *kind; /* "websocket", "rawsocket": peer_ops.kind, logs and metrics */
	/* The queue went from empty to not empty: ask for a WRITEABLE callback. NULL: the
	 * transport does not use the core's queue (its peer_ops.send is its own). */
	void (*kick)(struct conn *c);
	/* Close after what is queued is written (or at once if now); c->closing is already
	 * set. code/reason: a WebSocket close code and text (others ignore them). */
	void (*close)(struct conn *c, int code, const char *reason, bool now);
	/* The socket (for the slow consumer's reset), or -1. NULL: no socket of its own. */
	int (*fd)(struct conn *c);
	/* The transport's description for the meta API: a new reference, or NULL (or no
	 * function: none). */
	json_t *(*transport)(struct conn *c);
	/* At shutdown a connection without a session is closed at once, unless this is set
	 * (HTTP: the services' shutdown answers what it is serving, then it closes). */
	bool keep_on_shutdown;
};

struct conn {
	const struct conn_ops *ops;
	struct router *rt;
	struct session *session; /* the transport's, NULL until it has one */
	struct outq q;           /* what waits for WRITEABLE (the core's) */
	char addr[64];           /* "ip:port" for logs and the meta API */
	bool closing;            /* closing: nothing more is queued */
	bool open;               /* between conn_open and conn_release */
	bool counted;            /* between conn_count and conn_release */
	struct conn *prev, *next; /* rt->conns */
};

/*
 * May one more connection be served now? false while shutting down or when
 * limits.max_sessions connections are open (logged once per refusal, with kind and addr).
 */
bool conn_admit(struct router *rt, const char *kind, const char *addr);

/* c exists (its ops, rt and addr set, the rest zero): linked into the registry, so the
 * shutdown reaches it. Call once, as soon as the transport has it. */
void conn_open(struct conn *c);

/* c carries a session from now on: counted in rt->nconns (what limits.max_sessions
 * bounds) and in the sessions opened. Call once, after conn_admit said yes. */
void conn_count(struct conn *c);

/* c is going away (the transport's close callback): unlinked, uncounted, its queue cleared.
 * Safe on a conn that was never opened, and twice. The session is the transport's. */
void conn_release(struct conn *c);

/*
 * Queue out for c (takes a reference on success). WAMPD_OK; WAMPD_OK without queuing when
 * c is closing (its client learns from the close); WAMPD_ERR_LIMIT when the queue would go
 * over limits.send_queue_bytes: c is then closed at once as a slow consumer (its session
 * marked closing, the socket reset, logged and counted).
 */
enum wampd_err conn_send(struct conn *c, struct wamp_out *out);

/* Queue out as conn_send does, without the slow-consumer close: false when it does not fit
 * (the caller decides). For a transport's own bytes (a handshake reply, a PONG). */
bool conn_queue(struct conn *c, struct wamp_out *out);

/* Ask c's transport to close (idempotent unless now; now always drops what is queued). */
void conn_close(struct conn *c, int code, const char *reason, bool now);

/* The oldest queued message (borrowed) or NULL, and its removal after it was written. */
static inline struct wamp_out *conn_peek(const struct conn *c) { return outq_peek(&c->q); }
static inline void conn_pop(struct conn *c) { outq_pop(&c->q); }

/*
 * The end of a transport's WRITEABLE step, the same for every transport: the transport
 * wrote the head of the queue (conn_peek) its own way, w being what its write returned
 * (negative: failed); conn_wrote pops it. Returns -1 when the write failed (the transport
 * closes the socket), 1 when more is queued (another WRITEABLE was asked for with
 * ops->kick), 0 when the queue is now empty (the transport finishes a close, or idles).
 * conn_more is the same check when nothing was written.
 */
int conn_wrote(struct conn *c, int w);
int conn_more(struct conn *c);

/* The realm's interface to a connection's session (peer = the struct conn): every
 * transport's peer_ops is CONN_PEER_OPS("its kind"). */
enum wampd_err conn_peer_send(void *peer, struct wamp_out *out);
void conn_peer_close(void *peer, int code, const char *reason, bool now);
const char *conn_peer_address(void *peer);
json_t *conn_peer_transport(void *peer);
/* peer_ops.adopt of the transports that can carry a resumed session (WebSocket,
 * RawSocket): the connection's session becomes s (router/core/resume.c). */
void conn_peer_adopt(void *peer, struct session *s);
#define CONN_PEER_OPS(k)                                                                    \
	{                                                                                   \
		.send = conn_peer_send, .close = conn_peer_close, .address = conn_peer_address, \
		.transport = conn_peer_transport, .kind = (k)                               \
	}

/* Bytes queued on every connection: the sum and the longest queue. */
void conn_queue_stats(const struct router *rt, size_t *sum, size_t *max);

/* Shutdown: every session is told goodbye (proto_shutdown); a connection without one is
 * closed at once; detached resumable sessions end. */
void conn_shutdown_all(struct router *rt);

/* The process is going away with these still open: mark them closing, so nothing more is
 * queued while their sessions leave their realms one by one. */
void conn_abandon_all(struct router *rt);

#endif
