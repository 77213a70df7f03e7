/*
 * store_lmdb.c - the lmdb event store (realm/store.h, store_lmdb.h): retained events and
 * event histories in an LMDB environment of this node, kept across restarts and crashes.
 *
 * Layout: two databases in the environment (one directory per realm: data.mdb, lock.mdb).
 *   "hist"  key: the history's name ("e"/"p"/"w", its URI, a NUL) then its sequence number
 *           (8 bytes, big-endian, so a history's entries are contiguous and in order);
 *           value: the event's record (store_record_encode).
 *   "ret"   key: "T" + the topic (topics up to 500 bytes) or "H" + BLAKE2b-256 of it
 *           (longer ones: LMDB keys are at most 511 bytes); value: the record.
 * Bytes charged to the budgets are a record's key and value (what the file holds for it).
 * Counts and bytes are kept in memory, found by scanning at open (per history at
 * history_add), so the limits are checked without reading the file.
 *
 * Writes are batched per loop iteration: the first write of an iteration opens one write
 * transaction and schedules a zero-delay timer (it runs at the next turn of the event loop);
 * every write of the iteration goes into that transaction; the timer commits it (with an
 * fsync when the realm is durable: MDB_NOSYNC otherwise, which survives a wampd crash but
 * not a machine's) and then runs the writes' completions, so acknowledgements follow the
 * commit. One commit per iteration whatever the number of publications: that, not the
 * number of writes, bounds the time the loop spends in LMDB. A failed write (MDB_MAP_FULL:
 * the map is full) or commit aborts the whole batch: its writes' completions get the error
 * and the in-memory counts are restored from the snapshot taken when the batch began.
 *
 * Reads are synchronous: LMDB reads are memory-mapped (no system call on a warm map), so
 * they run on the loop; inside a batch they go through its transaction and see its writes.
 */
#include "router/store/store_lmdb.h"

#include <errno.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/log.h"
#include "realm/realm.h"

#define LMDB_MAX_TOPIC_KEY 500
#define LMDB_MAX_HISTORY_URI 400

struct store_history {
	char *name;              /* the key prefix: policy letter, uri, NUL */
	size_t nlen;
	uint32_t limit;
	int64_t max_age_ms;
	uint64_t first, next;    /* sequence numbers: oldest held, next to give */
	uint32_t count;
	uint64_t bytes;
	struct {                 /* at the batch's start (restored if it fails) */
		uint64_t first, next, bytes;
		uint32_t count;
	} snap;
	struct store_history *next_h;
};

struct lmdb_done {
	store_done_fn done;
	void *arg;
	bool retained;
};

struct lmdb_store {
	struct store st;
	MDB_env *env;
	MDB_dbi hist, ret;
	char *path;
	MDB_txn *batch;          /* the iteration's write transaction, or NULL */
	struct lmdb_done *dones; /* the batch's completions */
	size_t ndones, capdones;
	struct store_stats snap; /* stats at the batch's start */
	struct realm_timer *commit_timer;
	bool at_once;            /* the loop is going away: every write is committed at once */
	struct store_history *histories;
};

#define LM(st) ((struct lmdb_store *)(st))

static void put_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* The key of h's entry seq into buf (at least nlen + 8 bytes). */
static MDB_val hist_key(const struct store_history *h, uint64_t seq, uint8_t *buf)
{
	memcpy(buf, h->name, h->nlen);
	put_be64(buf + h->nlen, seq);
	return (MDB_val){.mv_size = h->nlen + 8, .mv_data = buf};
}

static MDB_val ret_key(const char *topic, size_t len, uint8_t *buf)
{
	if (len <= LMDB_MAX_TOPIC_KEY) {
		buf[0] = 'T';
		memcpy(buf + 1, topic, len);
		return (MDB_val){.mv_size = len + 1, .mv_data = buf};
	}
	buf[0] = 'H';
	crypto_generichash(buf + 1, 32, (const unsigned char *)topic, len, NULL, 0);
	return (MDB_val){.mv_size = 33, .mv_data = buf};
}

