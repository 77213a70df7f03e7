/*
 * backplane_redis.c - the cluster backplane on Redis (see realm/backplane.h for what the
 * nodes exchange; this file only moves those messages and keeps the shared state).
 *
 * Event loop: two hiredis async connections per node, `cmd` (commands, PUBLISH, scripts)
 * and `sub` (SUBSCRIBE/PSUBSCRIBE only, as Redis requires). Each connection's socket is
 * dup()ed and the duplicate adopted into libwebsockets as a raw file descriptor on a
 * vhost of our own: lws polls it, LWS_CALLBACK_RAW_RX_FILE calls redisAsyncHandleRead,
 * LWS_CALLBACK_RAW_WRITEABLE_FILE redisAsyncHandleWrite, and hiredis' addWrite hook asks
 * lws for a writeable callback. hiredis keeps (and closes) its own descriptor; the lws side
 * is killed when hiredis cleans up. Timers (heartbeat, reaping, reconnect backoff) are
 * lws_sul timers. No threads, no blocking calls.
 *
 * Keys and channels (P = "wampd:<db>:", so two clusters on one Redis with different
 * databases never hear each other: pub/sub ignores the database):
 *   P nodes            set of live node ids
 *   P hb:<node>        heartbeat, SET with a TTL (PX) refreshed every TTL/3
 *   P realms           set of realms that have registrations
 *   P reg:<realm>      hash "<match> <uri>" -> the registration's state ("reg" message)
 *   P tm:<node>        hash "<realm> <session>" -> the session's testaments
 *   P ret:<realm>      hash topic -> retained event ("pub" message), for realms whose event
 *                      store is this node's (memory, lmdb); a redis store keeps its own
 *                      (store_redis.c, on this file's cmd connection)
 *   P ctl              channel: every node (registration changes, node down, meta queries)
 *   P n:<node>         channel: one node (forwarded calls and their answers)
 *   P t:<realm>:<uri>  channel per topic; nodes SUBSCRIBE the exact topics and PSUBSCRIBE
 *                      the patterns (prefix "uri*", wildcard with "*" components) their
 *                      sessions subscribe to, so a publication reaches only nodes that
 *                      have matching subscribers. A channel without local interest is
 *                      unsubscribed lazily (after a few seconds), never at once: hiredis
 *                      mixes up a quick UNSUBSCRIBE+SUBSCRIBE of one channel.
 *
 * Registration changes are Lua scripts (atomic): adding a callee checks the shared
 * policy (single: one callee cluster-wide) and answers 0 on a conflict; every change is
 * published on ctl as the registration's new state. Reaping (every second on every node)
 * finds nodes whose heartbeat expired; the one node whose script removes the dead node
 * from "nodes" also gets its testaments (so they are published exactly once), removes its
 * callees from every registration and publishes "down".
 *
 * Failure: when either connection drops (or a heartbeat reply is overdue) both are closed,
 * the realms are told (backplane_went_offline: local traffic goes on), and the node
 * reconnects with exponential backoff (100 ms .. 2 s); once both connections are up and
 * subscribed, it announces its whole state again (backplane_went_online).
 */
#include "router/cluster/backplane_redis.h"

#include <errno.h>
#include <poll.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "realm/backplane.h"
#include "realm/realm.h"
#include "router/cluster/store_redis.h"

#define BP_BACKOFF_MIN_MS 100
#define BP_BACKOFF_MAX_MS 2000
#define BP_CONNECT_TIMEOUT_MS 3000
#define BP_REAP_MS 1000
#define BP_UNSUB_LINGER_MS 5000
#define BP_BYE_WAIT_MS 1000
#define BP_MAX_OBUF (64u << 20)  /* bytes of commands waiting for Redis: beyond, refused */

struct bp_redis;

struct bp_conn {
	struct bp_redis *bp;
	redisAsyncContext *ac;
	struct lws *wsi;
	bool connected;
	const char *name;          /* "cmd" / "sub", for logs */
};

/* A (pattern) channel this node is subscribed to, and the subscriptions waiting for it. */
struct bp_channel {
	char *key;                 /* 's' or 'p' (SUBSCRIBE or PSUBSCRIBE), then the name: an
	                              exact channel and a pattern may be spelt alike */
	const char *name;          /* key + 1 */
	bool pattern;
	bool ready;                /* the (P)SUBSCRIBE was confirmed */
	bool unsubscribing;        /* (P)UNSUBSCRIBE sent, its reply not seen yet */
	uint32_t count;            /* local subscriptions needing it */
	int64_t idle_since_ms;     /* count dropped to 0 at */
	struct bp_waiter {
		char *realm, *uri;
		enum match_policy policy;
		struct bp_waiter *next;
	} *waiters;
	UT_hash_handle hh;
};

struct bp_redis {
	struct router *rt;
	struct realms *rs;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct lws_protocols protocols[2];
	const char *host;           /* these five: the configuration's (config.h) */
	int port;
	int db;
	const char *user;
	const char *password;       /* a secret: never logged */
	char prefix[32];
	char node[72];
	uint32_t ttl_ms;
	struct bp_conn cmd, sub;
	int sub_confirmed;          /* of the ctl and node channels (2: ready) */
	bool online;
	bool stopping;
	bool tearing_down;          /* inside bp_teardown: its own disconnects are expected */
	bool joined_before;         /* this process was online once already */
	int in_hiredis;             /* inside redisAsyncHandleRead/Write (no drain then) */
	uint32_t backoff_ms;
	uint64_t refused;           /* commands refused: Redis too slow (BP_MAX_OBUF) */
	int64_t refused_logged_ms;
	int64_t connect_started_ms;
	int64_t hb_sent_ms;         /* heartbeat awaiting its reply since, 0: none */
	int bye_pending;
	struct bp_channel *channels;
	lws_sorted_usec_list_t sul_reconnect, sul_teardown, sul_tick;
	unsigned ticks;
};

/* ------------------------------------------------------------------------------------ */
/* Lua scripts                                                                          */

/* KEYS: reg hash, realms set. ARGV: prefix, realm, field, uri, match, invoke, member json,
 * node, session. 1: added (or already there), 0: conflict. */
