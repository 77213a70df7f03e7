/*
 * store_redis.c - the redis event store (realm/store.h, store_redis.h): the realm's event
 * histories as Redis Streams and its retained events as keys, on the Redis the cluster
 * backplane uses, so that every node reads and writes the same ones. What survives a Redis
 * restart is what Redis' own persistence (RDB snapshots, AOF) keeps (docs/scale-out.md).
 *
 * Keys (P = the backplane's prefix "wampd:<db>:"; a space separates the realm from what
 * follows, as URIs have none):
 *   P h:<realm> <match> <uri>  stream per history: XADD * e <record> c <bytes charged>
 *   P hists:<realm>            set of the realm's history streams
 *   P hbytes:<realm>           bytes charged to the realm's histories (the budget's measure)
 *   P rv:<realm> <topic>       the retained event of topic (its record)
 *   P rvs:<realm>              set of the topics with a retained event
 *   P rvb:<realm>              bytes charged to the retained events
 * Writes are Lua scripts (atomic on Redis, so the cluster's limits hold whichever node
 * writes): an append trims the stream by age (stream ids are Redis' milliseconds) and count,
 * then the realm's oldest entries (of any history: the stream whose first id is smallest)
 * while over the realm's byte budget, then XADDs; a retained event is refused when it does
 * not fit the count or byte budget. Reads are XREVRANGE, GET, and a script for a pattern's
 * retained events (the topics are then matched here).
 *
 * Every operation is one command on the backplane's async connection (store_redis_link):
 * the loop never waits; completions and reads are answered from the reply. Offline (no
 * link, or the backplane's connection down): writes fail with WAMPD_ERR_STORE (logged,
 * counted), reads answer WAMPD_ERR_STORE.
 */
#include "router/cluster/store_redis.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"

/* KEYS: stream, hbytes, hists. ARGV: record, limit, max_age_ms, budget, cost.
 * -> {1 appended | 0 refused (larger than the budget), evicted, hbytes} */
static const char LUA_APPEND[] =
	"local cost, budget = tonumber(ARGV[5]), tonumber(ARGV[4])\n"
	"if cost > budget then return {0, 0, tonumber(redis.call('GET', KEYS[2]) or '0')} end\n"
	"redis.call('SADD', KEYS[3], KEYS[1])\n"
	"local function first(k)\n"
	"  local e = redis.call('XRANGE', k, '-', '+', 'COUNT', 1)\n"
	"  if #e == 0 then return nil end\n"
	"  return e[1]\n"
	"end\n"
	"local function drop(k)\n"
	"  local e = first(k)\n"
	"  if not e then return false end\n"
	"  local c = 0\n"
	"  for i = 1, #e[2], 2 do if e[2][i] == 'c' then c = tonumber(e[2][i + 1]) end end\n"
	"  redis.call('XTRIM', k, 'MAXLEN', redis.call('XLEN', k) - 1)\n"
	"  redis.call('DECRBY', KEYS[2], c)\n"
	"  return true\n"
	"end\n"
	"local age = tonumber(ARGV[3])\n"
	"if age > 0 then\n"
	"  local t = redis.call('TIME')\n"
	"  local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - age\n"
	"  while true do\n"
	"    local e = first(KEYS[1])\n"
	"    if not e or tonumber(string.match(e[1], '^(%d+)')) >= oldest then break end\n"
	"    drop(KEYS[1])\n"
	"  end\n"
	"end\n"
	"while redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) do\n"
	"  if not drop(KEYS[1]) then break end\n"
	"end\n"
	"local evicted = 0\n"
	"while tonumber(redis.call('GET', KEYS[2]) or '0') + cost > budget do\n"
	"  local best, bms, bseq = nil, 0, 0\n"
	"  for _, k in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
	"    local e = first(k)\n"
	"    if e then\n"
	"      local ms, seq = string.match(e[1], '^(%d+)-(%d+)$')\n"
	"      ms, seq = tonumber(ms), tonumber(seq)\n"
	"      if not best or ms < bms or (ms == bms and seq < bseq) then\n"
	"        best, bms, bseq = k, ms, seq\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  if not best then break end\n"
	"  drop(best)\n"
	"  evicted = evicted + 1\n"
	"end\n"
	"redis.call('XADD', KEYS[1], '*', 'e', ARGV[1], 'c', ARGV[5])\n"
	"return {1, evicted, redis.call('INCRBY', KEYS[2], cost)}\n";