/* ------------------------------------------------------------------------------------ */
/* the batch                                                                            */

static void lm_commit(void *arg);

/* Run the batch's completions with err (WAMPD_OK: committed). */
static void lm_complete(struct lmdb_store *m, enum wampd_err err, const char *why)
{
	struct lmdb_done *d = m->dones;
	size_t n = m->ndones;

	m->dones = NULL;
	m->ndones = m->capdones = 0;
	for (size_t i = 0; i < n; i++) {
		if (err == WAMPD_OK) {
			if (d[i].done)
				d[i].done(d[i].arg, WAMPD_OK, NULL);
		} else {
			store_failed(&m->st, d[i].retained, err, why, d[i].done, d[i].arg);
		}
	}
	free(d);
}

/* The batch failed (rc): abort it (if still open), restore the counts, fail its writes. */
static void lm_abort(struct lmdb_store *m, int rc)
{
	struct store_history *h;
	uint64_t retained_refused = m->st.stats.retained_refused;
	uint64_t history_refused = m->st.stats.history_refused;

	if (m->batch)
		mdb_txn_abort(m->batch);
	m->batch = NULL;
	m->st.stats = m->snap;
	m->st.stats.retained_refused = retained_refused; /* counters, not state */
	m->st.stats.history_refused = history_refused;
	for (h = m->histories; h; h = h->next_h) {
		h->first = h->snap.first;
		h->next = h->snap.next;
		h->bytes = h->snap.bytes;
		h->count = h->snap.count;
	}
	lm_complete(m, rc == MDB_MAP_FULL ? WAMPD_ERR_LIMIT : WAMPD_ERR_STORE, mdb_strerror(rc));
}

/* A write of the current batch failed with rc: the batch is aborted, and the write's
 * caller told (done: a full map is limit_exceeded, anything else store_failed). */
static void lm_write_failed(struct lmdb_store *m, bool retained, int rc, store_done_fn done,
                            void *arg)
{
	lm_abort(m, rc);
	store_failed(&m->st, retained, rc == MDB_MAP_FULL ? WAMPD_ERR_LIMIT : WAMPD_ERR_STORE,
	             mdb_strerror(rc), done, arg);
}

/* The iteration's write transaction (opened now if needed). NULL (logged) on failure. */
static MDB_txn *lm_batch(struct lmdb_store *m)
{
	struct realms *rs = m->st.rs;
	struct store_history *h;
	int rc;

	if (m->batch)
		return m->batch;
	if ((rc = mdb_txn_begin(m->env, NULL, 0, &m->batch)) != 0) {
		m->batch = NULL;
		wlog_error("store", "realm=%s lmdb %s: cannot begin a write: %s", m->st.realm,
		           m->path, mdb_strerror(rc));
		return NULL;
	}
	m->snap = m->st.stats;
	for (h = m->histories; h; h = h->next_h) {
		h->snap.first = h->first;
		h->snap.next = h->next;
		h->snap.bytes = h->bytes;
		h->snap.count = h->count;
	}
	if (rs && rs->timers.start && !m->commit_timer && !m->at_once)
		m->commit_timer = rs->timers.start(rs->timers.ctx, 0, lm_commit, m);
	return m->batch;
}

/* A write went into the batch: its completion runs after the commit. Without timers (no
 * event loop: tests, tools) the batch is committed now. */
static void lm_wrote(struct lmdb_store *m, bool retained, store_done_fn done, void *arg)
{
	if (m->ndones == m->capdones) {
		size_t cap = m->capdones ? m->capdones * 2 : 64;
		struct lmdb_done *d = realloc(m->dones, cap * sizeof(*d));

		if (!d) {
			lm_abort(m, ENOMEM);
			if (done)
				store_failed(&m->st, retained, WAMPD_ERR_STORE, "out of memory", done, arg);
			return;
		}
		m->dones = d;
		m->capdones = cap;
	}
	m->dones[m->ndones++] = (struct lmdb_done){done, arg, retained};
	if (!m->commit_timer)
		lm_commit(m);
}

