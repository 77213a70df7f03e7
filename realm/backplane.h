/*
 * backplane.h - many router nodes as one router: the realm side of a cluster backplane.
 *
 * realm/ knows nothing of Redis or sockets. A backplane implementation (router/
 * backplane_redis.c; a fake in unit tests) moves opaque cluster messages between nodes
 * and keeps a little shared state; it implements struct realm_backplane_ops and feeds
 * what arrives into backplane_receive() and the other inbound functions below. With no
 * backplane set (rs->backplane == NULL, the default) nothing here runs: every hook in the
 * broker and dealer is one pointer test.
 *
 * What crosses nodes (all messages are built and parsed here, backplane.c):
 *   pub    a publication, sent once to the nodes interested in its topic (the backplane
 *          routes by topic interest); each receiving node delivers it to its own matching
 *          subscribers with the same black/white lists. Per origin node a sequence number
 *          drops duplicates (a node reached through two patterns) and keeps order.
 *   call   a CALL for a callee on another node, sent to that node with the caller's
 *          identity; the callee's node runs the call through its own dealer with a stub
 *          session standing for the remote caller, whose "transport" sends the answers
 *          (RESULT, progressive RESULTs, ERROR) back as
 *   dlv    encoded bytes for one session of the receiving node (already in its serializer).
 *   cancel / gone   CANCEL of a forwarded call; a caller that left (its calls are dropped,
 *          the callees get INTERRUPT).
 *   reg    the cluster-wide state of one registration (from the shared store): every node
 *          mirrors remote callees as stub members of its own registration, so picking a
 *          callee (single, roundrobin, random, first, last) sees the whole cluster.
 *   down   a node is gone (heartbeat expired, or it said goodbye): its stubs are removed,
 *          calls waiting for it get wamp.error.canceled.
 *   mq/mr  a meta API query run on every node, and one node's answer; the asking node
 *          merges them (counts add up, lists are joined) before answering its caller.
 *
 * Identifiers: with a backplane, subscription and registration ids are derived from
 * (uri, match) (a 53-bit hash), so the same subscription has the same id on every node.
 *
 * Wire form of a cluster message: one compact JSON object (no newline), then "\n", then the
 * payload bytes it describes (args span then kwargs span), if any.
 */
#ifndef WAMPD_REALM_BACKPLANE_H
#define WAMPD_REALM_BACKPLANE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "realm/match.h"
#include "realm/session.h"

struct realms;
struct realm;
struct session;
struct subscription;
struct registration;
struct wamp_msg;

/*
 * Implemented by a backplane. Every function is called from the event loop (inside a
 * message dispatch or a timer), must not block and must not call back into realm/ before
 * it returns (answers come later through the inbound functions). Strings and buffers are
 * borrowed for the duration of the call.
 */