/* KEYS: rv key, rvs set, rvb counter. ARGV: record, topic, cost, max_count, max_bytes.
 * -> {1 kept | 0 refused, count, bytes} */
static const char LUA_RETAIN[] =
	"local old = redis.call('STRLEN', KEYS[1])\n"
	"local oldcost = 0\n"
	"if old > 0 then oldcost = old + string.len(ARGV[2]) end\n"
	"local n = redis.call('SCARD', KEYS[2])\n"
	"local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')\n"
	"if (old == 0 and n >= tonumber(ARGV[4])) or\n"
	"   bytes - oldcost + tonumber(ARGV[3]) > tonumber(ARGV[5]) then\n"
	"  return {0, n, bytes}\n"
	"end\n"
	"redis.call('SET', KEYS[1], ARGV[1])\n"
	"redis.call('SADD', KEYS[2], ARGV[2])\n"
	"bytes = redis.call('INCRBY', KEYS[3], tonumber(ARGV[3]) - oldcost)\n"
	"if old == 0 then n = n + 1 end\n"
	"return {1, n, bytes}\n";

/* KEYS: rv key, rvs set, rvb counter. ARGV: topic. -> {removed, count, bytes} */
static const char LUA_UNRETAIN[] =
	"local old = redis.call('STRLEN', KEYS[1])\n"
	"if old > 0 then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"  redis.call('SREM', KEYS[2], ARGV[1])\n"
	"  redis.call('DECRBY', KEYS[3], old + string.len(ARGV[1]))\n"
	"end\n"
	"return {old > 0 and 1 or 0, redis.call('SCARD', KEYS[2]),\n"
	"        tonumber(redis.call('GET', KEYS[3]) or '0')}\n";

/* KEYS: rvs set, rvb counter, hbytes. -> {-1, count, bytes, history bytes} */
static const char LUA_STATS[] =
	"return {-1, redis.call('SCARD', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0'),\n"
	"        tonumber(redis.call('GET', KEYS[3]) or '0')}\n";

/* KEYS: rvs set. ARGV: the rv key prefix ("P rv:<realm> "). -> the records */
static const char LUA_RETAINED_ALL[] =
	"local out = {}\n"
	"for _, t in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  local v = redis.call('GET', ARGV[1] .. t)\n"
	"  if v then table.insert(out, v) end\n"
	"end\n"
	"return out\n";

struct store_history {
	char *tail;              /* "h:<realm> <match> <uri>" */
	char *key;               /* the stream: the link's prefix, then tail */
	uint32_t limit;
	int64_t max_age_ms;
	struct store_history *next;
};

struct redis_store {
	struct store st;
	struct store_redis_link link;
	bool linked;
	char *hbytes, *hists, *rvs, *rvb, *rvprefix; /* the realm's keys (made when linked) */
	struct store_history *histories;
};

#define RS(st) ((struct redis_store *)(st))

/* One command in flight: what to do with its reply. */
enum redis_op { OP_APPEND, OP_RETAIN, OP_UNRETAIN, OP_READ, OP_RETAINED, OP_STATS };

struct redis_req {
	struct redis_store *s;
	enum redis_op op;
	store_done_fn done;       /* writes */
	store_read_fn read;       /* reads */
	void *arg;
	struct store_query q;     /* OP_READ */
	char *topic;              /* q.topic's copy */
	int64_t max_age_ms;
	struct match_item pattern;/* OP_RETAINED: the topics wanted (uri owned; NULL: any) */
};

static void redis_keys_free(struct redis_store *s)
{
	free(s->hbytes);
	free(s->hists);
	free(s->rvs);
	free(s->rvb);
	free(s->rvprefix);
	s->hbytes = s->hists = s->rvs = s->rvb = s->rvprefix = NULL;
}

static char *keyf(const char *prefix, const char *kind, const char *realm, const char *rest)
{
	char *k = NULL;

	if (asprintf(&k, "%s%s%s%s%s", prefix, kind, realm, rest ? " " : "", rest ? rest : "") < 0)
		return NULL;
	return k;
}

/* The history's stream key: the link's prefix, then its tail. */
static bool history_key(struct redis_store *s, struct store_history *h)
{
	free(h->key);
	return asprintf(&h->key, "%s%s", s->linked ? s->link.prefix : "", h->tail) >= 0 ||
	       (h->key = NULL);
}

