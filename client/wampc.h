/*
 * wampc.h - libwampc, the WAMP v2 client library of wampd: one header for everything.
 *
 * DESIGN
 *
 * 1. A sans-I/O protocol engine. A `wampc` is the state of one logical client: its session
 *    (HELLO, authentication, WELCOME, GOODBYE), its requests, subscriptions, registrations
 *    and queues. It never touches a socket, a clock or a thread by itself: the code that owns
 *    the connection (an "adapter") tells it what happened and asks it what to do,
 *
 *        adapter -> engine   wampc_transport_open()     the connection is up
 *                            wampc_transport_input()    these bytes arrived
 *                            wampc_transport_closed()   the connection is gone
 *                            wampc_tick()               time passed (timers due)
 *        engine -> adapter   wampc_want()               connect? read? write? close?
 *                            wampc_transport_output()   the next bytes to write
 *                            wampc_next_timeout()       when to call wampc_tick() again
 *
 *    the way libmosquitto's mosquitto_socket/loop_read/loop_write/loop_misc and hiredis'
 *    async adapters split a protocol from its event loop. Two adapters come with it:
 *    RawSocket over TCP, TLS (OpenSSL) and Unix sockets on plain POSIX sockets, usable
 *    either through the library's own poll loop (wampc_run) or from an application's loop
 *    (wampc_socket, wampc_loop_events, wampc_loop_read/_write/_misc); and WebSocket (and
 *    RawSocket) on libwebsockets, a library of its own (libwampc-ws, wampc_lws.h), which
 *    feeds whole messages instead of bytes (WAMPC_FRAMING_MESSAGE). Both are written
 *    against this header alone ("writing an adapter" below).
 *    Time comes from a clock the configuration may replace (tests use a fake one), and so
 *    does the randomness of the reconnect jitter.
 *
 * 2. Messages are wampd's own message model and codecs (serializers/: JSON, MessagePack,
 *    CBOR) and RawSocket framing (serializers/rawsocket.c). A received payload (Arguments,
 *    ArgumentsKw) stays the encoded bytes it arrived in (struct wampc_payload's spans): a
 *    client that forwards it sends the bytes again without decoding them; an application
 *    that reads it decodes it on demand into values (wampc_payload_args). Payloads to send
 *    are values (the value API below) or such spans.
 *
 * 3. Everything is bounded: the send queue and the offline publication queue by bytes, the
 *    received message size, the pending calls and invocations by count. Reaching a bound
 *    is an error returned to the caller (WAMPD_ERR_LIMIT) or, for the router's input, the
 *    engine stops reading until the send queue drains; nothing grows without limit.
 *
 * 4. Sessions survive a dropped connection as far as WAMP allows today: with
 *    wampc_config.reconnect the engine asks for a new connection after an exponential
 *    backoff with jitter and a cap, and after each new WELCOME it registers and subscribes
 *    again everything the application holds (the handles stay valid; the router's ids
 *    change). Publications made while there is no session wait in a bounded offline queue
 *    (the application chooses what is dropped when it is full; drops are counted). Calls
 *    in flight when the connection drops end with wamp.close.transport_lost. Beyond what
 *    WAMP allows today: with wampc_config.resumable and a router that offers it
 *    (docs/resumption.md) the session itself survives: the engine resumes it on the new
 *    connection and nothing in flight is lost or repeated (WAMPC_SUSPENDED, WAMPC_RESUMED).
 *
 * OWNERSHIP AND FAILURE RULES (every function below states its own)
 *
 *  - Strings and values passed in are borrowed: the library copies what it keeps (URIs,
 *    secrets) or encodes it before returning. Nothing you pass must outlive the call,
 *    except user-data pointers, which are handed back untouched.
 *  - Everything a callback receives is borrowed and valid only during the callback.
 *  - Handles (wampc_sub, wampc_reg) are owned by the library; they stay valid until their
 *    unsubscribe/unregister completes (the reply callback is their last use) or
 *    wampc_free().
 *  - Functions that can fail return enum wampd_err (the project's one error enum, see
 *    common/err.h: wampd_err_uri() gives the WAMP URI of any value). On failure nothing
 *    was sent or queued and nothing of yours was taken.
 *  - Callbacks may call any function of the library, wampc_free() included (the free is
 *    then deferred until the library returns from its callback).
 *  - One wampc is used by one thread at a time. Two wampc objects share nothing.
 *  - Secrets (ticket, wampcra secret, cryptosign seed) are copied, wiped when freed, and
 *    never written to any output but their authentication message.
 *
 * The message flow inside: input bytes -> RawSocket reassembly (rs_rx) -> wamp_decode ->
 * a table indexed by message type (which states accept it, its handler) -> the role's
 * handler (session, caller, callee, publisher, subscriber) -> the application's callback.
 * Output: the role builds a struct wamp_msg -> wamp_encode (one allocation, the payload
 * spans copied when the serializer matches) -> the send queue of refcounted buffers, the
 * 4-octet RawSocket prefix written into the buffer's headroom (no copy) -> the adapter.
 */
#ifndef WAMPC_H
#define WAMPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WAMPC_VERSION "0.1.0"

typedef struct wampc wampc;
typedef struct wampc_sub wampc_sub;
typedef struct wampc_reg wampc_reg;

/* ========================================================================== values */

