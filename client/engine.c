/*
 * engine.c - the sans-I/O engine of libwampc: the client object and its states, RawSocket
 * framing, the send queue, timers, reconnect with backoff, and the input dispatch.
 *
 * States (enum cstate): IDLE -> CONNECT (the adapter is asked to connect) -> HANDSHAKE
 * (RawSocket only: our 4 octets sent, the router's awaited) -> HELLO (HELLO, and maybe
 * AUTHENTICATE, sent) -> JOINED -> GOODBYE (ours sent) -> CLOSING (the adapter is asked
 * to close) -> BACKOFF (reconnect timer) -> CONNECT ... or IDLE. Every state with a
 * deadline keeps it in t_state; wampc_tick acts on it.
 *
 * Input: bytes -> the RawSocket handshake reply (4 octets), then frames reassembled by
 * serializers/rawsocket.c (a frame wholly inside one read is handled in place, without a
 * copy) -> wamp_decode -> in_ops[type]: the states in which the router may send that
 * message and its handler. A message no state accepts (e.g. CALL, which only routers
 * receive) or one out of its state is a protocol violation: ABORT and close. While our
 * GOODBYE is out, everything but GOODBYE and ABORT is ignored.
 *
 * Output: roles build a struct wamp_msg; wampc_send encodes it once (wamp_encode: one
 * allocation) and queues the buffer; the RawSocket frame prefix is written into the
 * buffer's headroom, so the adapter writes prefix and message from one span.
 * The send queue is bounded by bytes: requests are refused with WAMPD_ERR_LIMIT past the
 * bound, and the engine stops asking for input until it drains (the engine's own replies,
 * PONG, ABORT, GOODBYE, restores, still go out: their number is bounded by the input).
 *
 * Reconnect: after a connection ends (or an attempt fails) with reconnect on, the next
 * attempt waits min(retry_max, retry_initial * 2^attempts) minus a random part of up to
 * retry_jitter percent of it (jitter spreads a fleet of devices that lost the same
 * router); attempts counts failures since the last WELCOME and max_retries stops it.
 *
 * Requests of every kind live in one id map (request id -> struct wampc_req); calls with a
 * timeout are also in a list sorted by deadline (inserted from the tail: timeouts are
 * mostly equal, so appending is the common case). When a connection ends, what each kind
 * of request becomes is a table (req_lost): calls and acknowledgements end with
 * wamp.close.transport_lost, (un)subscribe and (un)register are settled by pubsub.c/rpc.c.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"
#include "common/clock.h"
#include "common/ids.h"
#include "serializers/serializer.h"

#define DEF_MAX_MESSAGE (1u << 20)
#define DEF_QUEUE_BYTES (1u << 20)
#define DEF_PENDING 1024
#define DEF_JOIN_TIMEOUT 10000
#define DEF_GOODBYE_TIMEOUT 2000
#define DEF_RETRY_INITIAL 500
#define DEF_RETRY_MAX 30000
#define DEF_RETRY_JITTER 50
#define RS_PREFIX 4

_Static_assert(WAMP_OUT_HEADROOM >= RS_PREFIX, "the RawSocket prefix goes into the headroom");
_Static_assert((int)WAMPC_JSON == (int)WAMP_SER_JSON && (int)WAMPC_MSGPACK == (int)WAMP_SER_MSGPACK &&
               (int)WAMPC_CBOR == (int)WAMP_SER_CBOR, "public serializer numbers are wampd's");

int wampc_ser_from_name(const char *name)
{
	const struct wamp_serializer_desc *d = name ? wamp_ser_by_name(name) : NULL;

	return d ? (int)d->ser : -1;
}

static int64_t default_clock(void *ud)
{
	return clock_mono_ms();
}

static uint32_t default_random(void *ud)
{
	return randombytes_random();
}

int64_t wampc_now(const wampc *c)
{
	return c->clock_ms(c->clock_ud);
}

/* ------------------------------------------------------------------- create, free */

static bool dup_str(char **dst, const char *src)
{
	if (!src)
		return true;
	*dst = strdup(src);
	return *dst != NULL;
}

#define DEF(v, d) ((v) ? (v) : (d))

static enum wampd_err config_check(const struct wampc_config *cfg, struct wampc_url *url)
{
	unsigned m = cfg->authmethods ? cfg->authmethods : WAMPC_AUTH_ANONYMOUS;

	if (!cfg->realm || !*cfg->realm || !wamp_ser_supported((enum wamp_ser)cfg->serializer) ||
	    (unsigned)cfg->framing > WAMPC_FRAMING_MESSAGE)
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (cfg->url && !wampc_url_parse(cfg->url, url))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (cfg->roles & ~(unsigned)(WAMPC_ROLE_CALLER | WAMPC_ROLE_CALLEE | WAMPC_ROLE_PUBLISHER |
	                             WAMPC_ROLE_SUBSCRIBER))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if ((m & ~(unsigned)(WAMPC_AUTH_ANONYMOUS | WAMPC_AUTH_TICKET | WAMPC_AUTH_WAMPCRA |
	                     WAMPC_AUTH_CRYPTOSIGN | WAMPC_AUTH_TLS)) ||
	    ((m & WAMPC_AUTH_TICKET) && !cfg->ticket) ||
	    ((m & WAMPC_AUTH_WAMPCRA) && (!cfg->secret || !cfg->authid)) ||
	    ((m & WAMPC_AUTH_CRYPTOSIGN) && !cfg->cryptosign_seed) ||
	    /* a client certificate is shown only over TLS */
	    ((m & WAMPC_AUTH_TLS) && (!cfg->tls.cert_file || (cfg->url && !url->tls))) ||
	    (cfg->tls.key_file && !cfg->tls.cert_file))
		return WAMPD_ERR_INVALID_ARGUMENT;
#ifndef WAMPC_HAVE_WAMPCRA
	if (m & WAMPC_AUTH_WAMPCRA)
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
#endif
#ifndef WAMPC_HAVE_CRYPTOSIGN
	if (m & WAMPC_AUTH_CRYPTOSIGN)
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
#endif
	if (cfg->authextra && !json_is_object((const json_t *)cfg->authextra))
		return WAMPD_ERR_INVALID_ARGUMENT;
	return WAMPD_OK;
}

