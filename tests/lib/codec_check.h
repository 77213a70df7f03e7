/*
 * codec_check.h - assertions the codec unit tests share (test_codec_json, _msgpack, _cbor):
 * decode, refuse as malformed (with a reason, or with exactly a given reason), and the
 * non-finite check of a payload. Each fails the running cmocka test on anything else.
 */
#ifndef WAMPD_TESTS_CODEC_CHECK_H
#define WAMPD_TESTS_CODEC_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "serializers/codec.h"

/* Decode b[0..n) in ser into *m: the codec's answer (its reason is dropped). On WAMPD_OK
 * the caller clears *m. */
enum wampd_err codec_dec(enum wamp_ser ser, const void *b, size_t n, struct wamp_msg *m);

/* b[0..n) must be refused as malformed (WAMPD_ERR_PROTOCOL) with a reason and nothing left
 * to release; `what` names the case when it is not. */
void codec_reject(enum wamp_ser ser, const void *b, size_t n, const char *what);

/* b[0..n) must be refused as malformed with exactly `reason`. */
void codec_expect_reason(enum wamp_ser ser, const void *b, size_t n, const char *reason);

/* b[0..n) must decode; true if its payload is then refused as non-finite (validation answers
 * WAMPD_ERR_INVALID_ARGUMENT saying "non-finite", payload.nonfinite set), false if it
 * passes. */
bool codec_payload_nonfinite(enum wamp_ser ser, const void *b, size_t n);

#endif
