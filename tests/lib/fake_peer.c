/*
 * fake_peer.c - see fake_peer.h.
 */
#include "fake_peer.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static enum wampd_err fake_send(void *peer, struct wamp_out *out)
{
	struct fake_peer *p = peer;

	if (p->queue_limit && p->nsent >= p->queue_limit) {
		p->closed = true;
		p->close_now = true;
		if (!p->s->resume) /* as conn_send: a resumable session detaches instead */
			p->s->state = SESSION_CLOSING;
		return WAMPD_ERR_LIMIT;
	}
	assert_true(p->nsent < FAKE_PEER_MAX);
	p->sent[p->nsent++] = wamp_out_ref(out);
	if (p->on_send)
		p->on_send(p, p->on_send_arg);
	return WAMPD_OK;
}

static void fake_close(void *peer, int code, const char *reason, bool now)
{
	struct fake_peer *p = peer;

	(void)reason;
	p->closed = true;
	p->close_code = code;
	p->close_now = now;
}

static const char *fake_address(void *peer)
{
	return ((struct fake_peer *)peer)->addr;
}

/* As the connection core's: the peer carries s from now on (a resumed session). */
static void fake_adopt(void *peer, struct session *s)
{
	((struct fake_peer *)peer)->s = s;
}

static const struct peer_ops fake_ops = {
	.send = fake_send,
	.close = fake_close,
	.address = fake_address,
	.adopt = fake_adopt,
};

struct session *fake_peer_session(struct fake_peer *p, enum wamp_ser ser,
                                  struct metrics *metrics)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->addr, sizeof(p->addr), "fake:%p", (void *)p);
	p->s = session_new(&fake_ops, p, ser, metrics);
	assert_non_null(p->s);
	return p->s;
}

bool fake_peer_next(struct fake_peer *p, struct wamp_msg *msg)
{
	struct wamp_out *out;
	char why[128];

	if (p->taken >= p->nsent)
		return false;
	out = p->sent[p->taken++];
	if (wamp_decode((enum wamp_ser)out->ser, wamp_out_data(out), out->len, NULL, msg, why,
	                sizeof(why)) != WAMPD_OK)
		fail_msg("router sent an undecodable message: %s", why);
	return true;
}

void fake_peer_reset(struct fake_peer *p)
{
	for (size_t i = 0; i < p->nsent; i++)
		wamp_out_unref(p->sent[i]);
	p->nsent = 0;
	p->taken = 0;
}

void fake_peer_destroy(struct fake_peer *p)
{
	fake_peer_reset(p);
	session_free(p->s);
	p->s = NULL;
}

void fake_msg(const char *json, struct wamp_msg *msg)
{
	char why[128];

	if (wamp_decode(WAMP_SER_JSON, (const uint8_t *)json, strlen(json), NULL, msg, why,
	                sizeof(why)) != WAMPD_OK)
		fail_msg("test message does not decode: %s: %s", json, why);
}