wampc *wampc_new(const struct wampc_config *cfg, enum wampd_err *errp)
{
	enum wampd_err dummy, *err = errp ? errp : &dummy;
	struct wampc_url url = {0};
	wampc *c;

	if (!cfg || (*err = config_check(cfg, &url)) != WAMPD_OK) {
		if (!cfg)
			*err = WAMPD_ERR_INVALID_ARGUMENT;
		return NULL;
	}
	if (sodium_init() < 0) {
		*err = WAMPD_ERR_INTERNAL;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	c->ser = (enum wamp_ser)cfg->serializer;
	c->framing = url.websocket ? WAMPC_FRAMING_MESSAGE : cfg->framing;
	c->authmethods = cfg->authmethods ? cfg->authmethods : WAMPC_AUTH_ANONYMOUS;
	c->roles = cfg->roles ? cfg->roles : WAMPC_ROLE_CALLER | WAMPC_ROLE_CALLEE |
	                                     WAMPC_ROLE_PUBLISHER | WAMPC_ROLE_SUBSCRIBER;
	c->max_message = DEF(cfg->max_message, DEF_MAX_MESSAGE);
	if (c->max_message > RS_MAX_LEN)
		c->max_message = RS_MAX_LEN;
	c->max_queue_bytes = DEF(cfg->max_queue_bytes, DEF_QUEUE_BYTES);
	c->max_pending = DEF(cfg->max_pending, DEF_PENDING);
	c->offline_max = cfg->offline_queue_bytes;
	c->offline_drop = cfg->offline_drop;
	c->join_timeout = DEF(cfg->join_timeout, DEF_JOIN_TIMEOUT);
	c->goodbye_timeout = DEF(cfg->goodbye_timeout, DEF_GOODBYE_TIMEOUT);
	c->ping_interval = cfg->ping_interval;
	c->ping_timeout = DEF(cfg->ping_timeout, cfg->ping_interval);
	c->reconnect = cfg->reconnect;
	c->resumable = cfg->resumable;
	c->retry_initial = DEF(cfg->retry_initial, DEF_RETRY_INITIAL);
	c->retry_max = DEF(cfg->retry_max, DEF_RETRY_MAX);
	c->retry_jitter = cfg->retry_jitter > 100 ? 100 : DEF(cfg->retry_jitter, DEF_RETRY_JITTER);
	c->max_retries = cfg->max_retries;
	c->on_session = cfg->on_session;
	c->ud = cfg->ud;
	c->clock_ms = cfg->clock_ms ? cfg->clock_ms : default_clock;
	c->random_u32 = cfg->random_u32 ? cfg->random_u32 : default_random;
	c->clock_ud = cfg->clock_ud;
	c->tls.insecure = cfg->tls.insecure;
	c->tls.channel_binding = cfg->tls.channel_binding;
	if (!dup_str(&c->url, cfg->url) || !dup_str(&c->realm, cfg->realm) ||
	    !dup_str(&c->authid, cfg->authid) || !dup_str(&c->ticket, cfg->ticket) ||
	    !dup_str(&c->secret, cfg->secret) || !dup_str(&c->tls.ca_file, cfg->tls.ca_file) ||
	    !dup_str(&c->tls.ca_path, cfg->tls.ca_path) ||
	    !dup_str(&c->tls.cert_file, cfg->tls.cert_file) ||
	    !dup_str(&c->tls.key_file, cfg->tls.key_file) ||
	    !dup_str(&c->tls.server_name, cfg->tls.server_name) ||
	    (cfg->authextra && !(c->authextra = json_deep_copy((const json_t *)cfg->authextra))))
		goto nomem;
	if (cfg->cryptosign_seed) {
		if (!(c->seed = malloc(CRYPTOSIGN_SEED_LEN)))
			goto nomem;
		memcpy(c->seed, cfg->cryptosign_seed, CRYPTOSIGN_SEED_LEN);
	}
	*err = WAMPD_OK;
	return c;
nomem:
	*err = WAMPD_ERR_NOMEM;
	wampc_free(c);
	return NULL;
}

static void free_requests(wampc *c)
{
	for (uint32_t i = 0; i < c->reqs.cap; i++)
		if (c->reqs.keys[i])
			free((struct wampc_req *)(uintptr_t)c->reqs.vals[i]);
	idmap_free(&c->reqs);
	c->thead = c->ttail = NULL;
}

static void really_free(wampc *c)
{
	if (c->adapter_ops && c->adapter_ops->free)
		c->adapter_ops->free(c->adapter_state);
	outq_clear(&c->sendq);
	outq_clear(&c->offline);
	resume_free(c);
	rs_rx_clear(&c->rx);
	free_requests(c);
	handles_free_all(c);
	idmap_free(&c->invs);
	session_free_secrets(c);
	free(c->url);
	free(c->realm);
	free(c->authid);
	json_decref(c->authextra);
	json_decref(c->opt_progress);
	for (size_t i = 0; i < sizeof(c->opt_publish) / sizeof(c->opt_publish[0]); i++)
		json_decref(c->opt_publish[i]);
	free(c->close_reason);
	free(c->transport_error);
	json_decref(c->close_details);
	free(c->tls.ca_file);
	free(c->tls.ca_path);
	free(c->tls.cert_file);
	free(c->tls.key_file);
	free(c->tls.server_name);
	free(c);
}

void wampc_free(wampc *c)
{
	if (!c)
		return;
	if (c->depth) { /* inside a library call (a callback): when it returns */
		c->free_pending = true;
		c->stop_run = true;
		return;
	}
	really_free(c);
}

void wampc_hold(wampc *c)
{
	c->depth++;
}

bool wampc_release(wampc *c)
{
	if (--c->depth == 0) {
		handles_free_dead(c);
		if (c->free_pending) {
			really_free(c);
			return true;
		}
		if (c->adapter_ops && c->adapter_ops->update)
			c->adapter_ops->update(c, c->adapter_state);
	}
	return false;
}

void wampc_set_adapter(wampc *c, const struct wampc_adapter_ops *ops, void *state)
{
	if (c->adapter_ops && c->adapter_ops->free)
		c->adapter_ops->free(c->adapter_state);
	c->adapter_ops = ops;
	c->adapter_state = state;
}

void *wampc_adapter(const wampc *c, const struct wampc_adapter_ops *ops)
{
	return c->adapter_ops == ops ? c->adapter_state : NULL;
}

const char *wampc_adapter_name(const wampc *c)
{
	return c->adapter_ops ? c->adapter_ops->name : NULL;
}

void wampc_get_config(const wampc *c, struct wampc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->url = c->url;
	cfg->realm = c->realm;
	cfg->serializer = (enum wampc_ser)c->ser;
	cfg->framing = c->framing;
	cfg->max_message = c->max_message;
	cfg->max_queue_bytes = c->max_queue_bytes;
	cfg->max_pending = c->max_pending;
	cfg->authid = c->authid;
	cfg->authmethods = c->authmethods;
	cfg->roles = c->roles;
	cfg->tls.ca_file = c->tls.ca_file;
	cfg->tls.ca_path = c->tls.ca_path;
	cfg->tls.cert_file = c->tls.cert_file;
	cfg->tls.key_file = c->tls.key_file;
	cfg->tls.server_name = c->tls.server_name;
	cfg->tls.insecure = c->tls.insecure;
	cfg->tls.channel_binding = c->tls.channel_binding;
	cfg->join_timeout = c->join_timeout;
	cfg->goodbye_timeout = c->goodbye_timeout;
	cfg->ping_interval = c->ping_interval;
	cfg->ping_timeout = c->ping_timeout;
	cfg->reconnect = c->reconnect;
	cfg->resumable = c->resumable;
	cfg->retry_initial = c->retry_initial;
	cfg->retry_max = c->retry_max;
	cfg->retry_jitter = c->retry_jitter;
	cfg->max_retries = c->max_retries;
	cfg->offline_queue_bytes = c->offline_max;
	cfg->offline_drop = c->offline_drop;
	cfg->on_session = c->on_session;
	cfg->ud = c->ud;
	cfg->clock_ms = c->clock_ms;
	cfg->random_u32 = c->random_u32;
	cfg->clock_ud = c->clock_ud;
}

void wampc_stop(wampc *c)
{
	c->stop_run = true;
}

bool wampc_stop_requested(wampc *c)
{
	bool stop = c->stop_run;

	c->stop_run = false;
	return stop;
}

/* ------------------------------------------------------------------- small helpers */

uint64_t wampc_next_request(wampc *c)
{
	return ids_next(&c->next_req);
}

struct wampc_req *wampc_req_new(wampc *c, enum req_kind kind, wampc_reply_fn fn, void *ud)
{
	struct wampc_req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->id = wampc_next_request(c);
	req->kind = kind;
	req->fn = fn;
	req->ud = ud;
	if (!idmap_put(&c->reqs, req->id, (uint64_t)(uintptr_t)req)) {
		free(req);
		return NULL;
	}
	if (kind == REQ_CALL || kind == REQ_PUBLISH)
		c->n_calls++;
	return req;
}

struct wampc_req *wampc_req_find(wampc *c, uint64_t id)
{
	uint64_t v;

	return idmap_get(&c->reqs, id, &v) ? (struct wampc_req *)(uintptr_t)v : NULL;
}

static void timer_unlink(wampc *c, struct wampc_req *req)
{
	if (!req->deadline)
		return;
	if (req->tprev)
		req->tprev->tnext = req->tnext;
	else
		c->thead = req->tnext;
	if (req->tnext)
		req->tnext->tprev = req->tprev;
	else
		c->ttail = req->tprev;
	req->tprev = req->tnext = NULL;
	req->deadline = 0;
}

void wampc_req_unlink(wampc *c, struct wampc_req *req)
{
	timer_unlink(c, req);
	if (idmap_del(&c->reqs, req->id, NULL) && (req->kind == REQ_CALL || req->kind == REQ_PUBLISH))
		c->n_calls--;
}

void wampc_req_free(wampc *c, struct wampc_req *req)
{
	wampc_req_unlink(c, req);
	free(req);
}

void wampc_timer_add(wampc *c, struct wampc_req *req, int64_t deadline)
{
	struct wampc_req *at = c->ttail;

	req->deadline = deadline ? deadline : 1;
	while (at && at->deadline > req->deadline)
		at = at->tprev;
	req->tprev = at;
	req->tnext = at ? at->tnext : c->thead;
	if (req->tnext)
		req->tnext->tprev = req;
	else
		c->ttail = req;
	if (at)
		at->tnext = req;
	else
		c->thead = req;
}

static const struct wampc_payload no_payload;

void wampc_reply(wampc *c, wampc_reply_fn fn, void *ud, const struct wampc_reply *r)
{
	if (fn)
		fn(c, r, ud);
}

void wampc_reply_local(wampc *c, struct wampc_req *req, enum wampd_err err)
{
	struct wampc_reply r = {.request = req->id, .error = err ? wampd_err_uri(err) : NULL,
	                        .payload = &no_payload};

	wampc_reply(c, req->fn, req->ud, &r);
}

void wampc_session_event(wampc *c, const struct wampc_session_info *info)
{
	if (c->on_session)
		c->on_session(c, info, c->ud);
}

void wampc_payload_from(struct wampc_payload *out, const struct wamp_payload *in)
{
	out->ser = (enum wampc_ser)in->ser;
	out->args = in->args;
	out->args_len = in->args_len;
	out->kwargs = in->kwargs;
	out->kwargs_len = in->kwargs_len;
	out->args_v = (const wampc_value *)in->args_v;
	out->kwargs_v = (const wampc_value *)in->kwargs_v;
}

void wampc_payload_to(struct wamp_payload *out, const struct wampc_payload *in)
{
	memset(out, 0, sizeof(*out));
	if (!in)
		return;
	out->ser = (enum wamp_ser)in->ser;
	out->args = in->args;
	out->args_len = in->args ? in->args_len : 0;
	out->kwargs = in->kwargs;
	out->kwargs_len = in->kwargs ? in->kwargs_len : 0;
	out->args_v = (json_t *)(uintptr_t)in->args_v;
	out->kwargs_v = (json_t *)(uintptr_t)in->kwargs_v;
}

void wampc_transport_error(wampc *c, const char *what)
{
	if (!c->transport_error && what)
		c->transport_error = strdup(what); /* NULL on NOMEM: the event has none */
}

void wampc_set_close_reason(wampc *c, const char *reason, const json_t *details)
{
	if (c->close_reason)
		return; /* the first reason is the one that ended the session */
	c->close_reason = reason ? strdup(reason) : NULL;
	c->close_details = details ? json_incref((json_t *)(uintptr_t)details) : NULL;
}

/* ------------------------------------------------------------------------- output */

static bool connected(const wampc *c)
{
	return c->state >= ST_HANDSHAKE && c->state <= ST_CLOSING;
}

bool wampc_in_session(const wampc *c)
{
	return c->state == ST_JOINED || resume_suspended(c);
}

size_t wampc_backlog(const wampc *c)
{
	return c->rs && c->rs->log.bytes > c->sendq.bytes ? c->rs->log.bytes : c->sendq.bytes;
}

struct wamp_out *wampc_encode(wampc *c, const struct wamp_msg *m, enum wampd_err *err)
{
	return wamp_encode(c->ser, m, err);
}

enum wampd_err wampc_queue(wampc *c, struct wamp_out *o, bool force)
{
	if (!force && wampc_backlog(c) >= c->max_queue_bytes) {
		wamp_out_unref(o);
		return WAMPD_ERR_LIMIT;
	}
	if (o->len > c->peer_max) {
		wamp_out_unref(o);
		return WAMPD_ERR_PAYLOAD_SIZE;
	}
	if (c->framing == WAMPC_FRAMING_RAWSOCKET)
		rs_prefix(wamp_out_data(o) - RS_PREFIX, RS_MSG, (uint32_t)o->len);
	if (resume_logs(c, o)) {
		if (!resume_log(c, o)) {
			wamp_out_unref(o);
			return WAMPD_ERR_NOMEM;
		}
		if (resume_suspended(c)) { /* written when the session is resumed */
			wamp_out_unref(o);
			return WAMPD_OK;
		}
	}
	if (!outq_push(&c->sendq, o)) {
		wamp_out_unref(o);
		return WAMPD_ERR_NOMEM;
	}
	c->stats.msgs_out++;
	return WAMPD_OK;
}

enum wampd_err wampc_send(wampc *c, const struct wamp_msg *m, bool force)
{
	enum wampd_err err;
	struct wamp_out *o;

	if ((!connected(c) || c->state == ST_CLOSING) && !resume_suspended(c))
		return WAMPD_ERR_TRANSPORT_LOST;
	if (!force && wampc_backlog(c) >= c->max_queue_bytes)
		return WAMPD_ERR_LIMIT; /* before paying for the encoding */
	if (!(o = wamp_encode(c->ser, m, &err)))
		return err;
	return wampc_queue(c, o, force);
}

/* A RawSocket PING or PONG (payload copied). */
static void send_control(wampc *c, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	struct wamp_out *o = wamp_out_new(len);

	if (!o)
		return; /* a lost PONG costs at most a reconnect */
	if (len)
		memcpy(wamp_out_data(o), data, len);
	o->len = len;
	rs_prefix(wamp_out_data(o) - RS_PREFIX, t, len);
	if (!outq_push(&c->sendq, o))
		wamp_out_unref(o);
}

size_t wampc_transport_output(wampc *c, const uint8_t **data, bool *binary)
{
	struct wamp_out *o;

	if (!connected(c))
		return 0;
	if (c->hs_out_off < c->hs_out_len) {
		*data = c->hs_out + c->hs_out_off;
		if (binary)
			*binary = true;
		return (size_t)(c->hs_out_len - c->hs_out_off);
	}
	if (!(o = outq_peek(&c->sendq)))
		return 0;
	if (binary)
		*binary = o->binary;
	if (c->framing == WAMPC_FRAMING_MESSAGE) {
		*data = wamp_out_data(o);
		return o->len;
	}
	*data = wamp_out_data(o) - RS_PREFIX + c->out_off;
	return o->len + RS_PREFIX - c->out_off;
}

void wampc_transport_consumed(wampc *c, size_t n)
{
	struct wamp_out *o;
	size_t total;

	c->stats.bytes_out += n;
	if (c->hs_out_off < c->hs_out_len) {
		size_t left = (size_t)(c->hs_out_len - c->hs_out_off);

		c->hs_out_off += (uint8_t)(n < left ? n : left);
		return;
	}
	if (!(o = outq_peek(&c->sendq)))
		return;
	total = c->framing == WAMPC_FRAMING_MESSAGE ? o->len : o->len + RS_PREFIX;
	c->out_off += n;
	if (c->framing == WAMPC_FRAMING_MESSAGE || c->out_off >= total) {
		wamp_out_unref(outq_pop(&c->sendq));
		c->out_off = 0;
	}
}

/* ------------------------------------------------------------------ state changes */

void wampc_close(wampc *c)
{
	if (c->state == ST_CONNECT || (connected(c) && c->state != ST_CLOSING)) {
		c->state = ST_CLOSING;
		c->t_state = 0;
	}
}

void wampc_fail(wampc *c, enum wampd_err err, const char *why, bool abort)
{
	if (c->state == ST_CLOSING)
		return;
	if (abort && (c->state == ST_HELLO || c->state == ST_JOINED || c->state == ST_GOODBYE)) {
		json_t *d = json_pack("{s:s}", "message", why ? why : wampd_err_str(err));
		struct wamp_msg m = {.type = WAMP_ABORT, .dict = d,
		                     .uri = wampd_err_uri(err), .uri_len = strlen(wampd_err_uri(err))};

		wampc_send(c, &m, true);
		json_decref(d);
	}
	wampc_set_close_reason(c, wampd_err_uri(err), NULL);
	c->input_err = err;
	wampc_close(c);
}

/* A connection attempt begins: it has join_timeout to become a session (a connect that
 * never completes, a router that never answers, included). */
static void want_connect(wampc *c)
{
	c->opened = false;
	c->state = ST_CONNECT;
	c->t_state = wampc_now(c) + c->join_timeout;
	c->stats.connects++;
}

enum wampd_err wampc_start(wampc *c)
{
	wampc_hold(c);
	c->started = true;
	if (c->state == ST_IDLE) {
		c->leaving = false;
		c->attempts = 0;
		want_connect(c);
	}
	wampc_release(c);
	return WAMPD_OK;
}

enum wampd_err wampc_leave(wampc *c, const char *reason)
{
	const char *uri = reason ? reason : "wamp.close.close_realm";

	wampc_hold(c);
	c->leaving = true;
	switch (c->state) {
	case ST_JOINED: {
		struct wamp_msg m = {.type = WAMP_GOODBYE, .uri = uri, .uri_len = strlen(uri)};

		if (wampc_send(c, &m, true) == WAMPD_OK) {
			c->state = ST_GOODBYE;
			c->t_state = wampc_now(c) + c->goodbye_timeout;
			wampc_set_close_reason(c, uri, NULL);
			break;
		}
		wampc_close(c);
		break;
	}
	case ST_CONNECT:
	case ST_HANDSHAKE:
	case ST_HELLO:
		wampc_set_close_reason(c, uri, NULL);
		wampc_close(c);
		break;
	case ST_BACKOFF:
		c->state = ST_IDLE;
		c->t_state = 0;
		if (resume_suspended(c)) { /* the suspended session ends here */
			wampc_set_close_reason(c, uri, NULL);
			wampc_session_over(c, false);
		}
		break;
	default:
		break;
	}
	wampc_release(c);
	return WAMPD_OK;
}

enum wampd_err wampc_reconnect(wampc *c)
{
	wampc_hold(c);
	c->started = true;
	c->leaving = false;
	if (c->state == ST_IDLE || c->state == ST_BACKOFF) {
		c->attempts = 0;
		want_connect(c);
	} else if (c->state != ST_CLOSING) {
		wampc_set_close_reason(c, wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST), NULL);
		wampc_close(c);
	}
	if (c->state == ST_CLOSING)
		c->reconnect_now = true;
	wampc_release(c);
	return WAMPD_OK;
}

