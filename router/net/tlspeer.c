/*
 * tlspeer.c - the peer of a TLS connection: client certificate verification (against the
 * listener's CA files) and its common name, fingerprint and facts, the tls-unique channel
 * binding (see tlspeer.h).
 *
 * The facts follow pyOpenSSL's reading of a certificate (what Crossbar hands its dynamic
 * authenticators), built with libcrypto's accessors; a part that cannot be made fails the
 * whole (no half-filled certificate is shown), but md5, which a FIPS library lacks.
 */
#include "router/net/tlspeer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdbool.h>
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

/* The client certificate of wsi when OpenSSL verified it (the caller X509_free()s it), or
 * NULL. */
static X509 *verified_cert(struct lws *wsi)
{
	union lws_tls_cert_info_results ci;
	SSL *ssl = lws_get_ssl(wsi);

	if (!ssl || lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_VERIFIED, &ci, sizeof(ci)) ||
	    !ci.verified)
		return NULL;
	return SSL_get_peer_certificate(ssl);
}

uint8_t *tlspeer_cert_sha1(struct lws *wsi)
{
	X509 *cert = verified_cert(wsi);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	uint8_t *out = NULL;

	if (!cert)
		return NULL;
	if (X509_digest(cert, EVP_sha1(), md, &n) && n == 20 && (out = malloc(20)))
		memcpy(out, md, 20);
	X509_free(cert);
	return out;
}

/* ---- the certificate's facts (tlspeer_cert_facts): each helper returns a new value, or
 * NULL when it cannot be made ---- */

/* The certificate's digest as pyOpenSSL's X509.digest writes it: "AB:01:...". */
static json_t *facts_digest(X509 *cert, const EVP_MD *md)
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned char d[EVP_MAX_MD_SIZE];
	char hex[EVP_MAX_MD_SIZE * 3];
	unsigned n = 0;

	if (!md || !X509_digest(cert, md, d, &n) || !n || n > EVP_MAX_MD_SIZE)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		hex[3 * i] = digits[d[i] >> 4];
		hex[3 * i + 1] = digits[d[i] & 15];
		hex[3 * i + 2] = ':';
	}
	hex[3 * n - 1] = '\0';
	return json_string(hex);
}

/* A distinguished name's components, {short name in lower case: value} (a later component
 * of the same name wins, as in Crossbar's dict); one that is no UTF-8 is left out. */
static json_t *facts_name(const X509_NAME *name)
{
	json_t *o = json_object();

	for (int i = 0; o && i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const char *sn = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		char key[64];
		size_t k = 0;

		for (; sn && sn[k] && k < sizeof(key) - 1; k++)
			key[k] = (char)(sn[k] >= 'A' && sn[k] <= 'Z' ? sn[k] - 'A' + 'a' : sn[k]);
		key[k] = '\0';
		if (n >= 0 && k)
			json_object_set_new(o, key, json_stringn((const char *)utf8, (size_t)n));
		OPENSSL_free(utf8);
	}
	return o;
}

/* The serial number: an integer, or its decimal digits when it does not fit (a 20-byte
 * random serial, what openssl makes by default, mostly does not). */
static json_t *facts_serial(const ASN1_INTEGER *serial)
{
	int64_t v;
	BIGNUM *bn;
	char *dec;
	json_t *j;

	if (ASN1_INTEGER_get_int64(&v, serial))
		return json_integer((json_int_t)v);
	if (!(bn = ASN1_INTEGER_to_BN(serial, NULL)))
		return NULL;
	dec = BN_bn2dec(bn);
	BN_free(bn);
	j = dec ? json_string(dec) : NULL;
	OPENSSL_free(dec);
	return j;
}

/* A signature algorithm's long name ("sha256WithRSAEncryption"), "UNDEF" when unknown. */
static const char *facts_nid_name(int nid)
{
	const char *ln = OBJ_nid2ln(nid);

	return ln ? ln : "UNDEF";
}

/* A validity bound as YYYYMMDDhhmmssZ (pyOpenSSL's get_notBefore / get_notAfter). */
static json_t *facts_time(const ASN1_TIME *t)
{
	ASN1_GENERALIZEDTIME *g = ASN1_TIME_to_generalizedtime((ASN1_TIME *)t, NULL);
	json_t *j = g ? json_stringn((const char *)ASN1_STRING_get0_data(g),
	                             (size_t)ASN1_STRING_length(g)) : NULL;

	ASN1_GENERALIZEDTIME_free(g);
	return j;
}

/* The extensions: [{name, value (as openssl x509 -text prints it), critical}]. */
static json_t *facts_extensions(X509 *cert)
{
	json_t *list = json_array();

	for (int i = 0; list && i < X509_get_ext_count(cert); i++) {
		X509_EXTENSION *ext = X509_get_ext(cert, i);
		BIO *b = BIO_new(BIO_s_mem());
		char *text = NULL;
		long n;
		json_t *value;

		if (!b)
			break;
		if (!X509V3_EXT_print(b, ext, X509V3_EXT_DUMP_UNKNOWN, 0))
			BIO_reset(b);
		n = BIO_get_mem_data(b, &text);
		value = json_stringn(n > 0 ? text : "", n > 0 ? (size_t)n : 0);
		if (value)
			json_array_append_new(list, json_pack("{s:s, s:o, s:b}", "name",
			                      OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object(ext))),
			                      "value", value, "critical",
			                      X509_EXTENSION_get_critical(ext) > 0));
		BIO_free(b);
	}
	return list;
}

json_t *tlspeer_cert_facts(struct lws *wsi)
{
	X509 *cert = verified_cert(wsi);
	json_t *o = cert ? json_object() : NULL;
	bool ok = o != NULL;

	if (o) {
		/* md5 where the library has it (not under FIPS); the others always */
		json_object_set_new(o, "md5", facts_digest(cert, EVP_md5()));
		ok = !json_object_set_new(o, "sha1", facts_digest(cert, EVP_sha1())) &&
		     !json_object_set_new(o, "sha256", facts_digest(cert, EVP_sha256())) &&
		     !json_object_set_new(o, "subject", facts_name(X509_get_subject_name(cert))) &&
		     !json_object_set_new(o, "issuer", facts_name(X509_get_issuer_name(cert))) &&
		     !json_object_set_new(o, "serial", facts_serial(X509_get0_serialNumber(cert))) &&
		     !json_object_set_new(o, "not_before", facts_time(X509_get0_notBefore(cert))) &&
		     !json_object_set_new(o, "not_after", facts_time(X509_get0_notAfter(cert))) &&
		     !json_object_set_new(o, "expired", json_boolean(
		         X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)) &&
		     !json_object_set_new(o, "version", json_integer(X509_get_version(cert))) &&
		     !json_object_set_new(o, "signature_algorithm",
		                          json_string(facts_nid_name(X509_get_signature_nid(cert)))) &&
		     !json_object_set_new(o, "hash", json_integer(
		         (json_int_t)X509_subject_name_hash(cert))) &&
		     !json_object_set_new(o, "extensions", facts_extensions(cert));
	}
	X509_free(cert);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
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
