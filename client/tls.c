/*
 * tls.c - OpenSSL for libwampc's adapters (see tls.h): the client context (verification,
 * client certificate), one connection's name check and SNI, tls-unique, error texts.
 *
 * The context is made per connection attempt by the POSIX adapter (so a renewed CA file or
 * client certificate is read at the next attempt) and per client by the libwebsockets one
 * (which binds it to its vhost). Names are checked by OpenSSL itself during the handshake
 * (X509_VERIFY_PARAM host or IP), so a mismatch fails the handshake with
 * X509_V_ERR_HOSTNAME_MISMATCH / _IP_ADDRESS_MISMATCH like any other verification error.
 */
#include "client/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* OpenSSL's first queued error in words (the queue is cleared), or fallback. */
static void ssl_error(char *why, size_t n, const char *what, const char *arg,
                      const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	char text[160];

	if (e)
		ERR_error_string_n(e, text, sizeof(text));
	snprintf(why, n, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "",
	         e ? text : fallback);
	ERR_clear_error();
}

SSL_CTX *wampc_tls_context(const struct wampc_tls *t, char *why, size_t why_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	ERR_clear_error();
	if (!ctx) {
		ssl_error(why, why_len, "cannot make a TLS context", NULL, "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, t->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (t->ca_file || t->ca_path) {
		if (SSL_CTX_load_verify_locations(ctx, t->ca_file, t->ca_path) != 1) {
			ssl_error(why, why_len, "cannot load the CA certificates",
			          t->ca_file ? t->ca_file : t->ca_path, "no certificate found");
			goto fail;
		}
	} else if (!t->insecure && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_error(why, why_len, "cannot load the system's CA certificates", NULL, "?");
		goto fail;
	}
	if (t->cert_file) {
		const char *key = t->key_file ? t->key_file : t->cert_file;

		if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
			ssl_error(why, why_len, "cannot load the client certificate", t->cert_file, "?");
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			ssl_error(why, why_len, "cannot use the client key", key, "?");
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

bool wampc_tls_prepare(SSL *ssl, const struct wampc_tls *t, const char *host)
{
	const char *name = t->server_name ? t->server_name : host;
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

	if (t->insecure)
		return true;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* an address is checked against the certificate's IP addresses, and gets no SNI
	 * (RFC 6066: SNI carries host names only) */
	if (X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1)
		return true;
	return X509_VERIFY_PARAM_set1_host(param, name, 0) == 1 &&
	       SSL_set_tlsext_host_name(ssl, name) == 1;
}

bool wampc_tls_unique(SSL *ssl, uint8_t out[32])
{
	unsigned char fin[EVP_MAX_MD_SIZE];
	size_t n = ssl ? SSL_get_peer_finished(ssl, fin, sizeof(fin)) : 0;

	if (!n || n > sizeof(fin))
		return false;
	crypto_hash_sha256(out, fin, n);
	sodium_memzero(fin, sizeof(fin));
	return true;
}

void wampc_tls_why(SSL *ssl, char *why, size_t why_len)
{
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK && e && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    wampc_tls_verify_failed(ssl, why, why_len)) {
		ERR_clear_error();
		return;
	}
	ssl_error(why, why_len, "TLS", NULL,
	          errno ? strerror(errno) : "the connection ended during the handshake");
}

bool wampc_tls_verify_failed(SSL *ssl, char *why, size_t why_len)
{
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (v == X509_V_OK)
		return false;
	snprintf(why, why_len, "certificate verify failed: %s", X509_verify_cert_error_string(v));
	return true;
}