/*
 * A value of a payload or of Details: null, bool, integer, float, string, bytes, array,
 * map. Build them with the constructors below, read them with the accessors.
 *
 * Ownership: a constructor returns a new value the caller owns (free it with
 * wampc_value_free, or hand it to an array or map, which then owns it). NULL means
 * allocation failure (or an invalid argument); the container functions accept NULL for
 * the element and then fail, so a chain of constructors needs one check at the end.
 * Accessors on a borrowed value return borrowed pointers, valid while that value is.
 * Bytes travel as binary in MessagePack and CBOR and as WAMP's "\0"+base64 string in
 * JSON; a string that begins with a NUL character is therefore bytes.
 */
typedef struct wampc_value wampc_value;

enum wampc_kind {
	WAMPC_NULL = 0,
	WAMPC_BOOL,
	WAMPC_INT,
	WAMPC_FLOAT,
	WAMPC_STRING,
	WAMPC_BYTES,
	WAMPC_ARRAY,
	WAMPC_MAP,
	WAMPC_INVALID   /* a NULL value pointer */
};

wampc_value *wampc_null(void);
wampc_value *wampc_bool(bool b);
wampc_value *wampc_int(int64_t i);
wampc_value *wampc_float(double d);
/* s is copied; it must be UTF-8 (NULL is returned otherwise). */
wampc_value *wampc_string(const char *s);
wampc_value *wampc_stringn(const char *s, size_t n);
wampc_value *wampc_bytes(const void *p, size_t n);
wampc_value *wampc_array(void);
wampc_value *wampc_map(void);

/* Append v to array a; takes v in every case (freed on failure). WAMPD_ERR_NOMEM, or
 * WAMPD_ERR_INVALID_ARGUMENT when a is not an array or v is NULL. */
enum wampd_err wampc_array_append(wampc_value *a, wampc_value *v);
/* Set key (copied, UTF-8) of map m to v; takes v in every case (freed on failure). */
enum wampd_err wampc_map_set(wampc_value *m, const char *key, wampc_value *v);

/* Free a value the caller owns (and everything in it). NULL is ignored. */
void wampc_value_free(wampc_value *v);

/* A deep copy the caller owns; NULL on allocation failure. */
wampc_value *wampc_value_copy(const wampc_value *v);

/* WAMPC_INVALID for NULL. */
enum wampc_kind wampc_value_kind(const wampc_value *v);

/* Readers: the value, or def when v is not of that kind (an integer reads as a float). */
bool wampc_value_bool(const wampc_value *v, bool def);
int64_t wampc_value_int(const wampc_value *v, int64_t def);
double wampc_value_float(const wampc_value *v, double def);
/* The string (borrowed, NUL-terminated) and its length in *len (may be NULL); NULL when v
 * is not a string. */
const char *wampc_value_string(const wampc_value *v, size_t *len);
/* Copy the bytes of a bytes value into buf (cap bytes). Returns the length of the bytes
 * (copied only if it is <= cap), or -1 when v is not bytes. */
long wampc_value_bytes(const wampc_value *v, void *buf, size_t cap);
/* Arrays: element count (0 for a non-array) and element i (borrowed; NULL past the end). */
size_t wampc_array_size(const wampc_value *a);
const wampc_value *wampc_array_get(const wampc_value *a, size_t i);
/* Maps: entry count, lookup by key (borrowed, NULL if absent), and iteration:
 * for (void *it = wampc_map_iter(m); it; it = wampc_map_next(m, it)) use
 * wampc_map_iter_key(it) and wampc_map_iter_value(it) (both borrowed). */
size_t wampc_map_size(const wampc_value *m);
const wampc_value *wampc_map_get(const wampc_value *m, const char *key);
void *wampc_map_iter(const wampc_value *m);
void *wampc_map_next(const wampc_value *m, void *it);
const char *wampc_map_iter_key(void *it);
const wampc_value *wampc_map_iter_value(void *it);

/* Parse JSON text into a new value (caller owns), or NULL if it is not JSON (an object
 * with a duplicate key is not: its meaning would be ambiguous). */
wampc_value *wampc_value_from_json(const char *text);
/* The same, with why it is not JSON (a short text, e.g. "'[' or '{' expected near 'x'")
 * in why[why_len] on failure (why may be NULL). */
wampc_value *wampc_value_parse(const char *text, char *why, size_t why_len);
/* Compact JSON text of v as a new string (caller frees with free()), or NULL on NOMEM. */
char *wampc_value_to_json(const wampc_value *v);

/* ========================================================================= payloads */

/* The serializers; the same numbers as wampd's (enum wamp_ser). */
enum wampc_ser {
	WAMPC_JSON = 0,
	WAMPC_MSGPACK = 1,
	WAMPC_CBOR = 2,
};

/* The serializer called name ("json", "msgpack", "cbor") when this build of the library
 * has it, else -1. */
int wampc_ser_from_name(const char *name);

/*
 * Arguments | ArgumentsKw of a message. Either encoded spans in serializer `ser` (as
 * received: forward them as they are, copied as bytes when the serializers match and
 * converted otherwise), or values (args_v: an array, kwargs_v: a map), used where the
 * span is NULL. All fields borrowed. A zeroed struct (or a NULL pointer) is "no payload".
 */
