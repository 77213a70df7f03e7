/*
 * backplane.c - the realm side of the cluster backplane (see backplane.h for what crosses
 * nodes and why).
 *
 * Data structures:
 *   - stubs: per realm a uthash table (realm->remote, by session id) of struct session
 *     objects standing for sessions of other nodes. A stub is a member of mirrored
 *     registrations (a remote callee), the caller of calls forwarded here (a remote
 *     caller), and the callee of calls this node forwarded (their pending_call is kept
 *     in the stub's invocation table under a sequence of this node). Its peer_ops.send
 *     turns what the dealer sends it (RESULT, ERROR) into a "dlv" message for its node.
 *     An unused stub (no registrations, no calls either way) is freed by a sweep that
 *     runs from a zero-delay timer, never inside a dispatch.
 *   - origins: per origin node the last publication sequence number seen (uthash by node
 *     id). The backplane delivers one node's publications in order, so a number not above
 *     the last is a duplicate (a node subscribed through two matching patterns gets the
 *     message twice) and dropped: exactly once, in publisher order.
 *   - queries: meta API calls waiting for every node's answer (uthash by query id). The
 *     number of nodes is what the broadcast reached (counted); a deadline bounds the wait.
 *   - per session (session.h's s->bp, struct bp_session): a stub's node id, and a local
 *     session's procedure asked from the store. One allocation, made here when first needed
 *     (a stub's creation, a local session's first lookup), freed by session_free() through
 *     backplane_session_free(); the node id lives in the same block.
 */
#include "realm/backplane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/clock.h"
#include "common/log.h"
#include "realm/meta.h"
#include "realm/realm.h"
#include "serializers/codec.h"

#define BP_QUERY_TIMEOUT_MS 2000
#define BP_MAX_QUERIES 1000 /* meta queries waiting for the nodes' answers, per node */

struct bp_origin {
	char *node;
	uint64_t last;
	UT_hash_handle hh;
};

struct bp_query {
	uint64_t id;
	struct realm *realm;
	uint64_t caller;     /* session id of the caller (this node) */
	uint64_t request;    /* its CALL.Request */
	char *procedure;
	json_t *answers;     /* [{"e": err, "a": args}, ...] */
	long expected;       /* nodes reached, -1 until known */
	struct realm_timer *timer;
	UT_hash_handle hh;
};

/* A session's backplane state (s->bp). */
struct bp_session {
	char *lookup;        /* procedure asked from the store (owned), or NULL */
	bool lookup_done;    /* ... and answered */
	char node[];         /* a stub: the node it stands for; a session of this node: "" */
};

struct bp_cookie {
	struct realms *rs;
	uint64_t query;
};

struct backplane {
	const struct realm_backplane_ops *ops;
	void *ctx;
	char *node;
	uint64_t seq;                /* publications sent (starts at a wall-clock value so a
	                                restarted node with the same id is not taken for a
	                                duplicate) */
	struct bp_origin *origins;
	struct bp_query *queries;
	uint64_t last_query;
	struct realm_timer *sweep;
	struct realms *rs;
};

/* ------------------------------------------------------------------------------------ */
/* messages                                                                             */

/* hdr (consumed) + payload spans (values go into hdr) + raw bytes -> one malloc'd buffer. */
static uint8_t *bp_encode(json_t *hdr, const struct wamp_payload *p, const uint8_t *raw,
                          size_t raw_len, size_t *len)
{
	size_t al = 0, kl = 0, hl;
	uint8_t *buf = NULL;
	char *h;

	if (!hdr)
		return NULL;
	if (p) {
		if (p->args) {
			al = p->args_len;
		} else if (p->args_v) {
			json_object_set(hdr, "a", p->args_v);
		}
		if (p->kwargs)
			kl = p->kwargs_len;
		else if (p->kwargs_v)
			json_object_set(hdr, "k", p->kwargs_v);
		if (al || kl) {
			json_object_set_new(hdr, "ps", json_integer(p->ser));
			json_object_set_new(hdr, "al", json_integer((json_int_t)al));
			json_object_set_new(hdr, "kl", json_integer((json_int_t)kl));
		}
		if (p->transparent)
			json_object_set_new(hdr, "tr", json_true());
	}
	h = json_dumps(hdr, JSON_COMPACT);
	json_decref(hdr);
	if (!h)
		return NULL;
	hl = strlen(h);
	*len = hl + 1 + al + kl + raw_len;
	if ((buf = malloc(*len))) {
		memcpy(buf, h, hl);
		buf[hl] = '\n';
		if (al)
			memcpy(buf + hl + 1, p->args, al);
		if (kl)
			memcpy(buf + hl + 1 + al, p->kwargs, kl);
		if (raw_len)
			memcpy(buf + hl + 1 + al + kl, raw, raw_len);
	}
	free(h);
	return buf;
}

