/*
 * store.c - what every event-store backend shares (see store.h): copying an event, the
 * record persistent backends keep, failure accounting, and the coverage test between URI
 * patterns that SSE resume and get_events use to find a history.
 *
 * The record (lmdb values, Redis stream entries): a fixed 36-byte little-endian header,
 * then the topic and a NUL, the details as compact JSON, then the payload: the args and
 * kwargs spans exactly as they arrived (in serializer `ser`), or, for values (the router's
 * own publications), their compact JSON text (flag bits). Binary and fixed so that a read
 * points into the stored bytes (LMDB's map, a Redis reply) instead of parsing them:
 *
 *   0 u8 version (1)   1 u8 flags (1 args are JSON text, 2 kwargs are, 4 transparent)
 *   2 u8 serializer    3 u8 0
 *   4 u64 publication  12 i64 timestamp_ms
 *  20 u32 topic_len    24 u32 details_len   28 u32 args_len   32 u32 kwargs_len
 */
#include "realm/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "serializers/codec.h"

#define REC_HEADER 36
#define REC_ARGS_JSON 1
#define REC_KWARGS_JSON 2
#define REC_TRANSPARENT 4

void stored_event_clear(struct stored_event *ev)
{
	free(ev->topic);
	json_decref(ev->details);
	json_decref(ev->payload.args_v);
	json_decref(ev->payload.kwargs_v);
	free(ev->bytes);
	memset(ev, 0, sizeof(*ev));
}

bool stored_event_copy(struct stored_event *ev, const struct store_event *in, int64_t now_ms)
{
	const struct wamp_payload *p = in->payload;
	size_t n = wamp_payload_span_len(p);

	memset(ev, 0, sizeof(*ev));
	ev->publication = in->publication;
	ev->timestamp_ms = now_ms;
	if (!(ev->topic = malloc(in->topic_len + 1)))
		return false;
	memcpy(ev->topic, in->topic, in->topic_len);
	ev->topic[in->topic_len] = '\0';
	if (in->details && !(ev->details = json_deep_copy(in->details)))
		goto fail;
	ev->payload.ser = p->ser;
	ev->payload.transparent = p->transparent;
	if (n && !(ev->bytes = malloc(n)))
		goto fail;
	if (p->args) {
		memcpy(ev->bytes, p->args, p->args_len);
		ev->payload.args = ev->bytes;
		ev->payload.args_len = p->args_len;
	}
	if (p->kwargs) {
		memcpy(ev->bytes + (p->args ? p->args_len : 0), p->kwargs, p->kwargs_len);
		ev->payload.kwargs = ev->bytes + (p->args ? p->args_len : 0);
		ev->payload.kwargs_len = p->kwargs_len;
	}
	if (!p->args && p->args_v)
		ev->payload.args_v = json_incref(p->args_v);
	if (!p->kwargs && p->kwargs_v)
		ev->payload.kwargs_v = json_incref(p->kwargs_v);
	return true;
fail:
	stored_event_clear(ev);
	return false;
}

size_t store_event_heap_cost(const struct store_event *ev)
{
	const struct wamp_payload *p = ev->payload;
	size_t n = wamp_payload_span_len(p);

	/* the entry (a stored_event and a hash handle's worth of links), the topic, the
	 * payload block, the details and any payload values */
	return wamp_heap_size(sizeof(struct stored_event) + 56) + wamp_heap_size(ev->topic_len + 1) +
	       (n ? wamp_heap_size(n) : 0) + wamp_json_heap_size(ev->details) +
	       (p->args ? 0 : wamp_json_heap_size(p->args_v)) +
	       (p->kwargs ? 0 : wamp_json_heap_size(p->kwargs_v));
}

/* ------------------------------------------------------------------------------------ */
/* the record                                                                           */