struct wampc_payload {
	enum wampc_ser ser;
	const uint8_t *args;
	size_t args_len;
	const uint8_t *kwargs;
	size_t kwargs_len;
	const wampc_value *args_v;
	const wampc_value *kwargs_v;
};

/* A payload of values, e.g. WAMPC_ARGS(args, kwargs) as a function argument. */
#define WAMPC_ARGS(a, kw) (&(struct wampc_payload){.args_v = (a), .kwargs_v = (kw)})

/*
 * Decode Arguments (or ArgumentsKw) of a payload into a new value the caller owns (an
 * array, or a map). NULL with *err = WAMPD_OK when absent; NULL with *err =
 * WAMPD_ERR_SERIALIZATION or WAMPD_ERR_NOMEM on failure. err may be NULL.
 */
wampc_value *wampc_payload_args(const struct wampc_payload *p, enum wampd_err *err);
wampc_value *wampc_payload_kwargs(const struct wampc_payload *p, enum wampd_err *err);

/* ========================================================================= callbacks */

/*
 * The answer to one request (CALL, SUBSCRIBE, UNSUBSCRIBE, REGISTER, UNREGISTER,
 * acknowledged PUBLISH), all borrowed for the callback's duration.
 *  error     NULL on success; else the error URI: the router's or callee's ERROR.Error,
 *            or a local one: wamp.error.timeout (the call's timeout passed),
 *            wamp.close.transport_lost (the connection ended first), wamp.error.
 *            limit_exceeded (a queued publication dropped by the offline queue's policy).
 *  id        SUBSCRIBED/REGISTERED: the router's subscription/registration id;
 *            PUBLISHED: the publication id.
 *  progress  a progressive RESULT: more follow for this request.
 *  details   RESULT.Details / ERROR.Details (a map, or NULL).
 *  payload   RESULT's or ERROR's payload (never NULL; zeroed when there is none).
 */
struct wampc_reply {
	uint64_t request;
	const char *error;
	uint64_t id;
	bool progress;
	const wampc_value *details;
	const struct wampc_payload *payload;
};
typedef void (*wampc_reply_fn)(wampc *c, const struct wampc_reply *r, void *ud);

/*
 * An EVENT. topic: Details.topic for pattern subscriptions (the publication's topic), the
 * subscribed URI otherwise. retained: a retained event sent on subscribing
 * (get_retained). publisher: Details.publisher when disclosed, else 0.
 */
struct wampc_event {
	wampc_sub *sub;
	uint64_t subscription;
	uint64_t publication;
	const char *topic;
	bool retained;
	uint64_t publisher;
	const wampc_value *details;
	const struct wampc_payload *payload;
};
typedef void (*wampc_event_fn)(wampc *c, const struct wampc_event *e, void *ud);

/*
 * An INVOCATION. Answer it once, now or later, with wampc_yield() (progress=false) or
 * wampc_invocation_error(); before that, any number of wampc_yield(progress=true) when
 * receive_progress is set. procedure: Details.procedure for pattern registrations, the
 * registered URI otherwise. caller: Details.caller when disclosed, else 0. timeout:
 * Details.timeout in ms (0: none).
 */
struct wampc_invocation {
	wampc_reg *reg;
	uint64_t request;
	uint64_t registration;
	const char *procedure;
	bool receive_progress;
	uint64_t caller;
	uint64_t timeout;
	const wampc_value *details;
	const struct wampc_payload *payload;
};
typedef void (*wampc_invoke_fn)(wampc *c, const struct wampc_invocation *inv, void *ud);

/* An INTERRUPT for an invocation (mode "kill" or "killnowait"). The library answers it
 * with ERROR wamp.error.canceled right after this callback (unless the callback answered);
 * later answers for that request are refused (WAMPD_ERR_INVALID_ARGUMENT). */
typedef void (*wampc_interrupt_fn)(wampc *c, uint64_t request, const char *mode, void *ud);

/* What happened to the session (wampc_config.on_session). */
enum wampc_session_event {
	WAMPC_JOINED,         /* WELCOME: session, authid, authrole, authmethod, details */
	WAMPC_LEFT,           /* the session or the connection ended (GOODBYE, ABORT, lost,
	                         a connection attempt failed): reason; reconnecting says
	                         whether the engine will try again */
	WAMPC_RESTORE_FAILED, /* after a reconnect, re-subscribing or re-registering `uri`
	                         failed with `reason`; the handle stays, inactive, until you
	                         unsubscribe/unregister it */
	WAMPC_REVOKED,        /* the router ended subscription/registration `uri` itself
	                         (UNSUBSCRIBED/UNREGISTERED with Details); the handle stays,
	                         inactive */
	WAMPC_SUSPENDED,      /* a resumable session lost its connection: the router keeps it,
	                         the engine reconnects to resume it; requests made meanwhile
	                         wait in its replay log, calls in flight keep waiting */
	WAMPC_RESUMED,        /* the suspended session continues on a new connection (details:
	                         the WELCOME's): nothing was lost or repeated either way. If it
	                         cannot resume, WAMPC_LEFT comes instead, then WAMPC_JOINED of a
	                         new session, as after any lost connection */
};
struct wampc_session_info {
	enum wampc_session_event event;
	uint64_t session;
	const char *authid, *authrole, *authmethod;
	const char *reason;      /* LEFT, RESTORE_FAILED, REVOKED: a URI */
	const char *uri;         /* RESTORE_FAILED, REVOKED */
	bool reconnecting;       /* LEFT */
	bool connected;          /* LEFT: this attempt's connection was open (false: the
	                            attempt failed before it: refused, unreachable, TLS) */
	const char *transport_error; /* LEFT: what the adapter said about a failed or lost
	                            connection ("connection refused", "certificate verify
	                            failed: ..."), or NULL */
	const wampc_value *details; /* WELCOME/ABORT/GOODBYE Details, or NULL */
};
typedef void (*wampc_session_fn)(wampc *c, const struct wampc_session_info *info, void *ud);

