/*
 * test_codec_testsuite.c - runs the WAMP specification's own test vectors
 * (../shared/wamp-testsuite/singlemessage) through the codecs:
 *   - every sample's bytes, in every serializer wampd supports, must decode to the
 *     expected attributes; re-encoding in the same serializer and in every other one and
 *     decoding again must give the same attributes;
 *   - every "wmsg" validation sample must pass or fail wamp_validate() as the vector says,
 *     the error naming the offending key.
 * Samples of message types that are not WAMP messages (e.g. 337) are counted as skipped.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serializers/codec.h"

static int ran[WAMP_SER__COUNT], cross, validations, skipped;

/* Expected-attribute names of the integer fields, per type, in id[] order. */
static const char *const *id_names(int type)
{
	static const char *const welcome[] = {"session_id", NULL};
	static const char *const error[] = {"request_type", "request_id", NULL};
	static const char *const req[] = {"request_id", NULL};
	static const char *const published[] = {"request_id", "publication_id", NULL};
	static const char *const subscribed[] = {"request_id", "subscription_id", NULL};
	static const char *const event[] = {"subscription", "publication", NULL};
	static const char *const registered[] = {"request_id", "registration_id", NULL};
	static const char *const none[] = {NULL};

	switch (type) {
	case WAMP_WELCOME:
		return welcome;
	case WAMP_ERROR:
		return error;
	case WAMP_PUBLISHED:
		return published;
	case WAMP_SUBSCRIBED:
	case WAMP_UNSUBSCRIBE:
		return subscribed;
	case WAMP_EVENT:
		return event;
	case WAMP_REGISTERED:
	case WAMP_UNREGISTER:
	case WAMP_INVOCATION:
		return registered;
	case WAMP_PUBLISH:
	case WAMP_SUBSCRIBE:
	case WAMP_UNSUBSCRIBED:
	case WAMP_CALL:
	case WAMP_CANCEL:
	case WAMP_RESULT:
	case WAMP_REGISTER:
	case WAMP_UNREGISTERED:
	case WAMP_INTERRUPT:
	case WAMP_YIELD:
		return req;
	default:
		return none;
	}
}

static json_t *empty_if_null(json_t *v)
{
	return v ? json_incref(v) : json_object();
}

/* Compare a decoded message with the vector's expected attributes. */
static void check_attrs(const json_t *exp, const struct wamp_msg *m, const char *where)
{
	static const char *const str_keys[] = {"realm", "reason", "error", "topic", "procedure",
	                                       "method", "signature", NULL};
	static const char *const dict_keys[] = {"details", "options", "extra", NULL};
	const char *const *names = id_names(m->type);
	enum wampd_err err;
	json_t *v;

	if (json_integer_value(json_object_get(exp, "message_type")) != m->type)
		fail_msg("%s: type %d", where, m->type);
	for (int i = 0; names[i]; i++) {
		v = json_object_get(exp, names[i]);
		if (v && (uint64_t)json_integer_value(v) != m->id[i])
			fail_msg("%s: %s %llu != %llu", where, names[i], (unsigned long long)m->id[i],
			         (unsigned long long)json_integer_value(v));
	}
	for (int i = 0; str_keys[i]; i++) {
		v = json_object_get(exp, str_keys[i]);
		if (v && (!m->uri || strcmp(m->uri, json_string_value(v))))
			fail_msg("%s: %s \"%s\"", where, str_keys[i], m->uri ? m->uri : "(none)");
	}
	for (int i = 0; dict_keys[i]; i++) {
		v = json_object_get(exp, dict_keys[i]);
		if (v) {
			json_t *got = empty_if_null(m->dict);

			if (!json_equal(got, v))
				fail_msg("%s: %s differs", where, dict_keys[i]);
			json_decref(got);
		}
	}
	if ((v = json_object_get(exp, "roles")) &&
	    !json_equal(json_object_get(m->dict, "roles"), v))
		fail_msg("%s: roles differ", where);

	if ((v = json_object_get(exp, "payload")) && json_is_string(v)) {
		/* transparent binary payload, expected as hex */
		json_t *got = wamp_payload_args(&m->payload, &err);
		const char *s = json_string_value(got);
		char hex[2048] = "";

		assert_true(m->payload.transparent);
		assert_non_null(s);
		assert_int_equal(s[0], 0);
		{
			uint8_t bin[1024];
			size_t bin_len = 0;

			assert_int_equal(sodium_base642bin(bin, sizeof(bin), s + 1,
			                                   json_string_length(got) - 1, NULL, &bin_len, NULL,
			                                   sodium_base64_VARIANT_ORIGINAL), 0);
			sodium_bin2hex(hex, sizeof(hex), bin, bin_len);
		}
		if (strcmp(hex, json_string_value(v)))
			fail_msg("%s: payload %s != %s", where, hex, json_string_value(v));
		json_decref(got);
		return;
	}
	v = json_object_get(exp, "args");
	if (v && !json_is_null(v)) {
		json_t *got = wamp_payload_args(&m->payload, &err);

		if (!json_equal(got, v))
			fail_msg("%s: args differ", where);
		json_decref(got);
	} else if (v && m->payload.args) {
		json_t *got = wamp_payload_args(&m->payload, &err);

		if (json_array_size(got))
			fail_msg("%s: args present", where);
		json_decref(got);
	}
	v = json_object_get(exp, "kwargs");
	if (v && !json_is_null(v)) {
		json_t *got = wamp_payload_kwargs(&m->payload, &err);

		if (!json_equal(got, v))
			fail_msg("%s: kwargs differ", where);
		json_decref(got);
	} else if (v && m->payload.kwargs) {
		json_t *got = wamp_payload_kwargs(&m->payload, &err);

		if (json_object_size(got))
			fail_msg("%s: kwargs present", where);
		json_decref(got);
	}
}

