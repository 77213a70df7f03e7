/*
 * fuzz_httpsig.c - libFuzzer target for the signed-request checker of the HTTP bridge
 * (router/http/httpsig.c: Crossbar's signed requests with their replay window, GitHub webhook
 * signatures) with arbitrary query strings, bodies and clocks.
 *
 * Input: [flags][now: 5 bytes][later: 3 x 4 bytes][query up to the first '\n'][body]
 *   flags & 3    the window: 0 (timestamps not checked), 1 s, 300 s, 1 day
 *   flags & 4    sign: the target appends "&signature=<the right one>" for the key,
 *                timestamp, seq and nonce the query carries (so accepted requests, and
 *                replays of them, are reached, not only refusals)
 *   flags & 8    github: X-Hub-Signature-256 computed for the body (else the query
 *                is taken as the header)
 *   now          the router's clock: 2020-09-13 plus up to 2^40 ms (~35 years)
 *   later        three signed offsets (ms) at which the same request comes again
 *
 * Invariants (abort otherwise): no crash, leak or UB; an accepted request names the
 * service's key, carries the right signature and, with a window, a timestamp within it
 * of the clock; with a window, a request once accepted is never accepted again at any
 * later time (its replay is refused, as replayed or stale); a GitHub signature is
 * accepted when right and refused when one character is changed.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/http/httpreq.h"
#include "router/http/httpsig.h"

#define KEY "fuzz-key"
#define SECRET "fuzz-secret"
#define NOW_BASE 1600000000000LL

static const unsigned windows[] = {0, 1, 300, 86400};

static int64_t get_int(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static void check_github(const uint8_t *body, size_t len, const char *hdr, size_t hlen,
                         bool computed)
{
	char h[80];
	bool ok = httpsig_github_ok(SECRET, hdr, hlen, body, len);

	if (!computed || hlen >= sizeof(h))
		return;
	if (!ok)
		abort(); /* the right signature refused */
	memcpy(h, hdr, hlen);
	h[hlen - 1] = h[hlen - 1] == '0' ? '1' : '0';
	if (httpsig_github_ok(SECRET, h, hlen, body, len))
		abort(); /* a wrong one accepted */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpsig_replay replay;
	unsigned delta;
	int64_t now, later[3];
	const uint8_t *body;
	const char *q, *why = "", *nl;
	size_t qlen, len;
	char *query = NULL;
	enum httpsig_result r;

	if (size < 18)
		return 0;
	delta = windows[data[0] & 3];
	now = NOW_BASE + get_int(data + 1, 5);
	for (int i = 0; i < 3; i++)
		later[i] = (int32_t)(uint32_t)get_int(data + 6 + 4 * i, 4);
	q = (const char *)data + 18;
	nl = memchr(q, '\n', size - 18);
	qlen = nl ? (size_t)(nl - q) : size - 18;
	body = nl ? (const uint8_t *)nl + 1 : NULL;
	len = nl ? size - 18 - qlen - 1 : 0;

	if (data[0] & 4) {
		char k[256], ts[64], seq[32], nonce[32], sig[HTTPSIG_B64_LEN + 1];

		if (http_query_get(q, qlen, "key", k, sizeof(k)) &&
		    http_query_get(q, qlen, "timestamp", ts, sizeof(ts)) &&
		    http_query_get(q, qlen, "seq", seq, sizeof(seq)) &&
		    http_query_get(q, qlen, "nonce", nonce, sizeof(nonce))) {
			httpsig_compute(SECRET, k, ts, seq, nonce, body, len, sig);
			if (!(query = malloc(qlen + 12 + sizeof(sig))))
				return 0;
			memcpy(query, q, qlen);
			qlen += (size_t)sprintf(query + qlen, "&signature=%s", sig);
			q = query;
		}
	}
	if (data[0] & 8) {
		/* X-Hub-Signature-256 as GitHub computes it */
		crypto_auth_hmacsha256_state st;
		uint8_t mac[crypto_auth_hmacsha256_BYTES];
		char hdr[7 + 2 * sizeof(mac) + 1] = "sha256=";

		crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
		crypto_auth_hmacsha256_update(&st, body ? body : (const uint8_t *)"", len);
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(hdr + 7, sizeof(hdr) - 7, mac, sizeof(mac));
		check_github(body, len, hdr, strlen(hdr), true);
	} else {
		check_github(body, len, q, qlen, false);
	}

	httpsig_replay_init(&replay, 3);
	r = httpsig_check(KEY, SECRET, delta, q, qlen, body, len, now, &replay, &why);
	if (!why)
		abort();
	if (r == HTTPSIG_OK) {
		char k[256], ts[64], seq[32], nonce[32], sig[128], want[HTTPSIG_B64_LEN + 1];
		int64_t ts_ms;

		if (!http_query_get(q, qlen, "key", k, sizeof(k)) || strcmp(k, KEY) ||
		    !http_query_get(q, qlen, "timestamp", ts, sizeof(ts)) ||
		    !http_query_get(q, qlen, "seq", seq, sizeof(seq)) ||
		    !http_query_get(q, qlen, "nonce", nonce, sizeof(nonce)) ||
		    !http_query_get(q, qlen, "signature", sig, sizeof(sig)) ||
		    !httpsig_parse_timestamp(ts, &ts_ms))
			abort();
		httpsig_compute(SECRET, k, ts, seq, nonce, body, len, want);
		if (strcmp(sig, want))
			abort(); /* accepted with a wrong signature */
		if (delta && (ts_ms < now - (int64_t)delta * 1000 || ts_ms > now + (int64_t)delta * 1000))
			abort(); /* accepted outside the window */
		/* the same request again, now and later: never accepted a second time */
		if (delta) {
			int64_t t = now;

			if (httpsig_check(KEY, SECRET, delta, q, qlen, body, len, t, &replay, &why) ==
			    HTTPSIG_OK)
				abort();
			for (int i = 0; i < 3; i++) {
				t += later[i] < 0 ? -later[i] : later[i]; /* time only goes forward */
				if (httpsig_check(KEY, SECRET, delta, q, qlen, body, len, t, &replay,
				                  &why) == HTTPSIG_OK)
					abort();
			}
		}
	}
	httpsig_replay_clear(&replay);
	free(query);
	return 0;
}
