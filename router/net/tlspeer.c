/*
 * tlspeer.c - the peer of a TLS connection: client certificate verification (against the
 * listener's CA files) and its common name and fingerprint, the tls-unique channel binding
 * (see tlspeer.h).
 */
#include "router/net/tlspeer.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int tlspeer_verify(size_t preverify_ok)
{
	if (!preverify_ok)
		wlog_info("tls", "refusing a client certificate that does not verify against "
		          "ca_certificates");
	return preverify_ok ? 0 : 1;
}

int tlspeer_load_cas(void *ctx, char *const *files)
{
	SSL_CTX *ssl = ctx;

	for (; files && *files; files++)
		if (!SSL_CTX_load_verify_locations(ssl, *files, NULL) ||
		    !SSL_add_file_cert_subjects_to_stack(SSL_CTX_get_client_CA_list(ssl), *files)) {
			wlog_error("tls", "cannot load the CA file %s (ca_certificates)", *files);
			return 1;
		}
	return 0;
}

char *tlspeer_cn(struct lws *wsi)
{
	char big[sizeof(union lws_tls_cert_info_results) + 256];
	union lws_tls_cert_info_results *ci = (union lws_tls_cert_info_results *)big;

	/* no certificate, or one OpenSSL did not verify: nothing names the client */
	if (lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_VERIFIED, ci, sizeof(*ci)) ||
	    !ci->verified)
		return NULL;
	if (lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_COMMON_NAME, ci,
	                           sizeof(big) - sizeof(*ci) + sizeof(ci->ns.name)))
		return NULL;
	return strndup(ci->ns.name, (size_t)ci->ns.len);
}

uint8_t *tlspeer_cert_sha1(struct lws *wsi)
{
	union lws_tls_cert_info_results ci;
	SSL *ssl = lws_get_ssl(wsi);
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	uint8_t *out = NULL;

	if (!ssl || lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_VERIFIED, &ci, sizeof(ci)) ||
	    !ci.verified)
		return NULL;
	if (!(cert = SSL_get_peer_certificate(ssl)))
		return NULL;
	if (X509_digest(cert, EVP_sha1(), md, &n) && n == 20 && (out = malloc(20)))
		memcpy(out, md, 20);
	X509_free(cert);
	return out;
}

uint8_t *tlspeer_channel_id(struct lws *wsi)
{
	SSL *ssl = lws_get_ssl(wsi);
	unsigned char fin[EVP_MAX_MD_SIZE];
	size_t n = ssl ? SSL_get_finished(ssl, fin, sizeof(fin)) : 0;
	uint8_t *id;

	if (!n || n > sizeof(fin) || !(id = malloc(crypto_hash_sha256_BYTES)))
		return NULL;
	crypto_hash_sha256(id, fin, n);
	return id;
}