static const char LUA_REG_ADD[] =
	"local cur = redis.call('HGET', KEYS[1], ARGV[3])\n"
	"local st\n"
	"if cur then\n"
	"  st = cjson.decode(cur)\n"
	"  for _, c in ipairs(st.callees) do\n"
	"    if c.node == ARGV[8] and c.session == ARGV[9] then return 1 end\n"
	"  end\n"
	"  if st.invoke == 'single' or st.invoke ~= ARGV[6] then return 0 end\n"
	"else\n"
	"  st = {t = 'reg', r = ARGV[2], uri = ARGV[4], match = ARGV[5], invoke = ARGV[6],\n"
	"        callees = {}}\n"
	"  redis.call('SADD', KEYS[2], ARGV[2])\n"
	"end\n"
	"table.insert(st.callees, cjson.decode(ARGV[7]))\n"
	"local s = cjson.encode(st)\n"
	"redis.call('HSET', KEYS[1], ARGV[3], s)\n"
	"redis.call('PUBLISH', ARGV[1] .. 'ctl', s .. '\\n')\n"
	"return 1\n";

/* KEYS: reg hash. ARGV: prefix, field, node, session. */
static const char LUA_REG_REMOVE[] =
	"local cur = redis.call('HGET', KEYS[1], ARGV[2])\n"
	"if not cur then return 0 end\n"
	"local st = cjson.decode(cur)\n"
	"local keep, changed = {}, false\n"
	"for _, c in ipairs(st.callees) do\n"
	"  if c.node == ARGV[3] and c.session == ARGV[4] then changed = true\n"
	"  else table.insert(keep, c) end\n"
	"end\n"
	"if not changed then return 0 end\n"
	"if #keep == 0 then\n"
	"  redis.call('HDEL', KEYS[1], ARGV[2])\n"
	"  st.callees = nil\n"
	"  redis.call('PUBLISH', ARGV[1] .. 'ctl', cjson.encode(st) .. '\\n')\n"
	"else\n"
	"  st.callees = keep\n"
	"  local s = cjson.encode(st)\n"
	"  redis.call('HSET', KEYS[1], ARGV[2], s)\n"
	"  redis.call('PUBLISH', ARGV[1] .. 'ctl', s .. '\\n')\n"
	"end\n"
	"return 1\n";

/* ARGV: prefix, a node leaving on purpose or starting again (or ""), "1" if that node's
 * stored testaments are to be returned too (a previous process with this node id died).
 * Reaps every node without heartbeat: returns the testaments of the reaped nodes'
 * sessions. */
static const char LUA_REAP[] =
	"local p = ARGV[1]\n"
	"local out = {}\n"
	"for _, n in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do\n"
	"  if n == ARGV[2] or redis.call('EXISTS', p .. 'hb:' .. n) == 0 then\n"
	"    redis.call('SREM', p .. 'nodes', n)\n"
	"    redis.call('DEL', p .. 'hb:' .. n)\n"
	"    for _, realm in ipairs(redis.call('SMEMBERS', p .. 'realms')) do\n"
	"      local h = p .. 'reg:' .. realm\n"
	"      local all = redis.call('HGETALL', h)\n"
	"      for i = 1, #all, 2 do\n"
	"        local st = cjson.decode(all[i + 1])\n"
	"        local keep, changed = {}, false\n"
	"        for _, c in ipairs(st.callees) do\n"
	"          if c.node == n then changed = true else table.insert(keep, c) end\n"
	"        end\n"
	"        if changed then\n"
	"          if #keep == 0 then\n"
	"            redis.call('HDEL', h, all[i])\n"
	"            st.callees = nil\n"
	"            redis.call('PUBLISH', p .. 'ctl', cjson.encode(st) .. '\\n')\n"
	"          else\n"
	"            st.callees = keep\n"
	"            local s = cjson.encode(st)\n"
	"            redis.call('HSET', h, all[i], s)\n"
	"            redis.call('PUBLISH', p .. 'ctl', s .. '\\n')\n"
	"          end\n"
	"        end\n"
	"      end\n"
	"    end\n"
	"    if n ~= ARGV[2] or ARGV[3] == '1' then\n"
	"      for _, t in ipairs(redis.call('HVALS', p .. 'tm:' .. n)) do\n"
	"        table.insert(out, t)\n"
	"      end\n"
	"    end\n"
	"    redis.call('DEL', p .. 'tm:' .. n)\n"
	"    redis.call('PUBLISH', p .. 'ctl', cjson.encode({t = 'down', node = n}) .. '\\n')\n"
	"  end\n"
	"end\n"
	"return out\n";

/* ------------------------------------------------------------------------------------ */
/* hiredis on the lws loop                                                              */

static void bp_lost(struct bp_redis *bp, const char *why);

