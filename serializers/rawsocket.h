/*
 * rawsocket.h - the WAMP-over-RawSocket wire format (advanced/transport_rawsocket.md),
 * independent of any event loop: the 4-octet handshake and the 4-octet frame prefix, and a
 * receive state machine that reassembles frames from arbitrary read chunks.
 *
 *   handshake  0x7F | LLLL SSSS | 0x00 0x00    max length 2^(9+L), serializer S
 *   error      0x7F | EEEE 0000 | 0x00 0x00
 *   frame      RRRR XTTT | 24-bit length       T: 0 message, 1 PING, 2 PONG; X: length 2^24
 */
#ifndef WAMPD_SERIALIZERS_RAWSOCKET_H
#define WAMPD_SERIALIZERS_RAWSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serializers/codec.h"

#define RS_MAGIC 0x7F
#define RS_MAX_LEN (1u << 24)

enum rs_error {
	RS_OK = 0,
	RS_ERR_SERIALIZER = 1,   /* serializer unsupported */
	RS_ERR_MAX_LEN = 2,      /* maximum message length unacceptable */
	RS_ERR_RESERVED = 3,     /* use of reserved bits */
	RS_ERR_CONNECTIONS = 4,  /* maximum connection count reached */
};

enum rs_frame { RS_MSG = 0, RS_PING = 1, RS_PONG = 2 };

/* The exponent L (0..15) for a receive limit: the largest 2^(9+L) <= max (at least 0). */
unsigned rs_len_exponent(uint32_t max);

/*
 * Parse a client's 4-octet handshake. `serializers` is the bit set (1 << enum wamp_ser) the
 * listener serves; `our_max` the longest message the router accepts. On RS_OK sets *ser and
 * *peer_max (the longest message the client accepts) and writes the success reply into
 * reply[4]; otherwise writes the error reply. in[0] must be RS_MAGIC (the caller checked).
 */
enum rs_error rs_handshake(const uint8_t in[4], unsigned serializers, uint32_t our_max,
                           uint8_t reply[4], enum wamp_ser *ser, uint32_t *peer_max);

/*
 * The client's side of the handshake (tools/): rs_client_hello writes the 4 octets asking
 * for serializer ser (a valid enum wamp_ser) with our receive limit our_max; rs_client_reply checks the router's
 * answer. RS_OK: *peer_max is the longest message the router accepts. The router's error
 * code (1..4, or any other it sends) is returned as it is; a reply that is neither (wrong
 * magic, another serializer, reserved octets set) gives RS_ERR_RESERVED.
 */
void rs_client_hello(uint8_t out[4], enum wamp_ser ser, uint32_t our_max);
enum rs_error rs_client_reply(const uint8_t in[4], enum wamp_ser ser, uint32_t *peer_max);

/* Write a frame prefix for a frame of type t and len bytes (len <= RS_MAX_LEN). */
void rs_prefix(uint8_t out[4], enum rs_frame t, uint32_t len);

/* Parse a frame prefix. false if reserved bits are set, the type is reserved, or X is
 * set with a non-zero length. */
bool rs_parse_prefix(const uint8_t in[4], enum rs_frame *t, uint32_t *len);

/* Receive state: reassembles one frame at a time. */
struct rs_rx {
	uint8_t prefix[4];
	size_t have_prefix;
	enum rs_frame type;
	uint32_t len;
	uint8_t *buf;      /* the frame's payload (owned), NULL between frames */
	size_t have;
};

enum rs_rx_result {
	RS_RX_OK = 0,      /* all bytes consumed */
	RS_RX_BAD,         /* malformed prefix: fail the connection */
	RS_RX_TOO_BIG,     /* a frame over the limit: fail the connection */
	RS_RX_NOMEM,
	RS_RX_STOP,        /* the callback asked to stop (the connection is closing) */
};

/* Called once per complete frame; data is valid during the call only. Return false to
 * stop feeding (the rest of the chunk is dropped). */
typedef bool (*rs_frame_fn)(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len);

/*
 * Feed n received bytes. Calls fn for every frame completed, in order. `max` is the
 * longest payload accepted (frames over it fail before their payload is buffered).
 * A frame wholly inside the chunk is passed without a copy.
 */
enum rs_rx_result rs_rx_feed(struct rs_rx *rx, const uint8_t *in, size_t n, uint32_t max,
                             rs_frame_fn fn, void *ctx);

/* Free what rx holds. */
void rs_rx_clear(struct rs_rx *rx);

#endif
