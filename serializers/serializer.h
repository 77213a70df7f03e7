/*
 * serializer.h - the serializer descriptor table: everything wampd knows about a WAMP
 * serializer (JSON, MessagePack, CBOR) in one row: its name (configuration, logs, the tools'
 * --serializer), its WebSocket / long-poll subprotocols (wamp.2.<name> and the batched
 * variant, advanced/transport_batched_websocket.md), its RawSocket serializer id
 * (advanced/transport_rawsocket.md), its frame type (WebSocket text for JSON, binary
 * otherwise; the same fact picks the batched framing: 0x1E separators for text, 32-bit
 * lengths for binary), the HTTP media type of its bodies (long-poll, the bridge) and its
 * codec operations.
 *
 * Why a table: these facts used to be repeated as switches and string literals in the
 * codecs, the RawSocket handshake, the listeners, the front door, WebSocket, long-poll and
 * the tools, and drifted (one error text forgot CBOR). Every place now asks the table, by
 * enum (an array index: the hot path's lookup), by name, by subprotocol or by RawSocket id;
 * a new serializer is one row in serializer.c. The rows are constant: no state, nothing to
 * initialise, safe from any thread.
 */
#ifndef WAMPD_SERIALIZERS_SERIALIZER_H
#define WAMPD_SERIALIZERS_SERIALIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serializers/wamp_msg.h"

/* The subprotocols of every serializer, for the texts that list them (refusals); a unit test
 * (test_serializer) checks it against the table. */
#define WAMP_SER_SUBPROTOCOLS "wamp.2.json, wamp.2.msgpack, wamp.2.cbor"

struct wamp_codec_ops; /* codec_internal.h: decode, encode, payload element as a value */

struct wamp_serializer_desc {
	enum wamp_ser ser;              /* its index in the table */
	const char *name;               /* "json": configuration, logs, --serializer */
	const char *subprotocol;        /* "wamp.2.json": WebSocket, long-poll */
	const char *subprotocol_batched; /* "wamp.2.json.batched" */
	uint8_t rawsocket_id;           /* the handshake's serializer nibble (1..15) */
	bool binary;                    /* WebSocket binary frames, length-prefixed batches;
	                                   false: text frames, 0x1E-separated batches */
	const char *media_type;         /* HTTP media type ("application/json"), for checks */
	const char *content_type;       /* HTTP Content-Type of a body in it (with charset) */
	const struct wamp_codec_ops *codec; /* NULL: this build has no codec for it */
};

/* One row per enum wamp_ser, in enum order. */
extern const struct wamp_serializer_desc wamp_serializers[WAMP_SER__COUNT];

/* The row of ser (built in or not), or NULL when ser is out of range. */
static inline const struct wamp_serializer_desc *wamp_ser_desc(enum wamp_ser ser)
{
	return (unsigned)ser < WAMP_SER__COUNT ? &wamp_serializers[ser] : NULL;
}

/*
 * Lookups of what a peer or a configuration names. Each returns the row of a serializer this
 * build supports (has a codec for), or NULL for an unknown name or id and for a serializer
 * not built in. Nothing is kept of the arguments.
 * - by_subprotocol: s[0..n) (not NUL-terminated) is "wamp.2.<name>" or
 *   "wamp.2.<name>.batched", exactly (case-sensitive); *batched (if not NULL) says which.
 */
const struct wamp_serializer_desc *wamp_ser_by_name(const char *name);
const struct wamp_serializer_desc *wamp_ser_by_subprotocol(const char *s, size_t n,
                                                           bool *batched);
const struct wamp_serializer_desc *wamp_ser_by_rawsocket_id(unsigned id);

/* The set (1u << enum wamp_ser) of every serializer this build supports. */
unsigned wamp_ser_supported_set(void);

/* The row's name; "unknown" when ser is out of range. */
static inline const char *wamp_ser_name(enum wamp_ser ser)
{
	const struct wamp_serializer_desc *d = wamp_ser_desc(ser);

	return d ? d->name : "unknown";
}

/* true if messages in ser travel as binary (msgpack, cbor); false for text (json). */
static inline bool wamp_ser_is_binary(enum wamp_ser ser)
{
	const struct wamp_serializer_desc *d = wamp_ser_desc(ser);

	return !d || d->binary;
}

/* true if this build can decode and encode ser. */
static inline bool wamp_ser_supported(enum wamp_ser ser)
{
	const struct wamp_serializer_desc *d = wamp_ser_desc(ser);

	return d && d->codec;
}

#endif