bool wampc_joined(const wampc *c)
{
	return c->state == ST_JOINED;
}

uint64_t wampc_session_id(const wampc *c)
{
	return c->state == ST_JOINED ? c->session : 0;
}

bool wampc_stopped(const wampc *c)
{
	return c->state == ST_IDLE;
}

bool wampc_started(const wampc *c)
{
	return c->started;
}

void wampc_get_stats(const wampc *c, struct wampc_stats *st)
{
	*st = c->stats;
	st->offline_bytes = c->offline.bytes;
	st->queue_bytes = c->sendq.bytes;
}

void wampc_set_channel_binding(wampc *c, const uint8_t tls_unique[32])
{
	c->have_binding = tls_unique != NULL;
	if (tls_unique)
		memcpy(c->binding, tls_unique, 32);
	else
		sodium_memzero(c->binding, sizeof(c->binding));
}

unsigned wampc_want(const wampc *c)
{
	unsigned w = 0;

	if (c->state == ST_CONNECT)
		return WAMPC_WANT_CONNECT;
	if (!connected(c))
		return 0;
	if (c->state != ST_CLOSING && c->sendq.bytes <= c->max_queue_bytes)
		w |= WAMPC_WANT_READ;
	if (c->hs_out_off < c->hs_out_len || c->sendq.n)
		w |= WAMPC_WANT_WRITE;
	if (c->state == ST_CLOSING)
		w |= WAMPC_WANT_CLOSE;
	return w;
}

