/*
 * codec_check.c - see codec_check.h.
 */
#include "codec_check.h"

#include <stdarg.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

enum wampd_err codec_dec(enum wamp_ser ser, const void *b, size_t n, struct wamp_msg *m)
{
	char why[160];

	return wamp_decode(ser, b, n, NULL, m, why, sizeof(why));
}

void codec_reject(enum wamp_ser ser, const void *b, size_t n, const char *what)
{
	struct wamp_msg m;
	char why[160] = "";

	if (wamp_decode(ser, b, n, NULL, &m, why, sizeof(why)) != WAMPD_ERR_PROTOCOL)
		fail_msg("%s accepted: %s", wamp_ser_name(ser), what);
	assert_true(why[0] != '\0'); /* a reason is always given */
	assert_null(m.dict);         /* nothing left to release */
}

void codec_expect_reason(enum wamp_ser ser, const void *b, size_t n, const char *reason)
{
	struct wamp_msg m;
	char why[200] = "";

	assert_int_equal(wamp_decode(ser, b, n, NULL, &m, why, sizeof(why)), WAMPD_ERR_PROTOCOL);
	assert_string_equal(why, reason);
}

bool codec_payload_nonfinite(enum wamp_ser ser, const void *b, size_t n)
{
	struct wamp_msg m;
	char why[160] = "";
	enum wampd_err err;

	if (codec_dec(ser, b, n, &m) != WAMPD_OK)
		fail_msg("%s: does not decode", wamp_ser_name(ser));
	err = wamp_validate(&m, why, sizeof(why));
	if (err != WAMPD_OK && (err != WAMPD_ERR_INVALID_ARGUMENT || !strstr(why, "non-finite")))
		fail_msg("%s: refused otherwise: %s", wamp_ser_name(ser), why);
	assert_int_equal(m.payload.nonfinite, err != WAMPD_OK);
	wamp_msg_clear(&m);
	return err != WAMPD_OK;
}
