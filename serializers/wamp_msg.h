/*
 * wamp_msg.h - the WAMP message model shared by every layer.
 *
 * A message is its type, up to three integer fields, at most one string field (a URI,
 * or the AuthMethod/Signature string of CHALLENGE/AUTHENTICATE), at most one dict
 * (Details or Options) and an optional payload (Arguments | ArgumentsKw).
 *
 * The payload is kept as the encoded bytes it arrived in (spans into the receive buffer),
 * so a router that forwards it to a receiver of the same serializer copies bytes and never
 * decodes them; only a receiver of another serializer pays for a conversion, once per
 * serializer (see codec.h). A payload the router builds itself is given as values instead.
 *
 * Wire layout per type, and where each field lives in struct wamp_msg:
 *
 *   HELLO        [1,  Realm|uri, Details|dict]                       uri, dict
 *   WELCOME      [2,  Session|id, Details|dict]                      id[0], dict
 *   ABORT        [3,  Details|dict, Reason|uri]                      dict, uri
 *   CHALLENGE    [4,  AuthMethod|string, Extra|dict]                 uri, dict
 *   AUTHENTICATE [5,  Signature|string, Extra|dict]                  uri, dict
 *   GOODBYE      [6,  Details|dict, Reason|uri]                      dict, uri
 *   ACK          [7,  Received|integer]                              id[0] (may be 0)
 *   ERROR        [8,  REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, P]
 *                                                                    id[0], id[1], dict, uri
 *   PUBLISH      [16, Request|id, Options|dict, Topic|uri, P]        id[0], dict, uri
 *   PUBLISHED    [17, PUBLISH.Request|id, Publication|id]            id[0], id[1]
 *   SUBSCRIBE    [32, Request|id, Options|dict, Topic|uri]           id[0], dict, uri
 *   SUBSCRIBED   [33, SUBSCRIBE.Request|id, Subscription|id]         id[0], id[1]
 *   UNSUBSCRIBE  [34, Request|id, SUBSCRIBED.Subscription|id]        id[0], id[1]
 *   UNSUBSCRIBED [35, UNSUBSCRIBE.Request|id (, Details|dict)]       id[0] (0 = revocation), dict
 *   EVENT        [36, Subscription|id, Publication|id, Details|dict, P]
 *                                                                    id[0], id[1], dict
 *   CALL         [48, Request|id, Options|dict, Procedure|uri, P]    id[0], dict, uri
 *   CANCEL       [49, CALL.Request|id, Options|dict]                 id[0], dict
 *   RESULT       [50, CALL.Request|id, Details|dict, P]              id[0], dict
 *   REGISTER     [64, Request|id, Options|dict, Procedure|uri]       id[0], dict, uri
 *   REGISTERED   [65, REGISTER.Request|id, Registration|id]          id[0], id[1]
 *   UNREGISTER   [66, Request|id, REGISTERED.Registration|id]        id[0], id[1]
 *   UNREGISTERED [67, UNREGISTER.Request|id (, Details|dict)]        id[0] (0 = revocation), dict
 *   INVOCATION   [68, Request|id, Registration|id, Details|dict, P]  id[0], id[1], dict
 *   INTERRUPT    [69, INVOCATION.Request|id, Options|dict]           id[0], dict
 *   YIELD        [70, INVOCATION.Request|id, Options|dict, P]        id[0], dict
 *
 * P = optional Arguments|list, then optional ArgumentsKw|dict (kwargs only after args);
 * or, instead of both, one transparent binary Payload (end-to-end encrypted or passthru
 * payloads as Autobahn sends them: a msgpack bin / JSON "\u0000"+base64 string), kept in
 * the args span with payload.transparent set.
 *
 * ACK is not in the WAMP specification: it is wampd's proposal for resumable sessions
 * (docs/resumption.md; type 7 was HEARTBEAT in early v2 drafts and has been free since).
 * Received is a count of messages in [0, 2^53], read as an id that may be 0. Only a
 * session that negotiated `resumable` may send or receive it.
 */
#ifndef WAMPD_SERIALIZERS_WAMP_MSG_H
#define WAMPD_SERIALIZERS_WAMP_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wamp_type {
	WAMP_HELLO = 1,
	WAMP_WELCOME = 2,
	WAMP_ABORT = 3,
	WAMP_CHALLENGE = 4,
	WAMP_AUTHENTICATE = 5,
	WAMP_GOODBYE = 6,
	WAMP_ACK = 7,           /* resumable sessions (docs/resumption.md) */
	WAMP_ERROR = 8,
	WAMP_PUBLISH = 16,
	WAMP_PUBLISHED = 17,
	WAMP_SUBSCRIBE = 32,
	WAMP_SUBSCRIBED = 33,
	WAMP_UNSUBSCRIBE = 34,
	WAMP_UNSUBSCRIBED = 35,
	WAMP_EVENT = 36,
	WAMP_CALL = 48,
	WAMP_CANCEL = 49,
	WAMP_RESULT = 50,
	WAMP_REGISTER = 64,
	WAMP_REGISTERED = 65,
	WAMP_UNREGISTER = 66,
	WAMP_UNREGISTERED = 67,
	WAMP_INVOCATION = 68,
	WAMP_INTERRUPT = 69,
	WAMP_YIELD = 70,
	WAMP_TYPE__MAX = 70
};

