/*
 * lws.c - libwampc-ws, the libwebsockets adapter (wampc_lws.h): one libwampc client per
 * libwebsockets client connection, WebSocket (message framing) or RawSocket (lws raw
 * connections, byte framing; over TLS too: rss://), on an application's context or on one
 * of its own. What differs between ws/wss, rs/unix and rss is a table of transport
 * operations (connected, receive, writeable), picked from the URL at attach.
 *
 * It uses only libwampc's public interface (wampc.h: the sans-I/O calls and the adapter
 * slot) and tls.c's helpers for wss:// and rss://, and it never blocks:
 *   - the engine's wishes are read in the adapter's update hook, which runs whenever the
 *     outermost library call returns (the application's own calls included): it asks lws
 *     for a WRITEABLE callback when there is output, changes lws' rx flow control when the
 *     engine's wish to read changes (its back-pressure), and (re)arms one lws timer per
 *     client: at 0 when a connection is wanted or one still connecting must be abandoned,
 *     else at the engine's next timeout. The hook only sets flags and timers; connecting
 *     and closing happen in the timer's callback, so lws never calls back into us from
 *     inside the hook.
 *   - WRITEABLE: one lws_write per callback (lws' rule), then ask again while there is
 *     more. A WebSocket client masks its frames, and lws_write masks the payload in
 *     place: the engine's output is const (a message stays in the resumable session's
 *     replay log, and publications go back to the offline queue, after they were
 *     written), so a WebSocket message is copied into the connection's transmit buffer
 *     (LWS_PRE headroom, reused; one copy, no allocation per message) and written from
 *     there; RawSocket bytes are written as they are (lws does not change them). When
 *     the engine wants the connection closed and its output is written, the
 *     callback returns -1 (a WebSocket close 1000 first), bounded by CLOSE_GRACE_S; with
 *     no output left, lws is asked to close it at once.
 *   - input: WebSocket fragments (and frames lws splits into chunks) are put together up
 *     to the client's max_message, a message that arrives whole is handed over in place;
 *     RawSocket bytes go to the engine as they come.
 *   - rss://: libwebsockets 4.1 cannot run TLS on a raw client connection (after the TLS
 *     handshake it turns the connection to HTTP), so lws connects a plain raw socket and
 *     libwampc runs OpenSSL over it through memory BIOs, with tls.c's context and
 *     verification (see "rss://" below).
 *   - the end of a connection (CONNECTION_ERROR, CLOSED, or the wsi's destruction,
 *     whichever comes first) is wampc_transport_closed, with lws' reason as the transport
 *     error; callbacks of a connection that is no longer the client's are ignored. A new
 *     attempt the engine wants at once (wampc_reconnect) starts right there. lws runs its
 *     timers before it polls, so an end that came from one (a close, a connect timeout)
 *     wakes the poll (lws_cancel_service): the loop around lws_service sees the client
 *     stopped without waiting for another event.
 * Every sequence of engine calls is bracketed by wampc_hold/wampc_release: when the
 * application freed the client from a callback, the release says so and nothing of it is
 * touched again (the adapter's state went with it: conn_free detaches the connection,
 * which lws then closes).
 *
 * Vhosts: connections are made on vhosts this file adds to the context, so the
 * application's protocol list needs nothing from us: "wampc" for plain connections, and
 * for wss:// one per TLS configuration ("wampc-tls-" + a hash of the CA, certificate and
 * key settings) with the SSL_CTX tls.c made for it (libwebsockets' own client contexts
 * cannot take a CA directory or our verification settings). A vhost lives as long as the
 * context; its SSL_CTX is freed when lws destroys it (LWS_CALLBACK_PROTOCOL_DESTROY). The
 * server name to verify and send (SNI) is the connection's Host (libwebsockets checks it,
 * unless tls.insecure). rss:// connections use "wampc": their TLS is not lws'.
 */
#include "client/wampc_lws.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/tls.h"

#define CLOSE_GRACE_S 2   /* a close waits at most this long for its output to go */

_Static_assert(LWS_PRE <= WAMPC_HEADROOM, "lws_write writes LWS_PRE bytes before the data");

