/*
 * listen.c - the listeners (see listen.h): for each configured listener the libwebsockets
 * vhosts that accept its connections, and what they print once they listen.
 *
 * A plain listener is two vhosts: the front door (front.c; the listening socket, raw until
 * it knows the protocol) and the WebSocket vhost without a listener of its own that adopts
 * the upgrades the front door hands over (CONTEXT_PORT_NO_LISTEN_SERVER). A TLS listener is
 * one vhost that listens itself (a front door cannot read an encrypted head): WebSocket and
 * lws' HTTP role for the HTTP services, and for a universal listener RawSocket by lws'
 * fallback to the "wampd-rawsocket" protocol (raw.c) when the decrypted first line is not
 * HTTP. The WebSocket vhost's protocols are: protocols[0] "http" (plain HTTP, and the
 * protocol lws falls back to for an upgrade naming no subprotocol, which is refused), then
 * one "wamp.2.<serializer>" protocol per serializer the listener enables (and its .batched
 * twin; the names are the serializer descriptor table's), all served by ws.c's callback;
 * lws picks the first subprotocol of the client's list it knows. Every vhost's user is its
 * listener, so each connection is served with exactly its listener's configuration
 * (front.c: listener isolation).
 *
 * Only WebSocket listeners have a WebSocket vhost: a plain rawsocket listener's connections
 * stay on the front door, and so do an http listener's (HTTP services only: router/net/
 * http.c on the raw connection). A TLS port of http listeners alone is a vhost with
 * protocols[0] and nothing to upgrade to (every upgrade is answered 404).
 *
 * Listeners on one port (config.h, port_owner): the first one (the owner) listens; the
 * others are chained to it (front_target.next). Plain: each keeps its own WebSocket vhost
 * and the owner's front door hands every connection to exactly one of them (front.c).
 * TLS: the owner's vhost is the port's, offering the serializers they all serve (lws
 * picks the subprotocol before anything reads the path, so config.c requires one list);
 * an upgrade to a path none of them has is answered 404 when lws confirms it
 * (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE), and the listener of its path takes it when the
 * WebSocket protocol filters it (ws.c); RawSocket goes to the one serving it, an HTTP
 * request to the one with a service at its path. The port's WebSocket pings are its
 * owner's (lws keeps one retry policy per vhost).
 */
#include "router/net/listen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "router/net/http.h"
#include "router/http/httpsvc.h"
#include "router/net/raw.h"
#include "router/net/reuseport.h"
#include "router/net/tlspeer.h"
#include "router/net/ws.h"

#define WS_RAW_TLS_PROTOCOL "wampd-rawsocket" /* RawSocket over TLS (raw.c) */

/* The listeners whose connections a WebSocket vhost with user l may carry, one after the
 * other: over TLS those of its port (l is their owner), else l alone. */
static struct listener *listener_next_on_vhost(const struct listener *l,
                                               const struct listener *m)
{
	return l->cfg->tls_cert ? (struct listener *)m->front.next : NULL;
}

struct listener *listener_for_upgrade(struct listener *l, struct lws *wsi)
{
	char uri[512];
	int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);

	if (!l || n <= 0)
		return NULL;
	/* the front_target is the listener's first member */
	return (struct listener *)front_path_target(&l->front, uri, (size_t)n,
	                                             l->cfg->tls_cert != NULL);
}

/* protocols[0]: plain HTTP (on a TLS listener the HTTP services, router/net/http.c), the
 * choice of the listener of a WebSocket upgrade, and refusal of upgrades without a WAMP
 * subprotocol */