static void lm_commit(void *arg)
{
	struct lmdb_store *m = arg;
	int rc;

	m->commit_timer = NULL;
	if (!m->batch)
		return;
	if ((rc = mdb_txn_commit(m->batch)) != 0) {
		m->batch = NULL; /* freed by the failed commit */
		lm_abort(m, rc);
		return;
	}
	m->batch = NULL;
	lm_complete(m, WAMPD_OK, NULL);
}

/* A read transaction: the batch's, or a read-only one (*own: end it after the read). */
static MDB_txn *lm_read_txn(struct lmdb_store *m, bool *own)
{
	MDB_txn *txn = NULL;

	*own = false;
	if (m->batch)
		return m->batch;
	if (mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn) != 0)
		return NULL;
	*own = true;
	return txn;
}

/* ------------------------------------------------------------------------------------ */
/* histories                                                                            */

/* The oldest entry of h: its key and record (in txn). false if none. */
static bool lm_oldest(struct lmdb_store *m, MDB_txn *txn, struct store_history *h,
                      MDB_val *key, MDB_val *val, uint8_t *buf)
{
	*key = hist_key(h, h->first, buf);
	return h->count && mdb_get(txn, m->hist, key, val) == 0;
}

/* Delete h's oldest entry. 0 or an LMDB error. */
static int lm_drop_oldest(struct lmdb_store *m, MDB_txn *txn, struct store_history *h)
{
	uint8_t buf[512];
	MDB_val key, val;
	int rc;

	if (!lm_oldest(m, txn, h, &key, &val, buf)) {
		/* counted but not found: the counts are off; start the history over */
		h->count = 0;
		m->st.stats.history_bytes -= h->bytes;
		h->bytes = 0;
		h->first = h->next;
		return 0;
	}
	h->bytes -= key.mv_size + val.mv_size;
	m->st.stats.history_bytes -= key.mv_size + val.mv_size;
	if ((rc = mdb_del(txn, m->hist, &key, NULL)) != 0)
		return rc;
	h->first++;
	h->count--;
	return 0;
}

static struct store_history *lm_history_add(struct store *st, const struct history_config *hc)
{
	struct lmdb_store *m = LM(st);
	struct store_history *h;
	size_t ulen = strlen(hc->uri);
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val key, val;
	uint8_t buf[512];
	int rc;

	if (ulen > LMDB_MAX_HISTORY_URI) {
		wlog_error("store", "realm=%s lmdb: history uri longer than %d bytes: %s", st->realm,
		           LMDB_MAX_HISTORY_URI, hc->uri);
		return NULL;
	}
	if (!(h = calloc(1, sizeof(*h))) || !(h->name = malloc(ulen + 2))) {
		free(h);
		return NULL;
	}
	h->name[0] = match_policy_name(hc->match)[0];
	memcpy(h->name + 1, hc->uri, ulen + 1);
	h->nlen = ulen + 2;
	h->limit = hc->limit;
	h->max_age_ms = hc->max_age_ms;
	/* what the file holds for it: the first and last sequence numbers, count and bytes */
	if ((rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, m->hist, &cur)) != 0)
		goto fail;
	key = hist_key(h, 0, buf);
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		uint64_t seq;

		if (key.mv_size != h->nlen + 8 || memcmp(key.mv_data, h->name, h->nlen))
			break;
		seq = get_be64((const uint8_t *)key.mv_data + h->nlen);
		if (!h->count)
			h->first = seq;
		h->next = seq + 1;
		h->count++;
		h->bytes += key.mv_size + val.mv_size;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (!h->count)
		h->first = h->next = 1;
	st->stats.history_bytes += h->bytes;
	h->next_h = m->histories;
	m->histories = h;
	if (h->count)
		wlog_info("store", "realm=%s lmdb: history %s %s holds %u event(s), %llu bytes",
		          st->realm, match_policy_name(hc->match), hc->uri, h->count,
		          (unsigned long long)h->bytes);
	/* a smaller limit than the file holds: trimmed with the next write */
	return h;