/* Split msg into its header (new reference) and body. */
static json_t *bp_parse(const uint8_t *msg, size_t len, const uint8_t **body, size_t *blen)
{
	const uint8_t *nl = memchr(msg, '\n', len);
	size_t hl = nl ? (size_t)(nl - msg) : len;
	json_error_t e;
	json_t *h = json_loadb((const char *)msg, hl, JSON_ALLOW_NUL, &e);

	if (!json_is_object(h)) {
		json_decref(h);
		return NULL;
	}
	*body = nl ? nl + 1 : msg + len;
	*blen = nl ? len - hl - 1 : 0;
	return h;
}

/* The payload described by h over body (spans borrow body, values borrow h). */
static bool bp_payload(const json_t *h, const uint8_t *body, size_t blen, struct wamp_payload *p)
{
	json_int_t al = json_integer_value(json_object_get(h, "al"));
	json_int_t kl = json_integer_value(json_object_get(h, "kl"));
	json_int_t ser = json_integer_value(json_object_get(h, "ps"));

	memset(p, 0, sizeof(*p));
	if (al < 0 || kl < 0 || (size_t)(al + kl) > blen || ser < 0 || ser >= WAMP_SER__COUNT)
		return false;
	p->ser = (enum wamp_ser)ser;
	if (al) {
		p->args = body;
		p->args_len = (size_t)al;
	}
	if (kl) {
		p->kwargs = body + al;
		p->kwargs_len = (size_t)kl;
	}
	p->transparent = json_is_true(json_object_get(h, "tr"));
	p->args_v = json_object_get(h, "a");
	p->kwargs_v = json_object_get(h, "k");
	return true;
}

static const char *hstr(const json_t *h, const char *key)
{
	return json_string_value(json_object_get(h, key));
}

static uint64_t hid(const json_t *h, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(h, key));

	return v > 0 ? (uint64_t)v : 0;
}

static bool bp_is_online(const struct backplane *bp)
{
	return bp && bp->ops->online(bp->ctx);
}

bool backplane_online(const struct realms *rs)
{
	return bp_is_online(rs->bp);
}

void backplane_drain(struct realms *rs)
{
	struct backplane *bp = rs->bp;

	if (bp && bp->ops->drain && bp->ops->online(bp->ctx))
		bp->ops->drain(bp->ctx);
}

/* Send hdr (+ payload) to node (NULL: all). false if not sent. */
static bool bp_send(struct backplane *bp, const char *node, json_t *hdr,
                    const struct wamp_payload *p, const uint8_t *raw, size_t raw_len,
                    void (*counted)(void *arg, long n), void *arg)
{
	size_t len;
	uint8_t *buf = bp_encode(hdr, p, raw, raw_len, &len);

	if (!buf)
		return false;
	bp->ops->send(bp->ctx, node, buf, len, counted, arg);
	free(buf);
	return true;
}

/* ------------------------------------------------------------------------------------ */
/* per-session state                                                                    */

/* s's state for node ("" for a session of this node), made (or remade for another node)
 * if needed. NULL on allocation failure (s keeps its previous state). */
static struct bp_session *bp_session_of(struct session *s, const char *node)
{
	size_t n = strlen(node);
	struct bp_session *b = s->bp;

	if (b && !strcmp(b->node, node))
		return b;
	if (!(b = realloc(b, sizeof(*b) + n + 1)))
		return NULL;
	if (!s->bp)
		memset(b, 0, sizeof(*b));
	memcpy(b->node, node, n + 1);
	s->bp = b;
	return b;
}

const char *backplane_stub_node(const struct bp_session *bp)
{
	return bp->node[0] ? bp->node : NULL;
}

void backplane_session_free(struct bp_session *bp)
{
	if (!bp)
		return;
	free(bp->lookup);
	free(bp);
}

/* ------------------------------------------------------------------------------------ */
/* stubs                                                                                */

static void bp_sweep_schedule(struct backplane *bp);

/* What the dealer sends a stub caller (RESULT, ERROR) goes to its node as "dlv". */
static enum wampd_err bp_stub_send(void *peer, struct wamp_out *out)
{
	struct session *stub = peer;
	struct backplane *bp = stub->realm ? stub->realm->owner->bp : NULL;
	struct wamp_msg m;
	uint64_t call_id = 0;
	bool more = false;
	json_t *hdr;

	if (!bp || wamp_decode((enum wamp_ser)out->ser, wamp_out_data(out), out->len, NULL, &m,
	                       NULL, 0) != WAMPD_OK)
		return WAMPD_OK;
	if (m.type == WAMP_RESULT) {
		call_id = m.id[0];
		more = wamp_dict_bool(m.dict, "progress", false);
	} else if (m.type == WAMP_ERROR && m.id[0] == WAMP_CALL) {
		call_id = m.id[1];
	}
	wamp_msg_clear(&m);
	if (call_id) {
		hdr = json_pack("{s:s, s:s, s:I, s:I, s:b}", "t", "dlv", "r", stub->realm->name, "s",
		                (json_int_t)stub->id, "rq", (json_int_t)call_id, "more", more);
		bp_send(bp, stub->bp->node, hdr, NULL, wamp_out_data(out), out->len, NULL, NULL);
	}
	if (!more)
		bp_sweep_schedule(bp); /* the call may have been its last */
	return WAMPD_OK;
}

static void bp_stub_close(void *peer, int code, const char *reason, bool now)
{
	(void)peer, (void)code, (void)reason, (void)now;
}

