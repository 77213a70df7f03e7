/*
 * lwsconn.h - what the transports on a libwebsockets connection (WebSocket, RawSocket,
 * plain HTTP) do alike to implement the connection core's operations (router/core/conn.h),
 * and how the ones on lws' raw role (RawSocket, plain HTTP) stop reading while lws holds
 * a write the socket did not take (lwsconn_raw_wrote).
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

/*
 * lws' raw role (RawSocket, also over TLS, and plain HTTP after the front door), after an
 * lws_write and at the start of each WRITEABLE callback. When the socket does not take a
 * whole write (the client reads slower than it is sent to), lws 4.1.6 keeps the rest
 * (lws_partial_buffered) and, until it has written it, reads nothing from the connection
 * (it must not let input cause more output) but leaves it in poll's input set: a client
 * that keeps sending while it does not read wakes the loop at once, every time, for as
 * long as it likes (one core; a RawSocket session that publishes and never reads, a plain
 * download that is not read with a pipelined request behind it). So while lws holds such a
 * rest, reading is off (rx flow control takes the connection out of poll's input set; the
 * kernel's receive buffer, then TCP, hold the client back, and no byte more is buffered
 * in wampd or lws); it is on again at the next WRITEABLE callback, which lws gives only
 * once it has written what it held. *rx_off is the transport's record of what was set, so
 * that lws is told only of a change (not once per message).
 */
static inline void lwsconn_raw_wrote(struct lws *wsi, bool *rx_off)
{
	bool off = lws_partial_buffered(wsi) != 0;

	if (off != *rx_off) {
		*rx_off = off;
		lws_rx_flow_control(wsi, off ? 0 : 1);
	}
}

#endif