fail:
	if (txn)
		mdb_txn_abort(txn);
	wlog_error("store", "realm=%s lmdb: cannot read history %s: %s", st->realm, hc->uri,
	           mdb_strerror(rc));
	free(h->name);
	free(h);
	return NULL;
}

static size_t lm_cost(struct store *st, const struct store_event *ev);

/* The history holding the realm's oldest entry (by time), or NULL. */
static struct store_history *lm_realm_oldest(struct lmdb_store *m, MDB_txn *txn)
{
	struct store_history *h, *best = NULL;
	int64_t best_ts = 0;

	for (h = m->histories; h; h = h->next_h) {
		uint8_t buf[512];
		MDB_val key, val;
		int64_t ts;

		if (!lm_oldest(m, txn, h, &key, &val, buf)) {
			if (h->count)
				return h; /* off: lm_drop_oldest starts it over */
			continue;
		}
		store_record_publication(val.mv_data, val.mv_size, &ts);
		if (!best || ts < best_ts) {
			best = h;
			best_ts = ts;
		}
	}
	return best;
}

static void lm_append(struct store *st, struct store_history *h, const struct store_event *ev,
                      int64_t now, store_done_fn done, void *arg)
{
	struct lmdb_store *m = LM(st);
	uint8_t kbuf[512];
	size_t len = 0, cost;
	uint8_t *rec;
	MDB_txn *txn;
	MDB_val key, val;
	int rc = 0;

	if (!(rec = store_record_encode(ev, now, &len))) {
		store_failed(st, false, WAMPD_ERR_STORE, "out of memory", done, arg);
		return;
	}
	cost = h->nlen + 8 + len;
	if (cost > st->limits.max_history_bytes) {
		st->stats.history_refused++;
		free(rec);
		if (done)
			done(arg, WAMPD_OK, NULL);
		return;
	}
	if (!(txn = lm_batch(m))) {
		free(rec);
		store_failed(st, false, WAMPD_ERR_STORE, "cannot begin a write transaction", done, arg);
		return;
	}
	/* age, then count, then the realm's bytes: the oldest go */
	while (rc == 0 && h->count && h->max_age_ms > 0) {
		MDB_val ok, ov;
		int64_t ts = now;

		if (!lm_oldest(m, txn, h, &ok, &ov, kbuf))
			break;
		store_record_publication(ov.mv_data, ov.mv_size, &ts);
		if (ts >= now - h->max_age_ms)
			break;
		rc = lm_drop_oldest(m, txn, h);
	}
	while (rc == 0 && h->count >= h->limit)
		rc = lm_drop_oldest(m, txn, h);
	while (rc == 0 && st->stats.history_bytes + cost > st->limits.max_history_bytes) {
		struct store_history *o = lm_realm_oldest(m, txn);

		if (!o)
			break;
		rc = lm_drop_oldest(m, txn, o);
		st->stats.history_evicted++;
	}
	key = hist_key(h, h->next, kbuf);
	val = (MDB_val){.mv_size = len, .mv_data = rec};
	if (rc == 0)
		rc = mdb_put(txn, m->hist, &key, &val, 0);
	free(rec);
	if (rc != 0) {
		lm_write_failed(m, false, rc, done, arg);
		return;
	}
	if (!h->count)
		h->first = h->next;
	h->next++;
	h->count++;
	h->bytes += cost;
	st->stats.history_bytes += cost;
	lm_wrote(m, false, done, arg);
}

/* Decoded views of records, kept until the read's callback returned. */
struct lm_views {
	struct stored_event *evs;
	const struct stored_event **ptrs;
	size_t n, cap;
};