static const char *bp_stub_address(void *peer)
{
	return ((struct session *)peer)->bp->node;
}

static const struct peer_ops bp_stub_ops = {
	.send = bp_stub_send,
	.close = bp_stub_close,
	.address = bp_stub_address,
};

/* The stub of session id on node in r, made if needed (identity from info). */
static struct session *bp_stub(struct realm *r, const char *node, uint64_t id,
                               const json_t *info)
{
	struct session *s = NULL;
	json_int_t ser = json_integer_value(json_object_get(info, "ser"));

	if (!node || !id)
		return NULL;
	HASH_FIND(hh, r->remote, &id, sizeof(id), s);
	if (s) {
		if (!bp_session_of(s, node))
			return NULL;
		s->features |= (uint32_t)json_integer_value(json_object_get(info, "f"));
		return s;
	}
	if (ser < 0 || ser >= WAMP_SER__COUNT)
		ser = WAMP_SER_JSON;
	if (!(s = session_new(&bp_stub_ops, NULL, (enum wamp_ser)ser, r->owner->metrics)))
		return NULL;
	s->peer = s;
	s->id = id;
	s->realm = r;
	s->state = SESSION_ESTABLISHED;
	s->features = (uint32_t)json_integer_value(json_object_get(info, "f"));
	if (!bp_session_of(s, node) || !session_set_str(&s->authid, hstr(info, "authid")) ||
	    !session_set_str(&s->authrole, hstr(info, "authrole"))) {
		session_free(s);
		return NULL;
	}
	HASH_ADD(hh, r->remote, id, sizeof(s->id), s);
	return s;
}

static struct session *bp_stub_find(struct realm *r, uint64_t id)
{
	struct session *s = NULL;

	HASH_FIND(hh, r->remote, &id, sizeof(id), s);
	return s;
}

static struct session *bp_stub_of_member(void *arg, const json_t *member)
{
	const char *sid = hstr(member, "session");

	return bp_stub(arg, hstr(member, "node"), sid ? strtoull(sid, NULL, 10) : 0, member);
}

static void bp_stub_free(struct realm *r, struct session *stub)
{
	HASH_DEL(r->remote, stub);
	stub->realm = NULL;
	stub->state = SESSION_CLOSING;
	session_free(stub);
}

/* Forget the stubs of node (NULL: all) in every realm. */
static void bp_forget_node(struct realms *rs, const char *node)
{
	struct realm *r, *rtmp;

	HASH_ITER(hh, rs->by_name, r, rtmp) {
		struct session *s, *tmp;

		HASH_ITER(hh, r->remote, s, tmp) {
			if (node && strcmp(s->bp->node, node))
				continue;
			dealer_forget_stub(&r->dealer, s);
			bp_stub_free(r, s);
		}
	}
}

static void bp_sweep(void *arg)
{
	struct backplane *bp = arg;
	struct realm *r, *rtmp;

	bp->sweep = NULL;
	HASH_ITER(hh, bp->rs->by_name, r, rtmp) {
		struct session *s, *tmp;

		HASH_ITER(hh, r->remote, s, tmp)
			if (!s->nregs && !s->ncalls && !HASH_CNT(hh_callee, s->invocations))
				bp_stub_free(r, s);
	}
}

static void bp_sweep_schedule(struct backplane *bp)
{
	struct realms *rs = bp->rs;

	if (!bp->sweep && rs->timers.start)
		bp->sweep = rs->timers.start(rs->timers.ctx, 0, bp_sweep, bp);
}

/* ------------------------------------------------------------------------------------ */
/* setup                                                                                */

bool backplane_attach(struct realms *rs, const struct realm_backplane_ops *ops, void *ctx,
                      const char *node_id)
{
	struct backplane *bp = calloc(1, sizeof(*bp));

	if (!bp || !(bp->node = strdup(node_id))) {
		free(bp);
		return false;
	}
	bp->ops = ops;
	bp->ctx = ctx;
	bp->rs = rs;
	bp->seq = (uint64_t)clock_wall_ms() * 1000;
	rs->bp = bp;
	return true;
}

static void bp_query_finish(struct backplane *bp, struct bp_query *q);

void backplane_detach(struct realms *rs)
{
	struct backplane *bp = rs->bp;
	struct bp_origin *o, *otmp;
	struct bp_query *q, *qtmp;

	if (!bp)
		return;
	bp_forget_node(rs, NULL);
	HASH_ITER(hh, bp->queries, q, qtmp)
		bp_query_finish(bp, q);
	HASH_ITER(hh, bp->origins, o, otmp) {
		HASH_DEL(bp->origins, o);
		free(o->node);
		free(o);
	}
	if (bp->sweep && rs->timers.cancel)
		rs->timers.cancel(rs->timers.ctx, bp->sweep);
	free(bp->node);
	free(bp);
	rs->bp = NULL;
}

uint64_t backplane_id(char kind, const char *uri, size_t len, enum match_policy policy)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	h = (h ^ (uint8_t)kind) * 1099511628211ULL;
	h = (h ^ (uint8_t)policy) * 1099511628211ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)uri[i]) * 1099511628211ULL;
	h &= (1ULL << 53) - 1;
	return h ? h : 1;
}