/* ========================================================================= the client */

/* The roles announced in HELLO, with their features (a bit set; 0 is all four). A client
 * that uses one role (a sensor that only publishes) sends a smaller HELLO; a request of a
 * role not announced is refused with WAMPD_ERR_FEATURE_NOT_SUPPORTED. */
enum {
	WAMPC_ROLE_CALLER = 1u << 0,
	WAMPC_ROLE_CALLEE = 1u << 1,
	WAMPC_ROLE_PUBLISHER = 1u << 2,
	WAMPC_ROLE_SUBSCRIBER = 1u << 3,
};

/* Authentication methods offered in HELLO (a bit set; 0 is anonymous). */
enum {
	WAMPC_AUTH_ANONYMOUS = 1u << 0,
	WAMPC_AUTH_TICKET = 1u << 1,
	WAMPC_AUTH_WAMPCRA = 1u << 2,
	WAMPC_AUTH_CRYPTOSIGN = 1u << 3,
	WAMPC_AUTH_TLS = 1u << 4,     /* the TLS client certificate names the client (no
	                                 CHALLENGE): tls.cert_file over rss:// or wss:// */
};

enum wampc_framing {
	WAMPC_FRAMING_RAWSOCKET = 0, /* bytes: the RawSocket handshake and frames */
	WAMPC_FRAMING_MESSAGE,       /* each input/output is one whole message (WebSocket) */
};

/*
 * TLS to the router (rss:// with the POSIX adapter or the libwebsockets one, wss:// with
 * the libwebsockets one).
 * The router's certificate is verified by default: against ca_file and/or ca_path when
 * either is given, else against the system's CA store; and its name against server_name
 * (default: the URL's host; an IP address is checked against the certificate's IP
 * addresses). A certificate that does not verify ends the attempt (transport_error says
 * why). The files are read at each connection attempt (a renewed certificate is used at the
 * next one). All strings borrowed by wampc_new (copied).
 */
struct wampc_tls {
	const char *ca_file;     /* PEM file of CA certificates to trust */
	const char *ca_path;     /* directory of CA certificates (`openssl rehash` layout) */
	const char *cert_file;   /* client certificate chain (PEM), for WAMPC_AUTH_TLS */
	const char *key_file;    /* its private key (PEM; default: in cert_file) */
	const char *server_name; /* the name to verify and to send as SNI */
	bool insecure;           /* verify nothing (tests and debugging only) */
	bool channel_binding;    /* cryptosign: bind the signature to this TLS channel
	                            (tls-unique): a man in the middle with another channel
	                            cannot use it. Needs TLS up to the router itself (no
	                            TLS-terminating proxy in between) */
};

/* What the offline queue drops when a publication does not fit. */
enum wampc_drop {
	WAMPC_DROP_NEWEST = 0, /* refuse the new one (wampc_publish: WAMPD_ERR_LIMIT) */
	WAMPC_DROP_OLDEST,     /* drop queued ones, oldest first, until it fits */
};

/*
 * Configuration. Zero means the default for every field. Everything is copied by
 * wampc_new(); secrets are wiped from the client's copy when it is freed.
 */
struct wampc_config {
	const char *url;         /* where the router is (wampc_url_parse): RawSocket
	                            "rs://HOST:PORT" (also "rawsocket://", "tcp://"), over TLS
	                            "rss://HOST:PORT", on a Unix socket "unix:PATH" (the POSIX
	                            adapter's, and the libwebsockets one's); WebSocket
	                            "ws://HOST[:PORT][/PATH]", over TLS "wss://..." (the
	                            libwebsockets adapter's, libwampc-ws).
	                            A WebSocket URL implies WAMPC_FRAMING_MESSAGE. May be NULL
	                            for an adapter that knows where to connect by itself */
	const char *realm;       /* required */
	enum wampc_ser serializer;
	enum wampc_framing framing;
	uint32_t max_message;    /* longest message accepted from the router (default 1 MiB;
	                            RawSocket announces it rounded down to a power of two) */
	size_t max_queue_bytes;  /* send queue bound (default 1 MiB) */
	uint32_t max_pending;    /* calls and acknowledged publications in flight, and
	                            invocations owed (default 1024 each) */
	unsigned roles;          /* WAMPC_ROLE_* bits announced (0: all four) */

	/* authentication */
	const char *authid;
	unsigned authmethods;    /* WAMPC_AUTH_* bits; 0: anonymous */
	const char *ticket;      /* ticket */
	const char *secret;      /* wampcra: the secret, or the password of a salted secret */
	const uint8_t *cryptosign_seed; /* cryptosign: the 32-byte Ed25519 private seed */
	const wampc_value *authextra;   /* more HELLO.Details.authextra entries (a map) */
	struct wampc_tls tls;            /* rss://, wss:// (and WAMPC_AUTH_TLS) */