struct conn {
	wampc *c;
	struct lws_context *ctx;
	bool own_ctx;            /* made by wampc_lws_run, destroyed with the client */
	struct lws *wsi;         /* the connection (NULL: none) */
	bool open;               /* established: the engine was told */
	bool closing;            /* the close was asked of lws */
	bool reading;            /* rx flow control as last set */
	bool run_expired;        /* wampc_lws_run's time is up */
	bool insecure;           /* tls.insecure: nothing is verified */
	uint32_t max_message;
	struct wampc_url url;
	lws_sorted_usec_list_t sul;   /* the engine's timer; connect/abandon now */
	lws_sorted_usec_list_t run_sul;
	int64_t armed_ms;        /* what sul is armed for: -1 nothing, else the delay given */
	uint8_t *rx;             /* a WebSocket message in pieces */
	size_t rx_len, rx_cap;
	uint8_t *tx;             /* what lws_write writes from: LWS_PRE + the bytes */
	size_t tx_cap;
	const struct transport *t;
	SSL *ssl;                /* rss://: libwampc's TLS over the raw connection */
};

/* What differs between the kinds of connection: the callbacks' work once lws has the
 * connection up (connected), has input for it (receive), or lets it write (writeable).
 * Each returns what the lws callback returns (-1: close it; the client may be gone). */
struct transport {
	int (*connected)(struct conn *a, struct lws *wsi);
	int (*receive)(struct conn *a, struct lws *wsi, const uint8_t *in, size_t len);
	int (*writeable)(struct conn *a, struct lws *wsi);
};

#define TX_KEEP 65536  /* a transmit buffer up to this size is kept for the next message */

