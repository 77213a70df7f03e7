/*
 * outq.c - see outq.h. The ring grows by doubling and keeps its size (sessions that burst
 * once keep their slots; at 8 bytes a slot this is cheap next to the messages themselves).
 */
#include "router/core/outq.h"

#include <sys/socket.h>

#include <stdlib.h>

static bool outq_grow(struct outq *q)
{
	uint32_t ncap = q->cap ? q->cap * 2 : 8;
	struct wamp_out **n;

	if (ncap < q->cap)
		return false;
	n = malloc(sizeof(*n) * ncap);
	if (!n)
		return false;
	for (uint32_t i = 0; i < q->count; i++)
		n[i] = q->ring[(q->head + i) & (q->cap - 1)];
	free(q->ring);
	q->ring = n;
	q->head = 0;
	q->cap = ncap;
	return true;
}

bool outq_push(struct outq *q, struct wamp_out *out, size_t max_bytes)
{
	if (q->count && q->bytes + out->len > max_bytes)
		return false;
	if (q->count == q->cap && !outq_grow(q))
		return false;
	q->ring[(q->head + q->count) & (q->cap - 1)] = wamp_out_ref(out);
	q->count++;
	q->bytes += out->len;
	return true;
}

void outq_pop(struct outq *q)
{
	struct wamp_out *out;

	if (!q->count)
		return;
	out = q->ring[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->count--;
	q->bytes -= out->len;
	wamp_out_unref(out);
}

void outq_clear(struct outq *q)
{
	while (q->count)
		outq_pop(q);
	free(q->ring);
	q->ring = NULL;
	q->cap = 0;
	q->head = 0;
}

void outq_reset_on_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}
