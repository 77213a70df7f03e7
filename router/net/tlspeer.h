/*
 * tlspeer.h - what wampd takes from the peer of a TLS connection (libwebsockets on
 * OpenSSL), the same for every transport: WebSocket (ws.c) and RawSocket (raw.c): the
 * client certificate's verification, common name, fingerprint and facts (for dynamic
 * authenticators), and the tls-unique channel binding.
 *
 * Client certificates: a listener with ca_certificates asks for one
 * (LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT, optional unless
 * require_client_cert). lws 4.1.6 lets protocols[0] of the vhost decide on OpenSSL's
 * verification result (LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION, len =
 * preverify_ok) and turns a 0 return into "accepted" whatever OpenSSL found, so every
 * TLS vhost's protocols[0] must answer with tlspeer_verify(); and the CN is taken only
 * from a certificate OpenSSL verified.
 */
#ifndef WAMPD_ROUTER_TLSPEER_H
#define WAMPD_ROUTER_TLSPEER_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The answer to LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION: 0 (accept) when
 * OpenSSL verified the certificate chain (preverify_ok, the callback's len), 1 (fail the
 * handshake) otherwise.
 */
int tlspeer_verify(size_t preverify_ok);

/*
 * LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS (ctx: the vhost's SSL_CTX, the
 * callback's user): load the CA files `files` (NULL-terminated, or NULL: none) besides
 * the one libwebsockets loaded, to verify client certificates against and to name in the
 * certificate request. 0, or 1 (logged; the vhost is not created) if one cannot be read.
 */
int tlspeer_load_cas(void *ctx, char *const *files);

/*
 * The common name of the client certificate of a TLS connection, when OpenSSL verified it
 * against the listener's CA: a malloc'd string the caller owns (handed on to the state
 * machine in struct proto_peer). NULL when there is none, it is not verified, or on
 * allocation failure.
 */
char *tlspeer_cn(struct lws *wsi);

/*
 * The SHA-1 fingerprint of the client certificate of a TLS connection (Crossbar names TLS
 * principals by it), when OpenSSL verified it: 20 bytes the caller owns (the session's
 * tls_cert_sha1), or NULL (none, not verified, or allocation failure).
 */
uint8_t *tlspeer_cert_sha1(struct lws *wsi);

/*
 * The facts of the verified client certificate of a TLS connection, as Crossbar shows them to
 * dynamic authenticators (details.transport.client_cert, pyOpenSSL's reading): "sha1",
 * "sha256", "md5" (hex pairs, upper case, colons), "subject" and "issuer" ({short name in
 * lower case: value}, e.g. {"cn": ..., "o": ...}), "serial" (an integer, or its decimal
 * digits as a string when it does not fit 63 bits), "not_before", "not_after"
 * (YYYYMMDDhhmmssZ), "expired", "version" (0-based), "signature_algorithm", "hash" (of the
 * subject name) and "extensions" ([{name, value, critical}]). A new object the caller owns
 * (handed to proto_transport_open), or NULL: no certificate, not verified, or allocation
 * failure.
 */
json_t *tlspeer_cert_facts(struct lws *wsi);

/*
 * The tls-unique channel binding of a TLS connection as Autobahn (client and Crossbar
 * alike) computes it: SHA-256 of the Finished message the *server* sent in the handshake
 * (Autobahn's client takes its peer's, its router its own; TLS 1.3 sends that one first).
 * 32 bytes the caller owns (handed to proto_transport_open), or NULL (no TLS, or allocation
 * failure).
 */
uint8_t *tlspeer_channel_id(struct lws *wsi);

#endif
