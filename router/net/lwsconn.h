/*
 * lwsconn.h - what the transports on a libwebsockets connection (WebSocket, RawSocket,
 * plain HTTP) do alike to implement the connection core's operations (router/core/conn.h).
 */
#ifndef WAMPD_ROUTER_LWSCONN_H
#define WAMPD_ROUTER_LWSCONN_H

#include <libwebsockets.h>
#include <stdbool.h>

/*
 * Close wsi at once (at_once: lws closes it from the loop, dropping what is queued), or
 * after the next WRITEABLE callbacks have written what is queued (the transport returns -1
 * from the last one), bounded by flush_s seconds for a reader that does not read.
 */
static inline void lwsconn_close(struct lws *wsi, bool at_once, int flush_s)
{
	if (at_once) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, flush_s);
		lws_callback_on_writable(wsi);
	}
}

#endif
