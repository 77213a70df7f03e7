/*
 * wampc_internal.h - what the files of client/ share (not installed, not for applications).
 *
 *   engine.c    the client object, its states, the send and offline queues, framing,
 *               timers, reconnect, and the input dispatch table (message type -> states
 *               that accept it, handler)
 *   session.c   HELLO, CHALLENGE/AUTHENTICATE (a table of authentication methods),
 *               WELCOME and the restoring of subscriptions and registrations, ABORT, GOODBYE
 *   handles.c   subscriptions and registrations: made, restored, ended, revoked
 *   pubsub.c    publisher (and the offline queue), events
 *   rpc.c       caller, and the callee's invocations
 *   resume.c    resumable sessions: counts, the replay log, ACK, suspend and resume
 *   tables.c    the id -> value hash every table of ids uses, and the FIFO of messages
 *   value.c     the value API (over jansson, the project's dict type)
 *   url.c       wampc_url_parse: the URL forms every adapter understands
 *   posix.c     the POSIX sockets adapter and poll loop (TCP, Unix, TLS through tls.c)
 *   tls.c       OpenSSL for the adapters (tls.h): context, verification, tls-unique
 *   lws.c       the libwebsockets adapter (a library of its own, libwampc-ws)
 */
#ifndef WAMPC_INTERNAL_H
#define WAMPC_INTERNAL_H

#include <jansson.h>

#include "client/wampc.h"
#include "serializers/codec.h"
#include "serializers/rawsocket.h"

/* ------------------------------------------------------------------------- idmap */

/*
 * uint64 key (never 0) -> uint64 value, open addressing with linear probing and
 * backward-shift deletion (no tombstones), grown x2 at half load. Empty until the first
 * insert (no allocation for an unused table).
 */
struct idmap {
	uint64_t *keys;
	uint64_t *vals;
	uint32_t cap;   /* 0 or a power of two */
	uint32_t n;
};

/* true and *val if key is present. */
bool idmap_get(const struct idmap *m, uint64_t key, uint64_t *val);
/* Insert or replace. false on NOMEM (map unchanged). */
bool idmap_put(struct idmap *m, uint64_t key, uint64_t val);
/* Remove key; true if it was there (and *val, when val is not NULL). */
bool idmap_del(struct idmap *m, uint64_t key, uint64_t *val);
void idmap_free(struct idmap *m);

/* ------------------------------------------------------------------------ queues */

/* A FIFO of encoded messages (a ring of refcounted buffers), with its byte count. */
struct outq {
	struct wamp_out **v;
	uint32_t cap, head, n;
	size_t bytes;
};

bool outq_push(struct outq *q, struct wamp_out *o);      /* takes o; false on NOMEM */
bool outq_push_front(struct outq *q, struct wamp_out *o);
struct wamp_out *outq_peek(const struct outq *q);
struct wamp_out *outq_pop(struct outq *q);               /* caller owns the reference */
void outq_clear(struct outq *q);

/* --------------------------------------------------------------- requests, handles */

enum req_kind { REQ_CALL, REQ_PUBLISH, REQ_SUBSCRIBE, REQ_UNSUBSCRIBE, REQ_REGISTER,
                REQ_UNREGISTER };

/* A request awaiting its answer, in c->reqs by request id. */
struct wampc_req {
	uint64_t id;
	enum req_kind kind;
	bool offline;              /* a PUBLISH still in the offline queue */
	wampc_reply_fn fn;
	void *ud;
	void *obj;                 /* (UN)SUBSCRIBE: the wampc_sub, (UN)REGISTER: the wampc_reg */
	int64_t deadline;          /* CALL with a timeout: in the deadline list */
	struct wampc_req *tprev, *tnext;
};

/*
 * Subscriptions and registrations are one thing, a "handle": what the application wants
 * (URI, options, handler), kept across sessions, and the router's id for it in the current
 * session. Their differences (message types, options, tables) are a table of operations by
 * kind (handles.c). The public wampc_sub/wampc_reg types wrap one.
 */
