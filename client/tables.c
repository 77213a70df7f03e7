/*
 * tables.c - the two containers of the client: an id -> value hash (struct idmap) and a
 * FIFO of encoded messages (struct outq).
 *
 * idmap: open addressing with linear probing over power-of-two arrays of keys and values,
 * a multiplicative (Fibonacci) hash of the 64-bit key, at most half full, and
 * backward-shift deletion, so a lookup never walks over tombstones and the table needs
 * no rehash after deletions. WAMP ids are sequential (request ids) or random (router
 * ids): the multiplicative hash spreads both. Nothing is allocated until the first insert,
 * so an unused table costs only its header (the idle-session footprint counts); an emptied
 * table keeps a small array (no allocation per request) and gives a big one back.
 *
 * outq: a ring of refcounted buffers, grown x2 when full, a drained big ring given back;
 * the caller bounds it by bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"

#define IDMAP_MIN 8
#define IDMAP_KEEP 64
#define OUTQ_KEEP 16

static uint32_t slot_of(uint64_t key, uint32_t cap)
{
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

bool idmap_get(const struct idmap *m, uint64_t key, uint64_t *val)
{
	if (!m->cap || !key)
		return false;
	for (uint32_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return true;
		}
		if (!m->keys[i])
			return false;
	}
}

static void raw_put(uint64_t *keys, uint64_t *vals, uint32_t cap, uint64_t key, uint64_t val)
{
	uint32_t i = slot_of(key, cap);

	while (keys[i] && keys[i] != key)
		i = (i + 1) & (cap - 1);
	keys[i] = key;
	vals[i] = val;
}

static bool grow(struct idmap *m)
{
	uint32_t cap = m->cap ? m->cap * 2 : IDMAP_MIN;
	uint64_t *keys, *vals;

	if (cap < m->cap)
		return false;
	keys = calloc(cap, sizeof(*keys));
	vals = malloc(cap * sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return false;
	}
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			raw_put(keys, vals, cap, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return true;
}

bool idmap_put(struct idmap *m, uint64_t key, uint64_t val)
{
	uint64_t old;

	if (!key)
		return false;
	if (idmap_get(m, key, &old)) {
		raw_put(m->keys, m->vals, m->cap, key, val);
		return true;
	}
	if ((m->n + 1) * 2 > m->cap && !grow(m))
		return false;
	raw_put(m->keys, m->vals, m->cap, key, val);
	m->n++;
	return true;
}

bool idmap_del(struct idmap *m, uint64_t key, uint64_t *val)
{
	uint32_t i, j, mask = m->cap - 1;

	if (!m->cap || !key)
		return false;
	for (i = slot_of(key, m->cap); m->keys[i] != key; i = (i + 1) & mask)
		if (!m->keys[i])
			return false;
	if (val)
		*val = m->vals[i];
	/* backward shift: move later entries of the probe run into the hole when their home
	 * slot is not between the hole and them */
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		uint32_t home = slot_of(m->keys[j], m->cap);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->n--;
	if (!m->n && m->cap > IDMAP_KEEP)
		idmap_free(m); /* an emptied big table gives its memory back; a small one stays
		                  (no allocation per request in the steady state) */
	return true;
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------------------ outq */

static bool outq_grow(struct outq *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 8;
	struct wamp_out **v;

	if (cap < q->cap || !(v = malloc(cap * sizeof(*v))))
		return false;
	for (uint32_t i = 0; i < q->n; i++)
		v[i] = q->v[(q->head + i) & (q->cap - 1)];
	free(q->v);
	q->v = v;
	q->cap = cap;
	q->head = 0;
	return true;
}

bool outq_push(struct outq *q, struct wamp_out *o)
{
	if (q->n == q->cap && !outq_grow(q))
		return false;
	q->v[(q->head + q->n) & (q->cap - 1)] = o;
	q->n++;
	q->bytes += o->len;
	return true;
}

bool outq_push_front(struct outq *q, struct wamp_out *o)
{
	if (q->n == q->cap && !outq_grow(q))
		return false;
	q->head = (q->head - 1) & (q->cap - 1);
	q->v[q->head] = o;
	q->n++;
	q->bytes += o->len;
	return true;
}

struct wamp_out *outq_peek(const struct outq *q)
{
	return q->n ? q->v[q->head] : NULL;
}

struct wamp_out *outq_pop(struct outq *q)
{
	struct wamp_out *o;

	if (!q->n)
		return NULL;
	o = q->v[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
	q->bytes -= o->len;
	if (!q->n && q->cap > OUTQ_KEEP) { /* a drained big ring is given back */
		free(q->v);
		q->v = NULL;
		q->cap = q->head = 0;
	}
	return o;
}

void outq_clear(struct outq *q)
{
	struct wamp_out *o;

	while ((o = outq_pop(q)))
		wamp_out_unref(o);
	free(q->v);
	memset(q, 0, sizeof(*q));
}