static int listener_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
                                  void *user, void *in, size_t len)
{
	/* some callbacks (GET_THREAD_ID) come with a wsi of no vhost */
	struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
	struct listener *l = vh ? lws_vhost_user(vh) : NULL, *m;
	bool http = false;
	int rc;

	for (m = l; m; m = listener_next_on_vhost(l, m)) {
		if (!m->front.http)
			continue;
		http = true;
		if (http_lws_serve(m->front.http, m->front.ipl, wsi, reason, in, len, &rc))
			return rc;
	}
	switch (reason) {
	case LWS_CALLBACK_WSI_DESTROY:
		/* every wsi of the vhost ends here; an HTTP connection is bound to us */
		if (http && lws_get_protocol(wsi) == &l->protocols[0])
			http_lws_destroyed(wsi);
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		return tlspeer_verify(len);
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		return l ? tlspeer_load_cas(user, l->cfg->tls_ca_more) : 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (!in || strcasecmp(in, "websocket"))
			return 0; /* lws refuses other upgrades itself */
		if (!(m = listener_for_upgrade(l, wsi))) {
			if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
			                           "no WAMP service at this path"))
				return -1;
			return 1;
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		wlog_info("ws", "refusing WebSocket upgrade without a WAMP subprotocol");
		return 1;
	case LWS_CALLBACK_HTTP:
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
		                           "wampd: connect with a WAMP WebSocket client"))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* The WebSocket vhost's protocols (see the file comment) for `serializers` (none: a port
 * serving HTTP only, whose vhost has protocols[0] alone), and the RawSocket-over-TLS one
 * when `raw_tls`. Returns how many WAMP subprotocols there are, or -1 on allocation
 * failure. */
static int listener_protocols(struct listener *l, unsigned serializers, bool raw_tls)
{
	int n = 1;

	l->protocols = calloc(3 + 2 * WAMP_SER__COUNT, sizeof(*l->protocols));
	if (!l->protocols)
		return -1;
	l->protocols[0].name = "http";
	l->protocols[0].callback = listener_http_callback;
	for (int batched = 0; batched < 2; batched++) {
		for (int ser = 0; ser < WAMP_SER__COUNT; ser++) {
			const struct wamp_serializer_desc *d = &wamp_serializers[ser];

			if (!(serializers & (1u << ser)) || !d->codec)
				continue;
			l->protocols[n].name = batched ? d->subprotocol_batched : d->subprotocol;
			l->protocols[n].callback = ws_callback;
			l->protocols[n].per_session_data_size = ws_pss_size();
			l->protocols[n].rx_buffer_size = WS_RX_CHUNK;
			l->protocols[n].id = (unsigned)ser | (batched ? WS_PROTO_BATCHED : 0);
			n++;
		}
	}
	if (raw_tls) {
		/* RawSocket next to HTTP over TLS: where lws binds a connection whose decrypted
		 * first line is not HTTP (see listener_tls) */
		l->protocols[n].name = WS_RAW_TLS_PROTOCOL;
		l->protocols[n].callback = raw_tls_callback;
		/* no per-session data: raw_tls_callback allocates its own (see there) */
	}
	return n - 1;
}

/* "listening ..." lines (stdout, which tests read, and the log) for one listener once its
 * port listens: its WebSocket URL, RawSocket, or Unix socket. */
static void listener_print(const struct listener *l)
{
	const struct listener_config *lc = l->cfg;
	/* where its port's socket is bound (--host moves the first listener's, with its port) */
	const char *host = l->owner->cfg->host ? l->owner->cfg->host : "0.0.0.0";
	bool tls = lc->tls_cert != NULL;

	if (lc->unix_path) {
		printf("listening unix:%s\n", lc->unix_path);
		wlog_notice("router", "listening unix=%s websocket=%s rawsocket=%s http=%s",
		            lc->unix_path, lc->websocket ? "yes" : "no", lc->rawsocket ? "yes" : "no",
		            lc->serves_http ? "yes" : "no");
		return;
	}
	if (!lc->websocket && !lc->rawsocket) {
		/* an http listener: its services (logged as "http service ...") */
		printf("listening %s://%s:%d/\n", tls ? "https" : "http", host, l->listen_port);
		wlog_notice("router", "listening url=%s://%s:%d/ (HTTP services only)",
		            tls ? "https" : "http", host, l->listen_port);
		return;
	}
	if (lc->websocket) {
		printf("listening %s://%s:%d%s\n", tls ? "wss" : "ws", host, l->listen_port,
		       strcmp(lc->path, "*") ? lc->path : "/");
		wlog_notice("router", "listening url=%s://%s:%d%s", tls ? "wss" : "ws", host,
		            l->listen_port, strcmp(lc->path, "*") ? lc->path : "/ (any path)");
	}
	if (lc->rawsocket) {
		printf("listening %s://%s:%d\n", tls ? "rss" : "rs", host, l->listen_port);
		wlog_notice("router", "listening rawsocket%s=%s:%d", tls ? "+tls" : "", host,
		            l->listen_port);
	}
}