enum wampd_err wampc_transport_open(wampc *c)
{
	enum wampd_err err = WAMPD_OK;

	if (c->state != ST_CONNECT)
		return WAMPD_ERR_INVALID_ARGUMENT;
	wampc_hold(c);
	c->opened = true;
	rs_rx_clear(&c->rx);
	c->hs_in_len = 0;
	c->hs_out_len = c->hs_out_off = 0;
	c->out_off = 0;
	c->session = 0;
	c->ping_out = false;
	c->last_input = wampc_now(c);
	c->input_err = WAMPD_OK; /* t_state: the attempt's deadline, set when it began */
	if (c->framing == WAMPC_FRAMING_RAWSOCKET) {
		c->peer_max = RS_MAX_LEN; /* until the router's handshake says */
		rs_client_hello(c->hs_out, c->ser, c->max_message);
		c->hs_out_len = 4;
		c->state = ST_HANDSHAKE;
	} else {
		c->peer_max = UINT32_MAX;
		c->state = ST_HELLO;
		if ((err = session_hello(c)) != WAMPD_OK)
			wampc_fail(c, err, "HELLO could not be made", false);
	}
	wampc_release(c);
	return err;
}

/* ------------------------------------------------------------------------- input */

#define S(st) (1u << (st))
#define IN_SESSION (S(ST_JOINED))

