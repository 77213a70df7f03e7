/*
 * wampcra_key.c - the WAMP-CRA computations both ends make (advanced/authentication_cra.md),
 * apart from the router's challenge and check (wampcra.c), so that the client library
 * (client/) can link them alone: the signature base64(HMAC-SHA256(key, challenge)), and for
 * a salted secret the key itself, Autobahn's derive_key(): the base64 text of
 * PBKDF2-HMAC-SHA256(password, salt, iterations, keylen). libsodium has no PBKDF2, so that
 * one call is OpenSSL's libcrypto.
 */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"

char *auth_base64(const uint8_t *bin, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(len);

	if (out)
		sodium_bin2base64(out, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

char *auth_wampcra_derive_key(const char *secret, const char *salt, uint32_t iterations,
                              uint32_t keylen)
{
	uint8_t key[256];
	char *out;

	if (!iterations)
		iterations = 1000;
	if (!keylen)
		keylen = 32;
	if (keylen > sizeof(key) || iterations > INT32_MAX ||
	    PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), (const unsigned char *)salt,
	                      (int)strlen(salt), (int)iterations, EVP_sha256(), (int)keylen,
	                      key) != 1)
		return NULL;
	out = auth_base64(key, keylen);
	sodium_memzero(key, sizeof(key));
	return out;
}

char *auth_wampcra_sign(const char *key, const char *challenge)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char *out;

	crypto_auth_hmacsha256_init(&st, (const uint8_t *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)challenge, strlen(challenge));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	out = auth_base64(mac, sizeof(mac));
	sodium_memzero(mac, sizeof(mac));
	return out;
}