struct realm_backplane_ops {
	/* This node has (on) or no longer has (off) a subscription on (uri, policy) of realm:
	 * publications on matching topics must (no longer) reach it. Returns true if the
	 * interest is effective now; false if it will be once backplane_interest_ready() is
	 * called for it (the broker holds SUBSCRIBED until then). */
	bool (*interest)(void *ctx, const char *realm, const char *uri, enum match_policy policy,
	                 bool on);
	/* Deliver msg to every other node interested in topic of realm. */
	void (*publish)(void *ctx, const char *realm, const char *topic, const uint8_t *msg,
	                size_t len);
	/* Deliver msg to node (NULL: every node, this one included). counted(arg, n), if
	 * given, is called later with the number of nodes reached (-1: not sent). */
	void (*send)(void *ctx, const char *node, const uint8_t *msg, size_t len,
	             void (*counted)(void *arg, long n), void *arg);
	/* Keep msg (a pub message) as the retained event of topic. */
	void (*retain)(void *ctx, const char *realm, const char *topic, const uint8_t *msg,
	               size_t len);
	/* Fetch the retained events matching (uri, policy) for subscription sub of session;
	 * answered by backplane_retained(). false: not possible now (use local ones). */
	bool (*fetch_retained)(void *ctx, const char *realm, const char *uri,
	                       enum match_policy policy, uint64_t session, uint64_t sub);
	/* Add member (JSON, see backplane.c) to the shared registration (uri, policy, invoke)
	 * of realm. The store's answer (added, or refused: another node registered it first,
	 * or with another policy) goes to backplane_reg_added() with request and created as
	 * given; every change comes back to every node as a "reg" message. */
	void (*reg_add)(void *ctx, const char *realm, const char *uri, enum match_policy policy,
	                const char *invoke, uint64_t session, uint64_t request, bool created,
	                const char *member_json);
	/* Fetch the stored state of the exact registration uri of realm for a CALL that found
	 * nothing here yet; answered by backplane_lookup_done(). false: not possible now. */
	bool (*lookup)(void *ctx, const char *realm, const char *uri, uint64_t session);
	/* Remove this node's callee session from the shared registration. */
	void (*reg_remove)(void *ctx, const char *realm, const char *uri, enum match_policy policy,
	                   uint64_t session);
	/* Ask for the stored state of realm's registrations (as "reg" messages). */
	void (*sync)(void *ctx, const char *realm);
	/* Store (json non-NULL) or forget the testaments of a local session, to be published
	 * by another node if this one dies. */
	void (*testaments)(void *ctx, const char *realm, uint64_t session, const char *json);
	/* true while the backplane reaches the other nodes. */
	bool (*online)(void *ctx);
	/* Optional (NULL: none): handle, now, the cluster messages that have already arrived
	 * (called before a CALL is routed, so a registration confirmed to a client on another
	 * node, who then told this caller, is mirrored here first). It may run the inbound
	 * functions; it does nothing when called from inside the backplane's own callbacks. */
	void (*drain)(void *ctx);
};

/* ------------------------------------------------------------------------------------ */
/* a session's cluster state (session.h's s->bp, private to backplane.c)                 */

/* The node id a stub stands for, or NULL: bp belongs to a session of this node. */
const char *backplane_stub_node(const struct bp_session *bp);

/* The cluster node s is a session of: NULL for this node's own sessions (the pointer
 * test is all they pay), the node id for a stub standing for a remote session. */
static inline const char *backplane_node_of(const struct session *s)
{
	return s->bp ? backplane_stub_node(s->bp) : NULL;
}

/* Release a session's cluster state (session_free does; NULL is ignored). */
void backplane_session_free(struct bp_session *bp);

/* Set up the registry's cluster state (node_id copied). Before any realm is added. false
 * on allocation failure. */
bool backplane_attach(struct realms *rs, const struct realm_backplane_ops *ops, void *ctx,
                      const char *node_id);

/* Free the cluster state (stubs, queries). After every local session has left. */
void backplane_detach(struct realms *rs);

/* true if rs has a backplane that is online. */
bool backplane_online(const struct realms *rs);

/* ------------------------------------------------------------------------------------ */
/* inbound: called by the backplane from the event loop                                 */

/* A cluster message arrived (msg borrowed). Unknown or malformed messages are logged and
 * dropped. */
void backplane_receive(struct realms *rs, const uint8_t *msg, size_t len);

/* The interest on (uri, policy) of realm is effective: held SUBSCRIBED replies go out. */
void backplane_interest_ready(struct realms *rs, const char *realm, const char *uri,
                              enum match_policy policy);

/* Retained events (pub messages, n of them) for subscription sub of session. */
void backplane_retained(struct realms *rs, const char *realm, uint64_t session, uint64_t sub,
                        const uint8_t *const *msgs, const size_t *lens, size_t n);

/* The shared store added (ok) or refused this node's callee session on (uri, policy) of
 * realm for REGISTER request (0: announced again after a reconnect): REGISTERED, or ERROR
 * wamp.error.procedure_already_exists (revocation for request 0). */
void backplane_reg_added(struct realms *rs, const char *realm, const char *uri,
                         enum match_policy policy, uint64_t session, uint64_t request,
                         bool created, bool ok);