static void on_error(wampc *c, struct wamp_msg *m);

/* What the router may send, and when: everything else is a protocol violation. */
static const struct in_op {
	void (*fn)(wampc *c, struct wamp_msg *m);
	unsigned states;
} in_ops[WAMP_TYPE__MAX + 1] = {
	[WAMP_WELCOME] = {session_on_welcome, S(ST_HELLO)},
	[WAMP_ABORT] = {session_on_abort, S(ST_HELLO) | S(ST_JOINED) | S(ST_GOODBYE)},
	[WAMP_CHALLENGE] = {session_on_challenge, S(ST_HELLO)},
	[WAMP_GOODBYE] = {session_on_goodbye, S(ST_JOINED) | S(ST_GOODBYE)},
	[WAMP_ERROR] = {on_error, IN_SESSION},
	[WAMP_PUBLISHED] = {pubsub_on_published, IN_SESSION},
	[WAMP_SUBSCRIBED] = {handles_on_made, IN_SESSION},
	[WAMP_UNSUBSCRIBED] = {handles_on_unmade, IN_SESSION},
	[WAMP_EVENT] = {pubsub_on_event, IN_SESSION},
	[WAMP_RESULT] = {rpc_on_result, IN_SESSION},
	[WAMP_REGISTERED] = {handles_on_made, IN_SESSION},
	[WAMP_UNREGISTERED] = {handles_on_unmade, IN_SESSION},
	[WAMP_INVOCATION] = {rpc_on_invocation, IN_SESSION},
	[WAMP_INTERRUPT] = {rpc_on_interrupt, IN_SESSION},
	[WAMP_ACK] = {resume_on_ack, IN_SESSION}, /* a resumable session's only */
};