static void bp_ev_add_write(void *privdata)
{
	struct bp_conn *c = privdata;

	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static void bp_ev_noop(void *privdata)
{
	(void)privdata;
}

/* hiredis is done with the connection (it closes its descriptor): drop the lws side. */
static void bp_ev_cleanup(void *privdata)
{
	struct bp_conn *c = privdata;
	struct lws *wsi = c->wsi;

	c->wsi = NULL;
	c->ac = NULL;
	c->connected = false;
	if (wsi) {
		lws_set_opaque_user_data(wsi, NULL);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

static int bp_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                           void *in, size_t len)
{
	struct bp_conn *c = lws_get_opaque_user_data(wsi);

	(void)user, (void)in, (void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (c && c->ac) {
			c->bp->in_hiredis++;
			redisAsyncHandleRead(c->ac);
			c->bp->in_hiredis--;
		}
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (c && c->ac) {
			c->bp->in_hiredis++;
			redisAsyncHandleWrite(c->ac);
			c->bp->in_hiredis--;
		}
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (c && c->wsi == wsi) {
			/* lws gave the descriptor up (hang-up or error): let hiredis see it */
			c->wsi = NULL;
			if (c->ac) {
				if (c->connected)
					redisAsyncHandleRead(c->ac);
				else
					redisAsyncHandleWrite(c->ac);
			}
			if (c->ac)
				bp_lost(c->bp, "connection closed");
		}
		return 0;
	default:
		return 0;
	}
}

static void bp_on_connect(const redisAsyncContext *ac, int status);
static void bp_on_disconnect(const redisAsyncContext *ac, int status);

static bool bp_conn_open(struct bp_redis *bp, struct bp_conn *c)
{
	int fd;

	c->bp = bp;
	c->connected = false;
	if (!(c->ac = redisAsyncConnect(bp->host, bp->port)))
		return false;
	if (c->ac->err) {
		wlog_warn("backplane", "redis %s: %s", c->name, c->ac->errstr);
		redisAsyncFree(c->ac);
		c->ac = NULL;
		return false;
	}
	c->ac->data = c;
	c->ac->ev.data = c;
	c->ac->ev.addRead = bp_ev_noop;
	c->ac->ev.delRead = bp_ev_noop;
	c->ac->ev.addWrite = bp_ev_add_write;
	c->ac->ev.delWrite = bp_ev_noop;
	c->ac->ev.cleanup = bp_ev_cleanup;
	redisAsyncSetConnectCallback(c->ac, bp_on_connect);
	redisAsyncSetDisconnectCallback(c->ac, bp_on_disconnect);
	if ((fd = dup(c->ac->c.fd)) < 0) {
		redisAsyncFree(c->ac);
		return false;
	}
	{
		lws_sock_file_fd_type u;

		u.filefd = fd;
		c->wsi = lws_adopt_descriptor_vhost(bp->vhost, LWS_ADOPT_RAW_FILE_DESC, u,
		                                    "wampd-redis", NULL);
	}
	if (!c->wsi) {
		close(fd);
		redisAsyncFree(c->ac);
		return false;
	}
	lws_set_opaque_user_data(c->wsi, c);
	lws_callback_on_writable(c->wsi); /* the connect completes on writability */
	return true;
}

static void bp_conn_close(struct bp_conn *c)
{
	if (c->ac) {
		redisAsyncContext *ac = c->ac;

		redisAsyncFree(ac); /* pending callbacks run with a NULL reply; cleanup hook */
	}
	c->ac = NULL;
	c->connected = false;
}

/* ------------------------------------------------------------------------------------ */
/* commands                                                                             */

static bool bp_cmd_argv(struct bp_redis *bp, redisCallbackFn *fn, void *privdata, int argc,
                        const char **argv, const size_t *lens)
{
	if (!bp->cmd.ac || !bp->cmd.connected)
		return false;
	if (bp->cmd.ac->c.obuf && sdslen(bp->cmd.ac->c.obuf) > BP_MAX_OBUF) {
		/* Redis does not keep up: never buffer without bound, and say so */
		int64_t now = clock_mono_ms();

		bp->refused++;
		if (now - bp->refused_logged_ms > 1000) {
			wlog_warn("backplane", "redis is not keeping up (%u MiB queued): %llu "
			          "command(s) not sent to the cluster so far", BP_MAX_OBUF >> 20,
			          (unsigned long long)bp->refused);
			bp->refused_logged_ms = now;
		}
		return false;
	}
	return redisAsyncCommandArgv(bp->cmd.ac, fn, privdata, argc, argv, lens) == REDIS_OK;
}

/* A command of NUL-terminated strings. */
static bool bp_cmd(struct bp_redis *bp, redisCallbackFn *fn, void *privdata, int argc, ...)
{
	const char *argv[12];
	size_t lens[12];
	va_list ap;

	if (argc > 12)
		return false;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++) {
		argv[i] = va_arg(ap, const char *);
		lens[i] = strlen(argv[i]);
	}
	va_end(ap);
	return bp_cmd_argv(bp, fn, privdata, argc, argv, lens);
}

static void bp_key(struct bp_redis *bp, char *out, size_t n, const char *kind, const char *name)
{
	snprintf(out, n, "%s%s%s", bp->prefix, kind, name ? name : "");
}

/* ------------------------------------------------------------------------------------ */
/* subscriptions and messages                                                           */

static void bp_channel_ready(struct bp_redis *bp, struct bp_channel *ch)
{
	struct bp_waiter *w = ch->waiters, *next;

	ch->ready = true;
	ch->waiters = NULL;
	for (; w; w = next) {
		next = w->next;
		backplane_interest_ready(bp->rs, w->realm, w->uri, w->policy);
		free(w->realm);
		free(w->uri);
		free(w);
	}
}

static void bp_channel_free(struct bp_redis *bp, struct bp_channel *ch, bool notify)
{
	struct bp_waiter *w, *next;

	HASH_DEL(bp->channels, ch);
	for (w = ch->waiters; w; w = next) {
		next = w->next;
		if (notify)
			backplane_interest_ready(bp->rs, w->realm, w->uri, w->policy);
		free(w->realm);
		free(w->uri);
		free(w);
	}
	free(ch->key);
	free(ch);
}

static void bp_sub_send(struct bp_redis *bp, struct bp_channel *ch, bool subscribe);

static struct bp_channel *bp_channel_find(struct bp_redis *bp, bool pattern, const char *name)
{
	char key[1100];
	struct bp_channel *ch = NULL;

	snprintf(key, sizeof(key), "%c%s", pattern ? 'p' : 's', name);
	HASH_FIND_STR(bp->channels, key, ch);
	return ch;
}

/* Every reply on the subscriber connection: confirmations and messages. */
static void bp_on_sub(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_redis *bp = privdata;
	redisReply *r = reply, **e;
	const char *kind;
	struct bp_channel *ch = NULL;

	(void)ac;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	e = r->element;
	kind = e[0]->str;
	if (!strcmp(kind, "message") && e[2]->type == REDIS_REPLY_STRING) {
		backplane_receive(bp->rs, (const uint8_t *)e[2]->str, e[2]->len);
	} else if (!strcmp(kind, "pmessage") && r->elements >= 4 &&
	           e[3]->type == REDIS_REPLY_STRING) {
		backplane_receive(bp->rs, (const uint8_t *)e[3]->str, e[3]->len);
	} else if (!strcmp(kind, "subscribe") || !strcmp(kind, "psubscribe")) {
		char ctl[96], me[128];

		bp_key(bp, ctl, sizeof(ctl), "ctl", NULL);
		bp_key(bp, me, sizeof(me), "n:", bp->node);
		if (!strcmp(e[1]->str, ctl) || !strcmp(e[1]->str, me)) {
			if (++bp->sub_confirmed == 2 && bp->cmd.connected && !bp->online)
				bp_lost(bp, NULL); /* NULL: not lost, check whether to go online */
			return;
		}
		ch = bp_channel_find(bp, kind[0] == 'p', e[1]->str);
		if (ch && !ch->unsubscribing)
			bp_channel_ready(bp, ch);
	} else if (!strcmp(kind, "unsubscribe") || !strcmp(kind, "punsubscribe")) {
		ch = bp_channel_find(bp, kind[0] == 'p', e[1]->str);
		if (ch && ch->unsubscribing) {
			ch->unsubscribing = false;
			ch->ready = false;
			if (ch->count)
				bp_sub_send(bp, ch, true); /* wanted again meanwhile */
			else
				bp_channel_free(bp, ch, true);
		}
	}
}

static void bp_sub_send(struct bp_redis *bp, struct bp_channel *ch, bool subscribe)
{
	const char *argv[2] = {subscribe ? (ch->pattern ? "PSUBSCRIBE" : "SUBSCRIBE")
	                                 : (ch->pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE"),
	                       ch->name};
	size_t lens[2] = {strlen(argv[0]), strlen(ch->name)};

	if (bp->sub.ac)
		redisAsyncCommandArgv(bp->sub.ac, bp_on_sub, bp, 2, argv, lens);
}

/* Append s to out escaping Redis glob characters. */
static void glob_escape(char *out, size_t *o, size_t cap, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 2 < cap; i++) {
		if (strchr("*?[]\\", s[i]))
			out[(*o)++] = '\\';
		out[(*o)++] = s[i];
	}
	out[*o] = '\0';
}

/* The channel (or glob pattern) for (realm, uri, policy); false if too long. */
static bool bp_channel_name(struct bp_redis *bp, const char *realm, const char *uri,
                            enum match_policy policy, char *out, size_t cap)
{
	size_t o = 0, n = strlen(uri);

	if (policy == MATCH_EXACT) {
		int k = snprintf(out, cap, "%st:%s:%s", bp->prefix, realm, uri);

		return k > 0 && (size_t)k < cap;
	}
	glob_escape(out, &o, cap, bp->prefix, strlen(bp->prefix));
	glob_escape(out, &o, cap, "t:", 2);
	glob_escape(out, &o, cap, realm, strlen(realm));
	glob_escape(out, &o, cap, ":", 1);
	if (policy == MATCH_PREFIX) {
		glob_escape(out, &o, cap, uri, n);
	} else { /* wildcard: an empty component matches any (the pattern may match more) */
		const char *p = uri, *end = uri + n;

		while (p <= end) {
			const char *dot = memchr(p, '.', (size_t)(end - p));
			size_t k = dot ? (size_t)(dot - p) : (size_t)(end - p);

			if (k)
				glob_escape(out, &o, cap, p, k);
			else if (o + 2 < cap)
				out[o++] = '*';
			if (!dot)
				break;
			if (o + 2 < cap)
				out[o++] = '.';
			p = dot + 1;
		}
		out[o] = '\0';
		return o + 2 < cap;
	}
	if (o + 2 >= cap)
		return false;
	out[o++] = '*';
	out[o] = '\0';
	return true;
}

static bool bp_op_interest(void *ctx, const char *realm, const char *uri,
                           enum match_policy policy, bool on)
{
	struct bp_redis *bp = ctx;
	char name[1024];
	struct bp_channel *ch = NULL;
	struct bp_waiter *w;

	if (!bp->online || !bp_channel_name(bp, realm, uri, policy, name, sizeof(name)))
		return true;
	ch = bp_channel_find(bp, policy != MATCH_EXACT, name);
	if (!on) {
		if (ch && ch->count && --ch->count == 0)
			ch->idle_since_ms = clock_mono_ms(); /* unsubscribed later, if still idle */
		return true;
	}
	if (ch && ch->ready && !ch->unsubscribing) {
		ch->count++;
		return true;
	}
	if (!ch) {
		if (!(ch = calloc(1, sizeof(*ch))) ||
		    asprintf(&ch->key, "%c%s", policy != MATCH_EXACT ? 'p' : 's', name) < 0) {
			free(ch);
			return true;
		}
		ch->name = ch->key + 1;
		ch->pattern = policy != MATCH_EXACT;
		HASH_ADD_KEYPTR(hh, bp->channels, ch->key, strlen(ch->key), ch);
		bp_sub_send(bp, ch, true);
	}
	ch->count++;
	if (!(w = calloc(1, sizeof(*w))) || !(w->realm = strdup(realm)) || !(w->uri = strdup(uri))) {
		if (w)
			free(w->realm);
		free(w);
		return true;
	}
	w->policy = policy;
	w->next = ch->waiters;
	ch->waiters = w;
	return false;
}

static void bp_op_publish(void *ctx, const char *realm, const char *topic, const uint8_t *msg,
                          size_t len)
{
	struct bp_redis *bp = ctx;
	char name[1024];
	int k = snprintf(name, sizeof(name), "%st:%s:%s", bp->prefix, realm, topic);
	const char *argv[3] = {"PUBLISH", name, (const char *)msg};
	size_t lens[3] = {7, (size_t)k, len};

	if (k > 0 && (size_t)k < sizeof(name))
		bp_cmd_argv(bp, NULL, NULL, 3, argv, lens);
}

struct bp_count_cb {
	void (*fn)(void *arg, long n);
	void *arg;
};

static void bp_on_count(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_count_cb *cb = privdata;
	redisReply *r = reply;

	(void)ac;
	cb->fn(cb->arg, r && r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1);
	free(cb);
}

static void bp_op_send(void *ctx, const char *node, const uint8_t *msg, size_t len,
                       void (*counted)(void *arg, long n), void *arg)
{
	struct bp_redis *bp = ctx;
	char name[128];
	const char *argv[3] = {"PUBLISH", name, (const char *)msg};
	size_t lens[3] = {7, 0, len};
	struct bp_count_cb *cb = NULL;

	bp_key(bp, name, sizeof(name), node ? "n:" : "ctl", node);
	lens[1] = strlen(name);
	if (counted && (cb = malloc(sizeof(*cb)))) {
		cb->fn = counted;
		cb->arg = arg;
	}
	if (!bp_cmd_argv(bp, cb ? bp_on_count : NULL, cb, 3, argv, lens) && counted) {
		free(cb);
		counted(arg, -1);
	} else if (counted && !cb) {
		counted(arg, -1);
	}
}

static void bp_op_retain(void *ctx, const char *realm, const char *topic, const uint8_t *msg,
                         size_t len)
{
	struct bp_redis *bp = ctx;
	char key[512];
	const char *argv[4] = {"HSET", key, topic, (const char *)msg};
	size_t lens[4] = {4, 0, strlen(topic), len};

	bp_key(bp, key, sizeof(key), "ret:", realm);
	lens[1] = strlen(key);
	bp_cmd_argv(bp, NULL, NULL, 4, argv, lens);
}

struct bp_retained_cb {
	struct bp_redis *bp;
	char *realm;
	uint64_t session, sub;
};

static void bp_on_retained(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_retained_cb *cb = privdata;
	redisReply *r = reply;
	const uint8_t *one;
	size_t one_len;

	(void)ac;
	if (r && r->type == REDIS_REPLY_STRING) {
		one = (const uint8_t *)r->str;
		one_len = r->len;
		backplane_retained(cb->bp->rs, cb->realm, cb->session, cb->sub, &one, &one_len, 1);
	} else if (r && r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 1; i < r->elements; i += 2) { /* field, value, ... */
			if (r->element[i]->type != REDIS_REPLY_STRING)
				continue;
			one = (const uint8_t *)r->element[i]->str;
			one_len = r->element[i]->len;
			backplane_retained(cb->bp->rs, cb->realm, cb->session, cb->sub, &one, &one_len, 1);
		}
	}
	free(cb->realm);
	free(cb);
}

