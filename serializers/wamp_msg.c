/*
 * wamp_msg.c - the per-type message schema (arity and field kinds) used by every codec,
 * and helpers on struct wamp_msg. The table is indexed by message type; a NULL name marks
 * a number that is not a WAMP message type.
 *
 * wamp_heap_size / wamp_json_heap_size estimate the heap a block or a jansson value holds,
 * for the byte budgets of what the router keeps (retained events, event history,
 * testaments): a glibc-like chunk per allocation (8 bytes of header, 16-byte granules, 32 at
 * least) and jansson 2.x's structures (value structs, array slots, one hashtable bucket
 * and one pair per object key). An estimate that grows with what a peer sends, not an exact
 * count: what matters is that it cannot be much smaller than the real use.
 */
#include "serializers/wamp_msg.h"

#include <stdlib.h>
#include <string.h>

#define F_ID WAMP_F_ID
#define F_INT WAMP_F_INT
#define F_URI WAMP_F_URI
#define F_STR WAMP_F_STRING
#define F_DICT WAMP_F_DICT
#define F_P WAMP_F_PAYLOAD

static const struct wamp_schema schemas[WAMP_TYPE__MAX + 1] = {
	[WAMP_HELLO] = {"HELLO", {F_URI, F_DICT}, 3, 3, false},
	[WAMP_WELCOME] = {"WELCOME", {F_ID, F_DICT}, 3, 3, false},
	[WAMP_ABORT] = {"ABORT", {F_DICT, F_URI}, 3, 3, false},
	[WAMP_CHALLENGE] = {"CHALLENGE", {F_STR, F_DICT}, 3, 3, false},
	[WAMP_AUTHENTICATE] = {"AUTHENTICATE", {F_STR, F_DICT}, 3, 3, false},
	[WAMP_GOODBYE] = {"GOODBYE", {F_DICT, F_URI}, 3, 3, false},
	[WAMP_ACK] = {"ACK", {F_ID}, 2, 2, true},
	[WAMP_ERROR] = {"ERROR", {F_INT, F_ID, F_DICT, F_URI, F_P}, 5, 7, false},
	[WAMP_PUBLISH] = {"PUBLISH", {F_ID, F_DICT, F_URI, F_P}, 4, 6, false},
	[WAMP_PUBLISHED] = {"PUBLISHED", {F_ID, F_ID}, 3, 3, false},
	[WAMP_SUBSCRIBE] = {"SUBSCRIBE", {F_ID, F_DICT, F_URI}, 4, 4, false},
	[WAMP_SUBSCRIBED] = {"SUBSCRIBED", {F_ID, F_ID}, 3, 3, false},
	[WAMP_UNSUBSCRIBE] = {"UNSUBSCRIBE", {F_ID, F_ID}, 3, 3, false},
	[WAMP_UNSUBSCRIBED] = {"UNSUBSCRIBED", {F_ID, F_DICT}, 2, 3, true},
	[WAMP_EVENT] = {"EVENT", {F_ID, F_ID, F_DICT, F_P}, 4, 6, false},
	[WAMP_CALL] = {"CALL", {F_ID, F_DICT, F_URI, F_P}, 4, 6, false},
	[WAMP_CANCEL] = {"CANCEL", {F_ID, F_DICT}, 3, 3, false},
	[WAMP_RESULT] = {"RESULT", {F_ID, F_DICT, F_P}, 3, 5, false},
	[WAMP_REGISTER] = {"REGISTER", {F_ID, F_DICT, F_URI}, 4, 4, false},
	[WAMP_REGISTERED] = {"REGISTERED", {F_ID, F_ID}, 3, 3, false},
	[WAMP_UNREGISTER] = {"UNREGISTER", {F_ID, F_ID}, 3, 3, false},
	[WAMP_UNREGISTERED] = {"UNREGISTERED", {F_ID, F_DICT}, 2, 3, true},
	[WAMP_INVOCATION] = {"INVOCATION", {F_ID, F_ID, F_DICT, F_P}, 4, 6, false},
	[WAMP_INTERRUPT] = {"INTERRUPT", {F_ID, F_DICT}, 3, 3, false},
	[WAMP_YIELD] = {"YIELD", {F_ID, F_DICT, F_P}, 3, 5, false},
};

const struct wamp_schema *wamp_schema(int type)
{
	if (type < 0 || type > WAMP_TYPE__MAX || !schemas[type].name)
		return NULL;
	return &schemas[type];
}

const char *wamp_type_name(int type)
{
	const struct wamp_schema *s = wamp_schema(type);

	return s ? s->name : "UNKNOWN";
}

/* Only for decoded messages: they own their dict; messages built for encoding borrow. */
void wamp_msg_clear(struct wamp_msg *m)
{
	json_decref(m->dict); /* NULL-safe */
	free(m->uri_heap);
	memset(m, 0, sizeof(*m));
}

bool wamp_dict_bool(const json_t *dict, const char *key, bool def)
{
	const json_t *v = dict ? json_object_get(dict, key) : NULL;

	return json_is_boolean(v) ? json_is_true(v) : def;
}

const char *wamp_dict_str(const json_t *dict, const char *key, const char *def)
{
	const json_t *v = dict ? json_object_get(dict, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : def;
}

int64_t wamp_dict_int(const json_t *dict, const char *key, int64_t def)
{
	const json_t *v = dict ? json_object_get(dict, key) : NULL;

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

size_t wamp_heap_size(size_t n)
{
	n += 8;
	return n < 32 ? 32 : (n + 15) & ~(size_t)15;
}

/* jansson 2.x internals, approximately: json_t {type, refcount} is 16 bytes. */
#define JS_SCALAR 24       /* json_integer_t / json_real_t */
#define JS_STRING 32       /* json_string_t: json_t + value pointer + length */
#define JS_ARRAY 48        /* json_array_t: json_t + size, entries, table, visited */
#define JS_OBJECT 80       /* json_object_t: json_t + hashtable_t + visited */
#define JS_PAIR 56         /* pair_t before its key: hash, two list links, value, key_len */
#define JS_BUCKET 16       /* one hashtable bucket: first and last list pointers */

size_t wamp_json_heap_size(const json_t *v)
{
	size_t n = 0, i;
	const char *key;
	json_t *item;

	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t buckets = 8; /* jansson's initial order 3, doubled as keys come */

		while (buckets < json_object_size(v))
			buckets *= 2;
		n = wamp_heap_size(JS_OBJECT) + wamp_heap_size(buckets * JS_BUCKET);
		json_object_foreach((json_t *)v, key, item)
			n += wamp_heap_size(JS_PAIR + strlen(key) + 1) + wamp_json_heap_size(item);
		return n;
	}
	case JSON_ARRAY: {
		size_t slots = json_array_size(v) < 8 ? 8 : json_array_size(v);

		n = wamp_heap_size(JS_ARRAY) + wamp_heap_size(slots * sizeof(json_t *));
		json_array_foreach(v, i, item)
			n += wamp_json_heap_size(item);
		return n;
	}
	case JSON_STRING:
		return wamp_heap_size(JS_STRING) + wamp_heap_size(json_string_length(v) + 1);
	case JSON_INTEGER:
	case JSON_REAL:
		return wamp_heap_size(JS_SCALAR);
	default: /* true, false, null: shared singletons */
		return 0;
	}
}