/* ERROR for a PUBLISH or a CALL: its reply (the error URI, details and payload) to the
 * application; the request is done. */
static void on_request_error(wampc *c, struct wamp_msg *m, struct wampc_req *req)
{
	struct wampc_payload p;
	struct wampc_reply r = {.request = req->id, .error = m->uri,
	                        .details = (const wampc_value *)m->dict, .payload = &p};

	wampc_payload_from(&p, &m->payload);
	wampc_req_unlink(c, req);
	wampc_reply(c, req->fn, req->ud, &r);
	free(req);
}

/* ERROR answers a request of ours: the request type says which kind, and whose handler. */
static const struct err_op {
	enum req_kind kind;
	void (*fn)(wampc *c, struct wamp_msg *m, struct wampc_req *req);
} err_ops[WAMP_TYPE__MAX + 1] = {
	[WAMP_PUBLISH] = {REQ_PUBLISH, on_request_error},
	[WAMP_SUBSCRIBE] = {REQ_SUBSCRIBE, handles_on_error},
	[WAMP_UNSUBSCRIBE] = {REQ_UNSUBSCRIBE, handles_on_error},
	[WAMP_CALL] = {REQ_CALL, on_request_error},
	[WAMP_REGISTER] = {REQ_REGISTER, handles_on_error},
	[WAMP_UNREGISTER] = {REQ_UNREGISTER, handles_on_error},
};

static void on_error(wampc *c, struct wamp_msg *m)
{
	const struct err_op *op = m->id[0] <= WAMP_TYPE__MAX ? &err_ops[m->id[0]] : NULL;
	struct wampc_req *req;

	if (!op || !op->fn) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "ERROR for a request type a client never sends",
		           true);
		return;
	}
	if (!(req = wampc_req_find(c, m->id[1])) || req->offline)
		return; /* a late answer (timed out, or of a previous session): nothing waits */
	if (req->kind != op->kind) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "ERROR of another request type than the request",
		           true);
		return;
	}
	op->fn(c, m, req);
}

static void handle_message(wampc *c, const uint8_t *data, size_t len)
{
	struct wamp_msg m;
	char why[160];
	enum wampd_err err;
	const struct in_op *op;

	c->stats.msgs_in++;
	if ((err = wamp_decode(c->ser, data, len, NULL, &m, why, sizeof(why))) != WAMPD_OK) {
		wampc_fail(c, err, err == WAMPD_ERR_PROTOCOL ? why : NULL, err == WAMPD_ERR_PROTOCOL);
		return;
	}
	op = &in_ops[m.type];
	if (c->rs && c->state == ST_JOINED && m.type != WAMP_ACK)
		resume_received(c); /* counted before it can end the session */
	if (c->state == ST_GOODBYE && m.type != WAMP_GOODBYE && m.type != WAMP_ABORT) {
		/* leaving: answers and events that crossed our GOODBYE are dropped */
	} else if (!op->fn || !(op->states & S(c->state))) {
		snprintf(why, sizeof(why), "%s not expected now", wamp_type_name(m.type));
		wampc_fail(c, WAMPD_ERR_PROTOCOL, why, true);
	} else {
		op->fn(c, &m);
	}
	wamp_msg_clear(&m);
}

static bool accepting(const wampc *c)
{
	return !c->free_pending && connected(c) && c->state != ST_CLOSING;
}

static bool on_frame(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	wampc *c = ctx;

	if (!accepting(c))
		return false;
	switch (t) {
	case RS_MSG:
		handle_message(c, data, len);
		break;
	case RS_PING:
		send_control(c, RS_PONG, data, len);
		break;
	default:
		break;
	}
	return accepting(c);
}

static void input_seen(wampc *c, size_t len)
{
	c->stats.bytes_in += len;
	if (c->ping_interval) /* the keepalive's clock: read only when there is one */
		c->last_input = wampc_now(c);
	c->ping_out = false;
}