/* Send one command; false (nothing will be answered) if not linked or not sent. */
static bool redis_send(struct redis_store *s, struct redis_req *rq, int argc, const char **argv,
                       const size_t *lens)
{
	return s->linked && s->link.command(s->link.ctx, store_redis_on_reply, rq, argc, argv, lens);
}

static struct redis_req *req_new(struct redis_store *s, enum redis_op op, void *fn, void *arg)
{
	struct redis_req *rq = calloc(1, sizeof(*rq));

	if (!rq)
		return NULL;
	rq->s = s;
	rq->op = op;
	rq->arg = arg;
	if (op == OP_READ || op == OP_RETAINED)
		rq->read = (store_read_fn)fn;
	else
		rq->done = (store_done_fn)fn;
	return rq;
}

static void req_free(struct redis_req *rq)
{
	free(rq->topic);
	free(rq->pattern.uri);
	free(rq);
}

/* Ask for the counts and bytes the cluster's store holds (the metrics' view). */
static void store_redis_stats(struct redis_store *s)
{
	struct redis_req *rq = req_new(s, OP_STATS, NULL, NULL);
	const char *argv[] = {"EVAL", LUA_STATS, "3", s->rvs, s->rvb, s->hbytes};
	size_t lens[6];

	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	if (rq && !redis_send(s, rq, 6, argv, lens))
		req_free(rq);
}

/* ------------------------------------------------------------------------------------ */
/* histories                                                                            */

static struct store_history *rd_history_add(struct store *st, const struct history_config *hc)
{
	struct redis_store *s = RS(st);
	struct store_history *h = calloc(1, sizeof(*h));

	if (!h || asprintf(&h->tail, "h:%s %s %s", s->st.realm, match_policy_name(hc->match),
	                   hc->uri) < 0 || !history_key(s, h)) {
		if (h && h->tail)
			free(h->tail);
		free(h);
		return NULL;
	}
	h->limit = hc->limit;
	h->max_age_ms = hc->max_age_ms;
	h->next = s->histories;
	s->histories = h;
	return h;
}

static size_t rd_cost(struct store *st, const struct store_event *ev)
{
	size_t len = 0;
	uint8_t *rec = store_record_encode(ev, 0, &len);

	(void)st;
	free(rec);
	return len + ev->topic_len;
}

static void rd_append(struct store *st, struct store_history *h, const struct store_event *ev,
                      int64_t now, store_done_fn done, void *arg)
{
	struct redis_store *s = RS(st);
	struct redis_req *rq;
	size_t len = 0;
	uint8_t *rec;
	char limit[16], age[24], budget[24], cost[24];

	if (!s->linked) {
		store_failed(st, false, WAMPD_ERR_STORE, "no connection to redis", done, arg);
		return;
	}
	if (!(rec = store_record_encode(ev, now, &len)) ||
	    !(rq = req_new(s, OP_APPEND, (void *)done, arg))) {
		free(rec);
		store_failed(st, false, WAMPD_ERR_STORE, "out of memory", done, arg);
		return;
	}
	snprintf(limit, sizeof(limit), "%u", h->limit);
	snprintf(age, sizeof(age), "%lld", (long long)h->max_age_ms);
	snprintf(budget, sizeof(budget), "%llu", (unsigned long long)st->limits.max_history_bytes);
	snprintf(cost, sizeof(cost), "%zu", len + ev->topic_len);
	{
		const char *argv[] = {"EVAL", LUA_APPEND, "3", h->key, s->hbytes, s->hists,
		                      (const char *)rec, limit, age, budget, cost};
		size_t lens[11];

		for (int i = 0; i < 11; i++)
			lens[i] = i == 6 ? len : strlen(argv[i]);
		if (!redis_send(s, rq, 11, argv, lens)) {
			req_free(rq);
			store_failed(st, false, WAMPD_ERR_STORE, "redis unreachable or too slow", done,
			             arg);
		}
	}
	free(rec);
}

/* Views of the records in r's elements (stream entries [id, [field, value...]] when
 * stream, else plain strings), newest first when newest_first; answered through fn. */