enum handle_kind { H_SUB = 0, H_REG = 1, H__KINDS };

enum handle_state {
	H_ACTIVE,        /* wanted: made or about to be (id 0 until the router answers) */
	H_INACTIVE,      /* refused on restore, or revoked: kept until the application drops it */
	H_CLOSING,       /* UNSUBSCRIBE/UNREGISTER in flight */
	H_DEAD,          /* unlinked, freed when no callback runs */
};

struct handle {
	struct handle *next;       /* c->handles[kind] in creation order (the restore order) */
	struct handle *same;       /* the next local handle with the same router id */
	uint64_t id;               /* the router's subscription/registration id; 0 when none */
	uint64_t req;              /* SUBSCRIBE/REGISTER in flight (0: none) */
	union {
		wampc_event_fn event;
		wampc_invoke_fn invoke;
	} handler;
	void *handler_ud;
	wampc_interrupt_fn on_interrupt;
	wampc_reply_fn fn;         /* the first answer's, cleared after it */
	void *ud;
	uint8_t kind, state, match, invoke;
	bool get_retained, disclose_caller;
	bool confirmed;            /* the router accepted it once (a later attempt is a restore) */
	char uri[];
};

struct wampc_sub {
	struct handle h;
};

struct wampc_reg {
	struct handle h;
};

/* ------------------------------------------------------------------------ client */

enum cstate {
	ST_IDLE,        /* not started, left, or gave up */
	ST_BACKOFF,     /* waiting to reconnect (t_state) */
	ST_CONNECT,     /* the adapter is asked to connect */
	ST_HANDSHAKE,   /* RawSocket handshake sent, reply awaited */
	ST_HELLO,       /* HELLO (or AUTHENTICATE) sent, WELCOME awaited (t_state) */
	ST_JOINED,
	ST_GOODBYE,     /* our GOODBYE sent, the router's awaited (t_state) */
	ST_CLOSING,     /* the adapter is asked to close */
};

#define CRYPTOSIGN_SEED_LEN 32

/* A resumable session's state (resume.c; docs/resumption.md): allocated at a WELCOME with
 * resumable, freed when the session is over. */
struct client_resume {
	uint64_t session;          /* the session to resume */
	char *token;               /* its resume token (a secret: wiped when replaced, freed) */
	uint32_t window_ms;        /* how long the router keeps it (WELCOME resume_window_s) */
	struct outq log;           /* messages sent and not acknowledged (references) */
	uint64_t sent, received;   /* messages since WELCOME (ACKs not counted) */
	uint64_t acked;            /* the count of our last ACK (or of the resume HELLO) */
	int64_t ack_due;           /* when the delayed ACK is due; 0: none */
	int64_t give_up;           /* suspended: the router has forgotten it by then */
	struct wamp_out *ack_out;  /* our last ACK (a reference): one queued at a time */
	bool suspended;            /* DISCONNECTED-RESUMABLE: no connection, the session lives */
	bool refused;              /* the router answered our resume with ABORT */
};

struct wampc {
	enum cstate state;
	bool leaving;              /* no reconnect after this connection */
	bool reconnect_now;        /* wampc_reconnect: the next attempt without backoff */
	bool started;              /* wampc_start was called once */
	bool stop_run;             /* wampc_run returns */
	bool free_pending;         /* wampc_free was called inside a library call */
	bool have_binding;
	bool opened;               /* this attempt's connection was opened (transport_open) */
	bool ping_out;             /* a PING awaits any input */
	uint32_t depth;            /* library calls on the stack (deferred free) */
	enum wampd_err input_err;  /* why the engine ended the connection (returned by input) */