/* Serializers. The order is the bit order of serializer sets (1u << ser). */
enum wamp_ser {
	WAMP_SER_JSON = 0,
	WAMP_SER_MSGPACK = 1,
	WAMP_SER_CBOR = 2,
	WAMP_SER__COUNT
};

/* Field kinds of the message schema (wamp_schema()). */
enum wamp_field {
	WAMP_F_END = 0,
	WAMP_F_ID,      /* integer id, next slot of id[] */
	WAMP_F_INT,     /* plain integer (ERROR's REQUEST.Type), next slot of id[] */
	WAMP_F_URI,     /* URI string -> uri */
	WAMP_F_STRING,  /* non-URI string -> uri (CHALLENGE AuthMethod, AUTHENTICATE Signature) */
	WAMP_F_DICT,    /* Details/Options -> dict */
	WAMP_F_PAYLOAD, /* optional Arguments|list, then optional ArgumentsKw|dict */
};

struct wamp_schema {
	const char *name;           /* "CALL", for logs and errors */
	enum wamp_field fields[6];  /* in wire order after the type, WAMP_F_END terminated */
	uint8_t min_len;            /* min array length including the type */
	uint8_t max_len;            /* max array length including the type */
	bool id_zero_ok;            /* id[0] may be 0 (UNSUBSCRIBED/UNREGISTERED revocation) */
};

/*
 * Payload: Arguments and ArgumentsKw.
 * Either spans of encoded bytes in serializer `ser` (borrowed from the buffer the message
 * was decoded from: valid only while that buffer is), or values (borrowed json_t, used when
 * the corresponding span is NULL). NULL/NULL means "absent". Binary values inside a json_t
 * follow WAMP's JSON convention: a string starting with "\0" followed by base64.
 */
struct wamp_payload {
	enum wamp_ser ser;
	bool transparent;    /* args is one binary Payload, not a list (kwargs absent) */
	bool nonfinite;      /* decoded spans hold a NaN/+-Infinity (or, in JSON, a number that
	                        overflows a double): wamp_validate() refuses the message */
	const uint8_t *args;
	size_t args_len;
	const uint8_t *kwargs;
	size_t kwargs_len;
	json_t *args_v;
	json_t *kwargs_v;
};

struct wamp_msg {
	enum wamp_type type;
	uint64_t id[3];       /* integer fields in wire order, see the table above */
	const char *uri;      /* the string field, NUL-terminated, or NULL */
	size_t uri_len;       /* its length in bytes (it may contain NUL: check uri_len) */
	json_t *dict;         /* Details/Options; NULL means {}. Decoded messages own a
	                         reference (released by wamp_msg_clear); messages the router
	                         builds for encoding only borrow it. */
	struct wamp_payload payload;

	/* private to the decoder: storage for uri */
	char uri_inline[120];
	char *uri_heap;
};

/* The schema of a message type, or NULL if type is not a WAMP message type. */
const struct wamp_schema *wamp_schema(int type);

/* "CALL" etc., or "UNKNOWN". */
const char *wamp_type_name(int type);

/* true if the message has a payload (args or kwargs, as span or value). */
static inline bool wamp_payload_present(const struct wamp_payload *p)
{
	return p->args || p->kwargs || p->args_v || p->kwargs_v;
}

/* Release what a decoded message owns (dict reference, uri storage) and zero it.
 * Safe on a zeroed message and on a message that failed to decode. */
void wamp_msg_clear(struct wamp_msg *m);

/* Heap bytes an allocation of n bytes takes (the allocator's chunk, estimated). */
size_t wamp_heap_size(size_t n);

/* Heap bytes the jansson value v holds (estimate, see wamp_msg.c; NULL: 0), counting shared
 * sub-values once per reference: for byte budgets. v is borrowed; O(size of v). */
size_t wamp_json_heap_size(const json_t *v);

/* Convenience readers for the dict (Options/Details). NULL dict or missing key gives def.
 * A key present with the wrong type also gives def. */
bool wamp_dict_bool(const json_t *dict, const char *key, bool def);
const char *wamp_dict_str(const json_t *dict, const char *key, const char *def);
int64_t wamp_dict_int(const json_t *dict, const char *key, int64_t def);

#endif
