/*
 * wamp_msg.c - the per-type message schema (arity and field kinds) used by every codec,
 * and helpers on struct wamp_msg. The table is indexed by message type; a NULL name marks
 * a number that is not a WAMP message type.
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