	/* configuration (owned copies) */
	char *url, *realm, *authid, *ticket, *secret;
	uint8_t *seed;             /* cryptosign seed, CRYPTOSIGN_SEED_LEN bytes, or NULL */
	json_t *authextra;
	enum wamp_ser ser;
	enum wampc_framing framing;
	unsigned authmethods, roles;
	uint32_t max_message, max_pending;
	size_t max_queue_bytes, offline_max;
	enum wampc_drop offline_drop;
	uint32_t join_timeout, goodbye_timeout, ping_interval, ping_timeout;
	bool reconnect;
	bool resumable;            /* ask for resumable sessions */
	uint32_t retry_initial, retry_max, retry_jitter, max_retries;
	wampc_session_fn on_session;
	void *ud;
	int64_t (*clock_ms)(void *);
	uint32_t (*random_u32)(void *);
	void *clock_ud;
	uint8_t binding[32];       /* tls-unique of the current channel */
	struct {                   /* wampc_config.tls (owned copies) */
		char *ca_file, *ca_path, *cert_file, *key_file, *server_name;
		bool insecure, channel_binding;
	} tls;

	/* the connection */
	uint64_t session;
	uint32_t peer_max;         /* longest message the router accepts */
	uint8_t hs_out[4];         /* the RawSocket handshake to send */
	uint8_t hs_out_len, hs_out_off;
	uint8_t hs_in[4];          /* the router's handshake reply */
	uint8_t hs_in_len;
	struct rs_rx rx;
	size_t out_off;            /* bytes of the send queue's head written already */
	struct outq sendq;
	int64_t t_state;           /* the state's deadline (backoff, join, goodbye), 0: none */
	int64_t last_input;        /* time of the last byte received */
	int64_t ping_sent;         /* time of the PING that awaits input */
	uint32_t attempts;         /* consecutive failed connection attempts */
	char *close_reason;        /* ABORT/GOODBYE reason for the LEFT event */
	char *transport_error;     /* the adapter's words for it (wampc_transport_error) */
	json_t *close_details;

	/* requests and handles */
	uint64_t next_req;
	uint32_t n_calls;          /* CALLs and acknowledged PUBLISHes in flight */
	struct idmap reqs;         /* request id -> struct wampc_req * */
	struct wampc_req *thead, *ttail; /* calls with a timeout, by deadline */
	struct handle *handles[H__KINDS];
	struct idmap handle_ids[H__KINDS]; /* router id -> first struct handle * of that id */
	struct handle *dead;       /* unlinked handles, freed when no callback runs */
	struct idmap invs;         /* invocation request id -> registration id << 1 | progress */
	struct outq offline;       /* encoded PUBLISHes waiting for a session */
	struct client_resume *rs;  /* a resumable session's state, or NULL */
	json_t *opt_progress;      /* {"progress": true}, made at the first progressive YIELD */
	json_t *opt_publish[8];    /* PUBLISH.Options without lists, by acknowledge | exclude_me
	                              false | retain (pubsub.c), each made at its first use */

	struct wampc_stats stats;

	/* the adapter (wampc_set_adapter): posix.c's, lws.c's, or the application's */
	const struct wampc_adapter_ops *adapter_ops;
	void *adapter_state;
};

/* --- engine.c --- */
int64_t wampc_now(const wampc *c);
/* May requests be made now: joined, or suspended (they wait in the replay log)? */
bool wampc_in_session(const wampc *c);
/* Bytes waiting to be sent or acknowledged: what max_queue_bytes bounds (the send queue,
 * or a resumable session's replay log when that is longer). */
size_t wampc_backlog(const wampc *c);
/* The session is over (its connection ended, or its resumption failed): unsent
 * publications back to the offline queue, requests in flight end with
 * wamp.close.transport_lost, router ids forgotten, the resume state freed, WAMPC_LEFT
 * (with reconnecting) reported. */
void wampc_session_over(wampc *c, bool reconnecting);
/* (wampc_hold/wampc_release, wampc.h, bracket everything that may run callbacks: the
 * outermost release performs a deferred wampc_free, or else runs the adapter's update.) */
