/*
 * fake_backplane.c - see fake_backplane.h. A FIFO of pending deliveries (each one a cluster
 * message for a node, or an answer of the store); fixed arrays for the registration,
 * retained-event and testament stores.
 */
#include "fake_backplane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fq_kind { FQ_MSG, FQ_COUNT, FQ_READY, FQ_REG_ADDED, FQ_LOOKUP, FQ_RETAINED };

struct fq {
	enum fq_kind kind;
	int to;
	uint8_t *buf;
	size_t len;
	void (*counted)(void *arg, long n);
	void *arg;
	long n;
	char realm[64], uri[256];
	enum match_policy policy;
	uint64_t session, request, sub;
	bool created, ok;
	struct fq *next;
};

struct fnode {
	int index;
	char id[8];
	struct realms *rs;
	bool attached, dead, online, defer_interest;
	struct fake_bp_stats stats;
	json_t *testaments; /* "realm session" -> json string */
};

struct freg {
	bool used;
	char realm[64], uri[256], invoke[16];
	enum match_policy policy;
	json_t *callees;
};

struct fret {
	bool used;
	char realm[64], topic[256];
	uint8_t *buf;
	size_t len;
};

static struct fnode nodes[FAKE_BP_NODES];
static struct fq *head, *tail;
static struct freg regs[64];
static struct fret rets[64];
static bool duplicate;

static struct fq *fq_new(enum fq_kind kind, int to)
{
	struct fq *q = calloc(1, sizeof(*q));

	q->kind = kind;
	q->to = to;
	if (tail)
		tail->next = q;
	else
		head = q;
	tail = q;
	return q;
}

static void fq_msg(int to, const uint8_t *buf, size_t len)
{
	struct fq *q;

	if (nodes[to].dead || !nodes[to].attached)
		return;
	q = fq_new(FQ_MSG, to);
	q->buf = malloc(len ? len : 1);
	memcpy(q->buf, buf, len);
	q->len = len;
}

static int node_by_id(const char *id)
{
	for (int i = 0; i < FAKE_BP_NODES; i++)
		if (nodes[i].attached && !strcmp(nodes[i].id, id))
			return i;
	return -1;
}

/* Every live attached node gets msg; returns how many. */
static long broadcast(const uint8_t *buf, size_t len)
{
	long n = 0;

	for (int i = 0; i < FAKE_BP_NODES; i++)
		if (nodes[i].attached && !nodes[i].dead && nodes[i].online) {
			fq_msg(i, buf, len);
			n++;
		}
	return n;
}

static void broadcast_reg(const struct freg *g)
{
	json_t *st = json_pack("{s:s, s:s, s:s, s:s, s:s}", "t", "reg", "r", g->realm, "uri", g->uri,
	                       "match", match_policy_name(g->policy), "invoke", g->invoke);
	char *s;

	if (g->used && json_array_size(g->callees))
		json_object_set(st, "callees", g->callees);
	s = json_dumps(st, JSON_COMPACT);
	broadcast((const uint8_t *)s, strlen(s));
	free(s);
	json_decref(st);
}

static struct freg *reg_find(const char *realm, const char *uri, enum match_policy policy)
{
	for (int i = 0; i < 64; i++)
		if (regs[i].used && !strcmp(regs[i].realm, realm) && !strcmp(regs[i].uri, uri) &&
		    regs[i].policy == policy)
			return &regs[i];
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* the ops                                                                              */

static bool f_interest(void *ctx, const char *realm, const char *uri, enum match_policy policy,
                       bool on)
{
	struct fnode *n = ctx;
	struct fq *q;

	if (!on) {
		n->stats.interest_off++;
		return true;
	}
	n->stats.interest_on++;
	if (!n->defer_interest)
		return true;
	q = fq_new(FQ_READY, n->index);
	snprintf(q->realm, sizeof(q->realm), "%s", realm);
	snprintf(q->uri, sizeof(q->uri), "%s", uri);
	q->policy = policy;
	return false;
}

static void f_publish(void *ctx, const char *realm, const char *topic, const uint8_t *msg,
                      size_t len)
{
	struct fnode *n = ctx;

	(void)realm, (void)topic;
	n->stats.published++;
	for (int i = 0; i < FAKE_BP_NODES; i++) {
		if (i == n->index || !nodes[i].online)
			continue;
		fq_msg(i, msg, len);
		if (duplicate)
			fq_msg(i, msg, len);
	}
}

static void f_send(void *ctx, const char *node, const uint8_t *msg, size_t len,
                   void (*counted)(void *arg, long n), void *arg)
{
	struct fnode *n = ctx;
	long reached = 0;

	n->stats.sent++;
	if (node) {
		int to = node_by_id(node);

		if (to >= 0 && !nodes[to].dead) {
			fq_msg(to, msg, len);
			reached = 1;
		}
	} else {
		reached = broadcast(msg, len);
	}
	if (counted) {
		struct fq *q = fq_new(FQ_COUNT, n->index);

		q->counted = counted;
		q->arg = arg;
		q->n = reached;
	}
}

static void f_retain(void *ctx, const char *realm, const char *topic, const uint8_t *msg,
                     size_t len)
{
	struct fret *r = NULL;

	(void)ctx;
	for (int i = 0; i < 64 && !r; i++)
		if (rets[i].used && !strcmp(rets[i].realm, realm) && !strcmp(rets[i].topic, topic))
			r = &rets[i];
	for (int i = 0; i < 64 && !r; i++)
		if (!rets[i].used)
			r = &rets[i];
	free(r->buf);
	r->used = true;
	snprintf(r->realm, sizeof(r->realm), "%s", realm);
	snprintf(r->topic, sizeof(r->topic), "%s", topic);
	r->buf = malloc(len);
	memcpy(r->buf, msg, len);
	r->len = len;
}

static bool f_fetch_retained(void *ctx, const char *realm, const char *uri,
                             enum match_policy policy, uint64_t session, uint64_t sub)
{
	struct fnode *n = ctx;
	struct fq *q = fq_new(FQ_RETAINED, n->index);