void backplane_realm_added(struct realm *r)
{
	struct backplane *bp = r->owner->bp;

	if (bp_is_online(bp))
		bp->ops->sync(bp->ctx, r->name);
}

/* ------------------------------------------------------------------------------------ */
/* PubSub                                                                               */

bool backplane_interest(struct realm *r, const struct subscription *sub, bool on)
{
	struct backplane *bp = r->owner->bp;

	if (!bp_is_online(bp))
		return true; /* local only; announced when the backplane is back */
	return bp->ops->interest(bp->ctx, r->name, sub->item.uri, sub->item.policy, on);
}

bool backplane_fetch_retained(struct realm *r, const struct subscription *sub,
                              const struct session *s)
{
	struct backplane *bp = r->owner->bp;

	return bp_is_online(bp) && bp->ops->fetch_retained(bp->ctx, r->name, sub->item.uri,
	                                                   sub->item.policy, s->id, sub->id);
}

void backplane_publish(struct realm *r, const struct publication_view *v)
{
	struct backplane *bp = r->owner->bp;
	json_t *hdr;
	uint8_t *buf;
	size_t len;

	if (!bp_is_online(bp))
		return;
	hdr = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s%}", "t", "pub", "r", r->name, "o", bp->node,
	                "q", (json_int_t)++bp->seq, "id", (json_int_t)v->id, "topic", v->topic,
	                v->topic_len);
	if (hdr && v->options)
		json_object_set(hdr, "opt", (json_t *)v->options);
	if (hdr && v->publisher)
		json_object_set(hdr, "pd", (json_t *)v->publisher);
	if (!(buf = bp_encode(hdr, v->payload, NULL, 0, &len))) {
		wlog_warn("backplane", "publication not sent to the cluster topic=%s: out of memory",
		          v->topic);
		return;
	}
	bp->ops->publish(bp->ctx, r->name, v->topic, buf, len);
	/* a shared event store keeps the realm's retained events itself */
	if (wamp_dict_bool(v->options, "retain", false) && !r->broker.store->ops->shared)
		bp->ops->retain(bp->ctx, r->name, v->topic, buf, len);
	free(buf);
}

/* A pub message as a view (borrowing h and body). */
static bool bp_view(const json_t *h, const uint8_t *body, size_t blen,
                    struct publication_view *v, struct wamp_payload *p)
{
	const json_t *topic = json_object_get(h, "topic");

	if (!json_is_string(topic) || !bp_payload(h, body, blen, p))
		return false;
	v->id = hid(h, "id");
	v->topic = json_string_value(topic);
	v->topic_len = json_string_length(topic);
	v->options = json_object_get(h, "opt");
	v->publisher = json_object_get(h, "pd");
	v->payload = p;
	return true;
}

static void bp_on_pub(struct backplane *bp, struct realm *r, const json_t *h,
                      const uint8_t *body, size_t blen)
{
	const char *o = hstr(h, "o");
	uint64_t q = hid(h, "q");
	struct bp_origin *origin = NULL;
	struct publication_view v;
	struct wamp_payload p;

	if (!o || !strcmp(o, bp->node))
		return; /* this node's own publication: delivered here already */
	HASH_FIND_STR(bp->origins, o, origin);
	if (!origin) {
		if (!(origin = calloc(1, sizeof(*origin))) || !(origin->node = strdup(o))) {
			free(origin);
			return;
		}
		HASH_ADD_KEYPTR(hh, bp->origins, origin->node, strlen(origin->node), origin);
	}
	if (q <= origin->last)
		return; /* reached this node a second time (another matching pattern) */
	origin->last = q;
	if (bp_view(h, body, blen, &v, &p))
		broker_deliver_remote(&r->broker, &v);
}

void backplane_interest_ready(struct realms *rs, const char *realm, const char *uri,
                              enum match_policy policy)
{
	struct realm *r = realms_find(rs, realm);

	if (r)
		broker_interest_ready(&r->broker, uri, policy);
}

void backplane_retained(struct realms *rs, const char *realm, uint64_t session, uint64_t sub,
                        const uint8_t *const *msgs, const size_t *lens, size_t n)
{
	struct realm *r = realms_find(rs, realm);

	for (size_t i = 0; r && i < n; i++) {
		const uint8_t *body;
		size_t blen;
		json_t *h = bp_parse(msgs[i], lens[i], &body, &blen);
		struct publication_view v;
		struct wamp_payload p;

		if (h && bp_view(h, body, blen, &v, &p))
			broker_retained_remote(&r->broker, sub, session, &v);
		json_decref(h);
	}
}

/* ------------------------------------------------------------------------------------ */
/* RPC                                                                                  */