static void answer_records(struct redis_req *rq, const redisReply *r, bool stream)
{
	struct stored_event *evs = NULL;
	const struct stored_event **ptrs = NULL;
	int64_t now = clock_wall_ms();
	size_t n = 0;
	enum wampd_err err = WAMPD_OK;

	if (!r || r->type != REDIS_REPLY_ARRAY) {
		rq->read(rq->arg, WAMPD_ERR_STORE, NULL, 0);
		return;
	}
	if (r->elements && (!(evs = calloc(r->elements, sizeof(*evs))) ||
	                    !(ptrs = calloc(r->elements, sizeof(*ptrs))))) {
		free(evs);
		rq->read(rq->arg, WAMPD_ERR_NOMEM, NULL, 0);
		return;
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *rec = NULL;

		if (stream) {
			const redisReply *f = e->type == REDIS_REPLY_ARRAY && e->elements == 2
			                              ? e->element[1] : NULL;

			for (size_t k = 0; f && f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements;
			     k += 2)
				if (f->element[k]->type == REDIS_REPLY_STRING && !strcmp(f->element[k]->str, "e"))
					rec = f->element[k + 1];
		} else {
			rec = e;
		}
		if (!rec || rec->type != REDIS_REPLY_STRING ||
		    !store_record_view((const uint8_t *)rec->str, rec->len, &evs[n]))
			continue;
		if (rq->op == OP_RETAINED && rq->pattern.uri &&
		    !match_item_matches(&rq->pattern, evs[n].topic, strlen(evs[n].topic))) {
			store_record_view_clear(&evs[n]);
			continue;
		}
		if (rq->op == OP_READ && ((rq->max_age_ms > 0 &&
		                           evs[n].timestamp_ms < now - rq->max_age_ms) ||
		                          (rq->q.topic && strcmp(rq->q.topic, evs[n].topic)))) {
			store_record_view_clear(&evs[n]);
			continue;
		}
		n++;
		if (rq->op == OP_READ && rq->q.limit && n == rq->q.limit)
			break;
	}
	/* XREVRANGE: newest first */
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &evs[rq->op == OP_READ && !rq->q.reverse ? n - 1 - i : i];
	rq->read(rq->arg, err, (const struct stored_event *const *)ptrs, n);
	for (size_t i = 0; i < n; i++)
		store_record_view_clear(&evs[i]);
	free(evs);
	free(ptrs);
}

static void rd_read(struct store *st, struct store_history *h, const struct store_query *q,
                    store_read_fn fn, void *arg)
{
	struct redis_store *s = RS(st);
	struct redis_req *rq = req_new(s, OP_READ, (void *)fn, arg);
	char count[16];
	const char *argv[6] = {"XREVRANGE", h->key, "+", "-", "COUNT", count};
	size_t lens[6];
	int argc = 4;

	if (!rq || (q->topic && !(rq->topic = strdup(q->topic)))) {
		free(rq);
		fn(arg, WAMPD_ERR_NOMEM, NULL, 0);
		return;
	}
	rq->q = *q;
	rq->q.topic = rq->topic;
	rq->max_age_ms = h->max_age_ms;
	if (q->limit && !q->topic) { /* with a topic, counted after filtering */
		snprintf(count, sizeof(count), "%u", q->limit);
		argc = 6;
	}
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (!redis_send(s, rq, argc, argv, lens)) {
		req_free(rq);
		fn(arg, WAMPD_ERR_STORE, NULL, 0);
	}
}

/* ------------------------------------------------------------------------------------ */
/* retained events                                                                      */

static enum wampd_err rd_retain_check(struct store *st, const char *topic, size_t len,
                                      size_t cost)
{
	(void)st, (void)topic, (void)len, (void)cost;
	return WAMPD_OK; /* decided by the script, cluster-wide, when written */
}

static void rd_retain_set(struct store *st, const struct store_event *ev, int64_t now,
                          store_done_fn done, void *arg)
{
	struct redis_store *s = RS(st);
	struct redis_req *rq = NULL;
	size_t len = 0;
	uint8_t *rec = NULL;
	char *key = NULL, *topic = strndup(ev->topic, ev->topic_len);
	char cost[24], count[16], bytes[24];

	if (!s->linked) {
		free(topic);
		store_failed(st, true, WAMPD_ERR_STORE, "no connection to redis", done, arg);
		return;
	}
	if (!topic || !(key = keyf(s->link.prefix, "rv:", st->realm, topic)) ||
	    !(rec = store_record_encode(ev, now, &len)) ||
	    !(rq = req_new(s, OP_RETAIN, (void *)done, arg))) {
		store_failed(st, true, WAMPD_ERR_STORE, "out of memory", done, arg);
		goto out;
	}
	snprintf(cost, sizeof(cost), "%zu", len + ev->topic_len);
	snprintf(count, sizeof(count), "%u", st->limits.max_retained);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)st->limits.max_retained_bytes);
	{
		const char *argv[] = {"EVAL", LUA_RETAIN, "3", key, s->rvs, s->rvb, (const char *)rec,
		                      topic, cost, count, bytes};
		size_t lens[11];

		for (int i = 0; i < 11; i++)
			lens[i] = i == 6 ? len : strlen(argv[i]);
		if (!redis_send(s, rq, 11, argv, lens)) {
			req_free(rq);
			store_failed(st, true, WAMPD_ERR_STORE, "redis unreachable or too slow", done,
			             arg);
		}
	}