static void put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *b)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static uint64_t get64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static char *json_text(const json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

uint8_t *store_record_encode(const struct store_event *ev, int64_t now_ms, size_t *len)
{
	const struct wamp_payload *p = ev->payload;
	char *details = json_text(ev->details);
	char *av = p->args ? NULL : json_text(p->args_v);
	char *kv = p->kwargs ? NULL : json_text(p->kwargs_v);
	size_t dl = details ? strlen(details) : 0;
	size_t al = p->args ? p->args_len : av ? strlen(av) : 0;
	size_t kl = p->kwargs ? p->kwargs_len : kv ? strlen(kv) : 0;
	uint8_t *rec = NULL, *o;

	if ((ev->details && !details) || (p->args_v && !p->args && !av) ||
	    (p->kwargs_v && !p->kwargs && !kv) || ev->topic_len > UINT32_MAX ||
	    al > UINT32_MAX || kl > UINT32_MAX)
		goto out;
	*len = REC_HEADER + ev->topic_len + 1 + dl + al + kl;
	if (!(rec = malloc(*len)))
		goto out;
	rec[0] = 1;
	rec[1] = (uint8_t)((av ? REC_ARGS_JSON : 0) | (kv ? REC_KWARGS_JSON : 0) |
	                   (p->transparent ? REC_TRANSPARENT : 0));
	rec[2] = (uint8_t)p->ser;
	rec[3] = 0;
	put64(rec + 4, ev->publication);
	put64(rec + 12, (uint64_t)now_ms);
	put32(rec + 20, (uint32_t)ev->topic_len);
	put32(rec + 24, (uint32_t)dl);
	put32(rec + 28, (uint32_t)al);
	put32(rec + 32, (uint32_t)kl);
	o = rec + REC_HEADER;
	memcpy(o, ev->topic, ev->topic_len);
	o += ev->topic_len;
	*o++ = '\0';
	if (dl)
		memcpy(o, details, dl);
	o += dl;
	if (al)
		memcpy(o, p->args ? (const char *)p->args : av, al);
	o += al;
	if (kl)
		memcpy(o, p->kwargs ? (const char *)p->kwargs : kv, kl);
out:
	free(details);
	free(av);
	free(kv);
	return rec;
}

uint64_t store_record_publication(const uint8_t *rec, size_t len, int64_t *timestamp_ms)
{
	if (len < REC_HEADER || rec[0] != 1)
		return 0;
	if (timestamp_ms)
		*timestamp_ms = (int64_t)get64(rec + 12);
	return get64(rec + 4);
}

static json_t *json_of(const uint8_t *s, size_t n)
{
	json_error_t e;

	return json_loadb((const char *)s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
}

bool store_record_view(const uint8_t *rec, size_t len, struct stored_event *ev)
{
	size_t tl, dl, al, kl;
	const uint8_t *o;

	memset(ev, 0, sizeof(*ev));
	if (len < REC_HEADER || rec[0] != 1 || rec[2] >= WAMP_SER__COUNT)
		return false;
	tl = get32(rec + 20);
	dl = get32(rec + 24);
	al = get32(rec + 28);
	kl = get32(rec + 32);
	if (tl + 1 + dl + al + kl != len - REC_HEADER || rec[REC_HEADER + tl] != '\0')
		return false;
	ev->publication = get64(rec + 4);
	ev->timestamp_ms = (int64_t)get64(rec + 12);
	ev->topic = (char *)(rec + REC_HEADER); /* borrowed: see store_record_view_clear */
	o = rec + REC_HEADER + tl + 1;
	if (dl && !(ev->details = json_of(o, dl)))
		goto fail;
	o += dl;
	ev->payload.ser = (enum wamp_ser)rec[2];
	ev->payload.transparent = rec[1] & REC_TRANSPARENT;
	if (al && (rec[1] & REC_ARGS_JSON)) {
		if (!(ev->payload.args_v = json_of(o, al)))
			goto fail;
	} else if (al) {
		ev->payload.args = o;
		ev->payload.args_len = al;
	}
	o += al;
	if (kl && (rec[1] & REC_KWARGS_JSON)) {
		if (!(ev->payload.kwargs_v = json_of(o, kl)))
			goto fail;
	} else if (kl) {
		ev->payload.kwargs = o;
		ev->payload.kwargs_len = kl;
	}
	return true;
fail:
	store_record_view_clear(ev);
	return false;
}

void store_record_view_clear(struct stored_event *ev)
{
	json_decref(ev->details);
	json_decref(ev->payload.args_v);
	json_decref(ev->payload.kwargs_v);
	memset(ev, 0, sizeof(*ev));
}

/* ------------------------------------------------------------------------------------ */

void store_failed(struct store *st, bool retained, enum wampd_err err, const char *why,
                  store_done_fn done, void *arg)
{
	int64_t now = clock_mono_ms();

	if (retained)
		st->stats.retained_failed++;
	else
		st->stats.history_failed++;
	if (now - st->failure_logged_ms >= 1000) {
		wlog_warn("store", "realm=%s store=%s: %s not stored: %s (failures so far: %llu "
		          "history, %llu retained)", st->realm ? st->realm : "", st->ops->name,
		          retained ? "a retained event" : "a history event", why ? why : "",
		          (unsigned long long)st->stats.history_failed,
		          (unsigned long long)st->stats.retained_failed);
		st->failure_logged_ms = now;
	}
	if (done)
		done(arg, err, why);
}

/* The components of a URI pattern: n of them, pointers and lengths in c/l (at most max). */
static size_t components(const char *uri, const char **c, size_t *l, size_t max)
{
	size_t n = 0;
	const char *p = uri;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t k = dot ? (size_t)(dot - p) : strlen(p);

		if (n == max)
			return max + 1;
		c[n] = p;
		l[n++] = k;
		if (!dot)
			return n;
		p = dot + 1;
	}
}

bool store_pattern_covers(const char *huri, enum match_policy hpolicy, const char *uri,
                          enum match_policy policy)
{
	enum { MAXC = 64 };
	const char *hc[MAXC], *uc[MAXC];
	size_t hl[MAXC], ul[MAXC], hn, un;

	switch (hpolicy) {
	case MATCH_EXACT:
		return policy == MATCH_EXACT && !strcmp(huri, uri);
	case MATCH_PREFIX:
		/* a string prefix: exact and prefix patterns extending it; a wildcard pattern
		 * whose literal start (before its first empty component) does */
		if (policy != MATCH_WILDCARD)
			return !strncmp(huri, uri, strlen(huri));
		un = components(uri, uc, ul, MAXC);
		if (un > MAXC)
			return false;
		for (size_t i = 0; i < un; i++)
			if (!ul[i]) /* "a.b..c" matches topics that all start with "a.b." */
				return (size_t)(uc[i] - uri) >= strlen(huri) &&
				       !strncmp(huri, uri, strlen(huri));
		return !strncmp(huri, uri, strlen(huri));
	case MATCH_WILDCARD:
		/* the same number of components; each of the history's is empty (any) or equal
		 * to the pattern's (which must then be literal too) */
		if (policy == MATCH_PREFIX)
			return false;
		hn = components(huri, hc, hl, MAXC);
		un = components(uri, uc, ul, MAXC);
		if (hn > MAXC || hn != un)
			return false;
		for (size_t i = 0; i < hn; i++) {
			if (!hl[i])
				continue;
			if (ul[i] != hl[i] || memcmp(hc[i], uc[i], hl[i]))
				return false;
		}
		return true;
	}
	return false;
}

json_t *store_event_json(const struct stored_event *ev, uint64_t subscription)
{
	enum wampd_err err;
	char stamp[40];
	time_t secs = (time_t)(ev->timestamp_ms / 1000);
	struct tm tm;
	json_t *o, *args, *kwargs;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03dZ",
	         (int)(ev->timestamp_ms % 1000));
	o = json_pack("{s:s, s:I, s:I, s:s}", "timestamp", stamp, "subscription",
	              (json_int_t)subscription, "publication", (json_int_t)ev->publication, "topic",
	              ev->topic);
	if (!o)
		return NULL;
	json_object_set_new(o, "details", ev->details ? json_deep_copy(ev->details) : json_object());
	if ((args = wamp_payload_args(&ev->payload, &err)))
		json_object_set_new(o, "args", args);
	if ((kwargs = wamp_payload_kwargs(&ev->payload, &err)))
		json_object_set_new(o, "kwargs", kwargs);
	return o;
}