enum wampd_err backplane_call(struct realm *r, struct session *caller, struct session *callee,
                              uint64_t registration, const struct wamp_msg *call,
                              const json_t *options, const struct authz_decision *az)
{
	struct backplane *bp = r->owner->bp;
	json_t *hdr;

	if (!bp_is_online(bp))
		return WAMPD_ERR_NO_AVAILABLE_CALLEE;
	hdr = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s%, s:b, s:{s:I, s:s?, s:s?, s:i, s:I}}",
	                "t", "call", "r", r->name, "o", bp->node, "to", (json_int_t)callee->id,
	                "reg", (json_int_t)registration, "rq", (json_int_t)call->id[0], "uri",
	                call->uri ? call->uri : "", call->uri ? call->uri_len : 0, "dis",
	                az && az->disclose,
	                "c", "id", (json_int_t)caller->id, "authid", caller->authid, "authrole",
	                caller->authrole, "ser", (int)caller->ser, "f", (json_int_t)caller->features);
	if (hdr && options)
		json_object_set(hdr, "opt", (json_t *)options);
	if (hdr && az && az->trustlevel >= 0)
		json_object_set_new(hdr, "tl", json_integer(az->trustlevel));
	return bp_send(bp, callee->bp->node, hdr, &call->payload, NULL, 0, NULL, NULL)
	           ? WAMPD_OK
	           : WAMPD_ERR_NOMEM;
}

void backplane_cancel(struct realm *r, struct session *caller, struct session *callee,
                      uint64_t call_id, const char *mode)
{
	struct backplane *bp = r->owner->bp;

	if (bp_is_online(bp))
		bp_send(bp, callee->bp->node,
		        json_pack("{s:s, s:s, s:I, s:I, s:s}", "t", "cancel", "r", r->name, "s",
		                  (json_int_t)caller->id, "rq", (json_int_t)call_id, "mode", mode),
		        NULL, NULL, 0, NULL, NULL);
}

void backplane_caller_gone(struct realm *r, struct session *caller, struct session *callee)
{
	struct backplane *bp = r->owner->bp;

	if (bp_is_online(bp))
		bp_send(bp, callee->bp->node,
		        json_pack("{s:s, s:s, s:I}", "t", "gone", "r", r->name, "s",
		                  (json_int_t)caller->id),
		        NULL, NULL, 0, NULL, NULL);
}

static void bp_on_call(struct realm *r, const json_t *h, const uint8_t *body, size_t blen)
{
	const json_t *c = json_object_get(h, "c"), *uri = json_object_get(h, "uri");
	struct session *stub = bp_stub(r, hstr(h, "o"), hid(c, "id"), c);
	struct wamp_msg m = {.type = WAMP_CALL, .id = {hid(h, "rq")}};
	struct authz_decision az;
	enum wampd_err err;

	if (!stub || !m.id[0] || !json_is_string(uri) || !bp_payload(h, body, blen, &m.payload))
		return;
	m.uri = json_string_value(uri);
	m.uri_len = json_string_length(uri);
	m.dict = json_object_get(h, "opt");
	az.allow = true;
	az.disclose = json_is_true(json_object_get(h, "dis"));
	az.trustlevel = json_is_integer(json_object_get(h, "tl"))
	                    ? json_integer_value(json_object_get(h, "tl"))
	                    : -1;
	err = dealer_call_forwarded(&r->dealer, stub, &m, hid(h, "reg"), hid(h, "to"), &az);
	if (err != WAMPD_OK)
		session_fail(stub, WAMP_CALL, m.id[0], err, NULL); /* goes back as "dlv" */
}

static void bp_on_cancel(struct backplane *bp, struct realm *r, const json_t *h)
{
	struct session *stub = bp_stub_find(r, hid(h, "s"));
	struct wamp_msg m = {.type = WAMP_CANCEL, .id = {hid(h, "rq")}};

	if (!stub)
		return;
	m.dict = json_pack("{s:s}", "mode", hstr(h, "mode") ? hstr(h, "mode") : "killnowait");
	dealer_cancel(&r->dealer, stub, &m);
	json_decref(m.dict);
	bp_sweep_schedule(bp);
}

static void bp_on_gone(struct backplane *bp, struct realm *r, const json_t *h)
{
	struct session *stub = bp_stub_find(r, hid(h, "s"));

	if (stub) {
		dealer_drop_calls(&r->dealer, stub);
		bp_sweep_schedule(bp);
	}
}

static void bp_on_dlv(struct realm *r, const json_t *h, const uint8_t *body, size_t blen)
{
	struct session *s = realm_session(r, hid(h, "s"));
	struct wamp_out *out;

	if (!s || !session_routable(s) || !blen || !(out = wamp_out_new(blen)))
		return;
	memcpy(wamp_out_data(out), body, blen);
	out->len = blen;
	out->ser = (uint8_t)s->ser;
	out->binary = wamp_ser_is_binary(s->ser);
	out->type = WAMP_RESULT;
	dealer_forwarded_answer(&r->dealer, s, hid(h, "rq"), out,
	                        json_is_true(json_object_get(h, "more")));
	wamp_out_unref(out);
}