/* Encode m and queue it. force: ignore the send queue's bound (the engine's own messages:
 * ABORT, GOODBYE, PONG, restores). WAMPD_ERR_LIMIT (queue full), WAMPD_ERR_PAYLOAD_SIZE
 * (longer than the router accepts), WAMPD_ERR_SERIALIZATION, WAMPD_ERR_NOMEM. */
enum wampd_err wampc_send(wampc *c, const struct wamp_msg *m, bool force);
/* Queue an encoded message (takes the reference). Bound, framing as wampc_send. */
enum wampd_err wampc_queue(wampc *c, struct wamp_out *o, bool force);
/* Encode m without queueing it (for the offline queue). NULL with *err. */
struct wamp_out *wampc_encode(wampc *c, const struct wamp_msg *m, enum wampd_err *err);
/* The session ends now because of err (protocol violation, timeout...): ABORT (when a
 * session is being made or exists and abort is true) then close. */
void wampc_fail(wampc *c, enum wampd_err err, const char *why, bool abort);
/* Ask the adapter to close (after the queued output). */
void wampc_close(wampc *c);
/* Keep reason/details for the WAMPC_LEFT event (borrowed, copied). */
void wampc_set_close_reason(wampc *c, const char *reason, const json_t *details);
uint64_t wampc_next_request(wampc *c);
/* A new request record in c->reqs. NULL on NOMEM. */
struct wampc_req *wampc_req_new(wampc *c, enum req_kind kind, wampc_reply_fn fn, void *ud);
struct wampc_req *wampc_req_find(wampc *c, uint64_t id);
/* Remove req from the tables (not freed). */
void wampc_req_unlink(wampc *c, struct wampc_req *req);
void wampc_req_free(wampc *c, struct wampc_req *req);
/* Deadline list of calls. */
void wampc_timer_add(wampc *c, struct wampc_req *req, int64_t deadline);
/* Call fn of a reply. */
void wampc_reply(wampc *c, wampc_reply_fn fn, void *ud, const struct wampc_reply *r);
/* A reply made here (local errors): error URI, no payload. */
void wampc_reply_local(wampc *c, struct wampc_req *req, enum wampd_err err);
void wampc_session_event(wampc *c, const struct wampc_session_info *info);
/* Convert a received payload to the public form and back. */
void wampc_payload_from(struct wampc_payload *out, const struct wamp_payload *in);
void wampc_payload_to(struct wamp_payload *out, const struct wampc_payload *in);
/* A publication the offline queue drops (takes the reference): its acknowledgement, if
 * awaited, ends with `why`; counted. */
void wampc_offline_dropped(wampc *c, struct wamp_out *o, enum wampd_err why);
/* A publication goes back to the offline queue: its acknowledgement waits with it. */
void wampc_publish_requeued(wampc *c, struct wamp_out *o);

/* --- session.c --- */
/* The HELLO for this connection (after the RawSocket handshake, or at open). */
enum wampd_err session_hello(wampc *c);
void session_on_welcome(wampc *c, struct wamp_msg *m);
void session_on_abort(wampc *c, struct wamp_msg *m);
void session_on_challenge(wampc *c, struct wamp_msg *m);
void session_on_goodbye(wampc *c, struct wamp_msg *m);
/* Wipe and free the secrets. */
void session_free_secrets(wampc *c);

/* --- handles.c: subscriptions and registrations --- */
/* A new handle of kind for uri (linked; made now when joined). NULL with *err. */
struct handle *handle_add(wampc *c, enum handle_kind kind, const char *uri,
                          wampc_reply_fn fn, void *ud, struct handle *tmpl, enum wampd_err *err);
enum wampd_err handle_remove(wampc *c, struct handle *h, enum handle_kind kind,
                             wampc_reply_fn fn, void *ud);