/* What a TLS vhost keeps: its SSL_CTX, freed with the vhost. */
struct vh_priv {
	SSL_CTX *ssl;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

static const struct lws_protocols protocols[] = {
	/* rx_buffer_size 0: the context's pt_serv_buf_size (an application that receives
	 * large messages can raise it; pieces are put together anyway) */
	{"wampc", callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void conn_free(void *state);
static void update(wampc *c, void *state);

static const struct wampc_adapter_ops lws_adapter = {"lws", update, conn_free};

/* ------------------------------------------------------------------------- vhosts */

/* The vhost for c's connections (made on first use). NULL with why on failure. */
static struct lws_vhost *vhost_for(struct conn *a, char *why, size_t why_len)
{
	struct lws_context_creation_info info;
	struct wampc_config cfg;
	struct lws_vhost *vh;
	struct vh_priv *priv;
	char name[48];
	SSL_CTX *ssl;

	wampc_get_config(a->c, &cfg);
	if (!a->url.tls || !a->url.websocket) { /* rss://: TLS is ours, not lws' */
		snprintf(name, sizeof(name), "wampc");
	} else {
		/* the TLS settings a context is made of (the server name is per connection) */
		const char *parts[] = {cfg.tls.ca_file, cfg.tls.ca_path, cfg.tls.cert_file,
		                       cfg.tls.key_file, cfg.tls.insecure ? "insecure" : "verify"};
		crypto_generichash_state st;
		uint8_t h[8];

		crypto_generichash_init(&st, NULL, 0, sizeof(h));
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			crypto_generichash_update(&st, (const uint8_t *)(parts[i] ? parts[i] : ""),
			                          parts[i] ? strlen(parts[i]) + 1 : 1);
		crypto_generichash_final(&st, h, sizeof(h));
		memcpy(name, "wampc-tls-", 10);
		sodium_bin2hex(name + 10, sizeof(name) - 10, h, sizeof(h));
	}
	if ((vh = lws_get_vhost_by_name(a->ctx, name)))
		return vh;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.vhost_name = name;
	ssl = NULL;
	if (a->url.tls && a->url.websocket) {
		if (!(ssl = wampc_tls_context(&cfg.tls, why, why_len)))
			return NULL;
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.provided_client_ssl_ctx = ssl;
	}
	if (!(vh = lws_create_vhost(a->ctx, &info))) {
		snprintf(why, why_len, "cannot make a libwebsockets vhost");
		SSL_CTX_free(ssl);
		return NULL;
	}
	if (ssl) {
		if (!(priv = lws_protocol_vh_priv_zalloc(vh, &protocols[0], sizeof(*priv)))) {
			snprintf(why, why_len, "out of memory");
			lws_vhost_destroy(vh);
			SSL_CTX_free(ssl);
			return NULL;
		}
		priv->ssl = ssl;
	}
	return vh;
}

/* ----------------------------------------------------------------- the connection */

static void connect_now(struct conn *a);
static SSL *tls_new(const struct wampc_tls *t, const char *host, char *why, size_t why_len);

/* The connection is gone (or never came): the engine hears it once. */
static void gone(struct conn *a, struct lws *wsi, const char *why)
{
	wampc *c = a->c;

	if (!a->wsi || a->wsi != wsi)
		return; /* not the client's connection (an abandoned one) */
	/* an lws timer may have closed it, and lws polls after its timers: wake that poll, so
	 * that a loop looking at wampc_stopped() after lws_service sees the client stopped */
	lws_cancel_service(a->ctx);
	a->wsi = NULL;
	a->open = a->closing = false;
	free(a->rx);
	a->rx = NULL;
	a->rx_len = a->rx_cap = 0;
	SSL_free(a->ssl);
	a->ssl = NULL;
	wampc_hold(c);
	if (why)
		wampc_transport_error(c, why);
	wampc_transport_closed(c);
	/* a new attempt wanted at once (wampc_reconnect) starts from here, as lws allows in
	 * a close callback, rather than a poll round later from the timer */
	if (!a->wsi && (wampc_want(c) & WAMPC_WANT_CONNECT))
		connect_now(a);
	wampc_release(c);
}

/* Start a connection attempt (from the timer: never inside the update hook). */
static void connect_now(struct conn *a)
{
	static const char *const subprotocols[] = {"wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"};
	struct lws_client_connect_info i;
	struct wampc_config cfg;
	struct lws_vhost *vh;
	char why[256], address[sizeof(a->url.path) + 1];
	wampc *c = a->c;

	wampc_get_config(c, &cfg);
	if (!(vh = vhost_for(a, why, sizeof(why)))) {
		wampc_transport_error(c, why);
		wampc_transport_closed(c);
		return;
	}
	memset(&i, 0, sizeof(i));
	i.context = a->ctx;
	i.vhost = vh;
	i.local_protocol_name = protocols[0].name;
	i.userdata = a;
	i.pwsi = &a->wsi;
	if (a->url.unix_socket) {
		snprintf(address, sizeof(address), "+%s", a->url.path); /* lws: "+" = Unix */
		i.address = address;
		i.host = "localhost";
	} else {
		i.address = a->url.host;
		i.port = a->url.port;
		i.host = cfg.tls.server_name ? cfg.tls.server_name : a->url.host;
	}
	if (a->url.websocket) {
		i.path = a->url.path;
		i.protocol = subprotocols[cfg.serializer < 3 ? cfg.serializer : 0];
	} else {
		i.method = "RAW";
	}
	if (a->url.tls && !a->url.websocket) {
		/* rss://: lws connects a raw socket and libwampc runs TLS over it (tls_*) */
		if (!(a->ssl = tls_new(&cfg.tls, a->url.host, why, sizeof(why)))) {
			wampc_transport_error(c, why);
			wampc_transport_closed(c);
			return;
		}
	} else if (a->url.tls) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (cfg.tls.insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
			                    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_INSECURE;
	}
	a->open = a->closing = false;
	a->reading = true;
	if (!lws_client_connect_via_info(&i)) {
		/* refused at once (lws did not call CONNECTION_ERROR): the attempt failed */
		a->wsi = NULL;
		SSL_free(a->ssl);
		a->ssl = NULL;
		wampc_transport_error(c, "libwebsockets cannot start the connection");
		wampc_transport_closed(c);
	}
}

/* The engine's timer: its ticks, and what the update hook left for now. */
static void wake_own_loop(struct conn *a);
static int tls_drain(struct conn *a, struct lws *wsi);

/* rss://: input the SSL holds (decrypted, or still in its read BIO) that the engine wants
 * now (lws' poll will not announce it). Not SSL_has_pending: a partial record it holds
 * waits for lws' next read. */
static bool tls_held(const struct conn *a, unsigned want)
{
	return a->ssl && a->wsi && a->open && !a->closing && (want & WAMPC_WANT_READ) &&
	       (SSL_pending(a->ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(a->ssl)) > 0);
}

static void on_timer(lws_sorted_usec_list_t *sul)
{
	struct conn *a = lws_container_of(sul, struct conn, sul);
	wampc *c = a->c;
	unsigned want;

	a->armed_ms = -1;
	wake_own_loop(a);
	wampc_hold(c);
	wampc_tick(c);
	want = wampc_want(c);
	if ((want & WAMPC_WANT_CONNECT) && !a->wsi)
		connect_now(a);
	else if ((want & WAMPC_WANT_CLOSE) && a->wsi && !a->open && !a->closing) {
		/* still connecting: abandon it (lws then reports its end) */
		a->closing = true;
		lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else if (tls_held(a, want) && tls_drain(a, a->wsi)) {
		/* the input failed: close it (lws then reports its end) */
		a->closing = true;
		lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	wampc_release(c);
}

static void arm(struct conn *a, int64_t ms)
{
	if (ms == a->armed_ms)
		return;
	a->armed_ms = ms;
	lws_sul_schedule(a->ctx, 0, &a->sul, on_timer,
	                 ms < 0 ? LWS_SET_TIMER_USEC_CANCEL : (lws_usec_t)ms * LWS_US_PER_MS);
}

/* The update hook: what the engine wants, as lws requests (see the top of the file). */
static void update(wampc *c, void *state)
{
	struct conn *a = state;
	unsigned want = wampc_want(c);

	if (a->wsi && a->open) {
		bool read = want & WAMPC_WANT_READ;

		if (want & WAMPC_WANT_WRITE)
			lws_callback_on_writable(a->wsi);
		if ((want & WAMPC_WANT_CLOSE) && !a->closing) {
			/* with output left, WRITEABLE writes it and then closes, within a grace
			 * time; with none, there is nothing to wait for */
			a->closing = true;
			lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK,
			                want & WAMPC_WANT_WRITE ? CLOSE_GRACE_S : LWS_TO_KILL_ASYNC);
		}
		if (read != a->reading && !a->closing) {
			a->reading = read;
			lws_rx_flow_control(a->wsi, read);
		}
	}
	if (((want & WAMPC_WANT_CONNECT) && !a->wsi) ||
	    ((want & WAMPC_WANT_CLOSE) && a->wsi && !a->open && !a->closing) ||
	    tls_held(a, want))
		arm(a, 0);
	else
		arm(a, wampc_next_timeout(c));
}

/* The connection's TLS: libwampc's own for rss://, lws' for wss:// (NULL: none). */
static SSL *conn_ssl(struct conn *a, struct lws *wsi)
{
	return a->ssl ? a->ssl : lws_get_ssl(wsi);
}

/* Established: TLS verified (lws', or ours for rss://), the channel binding taken, the
 * engine told. */
static int opened(struct conn *a, struct lws *wsi)
{
	struct wampc_config cfg;
	uint8_t binding[32];
	wampc *c = a->c;

	if (wsi != a->wsi)
		return -1;
	a->open = true;
	wampc_get_config(c, &cfg);
	wampc_hold(c);
	if (a->url.tls && cfg.tls.channel_binding && wampc_tls_unique(conn_ssl(a, wsi), binding))
		wampc_set_channel_binding(c, binding);
	wampc_transport_open(c);
	return wampc_release(c) ? -1 : 0;
}

/* A WebSocket message, whole or in pieces. */
static int ws_receive(struct conn *a, struct lws *wsi, const uint8_t *in, size_t len)
{
	bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
	size_t more = lws_remaining_packet_payload(wsi);
	wampc *c = a->c;

	if (first)
		a->rx_len = 0;
	if (first && final) {
		wampc_hold(c);
		wampc_transport_message(c, in, len);
		return wampc_release(c) ? -1 : 0;
	}
	if (a->rx_len + len + more > a->max_message) {
		wampc_transport_error(c, "a message over max_message");
		return -1;
	}
	if (a->rx_len + len > a->rx_cap) {
		size_t want = a->rx_len + len + more, cap = a->rx_cap ? a->rx_cap : 1024;
		uint8_t *n;

		while (cap < want)
			cap *= 2;
		if (!(n = realloc(a->rx, cap))) {
			wampc_transport_error(c, "out of memory");
			return -1;
		}
		a->rx = n;
		a->rx_cap = cap;
	}
	memcpy(a->rx + a->rx_len, in, len);
	a->rx_len += len;
	if (!final)
		return 0;
	wampc_hold(c);
	wampc_transport_message(c, a->rx, a->rx_len);
	if (wampc_release(c))
		return -1;
	/* an idle client keeps no receive buffer */
	free(a->rx);
	a->rx = NULL;
	a->rx_len = a->rx_cap = 0;
	return 0;
}

static int raw_receive(struct conn *a, struct lws *wsi, const uint8_t *in, size_t len)
{
	wampc *c = a->c;

	wampc_hold(c);
	wampc_transport_input(c, in, len);
	return wampc_release(c) ? -1 : 0;
}

/* Room for n bytes to write, LWS_PRE bytes into the transmit buffer (what was in it is
 * not kept); NULL on NOMEM. */
static uint8_t *tx_reserve(struct conn *a, size_t n)
{
	if (LWS_PRE + n > a->tx_cap) {
		size_t cap = a->tx_cap ? a->tx_cap : 1024;

		while (cap < LWS_PRE + n)
			cap *= 2;
		free(a->tx); /* nothing in it is kept between writes */
		if (!(a->tx = malloc(cap))) {
			a->tx_cap = 0;
			return NULL;
		}
		a->tx_cap = cap;
	}
	return a->tx + LWS_PRE;
}

/* After a write: a large transmit buffer is not kept (lws keeps what it could not write
 * at once). */
static void tx_done(struct conn *a)
{
	if (a->tx_cap > TX_KEEP) {
		free(a->tx);
		a->tx = NULL;
		a->tx_cap = 0;
	}
}

/* A writable copy of a WebSocket message (lws masks it in place); NULL on NOMEM. */
static uint8_t *tx_copy(struct conn *a, const uint8_t *data, size_t n)
{
	uint8_t *b = tx_reserve(a, n);

	return b ? memcpy(b, data, n) : NULL;
}

/* WRITEABLE: one write; the close once the output is written. */
static int writeable(struct conn *a, struct lws *wsi)
{
	const uint8_t *data;
	uint8_t *buf;
	bool binary = false;
	size_t n;
	int w;
	wampc *c = a->c;

	if (wsi != a->wsi || !a->open)
		return 0;
	wampc_hold(c);
	n = wampc_transport_output(c, &data, &binary);
	if (n) {
		if (!a->url.websocket)
			buf = (uint8_t *)(uintptr_t)data; /* LWS_WRITE_RAW leaves it as it is */
		else if (!(buf = tx_copy(a, data, n))) {
			wampc_transport_error(c, "out of memory");
			wampc_release(c);
			return -1;
		}
		w = lws_write(wsi, buf, n,
		              !a->url.websocket ? LWS_WRITE_RAW
		              : binary          ? LWS_WRITE_BINARY
		                                : LWS_WRITE_TEXT);
		tx_done(a);
		if (w < (int)n) {
			wampc_transport_error(c, "write failed");
			wampc_release(c);
			return -1;
		}
		wampc_transport_consumed(c, n);
	}
	if (!wampc_transport_output(c, &data, NULL) && (wampc_want(c) & WAMPC_WANT_CLOSE)) {
		if (a->url.websocket)
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		wampc_release(c);
		return -1;
	}
	return wampc_release(c) ? -1 : 0;
}

/* ------------------------------------------------- rss://: TLS over a raw connection */

/*
 * lws 4.1 cannot run TLS on a raw client connection (after its handshake the connection
 * turns to HTTP), so for rss:// lws connects a plain raw socket and libwampc runs OpenSSL
 * over it through memory BIOs: what lws reads goes into the SSL's read BIO, what the SSL
 * writes is taken from its write BIO and written with lws_write. The context and the
 * verification are tls.c's, made per attempt as the POSIX adapter's rss:// makes them (a
 * renewed CA file or certificate is read at the next attempt), so both verify the same:
 * CA file or directory (else the system's store), the name or address, a client
 * certificate. The engine hears of the connection once the handshake is done.
 * Decrypted input the engine does not want yet (its back-pressure) stays in the SSL;
 * the update hook arms the timer at 0 to hand it over once it wants input again, as
 * lws' poll will not announce it.
 */

#define TLS_READ 16384          /* one TLS record */
#define TLS_READ_ROUNDS 16      /* reads per callback: one connection cannot starve the loop */
#define TLS_WRITE_MAX 65536     /* plaintext encrypted per WRITEABLE callback */

/* One connection's SSL over memory BIOs, verification prepared for host. */
static SSL *tls_new(const struct wampc_tls *t, const char *host, char *why, size_t why_len)
{
	SSL_CTX *ctx = wampc_tls_context(t, why, why_len);
	BIO *rb, *wb;
	SSL *ssl;

	if (!ctx)
		return NULL;
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	if (!ssl || !rb || !wb) {
		BIO_free(rb);
		BIO_free(wb);
		SSL_free(ssl);
		snprintf(why, why_len, "cannot set up TLS (out of memory)");
		return NULL;
	}
	BIO_set_mem_eof_return(rb, -1); /* empty is "more to come", not the end */
	SSL_set_bio(ssl, rb, wb);
	if (!wampc_tls_prepare(ssl, t, host)) {
		SSL_free(ssl);
		snprintf(why, why_len, "cannot set up TLS (out of memory)");
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* After an SSL call returned r <= 0: 0 when it waits for more input (or for the write
 * BIO, which never fills), -1 with the engine told why. */
static int tls_failed(struct conn *a, int r)
{
	char why[256];

	switch (SSL_get_error(a->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		wampc_transport_error(a->c, "the router closed the connection");
		return -1;
	default:
		wampc_tls_why(a->ssl, why, sizeof(why));
		wampc_transport_error(a->c, why);
		return -1;
	}
}

/* Ciphertext the SSL wrote: ask lws for a WRITEABLE callback to send it. */
static void tls_want_flush(struct conn *a, struct lws *wsi)
{
	if (BIO_ctrl_pending(SSL_get_wbio(a->ssl)))
		lws_callback_on_writable(wsi);
}

static int tls_connected(struct conn *a, struct lws *wsi)
{
	int r;

	if (wsi != a->wsi || !a->ssl)
		return -1;
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(a->ssl); /* the ClientHello, into the write BIO */
	tls_want_flush(a, wsi);
	return r == 1 ? 0 : tls_failed(a, r);
}

/* Decrypted input to the engine while it wants it, TLS_READ_ROUNDS reads at most. */
static int tls_drain(struct conn *a, struct lws *wsi)
{
	uint8_t buf[TLS_READ];
	wampc *c = a->c;
	int r = 1, err = 0;

	wampc_hold(c);
	for (int round = 0; round < TLS_READ_ROUNDS && (wampc_want(c) & WAMPC_WANT_READ);
	     round++) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_read(a->ssl, buf, sizeof(buf))) <= 0) {
			err = tls_failed(a, r);
			break;
		}
		wampc_transport_input(c, buf, (size_t)r);
	}
	tls_want_flush(a, wsi); /* what reading made the SSL send (a key update) */
	return wampc_release(c) || err ? -1 : 0;
}

static int tls_receive(struct conn *a, struct lws *wsi, const uint8_t *in, size_t len)
{
	int r;

	if (len > INT_MAX || BIO_write(SSL_get_rbio(a->ssl), in, (int)len) != (int)len) {
		wampc_transport_error(a->c, "out of memory");
		return -1;
	}
	if (!a->open) {
		ERR_clear_error();
		errno = 0;
		r = SSL_do_handshake(a->ssl);
		tls_want_flush(a, wsi);
		if (r != 1)
			return tls_failed(a, r);
		if (opened(a, wsi)) /* verified (tls.c's rules): the engine is told */
			return -1;
	}
	return tls_drain(a, wsi);
}

/* WRITEABLE: the engine's output encrypted (TLS_WRITE_MAX at most), close_notify when
 * the close is wanted and everything is out, then everything the SSL wrote in one
 * lws_write; the close once the output is written. */
static int tls_writeable(struct conn *a, struct lws *wsi)
{
	BIO *wb = a->ssl ? SSL_get_wbio(a->ssl) : NULL;
	const uint8_t *data;
	uint8_t *buf;
	size_t n;
	int r;
	wampc *c = a->c;
	bool close = false;

	if (wsi != a->wsi || !wb)
		return 0;
	wampc_hold(c);
	if (a->open && (n = wampc_transport_output(c, &data, NULL)) > 0) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_write(a->ssl, data, (int)(n < TLS_WRITE_MAX ? n : TLS_WRITE_MAX))) <= 0) {
			tls_failed(a, r);
			wampc_release(c);
			return -1;
		}
		wampc_transport_consumed(c, (size_t)r);
	}
	if (a->open && !wampc_transport_output(c, &data, NULL) &&
	    (wampc_want(c) & WAMPC_WANT_CLOSE)) {
		SSL_shutdown(a->ssl); /* close_notify: written with the rest */
		close = true;
	}
	if ((n = BIO_ctrl_pending(wb)) > 0) {
		if (!(buf = tx_reserve(a, n)) || BIO_read(wb, buf, (int)n) != (int)n ||
		    lws_write(wsi, buf, n, LWS_WRITE_RAW) < (int)n) {
			wampc_transport_error(c, buf ? "write failed" : "out of memory");
			tx_done(a);
			wampc_release(c);
			return -1;
		}
		tx_done(a);
	}
	if (close) {
		wampc_release(c);
		return -1;
	}
	if (a->open && wampc_transport_output(c, &data, NULL))
		lws_callback_on_writable(wsi);
	return wampc_release(c) ? -1 : 0;
}

static const struct transport websocket = {opened, ws_receive, writeable};
static const struct transport rawsocket = {opened, raw_receive, writeable};
static const struct transport rawsocket_tls = {tls_connected, tls_receive, tls_writeable};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
	struct conn *a = user;

	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_DESTROY: {
		struct vh_priv *p = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));

		if (p)
			SSL_CTX_free(p->ssl);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
	case LWS_CALLBACK_RAW_CONNECTED:
		return a ? a->t->connected(a, wsi) : -1;
	case LWS_CALLBACK_CLIENT_RECEIVE:
	case LWS_CALLBACK_RAW_RX:
		return a && wsi == a->wsi ? a->t->receive(a, wsi, in, len) : -1;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
	case LWS_CALLBACK_RAW_WRITEABLE:
		return a ? a->t->writeable(a, wsi) : -1;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[256];

		if (!a)
			return 0;
		/* lws' words for a certificate it refused are OpenSSL's error queue, which it
		 * consumed: the verification result says it better */
		if (!a->url.tls || a->insecure || !wampc_tls_verify_failed(conn_ssl(a, wsi), why,
		                                                           sizeof(why)))
			snprintf(why, sizeof(why), "%.*s",
			         in ? (int)(len < sizeof(why) ? len : sizeof(why) - 1) : 0,
			         in ? (const char *)in : "");
		gone(a, wsi, why[0] ? why : "connection failed");
		return 0;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_RAW_CLOSE:
	case LWS_CALLBACK_WSI_DESTROY:
		if (a)
			gone(a, wsi, !a->open  ? "the connection closed before it was established"
			             : a->ssl && !a->closing ? "the router closed the connection"
			                                     : NULL);
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ the adapter */