void backplane_reg_member(struct realm *r, const struct registration *reg,
                          const struct session *s, bool disclose_caller, bool forward_timeout,
                          bool on, uint64_t request, bool created)
{
	struct backplane *bp = r->owner->bp;
	char sid[24];
	json_t *m;
	char *json;

	if (!bp_is_online(bp) || reg->builtin)
		return;
	if (!on) {
		bp->ops->reg_remove(bp->ctx, r->name, reg->item.uri, reg->item.policy, s->id);
		return;
	}
	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)s->id);
	m = json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:I, s:b, s:b}", "node", bp->node, "session",
	              sid, "authid", s->authid, "authrole", s->authrole, "ser", (int)s->ser, "f",
	              (json_int_t)s->features, "dc", disclose_caller, "ft", forward_timeout);
	if (m && (json = json_dumps(m, JSON_COMPACT))) {
		bp->ops->reg_add(bp->ctx, r->name, reg->item.uri, reg->item.policy,
		                 invoke_policy_name(reg->invoke), s->id, request, created, json);
		free(json);
	}
	json_decref(m);
}

static void bp_on_reg(struct backplane *bp, struct realm *r, const json_t *h)
{
	enum match_policy policy;
	enum invoke_policy invoke;
	const char *uri = hstr(h, "uri");

	if (!uri || !match_policy_parse(hstr(h, "match"), &policy) ||
	    !invoke_policy_parse(hstr(h, "invoke"), &invoke))
		return;
	dealer_mirror(&r->dealer, uri, policy, invoke, json_object_get(h, "callees"), bp->node,
	              bp_stub_of_member, r);
	bp_sweep_schedule(bp);
}

void backplane_reg_added(struct realms *rs, const char *realm, const char *uri,
                         enum match_policy policy, uint64_t session, uint64_t request,
                         bool created, bool ok)
{
	struct realm *r = realms_find(rs, realm);
	struct session *s = r ? realm_session(r, session) : NULL;
	struct registration *reg =
		s ? (struct registration *)match_get(&r->dealer.index, uri, strlen(uri), policy) : NULL;

	if (!reg || !session_routable(s))
		return; /* gone meanwhile (its leave removed it from the store too) */
	if (ok) {
		if (request)
			dealer_registered(&r->dealer, reg, s, request, created);
		return;
	}
	wlog_info("backplane", "registration refused realm=%s procedure=%s session=%llu: another "
	          "node holds it", realm, uri, (unsigned long long)session);
	dealer_refused(&r->dealer, reg, s, request);
}

enum wampd_err backplane_lookup(struct realm *r, struct session *s, const char *uri, size_t len)
{
	struct backplane *bp = r->owner->bp;
	struct bp_session *b = s->bp;
	bool same = b && b->lookup && strlen(b->lookup) == len && !memcmp(b->lookup, uri, len);

	if (!bp_is_online(bp) || memchr(uri, '\0', len))
		return WAMPD_OK;
	if (b && b->lookup && b->lookup_done) { /* an answer: forgotten once used */
		free(b->lookup);
		b->lookup = NULL;
		b->lookup_done = false;
		if (same)
			return WAMPD_OK; /* asked and answered: what the mirror has now */
	}
	if (b && b->lookup) /* one question at a time (replayed in order afterwards) */
		return WAMPD_ERR_AUTHZ_PENDING;
	if (!b && !(b = bp_session_of(s, "")))
		return WAMPD_OK;
	if (!(b->lookup = strndup(uri, len)))
		return WAMPD_OK;
	b->lookup_done = false;
	if (!bp->ops->lookup(bp->ctx, r->name, b->lookup, s->id)) {
		free(b->lookup);
		b->lookup = NULL;
		return WAMPD_OK;
	}
	return WAMPD_ERR_AUTHZ_PENDING;
}

void backplane_lookup_done(struct realms *rs, const char *realm, uint64_t session,
                           const uint8_t *msg, size_t len)
{
	struct realm *r = realms_find(rs, realm);
	struct session *s = r ? realm_session(r, session) : NULL;

	if (msg && rs->bp)
		backplane_receive(rs, msg, len);
	if (!s || !s->bp || !s->bp->lookup)
		return;
	s->bp->lookup_done = true;
	if (rs->resume)
		rs->resume(s, rs->resume_ctx);
}

/* ------------------------------------------------------------------------------------ */
/* meta API across nodes                                                                */

static void bp_query_finish(struct backplane *bp, struct bp_query *q)
{
	struct realms *rs = bp->rs;
	struct session *s = realm_session(q->realm, q->caller);
	json_t *res = NULL;
	enum wampd_err err = meta_merge(q->procedure, q->answers, &res);

	HASH_DEL(bp->queries, q);
	if (q->timer && rs->timers.cancel)
		rs->timers.cancel(rs->timers.ctx, q->timer);
	if (s && session_routable(s)) {
		if (err == WAMPD_OK) {
			struct wamp_msg result = {.type = WAMP_RESULT, .id = {q->request}};

			result.payload.args_v = res;
			session_send_msg(s, &result);
		} else {
			session_fail(s, WAMP_CALL, q->request, err, NULL);
		}
	}
	json_decref(res);
	json_decref(q->answers);
	free(q->procedure);
	free(q);
}

static struct bp_query *bp_query_find(struct backplane *bp, uint64_t id)
{
	struct bp_query *q = NULL;