/* The store's answer to lookup() (msg: a "reg" message, or NULL: none): mirrored, and the
 * session's parked CALL runs again. */
void backplane_lookup_done(struct realms *rs, const char *realm, uint64_t session,
                           const uint8_t *msg, size_t len);

/* Publish the stored testaments of a dead node's session (json as given to testaments()). */
void backplane_publish_testaments(struct realms *rs, const char *json);

/* The backplane lost the other nodes: calls forwarded to other nodes get
 * wamp.error.canceled, remote callers' calls are interrupted, remote callees forgotten.
 * Local traffic goes on. */
void backplane_went_offline(struct realms *rs);

/* The backplane is back (or this node was declared dead by mistake): every subscription,
 * registration and testament of this node is announced again and the registrations of
 * every realm are synced. */
void backplane_went_online(struct realms *rs);

/* ------------------------------------------------------------------------------------ */
/* hooks called by realm/ (broker.c, dealer.c, meta.c, realm.c)                           */

/* A realm was added: sync its registrations if online. */
void backplane_realm_added(struct realm *r);

/* broker: interest of this node in sub's topic on (true: effective now) / off; the
 * cluster's retained events for s's new membership in sub (true: they come later). */
bool backplane_interest(struct realm *r, const struct subscription *sub, bool on);
bool backplane_fetch_retained(struct realm *r, const struct subscription *sub,
                              const struct session *s);

/* A local publication was routed locally: send it to the interested nodes. */
struct publication_view {
	uint64_t id;
	const char *topic;
	size_t topic_len;
	const json_t *options;    /* PUBLISH.Options (lists, retain, ppt keys), may be NULL */
	const json_t *publisher;  /* publisher disclosure, may be NULL */
	const struct wamp_payload *payload;
};
void backplane_publish(struct realm *r, const struct publication_view *p);

/* 64-bit id of a (uri, policy) subscription/registration, the same on every node. */
uint64_t backplane_id(char kind, const char *uri, size_t len, enum match_policy policy);

/* Forward a CALL to the remote callee stub `callee` (see dealer.c); az: the caller's
 * authorization (disclosure, trust level), NULL for a progressive call's continuation. */
struct authz_decision;
enum wampd_err backplane_call(struct realm *r, struct session *caller, struct session *callee,
                              uint64_t registration, const struct wamp_msg *call,
                              const json_t *options, const struct authz_decision *az);
/* Forward a CANCEL of a forwarded call. */
void backplane_cancel(struct realm *r, struct session *caller, struct session *callee,
                      uint64_t call_id, const char *mode);
/* Tell the callee's node that caller left (its pending calls there are dropped). */
void backplane_caller_gone(struct realm *r, struct session *caller, struct session *callee);

/* A local callee joined (for REGISTER request, 0: announced again; created: it made the
 * registration) / left a registration. */
void backplane_reg_member(struct realm *r, const struct registration *reg,
                          const struct session *s, bool disclose_caller, bool forward_timeout,
                          bool on, uint64_t request, bool created);

/* Before routing a CALL: apply cluster messages already received (ops->drain). */
void backplane_drain(struct realms *rs);

/* s CALLs uri, unknown here: WAMPD_OK (go on: the store was asked already, or cannot be),
 * or WAMPD_ERR_AUTHZ_PENDING: the CALL is parked until the store answered (registrations
 * made on another node an instant ago are not mirrored here yet). */
enum wampd_err backplane_lookup(struct realm *r, struct session *s, const char *uri,
                                size_t len);

/* Testaments of local session s changed (or s left: gone). */
void backplane_testaments(struct realm *r, const struct session *s, bool gone);

/* Run a meta procedure on every node and answer caller's CALL request_id with the merged
 * result (args/kwargs borrowed). WAMPD_OK: the answer comes later. */
enum wampd_err backplane_meta_query(struct realm *r, struct session *caller, uint64_t request_id,
                                    const char *procedure, json_t *args, json_t *kwargs);

#endif