/* Decode bytes, check, re-encode in every serializer, decode and check again. */
static void run_sample(enum wamp_ser ser, const uint8_t *bytes, size_t len, const json_t *exp,
                       const char *where)
{
	struct wamp_msg m;
	char why[160] = "";
	int type = (int)json_integer_value(json_object_get(exp, "message_type"));

	if (!wamp_schema(type)) {
		skipped++;
		return;
	}
	if (wamp_decode(ser, bytes, len, NULL, &m, why, sizeof(why)) != WAMPD_OK)
		fail_msg("%s (%s): does not decode: %s", where, wamp_ser_name(ser), why);
	check_attrs(exp, &m, where);
	ran[ser]++;
	for (int to = 0; to < WAMP_SER__COUNT; to++) {
		struct wamp_msg again;
		struct wamp_out *o;
		enum wampd_err err;

		if (!wamp_ser_supported((enum wamp_ser)to))
			continue;
		o = wamp_encode((enum wamp_ser)to, &m, &err);
		if (!o)
			fail_msg("%s: cannot encode to %s", where, wamp_ser_name((enum wamp_ser)to));
		if (wamp_decode((enum wamp_ser)to, wamp_out_data(o), o->len, NULL, &again, why,
		                sizeof(why)) != WAMPD_OK)
			fail_msg("%s: re-encoded %s does not decode: %s", where,
			         wamp_ser_name((enum wamp_ser)to), why);
		check_attrs(exp, &again, where);
		if (to == (int)ser && to == WAMP_SER_MSGPACK &&
		    (o->len != len || memcmp(wamp_out_data(o), bytes, len)))
			/* msgpack has one canonical smallest form: we must produce the same bytes */
			fail_msg("%s: msgpack re-encoding differs from the vector", where);
		wamp_msg_clear(&again);
		wamp_out_unref(o);
		cross++;
	}
	wamp_msg_clear(&m);
}