out:
	free(rec);
	free(key);
	free(topic);
}

static void rd_retain_clear(struct store *st, const char *topic, size_t len, store_done_fn done,
                            void *arg)
{
	struct redis_store *s = RS(st);
	struct redis_req *rq = NULL;
	char *t = strndup(topic, len), *key = NULL;

	if (!s->linked || !t || !(key = keyf(s->link.prefix, "rv:", st->realm, t)) ||
	    !(rq = req_new(s, OP_UNRETAIN, (void *)done, arg))) {
		store_failed(st, true, WAMPD_ERR_STORE, s->linked ? "out of memory"
		                                                  : "no connection to redis", done, arg);
	} else {
		const char *argv[] = {"EVAL", LUA_UNRETAIN, "3", key, s->rvs, s->rvb, t};
		size_t lens[7];

		for (int i = 0; i < 7; i++)
			lens[i] = strlen(argv[i]);
		if (!redis_send(s, rq, 7, argv, lens)) {
			req_free(rq);
			store_failed(st, true, WAMPD_ERR_STORE, "redis unreachable or too slow", done,
			             arg);
		}
	}
	free(t);
	free(key);
}

static void rd_retain_get(struct store *st, const char *uri, enum match_policy policy,
                          store_read_fn fn, void *arg)
{
	struct redis_store *s = RS(st);
	struct redis_req *rq = req_new(s, OP_RETAINED, (void *)fn, arg);
	char *key = NULL;
	bool sent = false;

	if (rq && s->linked && policy == MATCH_EXACT &&
	    (key = keyf(s->link.prefix, "rv:", st->realm, uri))) {
		const char *argv[] = {"GET", key};
		size_t lens[] = {3, strlen(key)};

		sent = redis_send(s, rq, 2, argv, lens);
	} else if (rq && s->linked && policy != MATCH_EXACT &&
	           (rq->pattern.uri = strdup(uri))) {
		const char *argv[] = {"EVAL", LUA_RETAINED_ALL, "1", s->rvs, s->rvprefix};
		size_t lens[5];

		rq->pattern.uri_len = strlen(uri);
		rq->pattern.policy = policy;
		for (int i = 0; i < 5; i++)
			lens[i] = strlen(argv[i]);
		sent = redis_send(s, rq, 5, argv, lens);
	}
	free(key);
	if (!sent) {
		if (rq)
			req_free(rq);
		fn(arg, WAMPD_ERR_STORE, NULL, 0);
	}
}

/* ------------------------------------------------------------------------------------ */
/* replies                                                                              */

static long long reply_int(const redisReply *r, size_t i)
{
	return r && r->type == REDIS_REPLY_ARRAY && i < r->elements &&
	               r->element[i]->type == REDIS_REPLY_INTEGER
	               ? r->element[i]->integer
	               : -1;
}