	/* timers, ms */
	uint32_t join_timeout;   /* a connection attempt's start to WELCOME: connect,
	                            handshake, authentication (default 10000) */
	uint32_t goodbye_timeout;/* our GOODBYE to the router's (default 2000) */
	uint32_t ping_interval;  /* RawSocket PING after this much silence (0: never) */
	uint32_t ping_timeout;   /* no byte within this after a PING: connection lost
	                            (default: ping_interval) */

	/* reconnect */
	bool reconnect;          /* after a lost connection or a failed attempt, try again */
	uint32_t retry_initial;  /* first delay (default 500) */
	uint32_t retry_max;      /* the cap (default 30000) */
	uint32_t retry_jitter;   /* percent of the delay taken off at random (default 50) */
	uint32_t max_retries;    /* consecutive failed attempts before giving up (0: never) */
	bool resumable;          /* with reconnect: ask for a resumable session (a router that
	                            offers it keeps the session across a lost connection, for
	                            its resume window; docs/resumption.md). What the router has
	                            not acknowledged counts toward max_queue_bytes */

	/* offline publications */
	size_t offline_queue_bytes;  /* 0: none (publishing without a session fails) */
	enum wampc_drop offline_drop;

	/* callbacks and injected dependencies */
	wampc_session_fn on_session;
	void *ud;                                /* handed to on_session */
	int64_t (*clock_ms)(void *clock_ud);     /* monotonic ms; default CLOCK_MONOTONIC */
	uint32_t (*random_u32)(void *clock_ud);  /* jitter; default libsodium's CSPRNG */
	void *clock_ud;
};

/*
 * A new client (not connected: call wampc_start, or wampc_run which starts it).
 * cfg and what it points to are borrowed (copied). NULL on failure with *err (may be
 * NULL): WAMPD_ERR_INVALID_ARGUMENT (no realm, an unsupported serializer, a method without
 * its credential, a malformed url) or WAMPD_ERR_NOMEM. Initialises libsodium.
 */
wampc *wampc_new(const struct wampc_config *cfg, enum wampd_err *err);

/* Free the client: the connection is dropped without GOODBYE (call wampc_leave first for a
 * clean end), pending requests are dropped without callbacks, handles become invalid.
 * NULL is ignored. From inside a callback the free happens when the callback returns. */
void wampc_free(wampc *c);

/* Begin: the engine wants a connection (wampc_want() has WAMPC_WANT_CONNECT). Also after
 * the engine gave up (max_retries) or left: it starts over. WAMPD_OK. */
enum wampd_err wampc_start(wampc *c);

/* End the session: GOODBYE (reason NULL: wamp.close.close_realm), wait for the router's
 * GOODBYE (goodbye_timeout), close; no reconnect. Without a session: stop at once. The
 * offline queue is kept (a later wampc_start sends it). WAMPD_OK. */
enum wampd_err wampc_leave(wampc *c, const char *reason);

/* Drop the connection now, without GOODBYE (a session ends: WAMPC_LEFT with
 * wamp.close.transport_lost, reconnecting; a resumable session with reconnect is
 * WAMPC_SUSPENDED instead and resumed on the new connection), and connect again at once,
 * without backoff and whatever wampc_config.reconnect says (e.g. the application learned
 * that the network changed). Without a connection: the attempt starts now. Subscriptions
 * and registrations are restored after the new WELCOME, as after any reconnect. WAMPD_OK. */
enum wampd_err wampc_reconnect(wampc *c);

/* true while a session is established (between WELCOME and its end). */
bool wampc_joined(const wampc *c);
/* The session id (0 when not joined). */
uint64_t wampc_session_id(const wampc *c);
/* true when the engine stopped for good: left, gave up retrying, or never started. */
bool wampc_stopped(const wampc *c);
/* true once wampc_start was called (run loops start a client that never was). */
bool wampc_started(const wampc *c);

/* Counters (monotonic for the client's life). */
struct wampc_stats {
	uint64_t connects;          /* connection attempts */
	uint64_t joins;             /* sessions established */
	uint64_t msgs_in, msgs_out; /* WAMP messages */
	uint64_t bytes_in, bytes_out;
	uint64_t offline_queued;    /* publications that went into the offline queue */
	uint64_t offline_dropped;   /* ... that the drop policy discarded */
	uint64_t offline_bytes;     /* bytes in the offline queue now */
	uint64_t queue_bytes;       /* bytes in the send queue now */
	uint64_t restored;          /* subscriptions + registrations made again after a rejoin */
	uint64_t resumes;           /* sessions resumed after a lost connection */
};
void wampc_get_stats(const wampc *c, struct wampc_stats *st);

/* ===================================================================== publisher */

struct wampc_publish_opts {
	bool acknowledge;        /* PUBLISHED or ERROR is reported to fn */
	bool include_me;         /* exclude_me = false: this session receives it too */
	bool retain;
	const uint64_t *eligible; size_t n_eligible;   /* session ids */
	const uint64_t *exclude; size_t n_exclude;
	const char *const *eligible_authid; size_t n_eligible_authid;
	const char *const *exclude_authid; size_t n_exclude_authid;
	const char *const *eligible_authrole; size_t n_eligible_authrole;
	const char *const *exclude_authrole; size_t n_exclude_authrole;
};

