/*
 * tls.h - OpenSSL for libwampc's adapters: the POSIX adapter's rss:// (posix.c) and the
 * libwebsockets adapter's wss:// (lws.c, which gives libwebsockets the context made here),
 * so that both verify the router, present a client certificate and compute the channel
 * binding the same way. Not installed; in libwampc when it is built with TLS
 * (WAMPC_WITH_TLS: WAMPC_HAVE_TLS).
 *
 * Verification, unless tls.insecure: the chain against tls.ca_file and/or tls.ca_path when
 * either is given (only those: a private CA is not diluted by the system's), else against
 * the system's default store; then the name: tls.server_name or the URL's host, as a DNS
 * name (no partial wildcards) or, for an address, against the certificate's IP addresses.
 */
#ifndef WAMPC_TLS_H
#define WAMPC_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/wampc.h"

/*
 * A client SSL_CTX for configuration t: TLS 1.2 or later, verification as above, the
 * client certificate chain and key when t->cert_file is set. The caller owns it
 * (SSL_CTX_free; every SSL made from it holds a reference of its own). NULL on failure,
 * with why (what could not be loaded, and OpenSSL's words for it) in why[why_len].
 */
SSL_CTX *wampc_tls_context(const struct wampc_tls *t, char *why, size_t why_len);

/* Prepare one connection's SSL for host (the URL's; t->server_name wins): the name or
 * address its certificate must carry, and SNI for a name. false on NOMEM. */
bool wampc_tls_prepare(SSL *ssl, const struct wampc_tls *t, const char *host);

/* tls-unique as wampd (router/net/tlspeer.c) and Autobahn compute it: SHA-256 of the
 * Finished message the server sent (the client's peer's). false before the handshake. */
bool wampc_tls_unique(SSL *ssl, uint8_t out[32]);

/* Why a handshake or a read/write failed: the certificate verification result when that
 * failed ("certificate verify failed: hostname mismatch"), else OpenSSL's error queue
 * (which is cleared), else errno's text. */
void wampc_tls_why(SSL *ssl, char *why, size_t why_len);

/* When the router's certificate failed verification on ssl: true, with why (as above).
 * For an adapter whose TLS library has already consumed OpenSSL's error queue. */
bool wampc_tls_verify_failed(SSL *ssl, char *why, size_t why_len);

#endif
