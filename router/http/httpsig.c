/*
 * httpsig.c - request signatures (see httpsig.h): HMAC-SHA256 with libsodium, the
 * Crossbar signed-request check with its replay cache, and GitHub webhook signatures.
 */
#include "router/http/httpsig.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "router/http/httpreq.h"

struct httpsig_seen {
	char sig[HTTPSIG_B64_LEN + 1];
	int64_t expires_ms;
	struct httpsig_seen *next; /* FIFO, oldest first */
	UT_hash_handle hh;
};

static void hmac_parts(const char *secret, const void *const *parts, const size_t *lens,
                       size_t n, uint8_t mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	for (size_t i = 0; i < n; i++)
		crypto_auth_hmacsha256_update(&st, parts[i], lens[i]);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

void httpsig_compute(const char *secret, const char *key, const char *timestamp, const char *seq,
                     const char *nonce, const uint8_t *body, size_t len, char *out)
{
	const void *parts[5] = {key, timestamp, seq, nonce, body ? (const void *)body : ""};
	size_t lens[5] = {strlen(key), strlen(timestamp), strlen(seq), strlen(nonce), len};
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	hmac_parts(secret, parts, lens, 5, mac);
	sodium_bin2base64(out, HTTPSIG_B64_LEN + 1, mac, sizeof(mac),
	                  sodium_base64_VARIANT_URLSAFE);
}

bool httpsig_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && sodium_memcmp(a, b, alen) == 0;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

bool httpsig_parse_timestamp(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	size_t n = strlen(s), i = 19;
	int64_t frac = 0, scale = 1000;
	time_t secs;

	/* YYYY-MM-DDTHH:MM:SS */
	if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return false;
	if (s[i] == '.') {
		i++;
		if (!isdigit((unsigned char)s[i]))
			return false;
		for (; isdigit((unsigned char)s[i]); i++) {
			if (scale > 1) {
				scale /= 10;
				frac += (s[i] - '0') * scale;
			}
		}
	}
	if (s[i] != 'Z' || s[i + 1])
		return false;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	secs = timegm(&tm);
	if (secs == (time_t)-1)
		return false;
	*ms = (int64_t)secs * 1000 + frac;
	return true;
}

void httpsig_replay_init(struct httpsig_replay *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void httpsig_replay_clear(struct httpsig_replay *r)
{
	struct httpsig_seen *e = r->head;

	HASH_CLEAR(hh, r->by_sig);
	while (e) {
		struct httpsig_seen *next = e->next;

		free(e);
		e = next;
	}
	r->head = r->tail = NULL;
	r->count = 0;
}

/* Forget what can no longer be replayed: a timestamp is accepted while |now - ts| <= delta,
 * so an entry is kept through its expires_ms itself (the last millisecond it is valid) and
 * dropped only after it. */
static void replay_expire(struct httpsig_replay *r, int64_t now_ms)
{
	while (r->head && r->head->expires_ms < now_ms) {
		struct httpsig_seen *e = r->head;

		r->head = e->next;
		if (!r->head)
			r->tail = NULL;
		HASH_DEL(r->by_sig, e);
		free(e);
		r->count--;
	}
}

static bool integer(const char *s)
{
	if (*s == '-')
		s++;
	return digits(s, strlen(s)) && strlen(s) <= 19;
}

enum httpsig_result httpsig_check(const char *key, const char *secret, unsigned delta_s,
                                  const char *query, size_t qlen, const uint8_t *body, size_t len,
                                  int64_t now_ms, struct httpsig_replay *replay, const char **why)
{
	char k[256], ts[64], seq[32], nonce[32], sig[128], want[HTTPSIG_B64_LEN + 1];
	int64_t ts_ms;
	struct httpsig_seen *seen = NULL;

	if (!http_query_get(query, qlen, "key", k, sizeof(k)) ||
	    !http_query_get(query, qlen, "timestamp", ts, sizeof(ts)) ||
	    !http_query_get(query, qlen, "seq", seq, sizeof(seq)) ||
	    !http_query_get(query, qlen, "nonce", nonce, sizeof(nonce)) ||
	    !http_query_get(query, qlen, "signature", sig, sizeof(sig))) {
		*why = "signed request required: the query must carry key, timestamp, seq, nonce "
		       "and signature";
		return HTTPSIG_MISSING;
	}
	if (!httpsig_parse_timestamp(ts, &ts_ms)) {
		*why = "invalid timestamp (must be UTC ISO-8601, e.g. 2011-10-14T16:59:51.123Z)";
		return HTTPSIG_MALFORMED;
	}
	if (!integer(seq) || !integer(nonce)) {
		*why = "seq and nonce must be integers";
		return HTTPSIG_MALFORMED;
	}
	if (delta_s && llabs(now_ms - ts_ms) > (int64_t)delta_s * 1000) {
		*why = "timestamp outside the accepted window";
		return HTTPSIG_STALE;
	}
	if (!httpsig_equal(k, strlen(k), key, strlen(key))) {
		*why = "unknown key in signed request";
		return HTTPSIG_UNKNOWN_KEY;
	}
	httpsig_compute(secret, k, ts, seq, nonce, body, len, want);
	if (!httpsig_equal(sig, strlen(sig), want, strlen(want))) {
		*why = "invalid request signature";
		return HTTPSIG_BAD_SIGNATURE;
	}
	if (!replay || !delta_s) {
		*why = "";
		return HTTPSIG_OK;
	}
	replay_expire(replay, now_ms);
	HASH_FIND_STR(replay->by_sig, want, seen);
	if (seen) {
		*why = "request replayed (this signature was already used)";
		return HTTPSIG_REPLAY;
	}
	if (replay->count >= replay->max || !(seen = calloc(1, sizeof(*seen)))) {
		*why = "too many signed requests within the timestamp window";
		return HTTPSIG_CACHE_FULL;
	}
	memcpy(seen->sig, want, sizeof(seen->sig));
	/* a timestamp may be up to delta ahead: remember it until it is stale for good */
	seen->expires_ms = (ts_ms > now_ms ? ts_ms : now_ms) + (int64_t)delta_s * 1000;
	if (replay->tail && replay->tail->expires_ms > seen->expires_ms)
		seen->expires_ms = replay->tail->expires_ms; /* keep the FIFO ordered */
	HASH_ADD_STR(replay->by_sig, sig, seen);
	if (replay->tail)
		replay->tail->next = seen;
	else
		replay->head = seen;
	replay->tail = seen;
	replay->count++;
	*why = "";
	return HTTPSIG_OK;
}

bool httpsig_github_ok(const char *secret, const char *header, size_t hlen, const uint8_t *body,
                       size_t len)
{
	const void *parts[1] = {body ? (const void *)body : ""};
	size_t lens[1] = {len};
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1], got[2 * sizeof(mac) + 1];

	if (!header || hlen != 7 + 2 * sizeof(mac) || strncmp(header, "sha256=", 7))
		return false;
	for (size_t i = 0; i < 2 * sizeof(mac); i++)
		got[i] = (char)tolower((unsigned char)header[7 + i]);
	got[2 * sizeof(mac)] = '\0';
	hmac_parts(secret, parts, lens, 1, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	return httpsig_equal(got, strlen(got), hex, strlen(hex));
}