	(void)uri, (void)policy;
	snprintf(q->realm, sizeof(q->realm), "%s", realm);
	q->session = session;
	q->sub = sub;
	return true;
}

static void f_reg_add(void *ctx, const char *realm, const char *uri, enum match_policy policy,
                      const char *invoke, uint64_t session, uint64_t request, bool created,
                      const char *member_json)
{
	struct fnode *n = ctx;
	struct freg *g = reg_find(realm, uri, policy);
	struct fq *q = fq_new(FQ_REG_ADDED, n->index);
	json_error_t e;

	snprintf(q->realm, sizeof(q->realm), "%s", realm);
	snprintf(q->uri, sizeof(q->uri), "%s", uri);
	q->policy = policy;
	q->session = session;
	q->request = request;
	q->created = created;
	q->ok = true;
	if (g && (!strcmp(g->invoke, "single") || strcmp(g->invoke, invoke))) {
		q->ok = false;
		return;
	}
	for (int i = 0; i < 64 && !g; i++)
		if (!regs[i].used) {
			g = &regs[i];
			g->used = true;
			snprintf(g->realm, sizeof(g->realm), "%s", realm);
			snprintf(g->uri, sizeof(g->uri), "%s", uri);
			snprintf(g->invoke, sizeof(g->invoke), "%s", invoke);
			g->policy = policy;
			g->callees = json_array();
		}
	json_array_append_new(g->callees, json_loads(member_json, 0, &e));
	broadcast_reg(g);
}

/* Remove the members of node (and session, if not 0) from every registration. */
static void reg_remove_where(const char *node, uint64_t session)
{
	for (int i = 0; i < 64; i++) {
		struct freg *g = &regs[i];
		bool changed = false;

		if (!g->used)
			continue;
		for (size_t k = json_array_size(g->callees); k-- > 0;) {
			json_t *c = json_array_get(g->callees, k);
			const char *sid = json_string_value(json_object_get(c, "session"));

			if (!strcmp(json_string_value(json_object_get(c, "node")), node) &&
			    (!session || strtoull(sid, NULL, 10) == session)) {
				json_array_remove(g->callees, k);
				changed = true;
			}
		}
		if (!changed)
			continue;
		if (!json_array_size(g->callees)) {
			json_decref(g->callees);
			g->callees = NULL;
			g->used = false;
		}
		broadcast_reg(g);
	}
}

static void f_reg_remove(void *ctx, const char *realm, const char *uri,
                         enum match_policy policy, uint64_t session)
{
	struct fnode *n = ctx;

	(void)realm, (void)uri, (void)policy;
	reg_remove_where(n->id, session);
}

static void f_sync(void *ctx, const char *realm)
{
	struct fnode *n = ctx;

	for (int i = 0; i < 64; i++) {
		json_t *st;
		char *s;

		if (!regs[i].used || strcmp(regs[i].realm, realm))
			continue;
		st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "t", "reg", "r", regs[i].realm, "uri",
		               regs[i].uri, "match", match_policy_name(regs[i].policy), "invoke",
		               regs[i].invoke, "callees", regs[i].callees);
		s = json_dumps(st, JSON_COMPACT);
		fq_msg(n->index, (const uint8_t *)s, strlen(s));
		free(s);
		json_decref(st);
	}
}

static bool f_lookup(void *ctx, const char *realm, const char *uri, uint64_t session)
{
	struct fnode *n = ctx;
	struct fq *q = fq_new(FQ_LOOKUP, n->index);

	snprintf(q->realm, sizeof(q->realm), "%s", realm);
	snprintf(q->uri, sizeof(q->uri), "%s", uri);
	q->session = session;
	return true;
}

static void f_testaments(void *ctx, const char *realm, uint64_t session, const char *json)
{
	struct fnode *n = ctx;
	char key[128];

	snprintf(key, sizeof(key), "%s %llu", realm, (unsigned long long)session);
	if (json)
		json_object_set_new(n->testaments, key, json_string(json));
	else
		json_object_del(n->testaments, key);
}