	HASH_FIND(hh, bp->queries, &id, sizeof(id), q);
	return q;
}

static void bp_query_check(struct backplane *bp, struct bp_query *q)
{
	if (q->expected >= 0 && json_array_size(q->answers) >= (size_t)q->expected)
		bp_query_finish(bp, q);
}

static void bp_query_counted(void *arg, long n)
{
	struct bp_cookie *c = arg;
	struct backplane *bp = c->rs->bp;
	struct bp_query *q = bp ? bp_query_find(bp, c->query) : NULL;

	free(c);
	if (!q)
		return;
	q->expected = n < 0 ? 0 : n;
	bp_query_check(bp, q);
}

static void bp_query_timeout(void *arg)
{
	struct bp_query *q = arg;
	struct backplane *bp = q->realm->owner->bp;

	q->timer = NULL;
	wlog_warn("backplane", "meta query %s: %zu of %ld node(s) answered in time", q->procedure,
	          json_array_size(q->answers), q->expected);
	bp_query_finish(bp, q);
}

enum wampd_err backplane_meta_query(struct realm *r, struct session *caller, uint64_t request_id,
                                    const char *procedure, json_t *args, json_t *kwargs)
{
	struct backplane *bp = r->owner->bp;
	struct realms *rs = r->owner;
	struct bp_query *q = calloc(1, sizeof(*q));
	struct bp_cookie *c;
	json_t *hdr;

	if (HASH_COUNT(bp->queries) >= BP_MAX_QUERIES) {
		free(q);
		return WAMPD_ERR_LIMIT;
	}
	c = malloc(sizeof(*c));
	if (!q || !c || !(q->procedure = strdup(procedure)) || !(q->answers = json_array())) {
		if (q)
			free(q->procedure);
		free(q);
		free(c);
		return WAMPD_ERR_NOMEM;
	}
	q->id = ++bp->last_query;
	q->realm = r;
	q->caller = caller->id;
	q->request = request_id;
	q->expected = -1;
	HASH_ADD(hh, bp->queries, id, sizeof(q->id), q);
	if (rs->timers.start)
		q->timer = rs->timers.start(rs->timers.ctx, BP_QUERY_TIMEOUT_MS, bp_query_timeout, q);
	c->rs = rs;
	c->query = q->id;
	/* "cr": every node authorizes the caller's part of the answer by its role */
	hdr = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:s, s:O?, s:O?}", "t", "mq", "r", r->name,
	                "o", bp->node, "q", (json_int_t)q->id, "cs", (json_int_t)caller->id, "cr",
	                caller->authrole, "p", procedure, "a", args, "k", kwargs);
	if (!bp_send(bp, NULL, hdr, NULL, NULL, 0, bp_query_counted, c)) {
		free(c);
		q->expected = 0;
		bp_query_check(bp, q);
	}
	return WAMPD_OK;
}

/* Another node's (or this node's own) meta query: answer with this node's part. */
static void bp_on_mq(struct backplane *bp, struct realm *r, const json_t *h)
{
	const char *p = hstr(h, "p"), *message = NULL;
	char why[DEALER_BUILTIN_WHY];
	struct registration *reg =
		p ? (struct registration *)match_get(&r->dealer.index, p, strlen(p), MATCH_EXACT) : NULL;
	json_t *res_args = NULL, *res_kwargs = NULL;
	struct session *caller = realm_session(r, hid(h, "cs")); /* on the asking node only */
	enum wampd_err err = WAMPD_ERR_NO_SUCH_PROCEDURE;

	if (!hstr(h, "o"))
		return;
	if (reg && reg->builtin && meta_cluster_wide(p)) {
		r->meta_local = true;
		r->meta_authrole = hstr(h, "cr");
		err = reg->builtin(r, caller, json_object_get(h, "a"), json_object_get(h, "k"),
		                   &res_args, &res_kwargs, &message, why);
		r->meta_local = false;
		r->meta_authrole = NULL;
	}
	bp_send(bp, hstr(h, "o"),
	        json_pack("{s:s, s:I, s:i, s:o?}", "t", "mr", "q", (json_int_t)hid(h, "q"), "e",
	                  (int)err, "a", err == WAMPD_OK ? res_args : NULL),
	        NULL, NULL, 0, NULL, NULL);
	if (err != WAMPD_OK)
		json_decref(res_args);
	json_decref(res_kwargs);
}

static void bp_on_mr(struct backplane *bp, const json_t *h)
{
	struct bp_query *q = bp_query_find(bp, hid(h, "q"));
	json_t *a;

	if (!q)
		return;
	a = json_pack("{s:O, s:O?}", "e", json_object_get(h, "e"), "a", json_object_get(h, "a"));
	if (a)
		json_array_append_new(q->answers, a);
	bp_query_check(bp, q);
}

/* ------------------------------------------------------------------------------------ */
/* testaments, liveness                                                                 */