static bool bp_op_fetch_retained(void *ctx, const char *realm, const char *uri,
                                 enum match_policy policy, uint64_t session, uint64_t sub)
{
	struct bp_redis *bp = ctx;
	struct bp_retained_cb *cb = calloc(1, sizeof(*cb));
	char key[512];
	bool ok;

	if (!cb || !(cb->realm = strdup(realm))) {
		free(cb);
		return false;
	}
	cb->bp = bp;
	cb->session = session;
	cb->sub = sub;
	bp_key(bp, key, sizeof(key), "ret:", realm);
	ok = policy == MATCH_EXACT ? bp_cmd(bp, bp_on_retained, cb, 3, "HGET", key, uri)
	                           : bp_cmd(bp, bp_on_retained, cb, 2, "HGETALL", key);
	if (!ok) {
		free(cb->realm);
		free(cb);
	}
	return ok;
}

struct bp_reg_cb {
	struct bp_redis *bp;
	char *realm, *uri;
	enum match_policy policy;
	uint64_t session, request;
	bool created;
};

static void bp_on_reg_add(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_reg_cb *cb = privdata;
	redisReply *r = reply;

	(void)ac;
	if (r && r->type == REDIS_REPLY_ERROR)
		wlog_warn("backplane", "redis: registration script: %s", r->str);
	/* no reply (the connection is gone): registered locally, announced on reconnect */
	backplane_reg_added(cb->bp->rs, cb->realm, cb->uri, cb->policy, cb->session, cb->request,
	                    cb->created, !(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0));
	free(cb->realm);
	free(cb->uri);
	free(cb);
}