/*
 * Publish to topic (opts and payload may be NULL; all borrowed, encoded before return).
 * With a session it is queued to send; without one (and an offline queue) it waits in the
 * offline queue and goes out after the next WELCOME. fn (may be NULL) gets the
 * acknowledgement when opts->acknowledge, or the drop (wamp.error.limit_exceeded) of a
 * queued publication. *request (may be NULL) is its request id.
 * Errors: WAMPD_ERR_INVALID_URI (empty topic), WAMPD_ERR_FEATURE_NOT_SUPPORTED (the
 * publisher role is not announced: wampc_config.roles), WAMPD_ERR_SERIALIZATION (a payload
 * that cannot be encoded), WAMPD_ERR_LIMIT (send queue or pending acknowledgements full, or
 * the offline queue full under WAMPC_DROP_NEWEST), WAMPD_ERR_TRANSPORT_LOST (no session
 * and no offline queue), WAMPD_ERR_NOMEM.
 */
enum wampd_err wampc_publish(wampc *c, const char *topic, const struct wampc_publish_opts *o,
                             const struct wampc_payload *p, wampc_reply_fn fn, void *ud,
                             uint64_t *request);

/* ==================================================================== subscriber */

enum wampc_match { WAMPC_MATCH_EXACT = 0, WAMPC_MATCH_PREFIX, WAMPC_MATCH_WILDCARD };

struct wampc_subscribe_opts {
	enum wampc_match match;
	bool get_retained;       /* the last retained event of the topic is sent on subscribing */
};

/*
 * Subscribe handler to topic. The subscription is kept across reconnects (made again
 * after every new WELCOME) until wampc_unsubscribe. *sub gets the handle at once (valid
 * before the router answers). fn (may be NULL) gets SUBSCRIBED (r->id) or the ERROR of the
 * first attempt. Without a session it is made after the next WELCOME.
 * Errors: WAMPD_ERR_INVALID_URI, WAMPD_ERR_INVALID_ARGUMENT (no handler),
 * WAMPD_ERR_FEATURE_NOT_SUPPORTED (the subscriber, for wampc_register the callee, role is
 * not announced), WAMPD_ERR_LIMIT, WAMPD_ERR_NOMEM.
 */
enum wampd_err wampc_subscribe(wampc *c, const char *topic, const struct wampc_subscribe_opts *o,
                               wampc_event_fn handler, void *handler_ud, wampc_reply_fn fn,
                               void *ud, wampc_sub **sub);

/*
 * Unsubscribe: no more events for sub after this call; the router is told (when this was
 * the last local handler of its subscription) and fn (may be NULL) gets UNSUBSCRIBED or
 * ERROR; sub is freed after that (or now, when there is no session or another local
 * handler shares the subscription: fn is then called before this returns).
 * Errors: WAMPD_ERR_INVALID_ARGUMENT (sub NULL or already unsubscribing), WAMPD_ERR_LIMIT,
 * WAMPD_ERR_NOMEM (nothing changed).
 */
enum wampd_err wampc_unsubscribe(wampc *c, wampc_sub *sub, wampc_reply_fn fn, void *ud);

/* ======================================================================== caller */

enum wampc_cancel_mode { WAMPC_CANCEL_SKIP = 0, WAMPC_CANCEL_KILL, WAMPC_CANCEL_KILLNOWAIT };

struct wampc_call_opts {
	uint32_t timeout;        /* ms; 0: none. Sent as Options.timeout too. When it passes,
	                            fn gets wamp.error.timeout and a CANCEL (killnowait) goes to
	                            the router; a late answer is ignored */
	bool receive_progress;   /* progressive results (r->progress) */
	bool disclose_me;
};

/*
 * Call procedure. fn (required) gets every progressive RESULT and then exactly one final
 * RESULT or ERROR (a local one included). opts and payload borrowed (may be NULL).
 * Errors: WAMPD_ERR_TRANSPORT_LOST (no session), WAMPD_ERR_INVALID_URI,
 * WAMPD_ERR_INVALID_ARGUMENT (fn NULL), WAMPD_ERR_FEATURE_NOT_SUPPORTED (the caller role
 * is not announced), WAMPD_ERR_SERIALIZATION, WAMPD_ERR_LIMIT,
 * WAMPD_ERR_NOMEM; fn is not called then.
 */
enum wampd_err wampc_call(wampc *c, const char *procedure, const struct wampc_call_opts *o,
                          const struct wampc_payload *p, wampc_reply_fn fn, void *ud,
                          uint64_t *request);

/* Ask the router to cancel call `request` (CANCEL with mode). Its final answer still
 * comes through fn (wamp.error.canceled, or a RESULT that won the race).
 * Errors: WAMPD_ERR_INVALID_ARGUMENT (no such call in flight), WAMPD_ERR_LIMIT,
 * WAMPD_ERR_NOMEM. */
enum wampd_err wampc_cancel(wampc *c, uint64_t request, enum wampc_cancel_mode mode);

/* ======================================================================== callee */

enum wampc_invoke {
	WAMPC_INVOKE_SINGLE = 0,
	WAMPC_INVOKE_ROUNDROBIN,
	WAMPC_INVOKE_RANDOM,
	WAMPC_INVOKE_FIRST,
	WAMPC_INVOKE_LAST,
};