void backplane_testaments(struct realm *r, const struct session *s, bool gone)
{
	struct backplane *bp = r->owner->bp;
	json_t *t;
	char *json;

	if (!bp_is_online(bp) || backplane_node_of(s))
		return;
	if (gone || (!s->testaments_detached && !s->testaments_destroyed)) {
		bp->ops->testaments(bp->ctx, r->name, s->id, NULL);
		return;
	}
	t = json_pack("{s:s, s:O?, s:O?}", "r", r->name, "detached", s->testaments_detached,
	              "destroyed", s->testaments_destroyed);
	if (t && (json = json_dumps(t, JSON_COMPACT))) {
		bp->ops->testaments(bp->ctx, r->name, s->id, json);
		free(json);
	}
	json_decref(t);
}

void backplane_publish_testaments(struct realms *rs, const char *json)
{
	json_error_t e;
	json_t *t = json_loads(json, JSON_ALLOW_NUL, &e);
	struct realm *r = realms_find(rs, hstr(t, "r") ? hstr(t, "r") : "");

	if (r) {
		wlog_notice("backplane", "publishing the testaments of a session of a node that died "
		            "realm=%s", r->name);
		meta_publish_testaments(r, json_object_get(t, "detached"));
		meta_publish_testaments(r, json_object_get(t, "destroyed"));
	}
	json_decref(t);
}

void backplane_went_offline(struct realms *rs)
{
	struct backplane *bp = rs->bp;
	struct realm *r, *rtmp;
	struct bp_query *q, *qtmp;

	if (!bp)
		return;
	HASH_ITER(hh, rs->by_name, r, rtmp)
		broker_release_waiters(&r->broker);
	bp_forget_node(rs, NULL);
	HASH_ITER(hh, bp->queries, q, qtmp)
		bp_query_finish(bp, q);
	if (bp->sweep && rs->timers.cancel) {
		rs->timers.cancel(rs->timers.ctx, bp->sweep);
		bp->sweep = NULL;
	}
}

void backplane_went_online(struct realms *rs)
{
	struct backplane *bp = rs->bp;
	struct realm *r, *rtmp;

	if (!bp_is_online(bp))
		return;
	HASH_ITER(hh, rs->by_name, r, rtmp) {
		struct subscription *sub, *stmp;
		struct registration *reg, *gtmp;
		struct session *s, *tmp;

		HASH_ITER(hh_id, r->broker.by_id, sub, stmp)
			bp->ops->interest(bp->ctx, r->name, sub->item.uri, sub->item.policy, true);
		HASH_ITER(hh_id, r->dealer.by_id, reg, gtmp) {
			struct reg_member *m;

			DL_FOREACH2(reg->callees, m, reg_next)
				if (!backplane_node_of(m->session))
					backplane_reg_member(r, reg, m->session, m->disclose_caller,
					                     m->forward_timeout, true, 0, false);
		}
		HASH_ITER(hh, r->sessions, s, tmp)
			if (s->testaments_detached || s->testaments_destroyed)
				backplane_testaments(r, s, false);
		bp->ops->sync(bp->ctx, r->name);
	}
}

/* ------------------------------------------------------------------------------------ */
/* dispatch                                                                             */

void backplane_receive(struct realms *rs, const uint8_t *msg, size_t len)
{
	struct backplane *bp = rs->bp;
	const uint8_t *body;
	size_t blen;
	json_t *h;
	const char *t, *rn;
	struct realm *r;

	if (!bp)
		return;
	if (!(h = bp_parse(msg, len, &body, &blen)) || !(t = hstr(h, "t"))) {
		wlog_warn("backplane", "malformed cluster message of %zu bytes dropped", len);
		json_decref(h);
		return;
	}
	if (!strcmp(t, "down")) {
		const char *node = hstr(h, "node");

		if (node && !strcmp(node, bp->node)) {
			/* declared dead (a partition, or the store lost its data): say it all again */
			if (bp_is_online(bp)) {
				wlog_warn("backplane", "this node was declared down; announcing its state "
				          "again");
				backplane_went_online(rs);
			}
		} else if (node) {
			struct bp_origin *o = NULL;

			wlog_notice("backplane", "node %s is down", node);
			bp_forget_node(rs, node);
			HASH_FIND_STR(bp->origins, node, o);
			if (o) {
				HASH_DEL(bp->origins, o);
				free(o->node);
				free(o);
			}
		}
		goto out;
	}
	if (!strcmp(t, "mr")) {
		bp_on_mr(bp, h);
		goto out;
	}
	rn = hstr(h, "r");
	if (!rn || !(r = realms_find(rs, rn)))
		goto out; /* a realm this node does not serve */
	if (!strcmp(t, "pub"))
		bp_on_pub(bp, r, h, body, blen);
	else if (!strcmp(t, "call"))
		bp_on_call(r, h, body, blen);
	else if (!strcmp(t, "dlv"))
		bp_on_dlv(r, h, body, blen);
	else if (!strcmp(t, "cancel"))
		bp_on_cancel(bp, r, h);
	else if (!strcmp(t, "gone"))
		bp_on_gone(bp, r, h);
	else if (!strcmp(t, "reg"))
		bp_on_reg(bp, r, h);
	else if (!strcmp(t, "mq"))
		bp_on_mq(bp, r, h);
	else
		wlog_warn("backplane", "unknown cluster message type %s dropped", t);
out:
	json_decref(h);
}