/*
 * A TLS port's listening vhost, made by its owner l (OpenSSL through lws; the certificate,
 * key and client CA they share), for what the port's listeners serve together:
 * - HTTP (WebSocket, or HTTP services only: `http`): the vhost listens itself with lws'
 *   HTTP role (an upgrade goes to the listener of its path, see listener_http_callback
 *   and ws.c; on a port without a WebSocket listener every upgrade is answered 404);
 * - and RawSocket: a connection whose decrypted first line is not HTTP (a RawSocket
 *   client's first octet is 0x7F, which no HTTP method starts with) is handed by lws to
 *   the "wampd-rawsocket" protocol (raw.c) with the bytes it read
 *   (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG): the decrypted first octet
 *   decides, as the front door's first octet does without TLS;
 * - RawSocket only: a raw vhost whose connections all go to "wampd-rawsocket".
 * false on failure (logged).
 */
static bool listener_tls(struct lws_context *ctx, struct listener *l, size_t i, bool http,
                         bool rawsocket)
{
	const struct listener_config *lc = l->cfg;
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	memset(&info, 0, sizeof(info));
	info.port = lc->port;
	info.iface = lc->host;
	/* lws serves TLS on a vhost only with this bit in the vhost's own options (the
	 * client-certificate options carry it too, so it used to work only with a CA) */
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.ssl_cert_filepath = lc->tls_cert;
	info.ssl_private_key_filepath = lc->tls_key;
	if (lc->tls_ca) {
		info.ssl_ca_filepath = lc->tls_ca;
		info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
		if (!lc->tls_require_client_cert)
			info.options |= LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
	}
	if (rawsocket) {
		info.listen_accept_role = "raw-skt";
		info.listen_accept_protocol = WS_RAW_TLS_PROTOCOL;
	}
	if (http) {
		info.vhost_name = l->front.ws_vhost_name;
		info.protocols = l->protocols;
		info.user = l;
		info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
		/* HTTP/1.1 only: the HTTP services write HTTP/1.1 (http.h); lws would otherwise
		 * offer h2 first, which browsers take for https:// (WebSocket uses HTTP/1.1) */
		info.alpn = "http/1.1";
		info.keepalive_timeout = HTTP_IDLE_S;
		if (rawsocket)
			info.options |= LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
		if (lc->ping_interval_s && lc->ping_timeout_s)
			info.retry_and_idle_policy = &l->retry;
	} else {
		snprintf(l->front_name, sizeof(l->front_name), "wampd-rawtls-%04u", (unsigned)(i % 10000));
		info.vhost_name = l->front_name;
		l->front_protocols[0].name = WS_RAW_TLS_PROTOCOL;
		l->front_protocols[0].callback = raw_tls_callback;
		info.protocols = l->front_protocols;
		info.user = &l->front;
		info.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
	}
	vh = lws_create_vhost(ctx, &info);
	if (!vh) {
		wlog_error("listen", "cannot listen with TLS on %s:%d (listener %zu: check the "
		           "certificate, key and port)", lc->host ? lc->host : "0.0.0.0", lc->port, i);
		return false;
	}
	if (http)
		l->vhost = vh;
	else
		l->front_vhost = vh;
	l->listen_port = lws_get_vhost_listen_port(vh);
	return true;
}

