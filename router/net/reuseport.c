/*
 * reuseport.c - see reuseport.h. The listening socket is non-blocking; each readable event
 * accepts up to a bounded batch of connections (accept4, non-blocking, close-on-exec) and
 * adopts each one on the target vhost; another process listening on the same port gets its
 * own share of the connections from the kernel.
 */
#include "router/net/reuseport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define REUSEPORT_ACCEPT_BATCH 64

struct reuseport {
	struct lws_vhost *target;
	const char *protocol;
	struct lws_vhost *vhost;         /* ours: holds the listener's raw wsi */
	struct lws_protocols protocols[2];
	struct lws *wsi;
	int fd;
	int port;
};

static void reuseport_accept(struct reuseport *rp)
{
	for (int i = 0; i < REUSEPORT_ACCEPT_BATCH; i++) {
		lws_sock_file_fd_type u;
		int fd = accept4(rp->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				wlog_warn("ws", "accept on port %d: %s", rp->port, strerror(errno));
			return;
		}
		u.sockfd = fd;
		if (!lws_adopt_descriptor_vhost(rp->target, LWS_ADOPT_SOCKET, u, rp->protocol, NULL))
			close(fd); /* lws logged why (e.g. out of descriptors) */
	}
}

static int reuseport_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                              void *in, size_t len)
{
	struct reuseport *rp = lws_get_opaque_user_data(wsi);

	(void)user, (void)in, (void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE && rp)
		reuseport_accept(rp);
	else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE && rp)
		rp->wsi = NULL;
	return 0;
}

struct reuseport *reuseport_listen(struct lws_context *ctx, struct lws_vhost *target,
                                   const char *protocol, const char *host, int port)
{
	struct reuseport *rp = calloc(1, sizeof(*rp));
	struct lws_context_creation_info info;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t salen = sizeof(sa);
	lws_sock_file_fd_type u;
	int one = 1;

	if (!rp)
		return NULL;
	rp->fd = -1;
	rp->target = target;
	rp->protocol = protocol;
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (host && inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		wlog_error("ws", "reuse_port: host must be an IPv4 address: %s", host);
		goto fail;
	}
	if ((rp->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(rp->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(rp->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(rp->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(rp->fd, SOMAXCONN) ||
	    getsockname(rp->fd, (struct sockaddr *)&sa, &salen)) {
		wlog_error("ws", "cannot listen on %s:%d with SO_REUSEPORT: %s", host ? host : "*",
		           port, strerror(errno));
		goto fail;
	}
	rp->port = ntohs(sa.sin_port);
	rp->protocols[0].name = "wampd-reuseport";
	rp->protocols[0].callback = reuseport_callback;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = rp->protocols;
	info.vhost_name = "reuseport";
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	u.filefd = rp->fd;
	if (!(rp->vhost = lws_create_vhost(ctx, &info)) ||
	    !(rp->wsi = lws_adopt_descriptor_vhost(rp->vhost, LWS_ADOPT_RAW_FILE_DESC, u,
	                                           "wampd-reuseport", NULL))) {
		wlog_error("ws", "cannot add the listener of port %d to the event loop", rp->port);
		goto fail;
	}
	lws_set_opaque_user_data(rp->wsi, rp);
	return rp;
fail:
	if (rp->fd >= 0 && !rp->wsi)
		close(rp->fd);
	free(rp);
	return NULL;
}

int reuseport_port(const struct reuseport *rp)
{
	return rp->port;
}

void reuseport_free(struct reuseport *rp)
{
	free(rp);
}
