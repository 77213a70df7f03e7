/*
 * reuseport.h - a TCP listener that several processes share (SO_REUSEPORT), for cluster
 * nodes on one machine. libwebsockets 4.1.6 does not set SO_REUSEPORT on its listeners
 * (LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE only takes effect with several service threads),
 * so the listening socket is made here and adopted into lws as a raw descriptor; every
 * connection it accepts is handed to a vhost as if that vhost had accepted it.
 */
#ifndef WAMPD_ROUTER_REUSEPORT_H
#define WAMPD_ROUTER_REUSEPORT_H

struct lws_context;
struct lws_vhost;
struct reuseport;

/*
 * Listen on host (NULL: all interfaces):port (0: any free port) with SO_REUSEADDR and
 * SO_REUSEPORT, on ctx's event loop; accepted connections are adopted as raw sockets on
 * `target` with its protocol named `protocol` (borrowed; both must outlive the listener).
 * Returns NULL after logging why (bind failure, no memory).
 */
struct reuseport *reuseport_listen(struct lws_context *ctx, struct lws_vhost *target,
                                   const char *protocol, const char *host, int port);

/* The port it listens on. */
int reuseport_port(const struct reuseport *rp);

/* Free the listener after lws_context_destroy() closed its socket. NULL is ignored. */
void reuseport_free(struct reuseport *rp);

#endif
