/*
 * outq.h - a session's send queue: a ring of refcounted encoded messages, bounded in bytes.
 *
 * The ring holds pointers only (no allocation per message once it has grown to the
 * session's working size); each slot holds one reference on its wamp_out. The byte bound
 * is the sum of queued message lengths; a message is refused when it would push the sum
 * over the bound, except into an empty queue (any message that passed the size limit can be
 * sent to a reader that keeps up).
 */
#ifndef WAMPD_ROUTER_OUTQ_H
#define WAMPD_ROUTER_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serializers/wamp_out.h"

struct outq {
	struct wamp_out **ring;
	uint32_t head;  /* index of the oldest message */
	uint32_t count; /* messages queued */
	uint32_t cap;   /* slots in ring (power of two) */
	size_t bytes;   /* sum of queued lengths */
};

/*
 * Queue out (takes a new reference). Returns false without queuing when the byte bound
 * would be exceeded or the ring cannot grow (allocation failure).
 */
bool outq_push(struct outq *q, struct wamp_out *out, size_t max_bytes);

/* The oldest message, still queued (borrowed), or NULL. */
static inline struct wamp_out *outq_peek(const struct outq *q)
{
	return q->count ? q->ring[q->head] : NULL;
}

/* Remove the oldest message and drop the queue's reference on it. */
void outq_pop(struct outq *q);

/* Drop every queued message and free the ring. */
void outq_clear(struct outq *q);

/*
 * A connection closed because its queue overflowed (a slow consumer) is reset rather than
 * shut down: SO_LINGER 0 makes close(2) discard the bytes the kernel still holds for it
 * (megabytes behind a reader that stopped) and send RST, so neither the router's kernel
 * memory nor the reader waits for a zero window to time out. Call before the close.
 */
void outq_reset_on_close(int fd);

#endif