static void bp_reg_field(char *out, size_t n, const char *uri, enum match_policy policy)
{
	snprintf(out, n, "%s %s", match_policy_name(policy), uri);
}

static void bp_op_reg_add(void *ctx, const char *realm, const char *uri,
                          enum match_policy policy, const char *invoke, uint64_t session,
                          uint64_t request, bool created, const char *member_json)
{
	struct bp_redis *bp = ctx;
	struct bp_reg_cb *cb = calloc(1, sizeof(*cb));
	char key[512], realms[96], field[1100], sid[24];

	if (!cb || !(cb->realm = strdup(realm)) || !(cb->uri = strdup(uri))) {
		if (cb)
			free(cb->realm);
		free(cb);
		return;
	}
	cb->bp = bp;
	cb->policy = policy;
	cb->session = session;
	cb->request = request;
	cb->created = created;
	bp_key(bp, key, sizeof(key), "reg:", realm);
	bp_key(bp, realms, sizeof(realms), "realms", NULL);
	bp_reg_field(field, sizeof(field), uri, policy);
	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)session);
	{
		const char *argv[] = {"EVAL", LUA_REG_ADD, "2", key, realms, bp->prefix, realm, field,
		                      uri, match_policy_name(policy), invoke, member_json, bp->node, sid};
		size_t lens[14];

		for (int i = 0; i < 14; i++)
			lens[i] = strlen(argv[i]);
		if (!bp_cmd_argv(bp, bp_on_reg_add, cb, 14, argv, lens))
			bp_on_reg_add(NULL, NULL, cb); /* not sent: registered locally */
	}
}

static void bp_on_error_log(redisAsyncContext *ac, void *reply, void *privdata)
{
	redisReply *r = reply;

	(void)ac;
	if (r && r->type == REDIS_REPLY_ERROR)
		wlog_warn("backplane", "redis %s: %s", (const char *)privdata, r->str);
}

static void bp_op_reg_remove(void *ctx, const char *realm, const char *uri,
                             enum match_policy policy, uint64_t session)
{
	struct bp_redis *bp = ctx;
	char key[512], field[1100], sid[24];

