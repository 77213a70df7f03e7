/*
 * conn.c - the connection core (see conn.h): admission, the registry, the bounded send
 * queue with the slow-consumer close, and the realm's peer interface, once for every
 * transport.
 *
 * The registry is a doubly linked list in the router (utlist): O(1) to link and unlink,
 * walked only by the shutdown and by a metrics scrape (queue statistics). Nothing here is
 * global: a router (and one day a loop per core) owns its connections.
 */
#include "router/core/conn.h"

#include <stdio.h>
#include <utlist.h>

#include "common/log.h"
#include "router/core/protocol.h"
#include "router/core/resume.h"

bool conn_admit(struct router *rt, const char *kind, const char *addr)
{
	if (rt->shutting_down)
		return false;
	if (rt->nconns >= rt->cfg.max_sessions) {
		wlog_warn(kind, "refusing connection peer=%s: max_sessions=%u reached", addr,
		          rt->cfg.max_sessions);
		return false;
	}
	return true;
}

void conn_open(struct conn *c)
{
	DL_APPEND(c->rt->conns, c);
	c->open = true;
}

void conn_count(struct conn *c)
{
	c->counted = true;
	c->rt->nconns++;
	c->rt->stats.sessions_opened++;
}

void conn_release(struct conn *c)
{
	outq_clear(&c->q);
	if (c->counted)
		c->rt->nconns--;
	c->counted = false;
	if (c->open)
		DL_DELETE(c->rt->conns, c);
	c->open = false;
}

void conn_close(struct conn *c, int code, const char *reason, bool now)
{
	if (c->closing && !now)
		return;
	c->closing = true;
	c->ops->close(c, code, reason, now);
}

static bool conn_queue_within(struct conn *c, struct wamp_out *out, size_t max_bytes)
{
	if (!outq_push(&c->q, out, max_bytes))
		return false;
	if (c->q.count == 1 && c->ops->kick)
		c->ops->kick(c);
	return true;
}

bool conn_queue(struct conn *c, struct wamp_out *out)
{
	return conn_queue_within(c, out, c->rt->cfg.send_queue_bytes);
}

enum wampd_err conn_send(struct conn *c, struct wamp_out *out)
{
	struct router *rt = c->rt;

	if (c->closing)
		return WAMPD_OK; /* going away; its client is told by the close */
	/* what a resumable session is sent is in its replay log too, bounded there
	 * (resume.max_bytes, realm/replay.h): the queue holds references to those buffers, so
	 * its own bound would only refuse the replay of a log it cannot hold */
	if (!conn_queue_within(c, out, c->session && c->session->resume ? SIZE_MAX
	                                                                : rt->cfg.send_queue_bytes)) {
		int fd = c->ops->fd ? c->ops->fd(c) : -1;

		wlog_warn(c->ops->kind, "slow consumer: send queue over %zu bytes, closing "
		          "session=%llu peer=%s queued=%u", rt->cfg.send_queue_bytes,
		          c->session ? (unsigned long long)c->session->id : 0ULL, c->addr, c->q.count);
		rt->stats.slow_consumer_closes++;
		if (c->session && !c->session->resume)
			c->session->state = SESSION_CLOSING; /* a resumable one detaches, log intact */
		if (fd >= 0)
			outq_reset_on_close(fd);
		conn_close(c, 1008 /* policy violation */, "send queue limit", true);
		return WAMPD_ERR_LIMIT;
	}
	rt->stats.msgs_out++;
	return WAMPD_OK;
}

/* ------------------------------------------------------------------------------------ */
/* peer_ops: what realm/ sees of every connection                                         */

enum wampd_err conn_peer_send(void *peer, struct wamp_out *out)
{
	return conn_send(peer, out);
}

void conn_peer_close(void *peer, int code, const char *reason, bool now)
{
	conn_close(peer, code, reason, now);
}

void conn_peer_adopt(void *peer, struct session *s)
{
	((struct conn *)peer)->session = s;
}

const char *conn_peer_address(void *peer)
{
	return ((struct conn *)peer)->addr;
}

json_t *conn_peer_transport(void *peer)
{
	struct conn *c = peer;

	return c->ops->transport ? c->ops->transport(c) : NULL;
}

/* ------------------------------------------------------------------------------------ */
/* the registry                                                                           */

void conn_queue_stats(const struct router *rt, size_t *sum, size_t *max)
{
	const struct conn *c;

	DL_FOREACH(rt->conns, c) {
		*sum += c->q.bytes;
		if (c->q.bytes > *max)
			*max = c->q.bytes;
	}
}

void conn_shutdown_all(struct router *rt)
{
	struct conn *c, *tmp;

	resume_end_all(rt); /* detached sessions have no connection to say goodbye on */
	DL_FOREACH_SAFE(rt->conns, c, tmp)
		if (c->session)
			proto_shutdown(rt, c->session);
		else if (!c->ops->keep_on_shutdown)
			conn_close(c, 1001, "shutting down", true);
}

void conn_abandon_all(struct router *rt)
{
	struct conn *c;

	DL_FOREACH(rt->conns, c)
		c->closing = true;
}

int conn_more(struct conn *c)
{
	if (!c->q.count)
		return 0;
	c->ops->kick(c);
	return 1;
}

int conn_wrote(struct conn *c, int w)
{
	outq_pop(&c->q);
	return w < 0 ? -1 : conn_more(c);
}
