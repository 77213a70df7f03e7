/*
 * rawsocket.c - RawSocket handshake, frame prefixes and frame reassembly.
 *
 * Reassembly: a frame is a 4-octet prefix and a payload. The state machine first collects
 * the prefix (it may arrive split over reads), checks it, and then either hands a payload
 * that lies wholly in the current chunk straight to the callback (no copy: the common case
 * for small messages), or allocates exactly the announced length once and fills it across
 * reads. Nothing is allocated for a frame over the limit.
 *
 * The handshake's serializer ids are the serializer descriptor table's (serializer.h).
 */
#include "serializers/rawsocket.h"

#include <stdlib.h>
#include <string.h>

unsigned rs_len_exponent(uint32_t max)
{
	unsigned l = 0;

	while (l < 15 && (UINT32_C(1) << (9 + l + 1)) <= max)
		l++;
	return l;
}

enum rs_error rs_handshake(const uint8_t in[4], unsigned serializers, uint32_t our_max,
                           uint8_t reply[4], enum wamp_ser *ser, uint32_t *peer_max)
{
	unsigned s = in[1] & 0x0f, l = in[1] >> 4;
	const struct wamp_serializer_desc *d = wamp_ser_by_rawsocket_id(s);
	enum rs_error err = RS_OK;

	if (in[2] || in[3])
		err = RS_ERR_RESERVED;
	else if (!d || !(serializers & (1u << d->ser)))
		err = RS_ERR_SERIALIZER;
	reply[0] = RS_MAGIC;
	reply[2] = reply[3] = 0;
	if (err) {
		reply[1] = (uint8_t)(err << 4);
		return err;
	}
	*ser = d->ser;
	*peer_max = UINT32_C(1) << (9 + l);
	reply[1] = (uint8_t)(rs_len_exponent(our_max) << 4 | s);
	return RS_OK;
}

void rs_client_hello(uint8_t out[4], enum wamp_ser ser, uint32_t our_max)
{
	unsigned s = wamp_ser_desc(ser)->rawsocket_id;

	out[0] = RS_MAGIC;
	out[1] = (uint8_t)(rs_len_exponent(our_max) << 4 | s);
	out[2] = out[3] = 0;
}

enum rs_error rs_client_reply(const uint8_t in[4], enum wamp_ser ser, uint32_t *peer_max)
{
	unsigned s = in[1] & 0x0f, l = in[1] >> 4;

	if (in[0] != RS_MAGIC || in[2] || in[3])
		return RS_ERR_RESERVED;
	if (!s)
		return l ? (enum rs_error)l : RS_ERR_RESERVED;
	if (s != wamp_ser_desc(ser)->rawsocket_id)
		return RS_ERR_RESERVED;
	*peer_max = UINT32_C(1) << (9 + l);
	return RS_OK;
}

void rs_prefix(uint8_t out[4], enum rs_frame t, uint32_t len)
{
	out[0] = (uint8_t)((len >= RS_MAX_LEN ? 0x08 : 0) | ((unsigned)t & 7));
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

bool rs_parse_prefix(const uint8_t in[4], enum rs_frame *t, uint32_t *len)
{
	uint32_t n = (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];

	if (in[0] & 0xf0 || (in[0] & 7) > RS_PONG)
		return false;
	if (in[0] & 0x08) {
		if (n)
			return false;
		n = RS_MAX_LEN;
	}
	*t = (enum rs_frame)(in[0] & 7);
	*len = n;
	return true;
}

enum rs_rx_result rs_rx_feed(struct rs_rx *rx, const uint8_t *in, size_t n, uint32_t max,
                             rs_frame_fn fn, void *ctx)
{
	while (n) {
		if (rx->have_prefix < 4) {
			size_t k = 4 - rx->have_prefix < n ? 4 - rx->have_prefix : n;

			memcpy(rx->prefix + rx->have_prefix, in, k);
			rx->have_prefix += k;
			in += k;
			n -= k;
			if (rx->have_prefix < 4)
				return RS_RX_OK;
			if (!rs_parse_prefix(rx->prefix, &rx->type, &rx->len))
				return RS_RX_BAD;
			if (rx->len > max)
				return RS_RX_TOO_BIG;
			rx->have = 0;
			if (rx->len <= n) {
				/* the whole payload is here: no copy */
				bool go = fn(ctx, rx->type, in, rx->len);

				in += rx->len;
				n -= rx->len;
				rx->have_prefix = 0;
				if (!go)
					return RS_RX_STOP;
				continue;
			}
			if (!(rx->buf = malloc(rx->len ? rx->len : 1)))
				return RS_RX_NOMEM;
		}
		{
			size_t k = rx->len - rx->have < n ? rx->len - rx->have : n;
			bool go;

			memcpy(rx->buf + rx->have, in, k);
			rx->have += k;
			in += k;
			n -= k;
			if (rx->have < rx->len)
				return RS_RX_OK;
			go = fn(ctx, rx->type, rx->buf, rx->len);
			free(rx->buf);
			rx->buf = NULL;
			rx->have_prefix = 0;
			if (!go)
				return RS_RX_STOP;
		}
	}
	return RS_RX_OK;
}

void rs_rx_clear(struct rs_rx *rx)
{
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}