enum wampd_err wampc_transport_input(wampc *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	enum wampd_err err;

	if (!accepting(c) || c->framing != WAMPC_FRAMING_RAWSOCKET)
		return c->framing != WAMPC_FRAMING_RAWSOCKET ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_OK;
	wampc_hold(c);
	input_seen(c, len);
	if (c->state == ST_HANDSHAKE) {
		size_t need = (size_t)(4 - c->hs_in_len), take = need < len ? need : len;

		memcpy(c->hs_in + c->hs_in_len, p, take);
		c->hs_in_len += (uint8_t)take;
		p += take;
		len -= take;
		if (c->hs_in_len == 4) {
			if (rs_client_reply(c->hs_in, c->ser, &c->peer_max) != RS_OK) {
				wampc_fail(c, WAMPD_ERR_PROTOCOL, "RawSocket handshake refused", false);
			} else {
				c->state = ST_HELLO;
				if ((err = session_hello(c)) != WAMPD_OK)
					wampc_fail(c, err, "HELLO could not be made", false);
			}
		}
	}
	if (len && accepting(c)) {
		switch (rs_rx_feed(&c->rx, p, len, c->max_message, on_frame, c)) {
		case RS_RX_BAD:
			wampc_fail(c, WAMPD_ERR_PROTOCOL, "malformed RawSocket frame prefix", true);
			break;
		case RS_RX_TOO_BIG:
			wampc_fail(c, WAMPD_ERR_TOO_BIG, "message over max_message", true);
			break;
		case RS_RX_NOMEM:
			wampc_fail(c, WAMPD_ERR_NOMEM, NULL, false);
			break;
		default:
			break;
		}
	}
	err = c->input_err;
	return wampc_release(c) ? WAMPD_OK : err;
}

enum wampd_err wampc_transport_message(wampc *c, const void *data, size_t len)
{
	enum wampd_err err;

	if (c->framing != WAMPC_FRAMING_MESSAGE)
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!accepting(c))
		return WAMPD_OK;
	wampc_hold(c);
	input_seen(c, len);
	if (len > c->max_message)
		wampc_fail(c, WAMPD_ERR_TOO_BIG, "message over max_message", true);
	else
		handle_message(c, data, len);
	err = c->input_err;
	return wampc_release(c) ? WAMPD_OK : err;
}

/* ------------------------------------------------------------- the end of a connection */

/* The PUBLISH request id inside an encoded message (decoded again: only when a
 * connection ends or the offline queue drops, never per message). */
static uint64_t publish_request(wampc *c, struct wamp_out *o)
{
	struct wamp_msg m;
	uint64_t id = 0;

	if (wamp_decode((enum wamp_ser)o->ser, wamp_out_data(o), o->len, NULL, &m, NULL, 0) ==
	    WAMPD_OK) {
		id = m.id[0];
		wamp_msg_clear(&m);
	}
	return id;
}

/* Called for a queued publication the offline queue drops: its acknowledgement, if one
 * is awaited, ends with wamp.error.limit_exceeded. Takes the reference. */
void wampc_offline_dropped(wampc *c, struct wamp_out *o, enum wampd_err why)
{
	struct wampc_req *req = wampc_req_find(c, publish_request(c, o));

	c->stats.offline_dropped++;
	wamp_out_unref(o);
	if (req) {
		wampc_req_unlink(c, req);
		wampc_reply_local(c, req, why);
		free(req);
	}
}

/* Mark the acknowledgement of a publication that goes back to the offline queue. */
void wampc_publish_requeued(wampc *c, struct wamp_out *o)
{
	struct wampc_req *req = wampc_req_find(c, publish_request(c, o));

	if (req && req->kind == REQ_PUBLISH)
		req->offline = true;
}

static void lost_call(wampc *c, struct wampc_req *req)
{
	wampc_reply_local(c, req, WAMPD_ERR_TRANSPORT_LOST);
}

/* What a request in flight becomes when its connection ends. */
static void (*const req_lost[])(wampc *c, struct wampc_req *req) = {
	[REQ_CALL] = lost_call,
	[REQ_PUBLISH] = lost_call,
	[REQ_SUBSCRIBE] = handles_req_lost,
	[REQ_UNSUBSCRIBE] = handles_req_lost,
	[REQ_REGISTER] = handles_req_lost,
	[REQ_UNREGISTER] = handles_req_lost,
};

static uint32_t backoff_delay(wampc *c)
{
	uint32_t shift = c->attempts < 20 ? c->attempts : 20;
	uint64_t d = (uint64_t)c->retry_initial << shift;
	uint32_t jitter;

	if (d > c->retry_max)
		d = c->retry_max;
	jitter = (uint32_t)(d * c->retry_jitter / 100);
	if (jitter)
		d -= c->random_u32(c->clock_ud) % (jitter + 1);
	return (uint32_t)d;
}

/* Take every request in flight out of the tables (offline publications stay): a list
 * through tnext, for report_lost. */
static struct wampc_req *take_lost(wampc *c)
{
	struct wampc_req *lost = NULL, *req;

	for (uint32_t i = 0; i < c->reqs.cap; i++) {
		if (!c->reqs.keys[i])
			continue;
		req = (struct wampc_req *)(uintptr_t)c->reqs.vals[i];
		if (req->offline)
			continue;
		timer_unlink(c, req);
		req->tnext = lost;
		lost = req;
	}
	for (req = lost; req; req = req->tnext)
		wampc_req_unlink(c, req);
	return lost;
}

/* What the session's end does to the application: the requests of lost end, then
 * WAMPC_LEFT with the close reason, whether the connection had opened (connected) and what
 * the adapter said of it (transport_error, then forgotten). */