	bp_key(bp, key, sizeof(key), "reg:", realm);
	bp_reg_field(field, sizeof(field), uri, policy);
	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)session);
	bp_cmd(bp, bp_on_error_log, "unregister script", 8, "EVAL", LUA_REG_REMOVE, "1", key,
	       bp->prefix, field, bp->node, sid);
}

struct bp_lookup_cb {
	struct bp_redis *bp;
	char *realm;
	uint64_t session;
};

static void bp_on_lookup(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_lookup_cb *cb = privdata;
	redisReply *r = reply;
	bool found = r && r->type == REDIS_REPLY_STRING;

	(void)ac;
	backplane_lookup_done(cb->bp->rs, cb->realm, cb->session,
	                      found ? (const uint8_t *)r->str : NULL, found ? r->len : 0);
	free(cb->realm);
	free(cb);
}

static bool bp_op_lookup(void *ctx, const char *realm, const char *uri, uint64_t session)
{
	struct bp_redis *bp = ctx;
	struct bp_lookup_cb *cb = calloc(1, sizeof(*cb));
	char key[512], field[1100];

	if (!cb || !(cb->realm = strdup(realm))) {
		free(cb);
		return false;
	}
	cb->bp = bp;
	cb->session = session;
	bp_key(bp, key, sizeof(key), "reg:", realm);
	bp_reg_field(field, sizeof(field), uri, MATCH_EXACT);
	if (!bp_cmd(bp, bp_on_lookup, cb, 3, "HGET", key, field)) {
		free(cb->realm);
		free(cb);
		return false;
	}
	return true;
}

static void bp_on_sync(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_redis *bp = privdata;
	redisReply *r = reply;

	(void)ac;
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 1; i < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			backplane_receive(bp->rs, (const uint8_t *)r->element[i]->str,
			                  r->element[i]->len);
}

static void bp_op_sync(void *ctx, const char *realm)
{
	struct bp_redis *bp = ctx;
	char key[512];

	bp_key(bp, key, sizeof(key), "reg:", realm);
	bp_cmd(bp, bp_on_sync, bp, 2, "HGETALL", key);
}

static void bp_op_testaments(void *ctx, const char *realm, uint64_t session, const char *json)
{
	struct bp_redis *bp = ctx;
	char key[128], field[600];

	bp_key(bp, key, sizeof(key), "tm:", bp->node);
	snprintf(field, sizeof(field), "%s %llu", realm, (unsigned long long)session);
	if (json)
		bp_cmd(bp, NULL, NULL, 4, "HSET", key, field, json);
	else
		bp_cmd(bp, NULL, NULL, 3, "HDEL", key, field);
}

static bool bp_op_online(void *ctx)
{
	return ((struct bp_redis *)ctx)->online;
}

/* Messages already in the subscriber socket are handled now (see realm_backplane_ops). */
static void bp_op_drain(void *ctx)
{
	struct bp_redis *bp = ctx;
	struct pollfd pfd;

	if (bp->in_hiredis || bp->tearing_down || !bp->sub.ac || !bp->sub.connected)
		return;
	pfd.fd = bp->sub.ac->c.fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN)) {
		bp->in_hiredis++;
		redisAsyncHandleRead(bp->sub.ac);
		bp->in_hiredis--;
	}
}

/* ------------------------------------------------------------------------------------ */
/* the redis event stores' link (store_redis.h): commands on the cmd connection           */

static void bp_on_store_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	(void)ac;
	store_redis_on_reply(privdata, reply);
}

static bool bp_store_command(void *ctx, void (*reply)(void *arg, void *r), void *arg, int argc,
                             const char **argv, const size_t *lens)
{
	(void)reply; /* always store_redis_on_reply */
	return bp_cmd_argv(ctx, bp_on_store_reply, arg, argc, argv, lens);
}

/* Link (bp) or unlink (NULL) every realm whose event store is redis. */
static void bp_link_stores(struct bp_redis *bp, bool on)
{
	struct store_redis_link link = {.command = bp_store_command, .ctx = bp,
	                                .prefix = bp->prefix};
	struct realm *r, *tmp;

	HASH_ITER(hh, bp->rs->by_name, r, tmp)
		store_redis_link(r->broker.store, on ? &link : NULL);
}

static const struct realm_backplane_ops bp_redis_ops = {
	.interest = bp_op_interest,
	.publish = bp_op_publish,
	.send = bp_op_send,
	.retain = bp_op_retain,
	.fetch_retained = bp_op_fetch_retained,
	.reg_add = bp_op_reg_add,
	.reg_remove = bp_op_reg_remove,
	.lookup = bp_op_lookup,
	.sync = bp_op_sync,
	.testaments = bp_op_testaments,
	.online = bp_op_online,
	.drain = bp_op_drain,
};

/* ------------------------------------------------------------------------------------ */
/* liveness                                                                             */

static void bp_on_heartbeat(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_redis *bp = privdata;

	(void)ac;
	if (reply)
		bp->hb_sent_ms = 0;
}

static void bp_heartbeat(struct bp_redis *bp)
{
	char key[128], nodes[96], ttl[16];

	if (bp->hb_sent_ms)
		return; /* the previous one is still on its way (checked in bp_tick) */
	bp_key(bp, key, sizeof(key), "hb:", bp->node);
	bp_key(bp, nodes, sizeof(nodes), "nodes", NULL);
	snprintf(ttl, sizeof(ttl), "%u", bp->ttl_ms);
	bp_cmd(bp, NULL, NULL, 5, "SET", key, "1", "PX", ttl);
	if (bp_cmd(bp, bp_on_heartbeat, bp, 3, "SADD", nodes, bp->node))
		bp->hb_sent_ms = clock_mono_ms();
}

static void bp_on_reap(redisAsyncContext *ac, void *reply, void *privdata);

static void bp_on_bye(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_redis *bp = privdata;

	if (bp->bye_pending)
		bp->bye_pending--;
	bp_on_reap(ac, reply, privdata);
}