/* The record in val decoded as v's next view: 1, 0 (not a record: skipped), -1 (NOMEM). */
static int views_add(struct lm_views *v, const MDB_val *val)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		struct stored_event *e = realloc(v->evs, cap * sizeof(*e));

		if (!e)
			return -1;
		v->evs = e;
		v->cap = cap;
	}
	if (!store_record_view(val->mv_data, val->mv_size, &v->evs[v->n]))
		return 0;
	v->n++;
	return 1;
}

static void views_answer(struct lm_views *v, enum wampd_err err, bool reverse, store_read_fn fn,
                         void *arg)
{
	if (err == WAMPD_OK && v->n && !(v->ptrs = malloc(v->n * sizeof(*v->ptrs))))
		err = WAMPD_ERR_NOMEM;
	for (size_t i = 0; err == WAMPD_OK && i < v->n; i++)
		v->ptrs[i] = &v->evs[reverse ? i : v->n - 1 - i]; /* collected newest first */
	fn(arg, err, err == WAMPD_OK ? (const struct stored_event *const *)v->ptrs : NULL,
	   err == WAMPD_OK ? v->n : 0);
	for (size_t i = 0; i < v->n; i++)
		store_record_view_clear(&v->evs[i]);
	free(v->evs);
	free(v->ptrs);
}

static void lm_read(struct store *st, struct store_history *h, const struct store_query *q,
                    store_read_fn fn, void *arg)
{
	struct lmdb_store *m = LM(st);
	struct lm_views v = {0};
	enum wampd_err err = WAMPD_OK;
	int64_t now = clock_wall_ms();
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val key, val;
	uint8_t kbuf[512];
	bool own;
	int rc;

	if (!h->count) {
		fn(arg, WAMPD_OK, NULL, 0);
		return;
	}
	if (!(txn = lm_read_txn(m, &own)) || mdb_cursor_open(txn, m->hist, &cur) != 0) {
		if (txn && own)
			mdb_txn_abort(txn);
		fn(arg, WAMPD_ERR_STORE, NULL, 0);
		return;
	}
	/* from the newest backwards: the newest `limit` matching ones */
	key = hist_key(h, h->next - 1, kbuf);
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_PREV)) {
		struct stored_event *ev;
		int added;

		if (key.mv_size != h->nlen + 8 || memcmp(key.mv_data, h->name, h->nlen))
			break;
		if ((added = views_add(&v, &val)) < 0) {
			err = WAMPD_ERR_NOMEM;
			break;
		}
		if (!added)
			continue;
		ev = &v.evs[v.n - 1];
		if (h->max_age_ms > 0 && ev->timestamp_ms < now - h->max_age_ms) {
			store_record_view_clear(ev);
			v.n--;
			break; /* older ones are older still */
		}
		if (q->topic && strcmp(q->topic, ev->topic)) {
			store_record_view_clear(ev);
			v.n--;
			continue;
		}
		if (q->limit && v.n == q->limit)
			break;
	}
	mdb_cursor_close(cur);
	views_answer(&v, err, q->reverse, fn, arg);
	if (own)
		mdb_txn_abort(txn);
}

/* ------------------------------------------------------------------------------------ */
/* retained events                                                                      */

static size_t lm_cost(struct store *st, const struct store_event *ev)
{
	size_t len = 0;
	uint8_t *rec = store_record_encode(ev, 0, &len);

	(void)st;
	free(rec);
	return len + 1 + (ev->topic_len <= LMDB_MAX_TOPIC_KEY ? ev->topic_len : 32);
}

/* The cost of topic's retained event now (0: none). */
static size_t lm_retained_cost(struct lmdb_store *m, const char *topic, size_t len)
{
	uint8_t kbuf[512];
	MDB_val key = ret_key(topic, len, kbuf), val;
	MDB_txn *txn;
	size_t cost = 0;
	bool own;

	if (!(txn = lm_read_txn(m, &own)))
		return 0;
	if (mdb_get(txn, m->ret, &key, &val) == 0)
		cost = key.mv_size + val.mv_size;
	if (own)
		mdb_txn_abort(txn);
	return cost;
}

