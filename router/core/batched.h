/*
 * batched.h - WAMP-over-Batched-WebSocket framing (advanced/transport_batched_websocket.md),
 * independent of libwebsockets: several WAMP messages in one WebSocket message.
 *
 *   JSON:              msg1 0x1E msg2 0x1E ...      (every message followed by 0x1E)
 *   MessagePack, CBOR: len1 msg1 len2 msg2 ...      (32-bit big-endian length before each)
 *
 * A batch of zero messages is illegal.
 *
 * The JSON separator: the spec names 0x1E, but writes it "\30", which Autobahn|Python (and
 * so Crossbar) read as the octal escape 0x18. JSON text holds neither raw, so wampd accepts
 * either, learns a session's separator from its first batch, and answers with the same.
 */
#define BATCH_SEP_SPEC 0x1E
#define BATCH_SEP_AUTOBAHN 0x18
#ifndef WAMPD_ROUTER_BATCHED_H
#define WAMPD_ROUTER_BATCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serializers/codec.h"

/* Called for every message of a batch, in order; false stops the split. */
typedef bool (*batch_msg_fn)(void *ctx, const uint8_t *msg, size_t len);

enum batch_result { BATCH_OK = 0, BATCH_EMPTY, BATCH_MALFORMED, BATCH_STOPPED };

/*
 * Split one WebSocket message of a batched session into WAMP messages, calling fn for
 * each (spans into buf, no copy); sep is the JSON separator. BATCH_EMPTY for a batch of none, BATCH_MALFORMED for a
 * missing final 0x1E (JSON) or a length beyond the bytes left (binary): the messages
 * before the fault have been delivered.
 */
enum batch_result batch_split(enum wamp_ser ser, uint8_t sep, const uint8_t *buf, size_t len,
                              batch_msg_fn fn, void *ctx);

/* The separator a JSON batch uses: the first 0x1E or 0x18 in it, or 0 if none. */
uint8_t batch_json_separator(const uint8_t *buf, size_t len);

/* Bytes one message of len bytes takes in a batch. */
static inline size_t batch_framed_len(enum wamp_ser ser, size_t len)
{
	return len + (wamp_ser_is_binary(ser) ? 4 : 1);
}

/* Write one message into dst (batch_framed_len bytes), JSON ones followed by sep; returns
 * the bytes written. */
size_t batch_put(enum wamp_ser ser, uint8_t sep, uint8_t *dst, const uint8_t *msg, size_t len);

#endif