/* A plain listener's WebSocket vhost, which adopts the upgrades its port's front door hands
 * it. false on failure (logged). */
static bool listener_ws_vhost(struct lws_context *ctx, struct listener *l, size_t i)
{
	const struct listener_config *lc = l->cfg;
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.iface = lc->host;
	info.protocols = l->protocols;
	info.user = l;
	info.vhost_name = l->front.ws_vhost_name;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
	if (lc->ping_interval_s && lc->ping_timeout_s)
		info.retry_and_idle_policy = &l->retry;
	l->vhost = lws_create_vhost(ctx, &info);
	l->front.ws_vhost = l->vhost;
	if (!l->vhost)
		wlog_error("listen", "cannot create the WebSocket vhost of listener %zu", i);
	return l->vhost != NULL;
}

/* A plain port's front door, made by its owner l: the listening socket (a Unix socket, or
 * ours when shared with SO_REUSEPORT: reuseport.c). false on failure (logged). */
static bool listener_front(struct lws_context *ctx, struct listener *l, size_t i)
{
	const struct listener_config *lc = l->cfg;
	struct lws_context_creation_info info;

	l->front_protocols[0].name = "wampd-front";
	l->front_protocols[0].callback = front_callback;
	l->front_protocols[0].per_session_data_size = front_pss_size();
	snprintf(l->front_name, sizeof(l->front_name), "wampd-front-%04u", (unsigned)(i % 10000));
	memset(&info, 0, sizeof(info));
	info.port = lc->port;
	info.iface = lc->host;
	info.protocols = l->front_protocols;
	info.user = &l->front;
	info.vhost_name = l->front_name;
	info.options = LWS_SERVER_OPTION_ONLY_RAW | LWS_SERVER_OPTION_DISABLE_IPV6;
	if (lc->reuse_port && !lc->unix_path) /* the listener is ours (reuseport.c) */
		info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	if (lc->unix_path) {
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = lc->unix_path;
		info.port = 0; /* lws: port 0 + UNIX_SOCK = a Unix socket at iface */
		unlink(lc->unix_path); /* a stale socket file from an earlier run */
	}
	l->front_vhost = lws_create_vhost(ctx, &info);
	if (!l->front_vhost) {
		wlog_error("listen", "cannot listen on %s:%d", lc->host ? lc->host : "*", lc->port);
		return false;
	}
	if (info.port == CONTEXT_PORT_NO_LISTEN_SERVER &&
	    !(l->reuseport = reuseport_listen(ctx, l->front_vhost, "wampd-front", lc->host,
	                                      lc->port)))
		return false;
	l->listen_port = l->reuseport ? reuseport_port(l->reuseport)
	                              : lws_get_vhost_listen_port(l->front_vhost);
	return true;
}

/* Listener i's own part: its configuration, what its port's front door hands it (its
 * front_target, chained after the earlier listeners of its port), its HTTP services, its
 * ping policy. false on failure (logged). */