void store_redis_on_reply(void *arg, void *reply)
{
	struct redis_req *rq = arg;
	struct redis_store *s = rq->s;
	struct store *st = &s->st;
	const redisReply *r = reply;
	bool retained = rq->op == OP_RETAIN || rq->op == OP_UNRETAIN;
	const char *why = !r ? "the connection to redis was lost"
	                : r->type == REDIS_REPLY_ERROR ? r->str : NULL;

	switch (rq->op) {
	case OP_STATS: /* what the cluster's store holds (this node's view of it) */
		if (reply_int(r, 1) >= 0) {
			st->stats.nretained = (uint32_t)reply_int(r, 1);
			st->stats.retained_bytes = (uint64_t)reply_int(r, 2);
			st->stats.history_bytes = (uint64_t)reply_int(r, 3);
		}
		break;
	case OP_READ:
		answer_records(rq, r, true);
		break;
	case OP_RETAINED:
		if (r && r->type == REDIS_REPLY_STRING) {
			const redisReply *one = r;
			redisReply wrap = {.type = REDIS_REPLY_ARRAY, .elements = 1,
			                   .element = (redisReply **)&one};

			answer_records(rq, &wrap, false);
		} else if (r && r->type == REDIS_REPLY_NIL) {
			rq->read(rq->arg, WAMPD_OK, NULL, 0);
		} else {
			answer_records(rq, r, false);
		}
		break;
	case OP_APPEND:
	case OP_RETAIN:
	case OP_UNRETAIN:
		if (why) {
			store_failed(st, retained, WAMPD_ERR_STORE, why, rq->done, rq->arg);
			break;
		}
		if (rq->op == OP_APPEND) {
			if (reply_int(r, 0) == 0)
				st->stats.history_refused++;
			if (reply_int(r, 1) > 0)
				st->stats.history_evicted += (uint64_t)reply_int(r, 1);
			if (reply_int(r, 2) >= 0)
				st->stats.history_bytes = (uint64_t)reply_int(r, 2);
		} else {
			if (reply_int(r, 1) >= 0)
				st->stats.nretained = (uint32_t)reply_int(r, 1);
			if (reply_int(r, 2) >= 0)
				st->stats.retained_bytes = (uint64_t)reply_int(r, 2);
			if (rq->op == OP_RETAIN && reply_int(r, 0) == 0) {
				st->stats.retained_refused++;
				wlog_info("store", "realm=%s redis: a retained event refused: %u retained "
				          "events, %llu bytes (realm limits: %u, %llu)", st->realm,
				          st->stats.nretained, (unsigned long long)st->stats.retained_bytes,
				          st->limits.max_retained,
				          (unsigned long long)st->limits.max_retained_bytes);
				if (rq->done)
					rq->done(rq->arg, WAMPD_ERR_LIMIT,
					         "over the realm's retained events budget");
				break;
			}
		}
		if (rq->done)
			rq->done(rq->arg, WAMPD_OK, NULL);
		break;
	}
	req_free(rq);
}

/* ------------------------------------------------------------------------------------ */

static void rd_destroy(struct store *st)
{
	struct redis_store *s = RS(st);
	struct store_history *h, *next;

	for (h = s->histories; h; h = next) {
		next = h->next;
		free(h->key);
		free(h->tail);
		free(h);
	}
	redis_keys_free(s);
	free(s);
}

static const struct store_ops redis_ops = {
	.name = "redis",
	.shared = true,
	.history_add = rd_history_add,
	.append = rd_append,
	.read = rd_read,
	.retain_check = rd_retain_check,
	.retain_set = rd_retain_set,
	.retain_clear = rd_retain_clear,
	.retain_get = rd_retain_get,
	.cost = rd_cost,
	.destroy = rd_destroy,
};

struct store *store_redis_new(const char *realm, bool durable, const struct store_limits *limits)
{
	struct redis_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->st.ops = &redis_ops;
	s->st.realm = realm;
	s->st.durable = durable;
	s->st.limits = *limits;
	return &s->st;
}

void store_redis_link(struct store *st, const struct store_redis_link *link)
{
	struct redis_store *s = RS(st);
	struct store_history *h;

	if (!st || st->ops != &redis_ops)
		return;
	redis_keys_free(s);
	s->linked = false;
	if (!link)
		return;
	s->link = *link;
	s->hbytes = keyf(link->prefix, "hbytes:", st->realm, NULL);
	s->hists = keyf(link->prefix, "hists:", st->realm, NULL);
	s->rvs = keyf(link->prefix, "rvs:", st->realm, NULL);
	s->rvb = keyf(link->prefix, "rvb:", st->realm, NULL);
	s->rvprefix = keyf(link->prefix, "rv:", st->realm, "");
	s->linked = true;
	for (h = s->histories; h; h = h->next)
		s->linked = s->linked && history_key(s, h);
	if (!s->linked || !s->hbytes || !s->hists || !s->rvs || !s->rvb || !s->rvprefix) {
		s->linked = false;
		redis_keys_free(s);
		wlog_error("store", "realm=%s redis: out of memory", st->realm);
		return;
	}
	store_redis_stats(s);
	wlog_notice("store", "realm=%s: event store on redis (the backplane's), %s", st->realm,
	            st->durable ? "durable (acknowledged once redis answered)" : "not durable");
}