static void bp_on_reap(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_redis *bp = privdata;
	redisReply *r = reply;

	(void)ac;
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		wlog_warn("backplane", "redis: reap script: %s", r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			backplane_publish_testaments(bp->rs, r->element[i]->str);
}

/* Reap dead nodes; `node`: also this one (leaving on purpose, or `previous`: a process of
 * the same node id died before this one started). */
static void bp_reap(struct bp_redis *bp, const char *node, bool previous)
{
	bool bye = *node && !previous;

	if (bp_cmd(bp, bye ? bp_on_bye : bp_on_reap, bp, 6, "EVAL", LUA_REAP, "0", bp->prefix, node,
	           previous ? "1" : "0") && bye)
		bp->bye_pending++;
}

/* Unsubscribe channels idle for a while (see the file comment). */
static void bp_unsubscribe_idle(struct bp_redis *bp)
{
	struct bp_channel *ch, *tmp;
	int64_t now = clock_mono_ms();

	HASH_ITER(hh, bp->channels, ch, tmp) {
		if (ch->count || ch->unsubscribing || !ch->ready ||
		    now - ch->idle_since_ms < BP_UNSUB_LINGER_MS)
			continue;
		ch->unsubscribing = true;
		bp_sub_send(bp, ch, false);
	}
}

static void bp_tick(lws_sorted_usec_list_t *sul)
{
	struct bp_redis *bp = lws_container_of(sul, struct bp_redis, sul_tick);
	uint32_t hb_every = bp->ttl_ms / 3 ? bp->ttl_ms / 3 : 1;
	int64_t now = clock_mono_ms();

	if (bp->online) {
		if (bp->hb_sent_ms && now - bp->hb_sent_ms > (int64_t)hb_every * 2) {
			bp_lost(bp, "redis did not answer the heartbeat in time");
		} else {
			bp_heartbeat(bp);
			bp_reap(bp, "", false);
			bp_unsubscribe_idle(bp);
		}
	} else if (bp->connect_started_ms && now - bp->connect_started_ms > BP_CONNECT_TIMEOUT_MS) {
		bp_lost(bp, "connecting to redis timed out");
	}
	lws_sul_schedule(bp->ctx, 0, &bp->sul_tick, bp_tick,
	                 (lws_usec_t)(hb_every < BP_REAP_MS ? hb_every : BP_REAP_MS) *
	                         LWS_US_PER_MS);
}

/* ------------------------------------------------------------------------------------ */
/* connecting                                                                           */

static void bp_go_online(struct bp_redis *bp)
{
	bp->online = true;
	bp->connect_started_ms = 0;
	bp->backoff_ms = BP_BACKOFF_MIN_MS;
	wlog_notice("backplane", "joined the cluster node=%s redis=%s:%d/%d", bp->node, bp->host,
	            bp->port, bp->db);
	if (!bp->joined_before && bp->rt->cfg.backplane.node_id) {
		/* a configured id may be left in Redis by a process that died (SIGKILL) less
		 * than a TTL ago: clean its registrations up and publish its testaments now,
		 * before this process announces its own state */
		bp_reap(bp, bp->node, true);
	}
	bp->joined_before = true;
	bp_heartbeat(bp);
	backplane_went_online(bp->rs);
}

/* AUTH's reply: anything but OK ends this attempt (commands queued behind it fail too) */
static void bp_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct bp_conn *c = privdata;
	redisReply *r = reply;

	(void)ac;
	if (!r || r->type == REDIS_REPLY_STATUS)
		return;
	wlog_error("backplane", "redis %s:%d refused AUTH%s%s: %.*s", c->bp->host, c->bp->port,
	           c->bp->user ? " as " : "", c->bp->user ? c->bp->user : "",
	           r->type == REDIS_REPLY_ERROR ? (int)r->len : 0, r->str ? r->str : "");
	bp_lost(c->bp, "AUTH refused");
}

/* The first command of a connection when the URL has a password. */
static void bp_auth(struct bp_redis *bp, struct bp_conn *c)
{
	const char *a[3] = {"AUTH", bp->user, bp->password};
	size_t l[3] = {4, bp->user ? strlen(bp->user) : 0, bp->password ? strlen(bp->password) : 0};

	if (!bp->password)
		return;
	if (!bp->user) {
		a[1] = bp->password;
		l[1] = l[2];
	}
	redisAsyncCommandArgv(c->ac, bp_on_auth, c, bp->user ? 3 : 2, a, l);
}

static void bp_connect(struct bp_redis *bp)
{
	char ctl[96], me[128], db[16];
	const char *argv[3] = {"SUBSCRIBE", ctl, me};
	size_t lens[3];

	bp->sub_confirmed = 0;
	bp->hb_sent_ms = 0;
	bp->connect_started_ms = clock_mono_ms();
	if (!bp_conn_open(bp, &bp->cmd) || !bp_conn_open(bp, &bp->sub)) {
		bp_lost(bp, "cannot start connecting to redis");
		return;
	}
	bp_auth(bp, &bp->cmd);
	bp_auth(bp, &bp->sub);
	snprintf(db, sizeof(db), "%d", bp->db);
	{
		const char *a[2] = {"SELECT", db};
		size_t l[2] = {6, strlen(db)};

		redisAsyncCommandArgv(bp->cmd.ac, NULL, NULL, 2, a, l);
	}
	bp_key(bp, ctl, sizeof(ctl), "ctl", NULL);
	bp_key(bp, me, sizeof(me), "n:", bp->node);
	lens[0] = 9;
	lens[1] = strlen(ctl);
	lens[2] = strlen(me);
	redisAsyncCommandArgv(bp->sub.ac, bp_on_sub, bp, 3, argv, lens);
}

static void bp_reconnect(lws_sorted_usec_list_t *sul)
{
	struct bp_redis *bp = lws_container_of(sul, struct bp_redis, sul_reconnect);

	if (!bp->stopping)
		bp_connect(bp);
}