struct wampc_register_opts {
	enum wampc_match match;
	enum wampc_invoke invoke;
	bool disclose_caller;
	wampc_interrupt_fn on_interrupt; /* may be NULL */
};

/*
 * Register handler for procedure; kept across reconnects like a subscription. *reg gets
 * the handle at once; fn (may be NULL) gets REGISTERED (r->id) or the ERROR of the first
 * attempt. Errors as wampc_subscribe.
 */
enum wampd_err wampc_register(wampc *c, const char *procedure,
                              const struct wampc_register_opts *o, wampc_invoke_fn handler,
                              void *handler_ud, wampc_reply_fn fn, void *ud, wampc_reg **reg);

/* Unregister, like wampc_unsubscribe. Invocations already received can still be answered
 * while the session lasts. */
enum wampd_err wampc_unregister(wampc *c, wampc_reg *reg, wampc_reply_fn fn, void *ud);

/*
 * Answer invocation `request` with a result: progress=true sends a progressive result
 * (only when the invocation has receive_progress) and more must follow; progress=false
 * is the final one. payload borrowed (may be NULL).
 * Errors: WAMPD_ERR_INVALID_ARGUMENT (no such invocation owed: answered already,
 * interrupted, or from a previous session; or progress without receive_progress),
 * WAMPD_ERR_TRANSPORT_LOST, WAMPD_ERR_SERIALIZATION, WAMPD_ERR_LIMIT, WAMPD_ERR_NOMEM (the
 * invocation is still owed after a failure).
 */
enum wampd_err wampc_yield(wampc *c, uint64_t request, bool progress,
                           const struct wampc_payload *p);

/* Answer invocation `request` with ERROR error_uri (required) and an optional payload.
 * Errors as wampc_yield. */
enum wampd_err wampc_invocation_error(wampc *c, uint64_t request, const char *error_uri,
                                      const struct wampc_payload *p);

/* ================================================== the sans-I/O interface (adapters) */

enum {
	WAMPC_WANT_CONNECT = 1u << 0, /* open a connection, then wampc_transport_open() (or
	                                 wampc_transport_closed() if that failed) */
	WAMPC_WANT_READ = 1u << 1,    /* feed received bytes (cleared while the send queue is
	                                 over its bound: back-pressure on the router) */
	WAMPC_WANT_WRITE = 1u << 2,   /* wampc_transport_output() has bytes */
	WAMPC_WANT_CLOSE = 1u << 3,   /* close the connection once the output is written (or
	                                 now, if it cannot be), then wampc_transport_closed() */
};

/* What the engine wants now (WAMPC_WANT_* bits; 0: nothing but its timer). */
unsigned wampc_want(const wampc *c);

/* The connection is open: the engine queues the RawSocket handshake (RawSocket framing)
 * and HELLO. WAMPD_ERR_INVALID_ARGUMENT when no connection was wanted. */
enum wampd_err wampc_transport_open(wampc *c);

/*
 * Bytes received (RawSocket framing: any split of the stream). Handles every complete
 * message, calling the application's callbacks. Returns WAMPD_OK, or the error that made
 * the engine end the connection (WAMPD_ERR_PROTOCOL: malformed input, ABORT sent;
 * WAMPD_ERR_TOO_BIG); the engine then wants WAMPC_WANT_CLOSE. data borrowed.
 */
enum wampd_err wampc_transport_input(wampc *c, const void *data, size_t len);

/* One whole message received (message framing). As wampc_transport_input. */
enum wampd_err wampc_transport_message(wampc *c, const void *data, size_t len);

/*
 * The next bytes to write: *data points to them (owned by the engine, valid until the next
 * call into the engine), the return value is their length (0: nothing to write).
 * RawSocket framing: any prefix may be written, report it with wampc_transport_consumed.
 * Message framing: one whole message; *binary (may be NULL) says binary or text frame;
 * the adapter may change the bytes and the WAMPC_HEADROOM bytes before *data (a WebSocket
 * library writes its frame header there and masks the payload in place).
 */
#define WAMPC_HEADROOM 16
size_t wampc_transport_output(wampc *c, const uint8_t **data, bool *binary);
/* n bytes of the output were written. */
void wampc_transport_consumed(wampc *c, size_t n);

/* The connection is closed (by either side) or the attempt failed. Calls in flight end
 * with wamp.close.transport_lost, unsent publications go back to the offline queue, and
 * with reconnect the backoff timer starts. */
void wampc_transport_closed(wampc *c);

/* Why the connection failed or ended, in words (copied; the first one given since the
 * attempt began is kept): the next WAMPC_LEFT event carries it as transport_error. */
void wampc_transport_error(wampc *c, const char *what);

/* Milliseconds until wampc_tick() is due (0: now), or -1 when no timer runs. */
int64_t wampc_next_timeout(const wampc *c);

/* Run the timers that are due (call timeouts, join/goodbye/ping timeouts, the reconnect
 * backoff). */
void wampc_tick(wampc *c);

/* Tell the engine the TLS channel's tls-unique binding (32 bytes, copied) for the next
 * HELLO's cryptosign channel binding; NULL clears it (so does the end of a connection).
 * TLS adapters call it, when the configuration asks for it (tls.channel_binding), before
 * wampc_transport_open. */
