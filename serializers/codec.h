/*
 * codec.h - decode bytes into struct wamp_msg and encode struct wamp_msg into a wamp_out,
 * for every serializer (JSON via jansson, MessagePack via msgpack-c, CBOR via libcbor).
 *
 * Decoding validates the whole message (well-formed bytes, UTF-8 in JSON, nesting depth,
 * array length and field types per wamp_schema()) but decodes only the header fields:
 * the payload is validated and left as spans (struct wamp_payload) for zero-copy
 * forwarding.
 *
 * Encoding writes the header fields and splices the payload: spans of the same serializer
 * are copied as bytes; spans of another serializer are converted (decoded once, encoded
 * once); payload values (json_t) are encoded. The result is one allocation.
 *
 * Binary data: MessagePack bin (and CBOR byte strings) <-> JSON string "\u0000" + base64
 * (WAMP's binary-in-JSON convention), in both directions, at any depth of the payload and
 * of Options/Details. MessagePack's nil-like ext "undefined" (sent by some JS clients) in a
 * dict value is treated as absent: the key is dropped.
 */
#ifndef WAMPD_SERIALIZERS_CODEC_H
#define WAMPD_SERIALIZERS_CODEC_H

#include "common/err.h"
#include "serializers/serializer.h"
#include "serializers/wamp_msg.h"
#include "serializers/wamp_out.h"

#define WAMP_DEFAULT_MAX_DEPTH 64

struct wamp_codec_limits {
	unsigned max_depth; /* max nesting of arrays/maps, the message array counting as 1 */
};

/* The serializers' names, subprotocols, frame types...: serializer.h (included). */

/*
 * Decode one message of `len` bytes.
 * - msg is zeroed first; on success it borrows payload spans from buf (buf must outlive
 *   every use of msg->payload) and owns its dict and uri (release with wamp_msg_clear()).
 * - lim may be NULL (defaults).
 * - On failure returns WAMPD_ERR_PROTOCOL (malformed bytes, wrong arity or field type,
 *   unknown message type, too deep) or WAMPD_ERR_NOMEM, writes a short reason into
 *   err (if err and errlen > 0) and leaves msg cleared (nothing to release).
 */
enum wampd_err wamp_decode(enum wamp_ser ser, const uint8_t *buf, size_t len,
                           const struct wamp_codec_limits *lim, struct wamp_msg *msg,
                           char *err, size_t errlen);

/*
 * Encode msg in serializer ser.
 * - msg and everything it points to are borrowed.
 * - Returns a new wamp_out holding one reference for the caller, with ->ser, ->binary and
 *   ->type set.
 * - On failure returns NULL and sets *err: WAMPD_ERR_NOMEM, or WAMPD_ERR_SERIALIZATION
 *   when the payload cannot be represented in ser (e.g. a JSON integer beyond 64 bits going
 *   to msgpack, invalid UTF-8 in a msgpack string going to JSON).
 */
struct wamp_out *wamp_encode(enum wamp_ser ser, const struct wamp_msg *msg,
                             enum wampd_err *err);

/*
 * Decode the Arguments (or ArgumentsKw) of a payload into a new json_t (caller owns the
 * reference). Spans in any serializer and values are accepted; binary becomes the
 * "\0"+base64 string form. Absent gives NULL with *err = WAMPD_OK; failure gives NULL with
 * *err = WAMPD_ERR_SERIALIZATION or WAMPD_ERR_NOMEM.
 */
json_t *wamp_payload_args(const struct wamp_payload *p, enum wampd_err *err);
json_t *wamp_payload_kwargs(const struct wamp_payload *p, enum wampd_err *err);

/*
 * Check the types of the Options/Details keys the spec defines for msg's type (e.g.
 * PUBLISH.Options.acknowledge must be a bool, SUBSCRIBE.Options.match one of the three
 * policies). Unknown keys are allowed. Returns WAMPD_OK, WAMPD_ERR_PROTOCOL with a reason
 * naming the key in err (a malformed message: the session ends), or
 * WAMPD_ERR_INVALID_ARGUMENT with a reason when the payload holds a non-finite number
 * (payload.nonfinite: refused as a request, the session lives on).
 */
enum wampd_err wamp_validate(const struct wamp_msg *msg, char *err, size_t errlen);

/* Total encoded bytes of the payload spans (0 for values): for size limits and stats. */
static inline size_t wamp_payload_span_len(const struct wamp_payload *p)
{
	return (p->args ? p->args_len : 0) + (p->kwargs ? p->kwargs_len : 0);
}

#endif