/* The first active handle with router id `id` (the chain continues through ->same). */
struct handle *handle_by_id(wampc *c, enum handle_kind kind, uint64_t id);
void handles_on_made(wampc *c, struct wamp_msg *m);     /* SUBSCRIBED, REGISTERED */
void handles_on_unmade(wampc *c, struct wamp_msg *m);   /* UNSUBSCRIBED, UNREGISTERED */
/* ERROR for (UN)SUBSCRIBE, (UN)REGISTER */
void handles_on_error(wampc *c, struct wamp_msg *m, struct wampc_req *req);
/* After WELCOME: make every active handle again. */
void handles_restore(wampc *c);
/* The connection is gone: router ids forgotten. */
void handles_lost(wampc *c);
/* A (UN)SUBSCRIBE/(UN)REGISTER in flight when the connection ended (req already out of the
 * tables; the caller frees it). */
void handles_req_lost(wampc *c, struct wampc_req *req);
void handles_free_all(wampc *c);
void handles_free_dead(wampc *c);

/* --- resume.c: resumable sessions --- */
/* Does wampc_queue log o (a message of a resumable session, not the HELLO/AUTHENTICATE/
 * ABORT of a connection attempt), and is it then held there only (suspended)? */
bool resume_logs(const wampc *c, const struct wamp_out *o);
bool resume_suspended(const wampc *c);
/* Log o (takes a reference of its own). false on NOMEM. */
bool resume_log(wampc *c, struct wamp_out *o);
/* HELLO.Details: resumable, and resume {session, token, received} when suspended. */
bool resume_hello(wampc *c, json_t *details);
enum resume_welcome { RW_NONE, RW_RESUMED, RW_OVER, RW_FAILED };
/* A WELCOME: RW_RESUMED (the log after the router's count is queued again), RW_OVER (a
 * suspended session was not resumed: it is over), RW_NONE (nothing was suspended), or
 * RW_FAILED (resumed with an impossible count: a protocol violation). */
enum resume_welcome resume_on_welcome(wampc *c, struct wamp_msg *m);
/* After a new session's WELCOME: keep its resume state when it is resumable. */
void resume_start(wampc *c, struct wamp_msg *m);
/* A message received in the session (not ACK): counted, acknowledged in time. */
void resume_received(wampc *c);
void resume_on_ack(wampc *c, struct wamp_msg *m);
/* The router answered a resume with ABORT. */
void resume_refused(wampc *c);
/* The connection is gone: true when the session lives on (suspended now or still). */
bool resume_on_closed(wampc *c, bool was_joined);
/* The next resume timer (ACK due, giving up), 0: none; and running it. */
int64_t resume_deadline(const wampc *c);
void resume_tick(wampc *c, int64_t now);
/* Free the resume state (the token wiped). */
void resume_free(wampc *c);

/* --- pubsub.c --- */
void pubsub_on_published(wampc *c, struct wamp_msg *m);
void pubsub_on_event(wampc *c, struct wamp_msg *m);
/* The offline queue to the send queue (after WELCOME). */
void pubsub_flush_offline(wampc *c);
/* The session is gone: the PUBLISHes of q (the send queue: not written; a resumable
 * session's log: not acknowledged) go back to the offline queue (as far as it has room;
 * acknowledgements of the others end with transport_lost). */
void pubsub_lost(wampc *c, const struct outq *q);

/* --- rpc.c --- */
void rpc_on_result(wampc *c, struct wamp_msg *m);
void rpc_on_invocation(wampc *c, struct wamp_msg *m);
void rpc_on_interrupt(wampc *c, struct wamp_msg *m);
/* The connection is gone: owed invocations forgotten. */
void rpc_lost(wampc *c);

/* --- value.c --- */
/* Set key of the Options dict *d (made on first use; NULL stays "{}"); takes v (NULL:
 * failed allocation). false on NOMEM. */
bool opt_set(json_t **d, const char *key, json_t *v);
/* A URI we may send: non-empty UTF-8. */
bool wampc_uri_ok(const char *uri);
/* Payload values of the right kinds (Arguments an array, ArgumentsKw a map): WAMPD_OK or
 * WAMPD_ERR_INVALID_ARGUMENT. NULL is fine. */
enum wampd_err wampc_payload_check(const struct wampc_payload *p);


#endif