static void report_lost(wampc *c, struct wampc_req *lost, bool reconnecting, bool connected)
{
	struct wampc_session_info info = {.event = WAMPC_LEFT};
	struct wampc_req *req, *next;

	for (req = lost; req; req = next) {
		next = req->tnext;
		req_lost[req->kind](c, req);
		free(req);
	}
	info.reason = c->close_reason ? c->close_reason : wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST);
	info.details = (const wampc_value *)c->close_details;
	info.reconnecting = reconnecting;
	info.connected = connected;
	info.transport_error = c->transport_error;
	wampc_session_event(c, &info);
	free(c->close_reason);
	free(c->transport_error);
	json_decref(c->close_details);
	c->close_reason = NULL;
	c->transport_error = NULL;
	c->close_details = NULL;
}

/* Everything the session held, taken apart (no callbacks yet): unsent publications back
 * to the offline queue, owed invocations and router ids forgotten, requests taken out. */
static struct wampc_req *session_end(wampc *c)
{
	pubsub_lost(c, c->rs ? &c->rs->log : &c->sendq);
	rpc_lost(c);
	handles_lost(c);
	resume_free(c);
	return take_lost(c);
}

void wampc_session_over(wampc *c, bool reconnecting)
{
	report_lost(c, session_end(c), reconnecting, c->opened);
}

void wampc_transport_closed(wampc *c)
{
	struct wampc_req *lost = NULL;
	bool was_joined = c->session != 0, kept, suspended = resume_suspended(c), opened;

	if (c->state == ST_IDLE || c->state == ST_BACKOFF)
		return;
	wampc_hold(c);
	/* the connection's state (its channel binding included) */
	wampc_set_channel_binding(c, NULL);
	rs_rx_clear(&c->rx);
	c->hs_in_len = c->hs_out_len = c->hs_out_off = 0;
	/* a resumable session lives on (its replay log has what the queue had) */
	if (!(kept = resume_on_closed(c, was_joined)))
		lost = session_end(c);
	outq_clear(&c->sendq);
	c->out_off = 0;
	/* the next state */
	c->session = 0;
	if (was_joined)
		c->attempts = 0;
	if (c->reconnect_now && !c->leaving) {
		c->attempts = 0;
		want_connect(c);
	} else if (c->leaving || !c->reconnect ||
	           (c->max_retries && c->attempts >= c->max_retries)) {
		c->state = ST_IDLE;
		c->t_state = 0;
	} else {
		c->state = ST_BACKOFF;
		c->t_state = wampc_now(c) + backoff_delay(c);
		c->attempts++;
	}
	if (kept && c->state == ST_IDLE) { /* no attempt left (max_retries): it cannot resume */
		lost = session_end(c);
		kept = false;
	}
	c->reconnect_now = false;
	opened = c->opened;
	c->opened = false;
	/* then the callbacks */
	if (!kept) {
		report_lost(c, lost, c->state == ST_BACKOFF || c->state == ST_CONNECT, opened);
	} else if (!suspended) {
		struct wampc_session_info info = {.event = WAMPC_SUSPENDED, .session = c->rs->session,
		                                  .reconnecting = true,
		                                  .reason = wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST)};

		wampc_session_event(c, &info);
	}
	if (kept) {
		free(c->close_reason);
		free(c->transport_error);
		json_decref(c->close_details);
		c->close_reason = NULL;
		c->transport_error = NULL;
		c->close_details = NULL;
	}
	wampc_release(c);
}

/* -------------------------------------------------------------------------- timers */

static int64_t ping_deadline(const wampc *c)
{
	if (c->framing != WAMPC_FRAMING_RAWSOCKET || !c->ping_interval || !connected(c) ||
	    c->state == ST_CLOSING || c->state == ST_HANDSHAKE)
		return 0;
	return c->ping_out ? c->ping_sent + c->ping_timeout : c->last_input + c->ping_interval;
}

int64_t wampc_next_timeout(const wampc *c)
{
	int64_t t = 0, now, p = ping_deadline(c);

	if (c->t_state)
		t = c->t_state;
	if (p && (!t || p < t))
		t = p;
	if (c->thead && (!t || c->thead->deadline < t))
		t = c->thead->deadline;
	if ((p = resume_deadline(c)) && (!t || p < t))
		t = p;
	if (!t)
		return -1;
	now = wampc_now(c);
	return t > now ? t - now : 0;
}

static void state_timer(wampc *c)
{
	switch (c->state) {
	case ST_BACKOFF:
		want_connect(c);
		break;
	case ST_CONNECT:
	case ST_HANDSHAKE:
	case ST_HELLO:
		wampc_set_close_reason(c, wampd_err_uri(WAMPD_ERR_TIMEOUT), NULL);
		wampc_close(c);
		break;
	case ST_GOODBYE:
		wampc_close(c);
		break;
	default:
		c->t_state = 0;
		break;
	}
}

void wampc_tick(wampc *c)
{
	int64_t now = wampc_now(c), p;
	struct wampc_req *req;

	wampc_hold(c);
	if (c->t_state && now >= c->t_state)
		state_timer(c);
	if ((p = ping_deadline(c)) && now >= p) {
		if (c->ping_out) {
			wampc_set_close_reason(c, wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST), NULL);
			wampc_close(c);
		} else {
			send_control(c, RS_PING, NULL, 0);
			c->ping_out = true;
			c->ping_sent = now;
		}
	}
	resume_tick(c, now);
	while ((req = c->thead) && req->deadline <= now && !c->free_pending) {
		wampc_req_unlink(c, req);
		if (wampc_in_session(c)) {
			json_t *o = json_pack("{s:s}", "mode", "killnowait");
			struct wamp_msg m = {.type = WAMP_CANCEL, .id = {req->id}, .dict = o};

			wampc_send(c, &m, true);
			json_decref(o);
		}
		wampc_reply_local(c, req, WAMPD_ERR_TIMEOUT);
		free(req);
	}
	wampc_release(c);
}