static void conn_free(void *state)
{
	struct conn *a = state;

	lws_sul_cancel(&a->sul);
	lws_sul_cancel(&a->run_sul);
	if (a->wsi) { /* let go of it: lws closes it, and its callbacks find no client */
		lws_set_wsi_user(a->wsi, NULL);
		lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	if (a->own_ctx)
		lws_context_destroy(a->ctx);
	free(a->rx);
	free(a->tx);
	SSL_free(a->ssl);
	free(a);
}

static enum wampd_err attach(wampc *c, struct lws_context *ctx, bool own, struct conn **out)
{
	struct wampc_config cfg;
	struct conn *a;

	if (wampc_adapter_name(c))
		return WAMPD_ERR_INVALID_ARGUMENT; /* served already (by us or another adapter) */
	wampc_get_config(c, &cfg);
	if (!(a = calloc(1, sizeof(*a))))
		return WAMPD_ERR_NOMEM;
	if (!cfg.url || !wampc_url_parse(cfg.url, &a->url)) {
		free(a);
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	a->c = c;
	a->t = a->url.websocket ? &websocket : a->url.tls ? &rawsocket_tls : &rawsocket;
	a->ctx = ctx;
	a->own_ctx = own;
	a->max_message = cfg.max_message;
	a->insecure = cfg.tls.insecure;
	a->armed_ms = -1;
	a->reading = true;
	wampc_set_adapter(c, &lws_adapter, a);
	*out = a;
	return WAMPD_OK;
}

enum wampd_err wampc_lws_attach(wampc *c, struct lws_context *ctx)
{
	struct conn *a;
	enum wampd_err err;

	if (!ctx)
		return WAMPD_ERR_INVALID_ARGUMENT;
	if ((err = attach(c, ctx, false, &a)) != WAMPD_OK)
		return err;
	wampc_hold(c);
	wampc_release(c); /* the update hook: a started client connects */
	return WAMPD_OK;
}

/* lws runs due timers first and polls after them: a timer that ends wampc_lws_run's loop
 * (or may have stopped the client) wakes that poll, so lws_service returns now */
static void wake_own_loop(struct conn *a)
{
	if (a->own_ctx)
		lws_cancel_service(a->ctx);
}

static void on_run_timer(lws_sorted_usec_list_t *sul)
{
	struct conn *a = lws_container_of(sul, struct conn, run_sul);

	a->run_expired = true;
	wake_own_loop(a);
}

enum wampd_err wampc_lws_run(wampc *c, int timeout_ms)
{
	struct conn *a = wampc_adapter(c, &lws_adapter);
	enum wampd_err err = WAMPD_OK;

	if (!a) {
		struct lws_context_creation_info info;
		struct lws_context *ctx;

		memset(&info, 0, sizeof(info));
		info.port = CONTEXT_PORT_NO_LISTEN;
		info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		if (!(ctx = lws_create_context(&info)))
			return WAMPD_ERR_INTERNAL;
		if ((err = attach(c, ctx, true, &a)) != WAMPD_OK) {
			lws_context_destroy(ctx);
			return err;
		}
	}
	if (!a->own_ctx)
		return WAMPD_ERR_INVALID_ARGUMENT;
	/* Held for the whole loop, so that a wampc_free from a callback happens after it,
	 * outside lws_service (the context goes with the client). The update hook does not
	 * run inside a hold: it runs here after each service round instead (what a callback
	 * queued is asked for before the next poll). */
	wampc_hold(c);
	if (!wampc_started(c))
		wampc_start(c);
	a->run_expired = false;
	if (timeout_ms >= 0)
		lws_sul_schedule(a->ctx, 0, &a->run_sul, on_run_timer,
		                 (lws_usec_t)timeout_ms * LWS_US_PER_MS);
	for (;;) {
		update(c, a);
		if (wampc_stop_requested(c) || wampc_stopped(c) || a->run_expired)
			break;
		if (lws_service(a->ctx, 0) < 0) {
			err = WAMPD_ERR_INTERNAL;
			break;
		}
	}
	lws_sul_cancel(&a->run_sul);
	wampc_release(c);
	return err;
}

struct lws *wampc_lws_wsi(const wampc *c)
{
	const struct conn *a = wampc_adapter(c, &lws_adapter);

	return a ? a->wsi : NULL;
}