static bool listener_init(struct listeners *ls, struct router *rt, size_t i)
{
	struct listener *l = &ls->l[i];
	const struct listener_config *lc = &rt->cfg.listeners[i];
	struct front_target **tail;

	l->rt = rt;
	l->cfg = lc;
	l->owner = &ls->l[lc->port_owner];
	/* lws keeps the name's pointer; front.c writes it into the Host of every head it
	 * hands over, to keep the connection on this listener's vhost (listener isolation) */
	snprintf(l->front.ws_vhost_name, sizeof(l->front.ws_vhost_name), FRONT_VHOST_NAME_FMT,
	         (unsigned)(i % 10000));
	l->front.serializers = lc->serializers;
	l->front.head_timeout_s = (int)rt->cfg.hello_timeout_s;
	l->front.ws_path = lc->path;
	/* a Unix socket has no peer address to limit per */
	l->front.ipl = lc->unix_path ? NULL : &rt->ipl;
	l->front.websocket = lc->websocket;
	l->front.rawsocket = lc->rawsocket;
	l->front.serves_http = lc->serves_http;
	l->front.rt = rt;
	l->front.auth = &lc->auth;
	l->front.max_message_size = lc->max_message_size;
	l->front.tls_ca_more = lc->tls_ca_more;
	l->retry.secs_since_valid_ping = (uint16_t)lc->ping_interval_s;
	l->retry.secs_since_valid_hangup = (uint16_t)lc->ping_timeout_s;
	if (l->owner != l) {
		for (tail = &l->owner->front.next; *tail; tail = &(*tail)->next)
			;
		*tail = &l->front;
	}
	if (lc->nhttp) {
		char why[256];

		if (!(l->front.http = httpsvc_listener_new(rt, lc, why, sizeof(why)))) {
			wlog_error("config", "listener %zu: %s", i, why);
			return false;
		}
	}
	return true;
}

bool listeners_open(struct listeners *ls, struct router *rt, struct lws_context *ctx)
{
	const struct config *cfg = &rt->cfg;

	ls->l = calloc(cfg->nlisteners, sizeof(*ls->l));
	if (!ls->l)
		return false;
	ls->n = cfg->nlisteners;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (!listener_init(ls, rt, i))
			return false;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct listener *l = &ls->l[i], *m;
		const struct listener_config *lc = l->cfg;
		/* the WebSocket subprotocols: those of WebSocket listeners only (an http
		 * listener's serializers are its long-poll sessions') */
		unsigned sers = lc->websocket ? lc->serializers : 0;
		bool ws = lc->websocket, raw = lc->rawsocket, http = lc->serves_http;
		int nprotos;

		if (lc->tls_cert && l->owner == l) {
			/* what the port's listeners serve together (see listener_tls; their WebSocket
			 * serializers are the same, config.c) */
			for (m = (struct listener *)l->front.next; m; m = (struct listener *)m->front.next) {
				sers |= m->cfg->websocket ? m->cfg->serializers : 0;
				ws = ws || m->cfg->websocket;
				raw = raw || m->cfg->rawsocket;
				http = http || m->cfg->serves_http;
			}
		}
		nprotos = listener_protocols(l, sers, lc->tls_cert && raw);
		if (nprotos < 0 || (ws && !nprotos)) {
			wlog_error("listen", "listener %zu: %s", i,
			           nprotos < 0 ? "out of memory" : "no supported serializer");
			return false;
		}
		if (lc->tls_cert) {
			/* TLS: the port's listening vhost itself (a front door cannot read an
			 * encrypted head; lws' HTTP role parses the HTTP services' requests there, see
			 * http.h) */
			if (lc->reuse_port && l->owner == l)
				wlog_warn("config", "listener %zu: reuse_port is not supported with TLS "
				          "yet; this listener does not share its port", i);
			if (l->owner == l && !listener_tls(ctx, l, i, ws || http, raw))
				return false;
			l->vhost = l->owner->vhost;
			l->listen_port = l->owner->listen_port;
		} else {
			/* only a WebSocket listener is handed upgrades (front.c): the others have no
			 * vhost to hand one to */
			if (lc->websocket && !listener_ws_vhost(ctx, l, i))
				return false;
			if (l->owner == l && !listener_front(ctx, l, i))
				return false;
			l->listen_port = l->owner->listen_port;
		}
		listener_print(l);
	}
	fflush(stdout);
	return true;
}

void listeners_close(struct listeners *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->l[i].protocols);
		reuseport_free(ls->l[i].reuseport);
		if (ls->l[i].cfg && ls->l[i].cfg->unix_path && ls->l[i].front_vhost)
			unlink(ls->l[i].cfg->unix_path);
	}
	free(ls->l);
	ls->l = NULL;
	ls->n = 0;
}
