/*
 * httpsig.h - request signatures of the HTTP services: pure functions (no I/O).
 *
 * Signed requests (Crossbar.io's HTTP bridge scheme): the query string carries key,
 * timestamp (UTC ISO-8601 with fraction, "2011-10-14T16:59:51.123Z"), seq and nonce
 * (integers) and signature = base64url (with padding) of
 *     HMAC-SHA256(secret, key || timestamp || seq || nonce || body)
 * (the parameters as sent, before percent-decoding of the signature's '=' padding). A
 * request is accepted when the key is the configured one, the timestamp lies within
 * delta seconds of the router's clock, the signature matches (timing-safe compare) and
 * the same signature was not seen before within the window (replay cache).
 *
 * Webhooks (GitHub's scheme): X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>.
 *
 * The replay cache is a FIFO of the signatures accepted in the last 2*delta seconds with
 * a hash index (uthash) on them; expired entries are dropped from the head on every check.
 * It is bounded: when it is full of unexpired entries, requests are refused (never is an
 * old entry forgotten early, which would re-open a replay).
 */
#ifndef WAMPD_ROUTER_HTTPSIG_H
#define WAMPD_ROUTER_HTTPSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPSIG_B64_LEN 44 /* base64 of 32 bytes with padding */

enum httpsig_result {
	HTTPSIG_OK = 0,
	HTTPSIG_MISSING,        /* a parameter is missing (400) */
	HTTPSIG_MALFORMED,      /* timestamp, seq or nonce malformed (400) */
	HTTPSIG_STALE,          /* timestamp outside the window (400) */
	HTTPSIG_UNKNOWN_KEY,    /* (401) */
	HTTPSIG_BAD_SIGNATURE,  /* (401) */
	HTTPSIG_REPLAY,         /* signature already used within the window (401) */
	HTTPSIG_CACHE_FULL,     /* too many signed requests within the window (429) */
};

struct httpsig_seen;

struct httpsig_replay {
	struct httpsig_seen *by_sig;  /* uthash index */
	struct httpsig_seen *head;    /* oldest */
	struct httpsig_seen *tail;
	uint32_t count;
	uint32_t max;                 /* bound of the cache */
};

/* Crossbar's signature of a request into out (HTTPSIG_B64_LEN + 1 bytes). All strings
 * borrowed; secret is used as given (bytes of the string). */
void httpsig_compute(const char *secret, const char *key, const char *timestamp, const char *seq,
                     const char *nonce, const uint8_t *body, size_t len, char *out);

/* "YYYY-MM-DDTHH:MM:SS[.fff...]Z" into milliseconds since the epoch; false if malformed. */
bool httpsig_parse_timestamp(const char *s, int64_t *ms);

/*
 * Check a signed request: query[0..qlen) holds its parameters, body[0..len) its body,
 * now_ms the wall clock. key/secret are the service's; delta_s the window (0: timestamps
 * are not checked, and then signatures are not remembered either). replay may be NULL (no
 * replay check). On HTTPSIG_OK the signature is remembered in replay. *why (static text)
 * explains any other result.
 */
enum httpsig_result httpsig_check(const char *key, const char *secret, unsigned delta_s,
                                  const char *query, size_t qlen, const uint8_t *body, size_t len,
                                  int64_t now_ms, struct httpsig_replay *replay, const char **why);

/* Set up an empty replay cache holding at most max signatures. */
void httpsig_replay_init(struct httpsig_replay *r, uint32_t max);

/* Free every remembered signature. */
void httpsig_replay_clear(struct httpsig_replay *r);

/*
 * GitHub-style webhook signature: header[0..hlen) must be "sha256=" followed by the hex
 * HMAC-SHA256 of body under secret (either case). Timing-safe. false when absent/wrong.
 */
bool httpsig_github_ok(const char *secret, const char *header, size_t hlen, const uint8_t *body,
                       size_t len);

/* Timing-safe equality of two strings of possibly different lengths (the length itself
 * is not hidden). */
bool httpsig_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