static void bp_teardown(lws_sorted_usec_list_t *sul)
{
	struct bp_redis *bp = lws_container_of(sul, struct bp_redis, sul_teardown);
	struct bp_channel *ch, *tmp;

	bp->tearing_down = true;
	bp_conn_close(&bp->cmd);
	bp_conn_close(&bp->sub);
	bp->tearing_down = false;
	HASH_ITER(hh, bp->channels, ch, tmp)
		bp_channel_free(bp, ch, true);
	bp->connect_started_ms = 0;
	if (bp->stopping)
		return;
	lws_sul_schedule(bp->ctx, 0, &bp->sul_reconnect, bp_reconnect,
	                 (lws_usec_t)bp->backoff_ms * LWS_US_PER_MS);
	bp->backoff_ms = bp->backoff_ms * 2 > BP_BACKOFF_MAX_MS ? BP_BACKOFF_MAX_MS
	                                                        : bp->backoff_ms * 2;
}

/* A connection failed (why) or, with why NULL, one became ready: go online or start over. */
static void bp_lost(struct bp_redis *bp, const char *why)
{
	if (bp->tearing_down || bp->stopping)
		return;
	if (!why) {
		if (bp->cmd.connected && bp->sub.connected && bp->sub_confirmed >= 2 && !bp->online)
			bp_go_online(bp);
		return;
	}
	if (bp->online) {
		wlog_warn("backplane", "lost the cluster (%s): serving local traffic, reconnecting",
		          why);
		bp->online = false;
		backplane_went_offline(bp->rs);
	} else if (!lws_dll2_is_detached(&bp->sul_teardown.list)) {
		return; /* already starting over */
	} else {
		wlog_info("backplane", "redis %s:%d: %s; retrying in %u ms", bp->host, bp->port, why,
		          bp->backoff_ms);
	}
	/* never free a hiredis context inside its own callback: from the loop */
	lws_sul_schedule(bp->ctx, 0, &bp->sul_teardown, bp_teardown, 1);
}

static void bp_on_connect(const redisAsyncContext *ac, int status)
{
	struct bp_conn *c = ac->data;

	if (status != REDIS_OK) {
		c->ac = NULL; /* hiredis frees it */
		bp_lost(c->bp, ac->errstr[0] ? ac->errstr : "connect failed");
		return;
	}
	c->connected = true;
	bp_lost(c->bp, NULL);
}

static void bp_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct bp_conn *c = ac->data;

	(void)status;
	c->ac = NULL;
	c->connected = false;
	if (!c->bp->stopping)
		bp_lost(c->bp, ac->errstr[0] ? ac->errstr : "connection closed");
}

/* ------------------------------------------------------------------------------------ */
/* lifecycle                                                                            */

struct bp_redis *backplane_redis_new(struct router *rt, struct lws_context *ctx)
{
	struct bp_redis *bp = calloc(1, sizeof(*bp));
	struct lws_context_creation_info info;

	if (!bp)
		return NULL;
	bp->rt = rt;
	bp->rs = &rt->realms;
	bp->ctx = ctx;
	bp->ttl_ms = rt->cfg.backplane.heartbeat_ttl_ms ? rt->cfg.backplane.heartbeat_ttl_ms : 5000;
	bp->backoff_ms = BP_BACKOFF_MIN_MS;
	bp->cmd.name = "cmd";
	bp->sub.name = "sub";
	bp->host = rt->cfg.backplane.redis_host;
	bp->port = rt->cfg.backplane.redis_port;
	bp->db = rt->cfg.backplane.redis_db;
	bp->user = rt->cfg.backplane.redis_user;
	bp->password = rt->cfg.backplane.redis_password;
	snprintf(bp->prefix, sizeof(bp->prefix), "wampd:%d:", bp->db);
	if (rt->cfg.backplane.node_id) {
		snprintf(bp->node, sizeof(bp->node), "%s", rt->cfg.backplane.node_id);
	} else {
		uint64_t a = ids_global(&rt->ids), b = ids_global(&rt->ids);

		snprintf(bp->node, sizeof(bp->node), "%012llx%04llx", (unsigned long long)a,
		         (unsigned long long)(b & 0xffff));
	}
	bp->protocols[0].name = "wampd-redis";
	bp->protocols[0].callback = bp_lws_callback;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = bp->protocols;
	info.vhost_name = "backplane";
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (!(bp->vhost = lws_create_vhost(ctx, &info))) {
		wlog_error("backplane", "cannot create the backplane's lws vhost");
		goto fail;
	}
	if (!backplane_attach(&rt->realms, &bp_redis_ops, bp, bp->node)) {
		wlog_error("backplane", "out of memory");
		goto fail;
	}
	wlog_notice("backplane", "cluster node=%s redis=%s:%d/%d auth=%s heartbeat_ttl=%ums",
	            bp->node, bp->host, bp->port, bp->db, bp->password ? "password" : "none",
	            bp->ttl_ms);
	bp_link_stores(bp, true);
	bp_connect(bp);
	lws_sul_schedule(ctx, 0, &bp->sul_tick, bp_tick, 100 * LWS_US_PER_MS);
	return bp;
fail:
	free(bp);
	return NULL;
}

void backplane_redis_free(struct bp_redis *bp)
{
	int64_t deadline;

	if (!bp)
		return;
	if (bp->online) { /* leave on purpose: the others need not wait for the TTL */
		bp_reap(bp, bp->node, false);
		bp->online = false;
		bp->stopping = true;
		deadline = clock_mono_ms() + BP_BYE_WAIT_MS;
		while (bp->bye_pending && bp->cmd.ac && clock_mono_ms() < deadline)
			if (lws_service(bp->ctx, 0) < 0)
				break;
	}
	bp->online = false;
	bp->stopping = true;
	backplane_went_offline(bp->rs);
	lws_sul_cancel(&bp->sul_tick);
	lws_sul_cancel(&bp->sul_reconnect);
	lws_sul_cancel(&bp->sul_teardown);
	bp_conn_close(&bp->cmd); /* the stores' commands in flight fail (NULL replies) */
	bp_conn_close(&bp->sub);
	bp_link_stores(bp, false);
	{
		struct bp_channel *ch, *tmp;

		HASH_ITER(hh, bp->channels, ch, tmp)
			bp_channel_free(bp, ch, false);
	}
	backplane_detach(bp->rs);
	free(bp);
}