/* A "wmsg" validation sample: a payload written as hex becomes a binary payload. */
static void run_validation(const json_t *sample, const char *where)
{
	json_t *wmsg = json_deep_copy(json_object_get(sample, "wmsg"));
	const json_t *expected = json_object_get(sample, "expected_error");
	size_t last = json_array_size(wmsg) - 1;
	json_t *tail = json_array_get(wmsg, last);
	struct wamp_msg m;
	char why[200] = "", *text;
	enum wampd_err err;

	if (json_is_string(tail) && last >= 4 && json_string_value(tail)[0] != '\0' &&
	    strspn(json_string_value(tail), "0123456789abcdef") == json_string_length(tail)) {
		uint8_t bin[512];
		size_t n = 0;
		char b64[800];

		sodium_hex2bin(bin, sizeof(bin), json_string_value(tail), json_string_length(tail), NULL,
		               &n, NULL);
		b64[0] = '\0';
		sodium_bin2base64(b64 + 1, sizeof(b64) - 1, bin, n, sodium_base64_VARIANT_ORIGINAL);
		json_array_set_new(wmsg, last, json_stringn(b64, 1 + strlen(b64 + 1)));
	}
	text = json_dumps(wmsg, JSON_COMPACT);
	err = wamp_decode(WAMP_SER_JSON, (const uint8_t *)text, strlen(text), NULL, &m, why,
	                  sizeof(why));
	if (err != WAMPD_OK)
		fail_msg("%s: %s does not decode: %s", where, text, why);
	err = wamp_validate(&m, why, sizeof(why));
	if (expected) {
		const char *contains = json_string_value(json_object_get(expected, "contains"));

		if (err != WAMPD_ERR_PROTOCOL)
			fail_msg("%s: %s should be a protocol violation", where, text);
		if (contains && !strstr(why, contains))
			fail_msg("%s: error \"%s\" does not name \"%s\"", where, why, contains);
	} else if (err != WAMPD_OK) {
		fail_msg("%s: %s should be valid: %s", where, text, why);
	}
	validations++;
	wamp_msg_clear(&m);
	free(text);
	json_decref(wmsg);
}

static void run_file(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *samples, *sample;
	size_t i;

	if (!doc)
		fail_msg("%s: %s", path, jerr.text);
	samples = json_object_get(doc, "samples");
	json_array_foreach(samples, i, sample) {
		const json_t *sers = json_object_get(sample, "serializers");
		const json_t *exp = json_object_get(sample, "expected_attributes");
		char where[512];

		snprintf(where, sizeof(where), "%s sample %zu (%s)", strrchr(path, '/') + 1, i,
		         json_string_value(json_object_get(sample, "description")));
		if (json_object_get(sample, "wmsg")) {
			run_validation(sample, where);
			continue;
		}
		for (int ser = 0; sers && exp && ser < WAMP_SER__COUNT; ser++) {
			const json_t *list = json_object_get(sers, wamp_ser_name((enum wamp_ser)ser));
			const json_t *enc;
			size_t k;

			if (!wamp_ser_supported((enum wamp_ser)ser))
				continue;
			json_array_foreach(list, k, enc) {
				const char *hex = json_string_value(json_object_get(enc, "bytes_hex"));
				uint8_t *bin;
				size_t n = 0;

				if (!hex)
					continue;
				bin = malloc(strlen(hex) / 2 + 1);
				assert_int_equal(sodium_hex2bin(bin, strlen(hex) / 2 + 1, hex, strlen(hex),
				                                NULL, &n, NULL), 0);
				run_sample((enum wamp_ser)ser, bin, n, exp, where);
				free(bin);
			}
		}
	}
	json_decref(doc);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];

	if (!d)
		fail_msg("test vectors not found: %s", dir);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 5 && !strcmp(e->d_name + n - 5, ".json")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			run_file(path);
		}
	}
	closedir(d);
}

static void test_all_vectors(void **state)
{
	(void)state;
	run_dir(WAMPD_TESTSUITE_DIR "/singlemessage/basic");
	run_dir(WAMPD_TESTSUITE_DIR "/singlemessage/advanced");
	printf("testsuite: %d json, %d msgpack, %d cbor samples decoded; %d re-encodings; "
	       "%d validation samples; %d skipped (not WAMP message types)\n",
	       ran[WAMP_SER_JSON], ran[WAMP_SER_MSGPACK], ran[WAMP_SER_CBOR], cross, validations,
	       skipped);
	assert_true(ran[WAMP_SER_JSON] >= 40);
	assert_true(ran[WAMP_SER_MSGPACK] >= 25);
	assert_true(validations >= 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_vectors),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