void wampc_set_channel_binding(wampc *c, const uint8_t tls_unique[32]);

/* ============================================================== writing an adapter */

/*
 * What an adapter (posix.c, lws.c, or one for an RTOS socket layer) needs beyond the
 * sans-I/O calls above.
 *
 * Its state hangs on the client: wampc_set_adapter(c, ops, state) attaches it (the previous
 * adapter's free runs first); ops->free(state) runs when the client is freed or another
 * adapter is attached; wampc_adapter(c, ops) returns the state when ops is the attached
 * adapter (NULL otherwise). ops->update(c, state), when not NULL, runs each time the
 * outermost library call on c returns (an application's wampc_publish from its own timer
 * included), so an event-driven adapter can ask its loop for writability, re-arm its timer
 * or schedule a connection; it must not call back into the engine (only wampc_want,
 * wampc_next_timeout and other readers), and it does not run for a client being freed.
 *
 * The application may call wampc_free from any callback; the free is deferred until the
 * outermost library call returns. An adapter that makes several calls in a row brackets
 * them with wampc_hold and wampc_release: when wampc_release returns true the client (and
 * the adapter's state, through ops->free) is gone, and must not be touched again.
 */
struct wampc_adapter_ops {
	const char *name;
	void (*update)(wampc *c, void *state);
	void (*free)(void *state);
};
void wampc_set_adapter(wampc *c, const struct wampc_adapter_ops *ops, void *state);
void *wampc_adapter(const wampc *c, const struct wampc_adapter_ops *ops);
/* The name of the attached adapter (its ops->name), or NULL when there is none. */
const char *wampc_adapter_name(const wampc *c);
void wampc_hold(wampc *c);
bool wampc_release(wampc *c);

/* A view of the client's configuration (wampc_new's copies: valid while the client is;
 * the secrets are left NULL). */
void wampc_get_config(const wampc *c, struct wampc_config *cfg);

/* Make the run loop in progress (wampc_run, wampc_lws_run) return after its current step;
 * wampc_free from a callback does it too. */
void wampc_stop(wampc *c);
/* For run loops: true once after wampc_stop (reading it clears it). */
bool wampc_stop_requested(wampc *c);

/*
 * A parsed wampc_config.url. RawSocket: rs://HOST:PORT, rawsocket://, tcp:// (the port is
 * required), rss://HOST:PORT (TLS), unix:PATH or unix://PATH. WebSocket:
 * ws://HOST[:PORT][/PATH] (port 80, path "/" by default), wss:// (TLS, port 443). HOST
 * may be [IPv6]. false when url is none of these.
 */
struct wampc_url {
	bool websocket;          /* ws://, wss:// (else RawSocket) */
	bool tls;                /* rss://, wss:// */
	bool unix_socket;        /* unix: (path is the socket's) */
	char host[256];          /* TCP: name or address (IPv6 without its brackets) */
	uint16_t port;
	char path[256];          /* WebSocket: the request path; unix: the socket path */
};
bool wampc_url_parse(const char *url, struct wampc_url *u);

/* ==================================== the POSIX adapter: TCP, TLS (OpenSSL) and Unix */

/*
 * Run the client on its own poll(2) loop until wampc_stop() is called (from a callback),
 * the client stops for good (left, or gave up reconnecting), or timeout_ms passes (-1:
 * no limit). Starts the client if it is not started. Returns WAMPD_OK;
 * WAMPD_ERR_INVALID_ARGUMENT for a URL that is not the POSIX adapter's (ws://, wss://: see
 * wampc_lws.h) or no URL; WAMPD_ERR_FEATURE_NOT_SUPPORTED for rss:// in a build without
 * TLS; WAMPD_ERR_INTERNAL when poll fails.
 */
enum wampd_err wampc_run(wampc *c, int timeout_ms);

/*
 * Integration into an application's loop (select, poll, epoll, libuv...):
 *   fd = wampc_socket(c)             -1 while there is no connection (then only the timer)
 *                                    (-1 too for a client of another adapter)
 *   ev = wampc_loop_events(c)        WAMPC_POLLIN / WAMPC_POLLOUT wanted on fd
 *   ms = wampc_loop_timeout(c)       longest wait before wampc_loop_misc (-1: none)
 *   readable -> wampc_loop_read(c), writable -> wampc_loop_write(c),
 *   and always, after the wait -> wampc_loop_misc(c) (timers, connecting, closing).
 * The fd may change after any of these calls (reconnect): look it up again each round.
 * They return WAMPD_OK, or the error that ended the connection (already handled: the
 * engine reconnects or stops as configured); wampc_loop_misc returns wampc_run's errors
 * for a URL it cannot serve. Over TLS, ev may ask for POLLOUT to read (a TLS handshake
 * or renegotiation step), and decrypted input may wait inside the TLS layer: then
 * wampc_loop_timeout is 0 and wampc_loop_misc reads it.
 */
enum { WAMPC_POLLIN = 1, WAMPC_POLLOUT = 4 };
int wampc_socket(const wampc *c);
unsigned wampc_loop_events(const wampc *c);
int wampc_loop_timeout(const wampc *c);
enum wampd_err wampc_loop_read(wampc *c);
enum wampd_err wampc_loop_write(wampc *c);
enum wampd_err wampc_loop_misc(wampc *c);

#ifdef __cplusplus
}
#endif

#endif