static enum wampd_err lm_retain_check(struct store *st, const char *topic, size_t len,
                                      size_t cost)
{
	size_t old = lm_retained_cost(LM(st), topic, len);

	if ((!old && st->stats.nretained >= st->limits.max_retained) ||
	    st->stats.retained_bytes - old + cost > st->limits.max_retained_bytes) {
		st->stats.retained_refused++;
		return WAMPD_ERR_LIMIT;
	}
	return WAMPD_OK;
}

/* Delete topic's retained event in txn (its cost off the counts). */
static int lm_retained_del(struct lmdb_store *m, MDB_txn *txn, const char *topic, size_t len)
{
	uint8_t kbuf[512];
	MDB_val key = ret_key(topic, len, kbuf), val;
	int rc;

	if (mdb_get(txn, m->ret, &key, &val) != 0)
		return 0;
	m->st.stats.retained_bytes -= key.mv_size + val.mv_size;
	m->st.stats.nretained--;
	rc = mdb_del(txn, m->ret, &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void lm_retain_set(struct store *st, const struct store_event *ev, int64_t now,
                          store_done_fn done, void *arg)
{
	struct lmdb_store *m = LM(st);
	uint8_t kbuf[512];
	size_t len = 0;
	uint8_t *rec = store_record_encode(ev, now, &len);
	MDB_txn *txn;
	MDB_val key, val;
	int rc;

	if (!rec || !(txn = lm_batch(m))) {
		free(rec);
		store_failed(st, true, WAMPD_ERR_STORE, rec ? "cannot begin a write transaction"
		                                            : "out of memory", done, arg);
		return;
	}
	key = ret_key(ev->topic, ev->topic_len, kbuf);
	val = (MDB_val){.mv_size = len, .mv_data = rec};
	if ((rc = lm_retained_del(m, txn, ev->topic, ev->topic_len)) == 0)
		rc = mdb_put(txn, m->ret, &key, &val, 0);
	free(rec);
	if (rc != 0) {
		lm_write_failed(m, true, rc, done, arg);
		return;
	}
	st->stats.retained_bytes += key.mv_size + len;
	st->stats.nretained++;
	lm_wrote(m, true, done, arg);
}

static void lm_retain_clear(struct store *st, const char *topic, size_t len, store_done_fn done,
                            void *arg)
{
	struct lmdb_store *m = LM(st);
	MDB_txn *txn = lm_batch(m);
	int rc;

	if (!txn) {
		store_failed(st, true, WAMPD_ERR_STORE, "cannot begin a write transaction", done, arg);
		return;
	}
	if ((rc = lm_retained_del(m, txn, topic, len)) != 0) {
		lm_abort(m, rc);
		store_failed(st, true, WAMPD_ERR_STORE, mdb_strerror(rc), done, arg);
		return;
	}
	lm_wrote(m, true, done, arg);
}

static void lm_retain_get(struct store *st, const char *uri, enum match_policy policy,
                          store_read_fn fn, void *arg)
{
	struct lmdb_store *m = LM(st);
	struct match_item item = {.uri = (char *)uri, .uri_len = strlen(uri), .policy = policy};
	struct lm_views v = {0};
	enum wampd_err err = WAMPD_OK;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val key, val;
	uint8_t kbuf[512];
	bool own;
	int rc;

	if (!(txn = lm_read_txn(m, &own))) {
		fn(arg, WAMPD_ERR_STORE, NULL, 0);
		return;
	}
	if (policy == MATCH_EXACT) {
		key = ret_key(uri, item.uri_len, kbuf);
		if (mdb_get(txn, m->ret, &key, &val) == 0 && views_add(&v, &val) < 0)
			err = WAMPD_ERR_NOMEM;
	} else if (mdb_cursor_open(txn, m->ret, &cur) == 0) {
		for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0 && err == WAMPD_OK;
		     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
			int added = views_add(&v, &val);

			if (added < 0)
				err = WAMPD_ERR_NOMEM;
			else if (added && !match_item_matches(&item, v.evs[v.n - 1].topic,
			                                      strlen(v.evs[v.n - 1].topic)))
				store_record_view_clear(&v.evs[--v.n]);
		}
		mdb_cursor_close(cur);
	} else {
		err = WAMPD_ERR_STORE;
	}
	views_answer(&v, err, true, fn, arg);
	if (own)
		mdb_txn_abort(txn);
}

/* ------------------------------------------------------------------------------------ */

static void lm_flush(struct store *st)
{
	struct lmdb_store *m = LM(st);
	struct realms *rs = st->rs;

	if (m->commit_timer && rs && rs->timers.cancel)
		rs->timers.cancel(rs->timers.ctx, m->commit_timer);
	m->commit_timer = NULL;
	m->at_once = true;
	lm_commit(m);
}

static void lm_destroy(struct store *st)
{
	struct lmdb_store *m = LM(st);
	struct store_history *h, *next;

	lm_flush(st);
	for (h = m->histories; h; h = next) {
		next = h->next_h;
		free(h->name);
		free(h);
	}
	mdb_env_close(m->env);
	free(m->path);
	free(m);
}

static const struct store_ops lmdb_ops = {
	.name = "lmdb",
	.shared = false,
	.history_add = lm_history_add,
	.append = lm_append,
	.read = lm_read,
	.retain_check = lm_retain_check,
	.retain_set = lm_retain_set,
	.retain_clear = lm_retain_clear,
	.retain_get = lm_retain_get,
	.cost = lm_cost,
	.flush = lm_flush,
	.destroy = lm_destroy,
};

struct store *store_lmdb_open(const char *path, const char *realm, uint64_t map_size,
                              bool durable, const struct store_limits *limits,
                              struct realms *rs, char *err, size_t errlen)
{
	struct lmdb_store *m = calloc(1, sizeof(*m));
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val key, val;
	int rc;

	if (!m || !(m->path = strdup(path))) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->st.ops = &lmdb_ops;
	m->st.realm = realm;
	m->st.rs = rs;
	m->st.durable = durable;
	m->st.limits = *limits;
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the directory %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = mdb_env_create(&m->env)) != 0 || (rc = mdb_env_set_maxdbs(m->env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(m->env, (size_t)map_size)) != 0 ||
	    (rc = mdb_env_open(m->env, path, MDB_NOTLS | (durable ? 0 : MDB_NOSYNC), 0600)) != 0 ||
	    (rc = mdb_txn_begin(m->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hist", MDB_CREATE, &m->hist)) != 0 ||
	    (rc = mdb_dbi_open(txn, "ret", MDB_CREATE, &m->ret)) != 0 ||
	    (rc = mdb_cursor_open(txn, m->ret, &cur)) != 0) {
		snprintf(err, errlen, "lmdb %s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	/* the retained events' count and bytes */
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		m->st.stats.nretained++;
		m->st.stats.retained_bytes += key.mv_size + val.mv_size;
	}
	mdb_cursor_close(cur);
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		snprintf(err, errlen, "lmdb %s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	wlog_notice("store", "realm=%s lmdb %s: %u retained event(s), %llu bytes; map %llu bytes%s",
	            realm, path, m->st.stats.nretained,
	            (unsigned long long)m->st.stats.retained_bytes, (unsigned long long)map_size,
	            durable ? ", durable (fsync per commit)" : "");
	return &m->st;
fail:
	if (txn)
		mdb_txn_abort(txn);
	if (m->env)
		mdb_env_close(m->env);
	free(m->path);
	free(m);
	return NULL;
}