static bool f_online(void *ctx)
{
	struct fnode *n = ctx;

	return n->online && !n->dead;
}

static const struct realm_backplane_ops fake_ops = {
	.interest = f_interest,
	.publish = f_publish,
	.send = f_send,
	.retain = f_retain,
	.fetch_retained = f_fetch_retained,
	.reg_add = f_reg_add,
	.reg_remove = f_reg_remove,
	.lookup = f_lookup,
	.sync = f_sync,
	.testaments = f_testaments,
	.online = f_online,
};

/* ------------------------------------------------------------------------------------ */

void fake_bp_reset(void)
{
	while (head) {
		struct fq *q = head;

		head = q->next;
		free(q->buf);
		free(q);
	}
	tail = NULL;
	for (int i = 0; i < 64; i++) {
		json_decref(regs[i].callees);
		free(rets[i].buf);
	}
	for (int i = 0; i < FAKE_BP_NODES; i++)
		json_decref(nodes[i].testaments);
	memset(regs, 0, sizeof(regs));
	memset(rets, 0, sizeof(rets));
	memset(nodes, 0, sizeof(nodes));
	duplicate = false;
}

void fake_bp_attach(struct realms *rs, int i)
{
	struct fnode *n = &nodes[i];

	n->index = i;
	snprintf(n->id, sizeof(n->id), "n%d", i);
	n->rs = rs;
	n->attached = true;
	n->online = true;
	n->testaments = json_object();
	backplane_attach(rs, &fake_ops, n, n->id);
}

static void deliver(struct fq *q)
{
	struct fnode *n = &nodes[q->to];
	const uint8_t *one;
	size_t one_len;

	if (n->dead && q->kind != FQ_COUNT)
		return;
	switch (q->kind) {
	case FQ_MSG:
		if (n->online)
			backplane_receive(n->rs, q->buf, q->len);
		break;
	case FQ_COUNT:
		q->counted(q->arg, q->n);
		break;
	case FQ_READY:
		backplane_interest_ready(n->rs, q->realm, q->uri, q->policy);
		break;
	case FQ_REG_ADDED:
		backplane_reg_added(n->rs, q->realm, q->uri, q->policy, q->session, q->request,
		                    q->created, q->ok);
		break;
	case FQ_LOOKUP:
		for (int i = 0; i < 64; i++) {
			json_t *st;
			char *s;

			if (!regs[i].used || strcmp(regs[i].realm, q->realm) ||
			    strcmp(regs[i].uri, q->uri) || regs[i].policy != MATCH_EXACT)
				continue;
			st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "t", "reg", "r", regs[i].realm,
			               "uri", regs[i].uri, "match", "exact", "invoke", regs[i].invoke,
			               "callees", regs[i].callees);
			s = json_dumps(st, JSON_COMPACT);
			backplane_lookup_done(n->rs, q->realm, q->session, (const uint8_t *)s, strlen(s));
			free(s);
			json_decref(st);
			return;
		}
		backplane_lookup_done(n->rs, q->realm, q->session, NULL, 0);
		break;
	case FQ_RETAINED:
		for (int i = 0; i < 64; i++) {
			if (!rets[i].used || strcmp(rets[i].realm, q->realm))
				continue;
			one = rets[i].buf;
			one_len = rets[i].len;
			backplane_retained(n->rs, q->realm, q->session, q->sub, &one, &one_len, 1);
		}
		break;
	}
}

size_t fake_bp_flush(void)
{
	size_t count = 0;

	while (head) {
		struct fq *q = head;

		head = q->next;
		if (!head)
			tail = NULL;
		deliver(q);
		free(q->buf);
		free(q);
		count++;
	}
	return count;
}

void fake_bp_defer_interest(int i, bool on)
{
	nodes[i].defer_interest = on;
}

void fake_bp_duplicate_publications(bool on)
{
	duplicate = on;
}

void fake_bp_kill(int i)
{
	struct fnode *n = &nodes[i];
	int heir = -1;
	const char *key;
	json_t *v;
	char down[64];

	n->dead = true;
	reg_remove_where(n->id, 0);
	for (int k = 0; k < FAKE_BP_NODES && heir < 0; k++)
		if (nodes[k].attached && !nodes[k].dead)
			heir = k;
	if (heir >= 0)
		json_object_foreach(n->testaments, key, v)
			backplane_publish_testaments(nodes[heir].rs, json_string_value(v));
	json_object_clear(n->testaments);
	snprintf(down, sizeof(down), "{\"t\":\"down\",\"node\":\"%s\"}\n", n->id);
	broadcast((const uint8_t *)down, strlen(down));
}

void fake_bp_set_online(int i, bool online)
{
	struct fnode *n = &nodes[i];

	if (n->online == online)
		return;
	n->online = online;
	if (online)
		backplane_went_online(n->rs);
	else
		backplane_went_offline(n->rs);
}

struct fake_bp_stats *fake_bp_stats(int i)
{
	return &nodes[i].stats;
}
