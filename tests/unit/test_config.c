/*
 * test_config.c - the embedded default and the JSON loader's checks and error messages, and
 * the packaged default configuration (packaging/config.json.in) being that same default.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "router/config/config.h"
#include "serializers/wamp_msg.h"

static char path[64];

static bool load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/wampd-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	bool ok = config_load_file(path, cfg, err, errlen);
	unlink(path);
	return ok;
}

static void test_default(void **state)
{
	struct config cfg;

	(void)state;
	assert_true(config_default(&cfg));
	assert_int_equal(cfg.nlisteners, 1);
	assert_string_equal(cfg.listeners[0].host, "127.0.0.1");
	assert_int_equal(cfg.listeners[0].port, 8080);
	assert_string_equal(cfg.listeners[0].path, "/ws");
	assert_true(cfg.listeners[0].websocket && cfg.listeners[0].rawsocket); /* universal */
	assert_int_equal(cfg.listeners[0].serializers,
	                 3 | (wamp_ser_supported(WAMP_SER_CBOR) ? 4 : 0));
	assert_int_equal(cfg.nrealms, 1);
	assert_string_equal(cfg.realms[0].name, "realm1");
	assert_int_equal(cfg.max_message_size, 16u << 20);
	config_free(&cfg);
}

static void assert_same_auth(const struct auth_config *a, const struct auth_config *b)
{
	for (int m = 0; m < AUTH__COUNT; m++) {
		assert_int_equal(a->m[m].enabled, b->m[m].enabled);
		assert_int_equal(a->m[m].dynamic, b->m[m].dynamic);
		assert_true(!a->m[m].role == !b->m[m].role);
		if (a->m[m].role)
			assert_string_equal(a->m[m].role, b->m[m].role);
		assert_null(a->m[m].principals);
		assert_null(b->m[m].principals);
	}
}

/* Every setting of two configurations without TLS, history or roles. */
static void assert_same_config(const struct config *a, const struct config *b)
{
	assert_int_equal(a->nlisteners, b->nlisteners);
	for (size_t i = 0; i < a->nlisteners; i++) {
		const struct listener_config *x = &a->listeners[i], *y = &b->listeners[i];

		assert_string_equal(x->host, y->host);
		assert_int_equal(x->port, y->port);
		assert_string_equal(x->path, y->path);
		assert_int_equal(x->serializers, y->serializers);
		assert_int_equal(x->websocket, y->websocket);
		assert_int_equal(x->rawsocket, y->rawsocket);
		assert_true(!x->tls_cert && !y->tls_cert && !x->unix_path && !y->unix_path);
		assert_int_equal(x->nhttp + y->nhttp, 0);
		assert_same_auth(&x->auth, &y->auth);
	}
	assert_int_equal(a->nrealms, b->nrealms);
	for (size_t i = 0; i < a->nrealms; i++) {
		const struct realm_config *x = &a->realms[i], *y = &b->realms[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->uri_rule, y->uri_rule);
		assert_int_equal(x->call_timeout_ms, y->call_timeout_ms);
		assert_int_equal(x->max_retained, y->max_retained);
		assert_int_equal(x->max_retained_bytes, y->max_retained_bytes);
		assert_int_equal(x->max_history_bytes, y->max_history_bytes);
		assert_int_equal(x->nhistory + y->nhistory, 0);
		assert_true(!x->authz.roles && !y->authz.roles);
		assert_int_equal(x->authz.cache_ttl_ms, y->authz.cache_ttl_ms);
	}
	assert_int_equal(a->auto_create_realms, b->auto_create_realms);
	assert_int_equal(a->log_levels.def, b->log_levels.def);
	assert_int_equal(a->log_levels.n, b->log_levels.n);
	assert_int_equal(a->log_format, b->log_format);
	assert_int_equal(a->admin.enabled, b->admin.enabled);
	assert_int_equal(a->max_message_size, b->max_message_size);
	assert_int_equal(a->max_depth, b->max_depth);
	assert_int_equal(a->send_queue_bytes, b->send_queue_bytes);
	assert_int_equal(a->max_sessions, b->max_sessions);
	assert_int_equal(a->max_sessions_per_ip, b->max_sessions_per_ip);
	assert_int_equal(a->max_auth_failures_per_ip, b->max_auth_failures_per_ip);
	assert_int_equal(a->auth_failure_window_s, b->auth_failure_window_s);
	assert_int_equal(a->hello_timeout_s, b->hello_timeout_s);
	assert_int_equal(a->ping_interval_s, b->ping_interval_s);
	assert_int_equal(a->ping_timeout_s, b->ping_timeout_s);
	assert_int_equal(a->realm_limits.max_subscriptions_per_session,
	                 b->realm_limits.max_subscriptions_per_session);
	assert_int_equal(a->realm_limits.max_registrations_per_session,
	                 b->realm_limits.max_registrations_per_session);
	assert_int_equal(a->realm_limits.max_pending_calls_per_session,
	                 b->realm_limits.max_pending_calls_per_session);
	assert_int_equal(a->realm_limits.max_pending_calls_per_callee,
	                 b->realm_limits.max_pending_calls_per_callee);
	assert_int_equal(a->realm_limits.max_sessions_per_realm,
	                 b->realm_limits.max_sessions_per_realm);
	assert_int_equal(a->realm_limits.max_testament_bytes_per_session,
	                 b->realm_limits.max_testament_bytes_per_session);
	assert_null(a->notes);
	assert_null(b->notes);
}

/* /etc/wampd/config.json as installed is the built-in default, setting for setting. */
static void test_packaged_default(void **state)
{
	struct config def, file;
	char err[256];

	(void)state;
	assert_true(config_default(&def));
	if (!config_load_file(WAMPD_DEFAULT_CONFIG, &file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_same_config(&def, &file);
	config_free(&file);
	config_free(&def);
}

static void test_full_file(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"log_level\": \"debug\", \"listeners\": [{\"host\": \"*\", \"port\": 9000,"
	                 " \"path\": \"/wamp\", \"serializers\": [\"msgpack\"]}],"
	                 " \"realms\": [{\"name\": \"a\"}, {\"name\": \"b\", \"uri_check\": \"strict\","
	                 " \"max_retained_bytes\": 2048, \"max_history_bytes\": 0}],"
	                 " \"limits\": {\"max_message_size\": 4096, \"send_queue_bytes\": 65536,"
	                 " \"max_subscriptions_per_session\": 5,"
	                 " \"max_testament_bytes_per_session\": 1000}}",
	                 &cfg, err, sizeof(err)));
	assert_int_equal(cfg.log_levels.def, WLOG_DEBUG);
	assert_null(cfg.listeners[0].host);
	assert_int_equal(cfg.listeners[0].port, 9000);
	assert_string_equal(cfg.listeners[0].path, "/wamp");
	assert_int_equal(cfg.listeners[0].serializers, 1u << WAMP_SER_MSGPACK);
	assert_int_equal(cfg.nrealms, 2);
	assert_int_equal(cfg.realms[1].uri_rule, URI_STRICT);
	assert_int_equal(cfg.max_message_size, 4096);
	assert_int_equal(cfg.send_queue_bytes, 65536);
	assert_int_equal(cfg.realm_limits.max_subscriptions_per_session, 5);
	assert_int_equal(cfg.realm_limits.max_registrations_per_session, 10000);
	/* the memory budgets: given, and their defaults */
	assert_int_equal(cfg.realms[1].max_retained_bytes, 2048);
	assert_int_equal(cfg.realms[1].max_history_bytes, 0);
	assert_int_equal(cfg.realms[0].max_retained_bytes, 64u << 20);
	assert_int_equal(cfg.realms[0].max_history_bytes, 64u << 20);
	assert_int_equal(cfg.realm_limits.max_testament_bytes_per_session, 1000);
	config_free(&cfg);
}

static void expect_error(const char *text, const char *fragment)
{
	struct config cfg;
	char err[256] = "";

	assert_false(load(text, &cfg, err, sizeof(err)));
	if (!strstr(err, fragment))
		fail_msg("error \"%s\" does not mention \"%s\"", err, fragment);
	assert_int_equal(cfg.nlisteners, 0); /* nothing left to free */
}

static void test_errors_name_the_key(void **state)
{
	(void)state;
	expect_error("{\"limits\": {\"max_sesions\": 5}}", "limits.max_sesions: unknown key");
	expect_error("{\"realms\": [{\"name\": \"a\", \"uri\": 1}]}", "realms[0].uri: unknown key");
	expect_error("{\"realms\": [{\"name\": \"a b\"}]}", "realms[0]: name must be a valid URI");
	expect_error("{\"realms\": [{\"name\": \"a\", \"roles\": [{\"name\": \"r\", \"permissions\":"
	             " [{\"uri\": \"com.\", \"trustlevel\": -1}]}]}]}",
	             "realms[0].roles[0].permissions[0]: trustlevel must be an integer >= 0");
	expect_error("{\"realms\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}", "defined twice");
	expect_error("{\"listeners\": [{\"port\": 70000}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].port: must be between 0 and 65535");
	/* "trusted" is wampd's own, for its router components: no listener may enable it */
	expect_error("{\"listeners\": [{\"auth\": {\"trusted\": {\"type\": \"static\", \"principals\":"
	             " {\"x\": {\"secret\": \"s\", \"role\": \"r\"}}}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].auth.trusted: is wampd's own method for its router components");
	expect_error("{\"listeners\": [{\"serializers\": [\"xml\"]}], \"realms\": [{\"name\": \"a\"}]}",
	             "serializers[0]");
	expect_error("{\"limits\": {\"max_message_size\": \"big\"}}",
	             "limits.max_message_size: must be a non-negative integer");
	expect_error("{\"limits\": {\"max_testament_bytes_per_session\": 4294967296}}",
	             "limits.max_testament_bytes_per_session: must be between 0 and 4294967295");
	expect_error("{\"realms\": [{\"name\": \"a\", \"max_history_bytes\": -1}]}",
	             "realms[0].max_history_bytes: must be a non-negative integer");
	expect_error("{\"log_level\": \"loud\"}", "log_level");
	expect_error("{\"realms\": [{\"name\": \"a\", \"resume\": {\"window\": 5}}]}",
	             "realms[0].resume.window: unknown key");
	expect_error("{\"realms\": [{\"name\": \"a\", \"resume\": {\"window_s\": 0}}]}",
	             "realms[0].resume.window_s: must be between 1 and 86400");
	expect_error("{\"realms\": [{\"name\": \"a\", \"resume\": {\"max_bytes\": 10}}]}",
	             "realms[0].resume.max_bytes: must be between 1024");
	expect_error("{\"realms\": [{\"name\": \"a\", \"resume\": {\"max_bytes\": 65536, "
	             "\"max_detached_bytes\": 65535}}]}",
	             "realms[0].resume.max_detached_bytes: must be between 65536");
	expect_error("{\"realms\": [{\"name\": \"a\", \"resume\": true}]}",
	             "realms[0].resume: must be an object");
	/* every key is optional: {} is the embedded default (realm1 on the default listener);
	 * an explicitly empty list of realms is an error */
	{
		struct config cfg;
		char err[256];

		assert_true(load("{}", &cfg, err, sizeof(err)));
		assert_int_equal(cfg.nrealms, 1);
		assert_string_equal(cfg.realms[0].name, "realm1");
		assert_int_equal(cfg.nlisteners, 1);
		assert_int_equal(cfg.listeners[0].port, 8080);
		config_free(&cfg);
	}
	/* resumable sessions: off unless a realm says "resume"; its defaults 30 s, 1 MiB */
	{
		struct config cfg;
		char err[256];

		assert_true(load("{\"realms\": [{\"name\": \"a\"}, {\"name\": \"b\", \"resume\": {}},"
		                 " {\"name\": \"c\", \"resume\": {\"window_s\": 5, "
		                 "\"max_bytes\": 65536}}]}", &cfg, err, sizeof(err)));
		assert_int_equal(cfg.realms[0].resume_window_s, 0);
		assert_int_equal(cfg.realms[1].resume_window_s, 30);
		assert_int_equal(cfg.realms[1].resume_max_bytes, 1u << 20);
		assert_int_equal(cfg.realms[2].resume_window_s, 5);
		assert_int_equal(cfg.realms[2].resume_max_bytes, 65536);
		assert_int_equal(cfg.realms[1].resume_max_detached_bytes, 64u << 20);
		config_free(&cfg);
		/* the budget of all detached logs holds one full log at least */
		assert_true(load("{\"realms\": [{\"name\": \"a\", \"resume\": {\"max_bytes\": "
		                 "134217728}}, {\"name\": \"b\", \"resume\": {\"max_detached_bytes\": "
		                 "2097152}}]}", &cfg, err, sizeof(err)));
		assert_int_equal(cfg.realms[0].resume_max_detached_bytes, 128u << 20);
		assert_int_equal(cfg.realms[1].resume_max_detached_bytes, 2u << 20);
		config_free(&cfg);
	}
	expect_error("{\"realms\": []}", "no realm defined");
	expect_error("{\"realms\": [}", ":1:");
	expect_error("[1]", "must be a JSON object");
}

/* TLS on every listener type (RawSocket too since #8); never on a Unix socket */
static void test_tls_listeners(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"listeners\": [{\"type\": \"rawsocket\", \"port\": 9443, \"tls\":"
	                 " {\"certificate\": \"s.pem\", \"key\": \"s.key\", \"ca_certificates\":"
	                 " \"ca.pem\", \"require_client_cert\": true}},"
	                 " {\"type\": \"universal\", \"port\": 8443, \"tls\": {\"certificate\":"
	                 " \"s.pem\", \"key\": \"s.key\"}}], \"realms\": [{\"name\": \"a\"}]}",
	                 &cfg, err, sizeof(err)));
	assert_true(cfg.listeners[0].rawsocket && !cfg.listeners[0].websocket);
	/* relative to the file's directory (load() writes it in /tmp) */
	assert_string_equal(cfg.listeners[0].tls_cert, "/tmp/s.pem");
	assert_string_equal(cfg.listeners[0].tls_ca, "/tmp/ca.pem");
	assert_true(cfg.listeners[0].tls_require_client_cert);
	assert_true(cfg.listeners[1].rawsocket && cfg.listeners[1].websocket);
	assert_string_equal(cfg.listeners[1].tls_key, "/tmp/s.key");
	assert_null(cfg.listeners[1].tls_ca);
	config_free(&cfg);
	/* several CA files: the first, and the others */
	assert_true(load("{\"listeners\": [{\"port\": 9443, \"tls\": {\"certificate\": \"s.pem\","
	                 " \"key\": \"s.key\", \"ca_certificates\": [\"root.pem\", \"mid.pem\","
	                 " \"other.pem\"]}}], \"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_string_equal(cfg.listeners[0].tls_ca, "/tmp/root.pem");
	assert_string_equal(cfg.listeners[0].tls_ca_more[0], "/tmp/mid.pem");
	assert_string_equal(cfg.listeners[0].tls_ca_more[1], "/tmp/other.pem");
	assert_null(cfg.listeners[0].tls_ca_more[2]);
	config_free(&cfg);
	assert_true(load("{\"listeners\": [{\"port\": 9443, \"tls\": {\"certificate\": \"s.pem\","
	                 " \"key\": \"s.key\", \"ca_certificates\": [\"root.pem\"]}}],"
	                 " \"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_string_equal(cfg.listeners[0].tls_ca, "/tmp/root.pem");
	assert_null(cfg.listeners[0].tls_ca_more);
	config_free(&cfg);
	expect_error("{\"listeners\": [{\"tls\": {\"certificate\": \"s.pem\", \"key\": \"s.key\","
	             " \"ca_certificates\": []}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].tls: ca_certificates must be a file or a non-empty list");
	expect_error("{\"listeners\": [{\"tls\": {\"certificate\": \"s.pem\", \"key\": \"s.key\","
	             " \"ca_certificates\": [\"a\", 1]}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].tls: ca_certificates must be a file or a non-empty list");
	expect_error("{\"listeners\": [{\"type\": \"rawsocket\", \"unix\": \"/tmp/s\", \"tls\":"
	             " {\"certificate\": \"s.pem\", \"key\": \"s.key\"}}], \"realms\": [{\"name\": \"a\"}]}",
	             "tls on a Unix domain socket is not supported");
	expect_error("{\"listeners\": [{\"type\": \"rawsocket\", \"tls\": {\"certificate\": \"s.pem\"}}],"
	             " \"realms\": [{\"name\": \"a\"}]}", "certificate and key are required");
}

/* Listeners on one host and port share its socket (port_owner), each with its own path,
 * limits and auth; what belongs to the socket must agree, what tells them apart must
 * differ. Port 0 is every listener's own free port. */
static void test_listeners_sharing_a_port(void **state)
{
	struct config cfg;
	char err[256];
	const char *tls = "\"tls\": {\"certificate\": \"s.pem\", \"key\": \"s.key\"}";
	char doc[1024];

	(void)state;
	assert_true(load("{\"limits\": {\"max_message_size\": 5000, \"ping_interval\": 7},"
	                 " \"listeners\": ["
	                 " {\"type\": \"websocket\", \"port\": 9000, \"path\": \"/a\"},"
	                 " {\"type\": \"websocket\", \"port\": 9000, \"path\": \"/b\","
	                 "  \"max_message_size\": 100, \"ping_interval\": 0, \"ping_timeout\": 9,"
	                 "  \"auth\": {\"ticket\": {\"type\": \"static\", \"principals\":"
	                 "   {\"joe\": {\"ticket\": \"t\", \"role\": \"r\"}}}}},"
	                 " {\"type\": \"websocket\", \"port\": 9000, \"host\": \"127.0.0.2\","
	                 "  \"path\": \"/a\"},"
	                 " {\"type\": \"rawsocket\", \"port\": 9000},"
	                 " {\"type\": \"websocket\", \"port\": 0, \"path\": \"/a\"},"
	                 " {\"type\": \"websocket\", \"port\": 0, \"path\": \"/a\"}],"
	                 " \"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_int_equal(cfg.nlisteners, 6);
	assert_int_equal(cfg.listeners[0].port_owner, 0);
	assert_int_equal(cfg.listeners[1].port_owner, 0);
	assert_int_equal(cfg.listeners[2].port_owner, 2); /* another address: its own socket */
	assert_int_equal(cfg.listeners[3].port_owner, 0);
	assert_int_equal(cfg.listeners[4].port_owner, 4);
	assert_int_equal(cfg.listeners[5].port_owner, 5);
	/* limits: the file's, or the listener's own */
	assert_int_equal(cfg.listeners[0].max_message_size, 5000);
	assert_int_equal(cfg.listeners[0].ping_interval_s, 7);
	assert_int_equal(cfg.listeners[0].ping_timeout_s, 60);
	assert_int_equal(cfg.listeners[1].max_message_size, 100);
	assert_int_equal(cfg.listeners[1].ping_interval_s, 0);
	assert_int_equal(cfg.listeners[1].ping_timeout_s, 9);
	assert_true(cfg.listeners[1].auth.m[AUTH_TICKET].enabled);
	assert_false(cfg.listeners[1].auth.m[AUTH_ANONYMOUS].enabled);
	assert_true(cfg.listeners[0].auth.m[AUTH_ANONYMOUS].enabled);
	config_free(&cfg);
	/* the default listener takes the file's limits */
	assert_true(load("{\"limits\": {\"max_message_size\": 4096}}", &cfg, err, sizeof(err)));
	assert_int_equal(cfg.listeners[0].max_message_size, 4096);
	config_free(&cfg);

	/* what tells them apart must differ */
	expect_error("{\"listeners\": [{\"type\": \"websocket\", \"port\": 9000, \"path\": \"/a\"},"
	             " {\"type\": \"websocket\", \"port\": 9000, \"path\": \"/a\"}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[1].path: listeners[0] serves \"/a\" on port 9000 already");
	expect_error("{\"listeners\": [{\"type\": \"websocket\", \"port\": 9000, \"path\": \"*\"},"
	             " {\"type\": \"universal\", \"port\": 9000, \"path\": \"*\"}],"
	             " \"realms\": [{\"name\": \"a\"}]}", "listeners[1].path: listeners[0] serves");
	expect_error("{\"listeners\": [{\"type\": \"universal\", \"port\": 9000, \"path\": \"/a\"},"
	             " {\"type\": \"rawsocket\", \"port\": 9000}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[1].type: listeners[0] serves RawSocket on port 9000 already");
	expect_error("{\"listeners\": [{\"port\": 9000, \"path\": \"/a\", \"http\": {\"/c\":"
	             " {\"type\": \"caller\", \"realm\": \"a\"}}}, {\"type\": \"websocket\","
	             " \"port\": 9000, \"path\": \"/b\", \"http\": {\"/c\": {\"type\": \"publisher\","
	             " \"realm\": \"a\"}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[1].http./c: listeners[0] serves this path on port 9000 already");
	/* what belongs to the socket must agree */
	snprintf(doc, sizeof(doc), "{\"listeners\": [{\"type\": \"websocket\", \"port\": 9000,"
	         " \"path\": \"/a\", %s}, {\"type\": \"websocket\", \"port\": 9000,"
	         " \"path\": \"/b\"}], \"realms\": [{\"name\": \"a\"}]}", tls);
	expect_error(doc, "listeners[1].tls: listeners on one port share its TLS settings");
	expect_error("{\"listeners\": [{\"type\": \"websocket\", \"port\": 9000, \"path\": \"/a\"},"
	             " {\"type\": \"websocket\", \"port\": 9000, \"path\": \"/b\","
	             " \"reuse_port\": true}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[1].reuse_port: listeners on one port share it");
	/* one TLS port: one serializer list (lws picks the subprotocol before the path) */
	snprintf(doc, sizeof(doc), "{\"listeners\": [{\"type\": \"websocket\", \"port\": 9000,"
	         " \"path\": \"/a\", %s}, {\"type\": \"websocket\", \"port\": 9000,"
	         " \"path\": \"/b\", \"serializers\": [\"json\"], %s}],"
	         " \"realms\": [{\"name\": \"a\"}]}", tls, tls);
	expect_error(doc, "listeners[1].serializers: WebSocket listeners on one TLS port serve the "
	             "same serializers");
	snprintf(doc, sizeof(doc), "{\"listeners\": [{\"type\": \"websocket\", \"port\": 9000,"
	         " \"path\": \"/a\", %s}, {\"type\": \"universal\", \"port\": 9000,"
	         " \"path\": \"/b\", %s}], \"realms\": [{\"name\": \"a\"}]}", tls, tls);
	assert_true(load(doc, &cfg, err, sizeof(err)));
	assert_int_equal(cfg.listeners[1].port_owner, 0);
	config_free(&cfg);
	expect_error("{\"listeners\": [{\"port\": 9000, \"max_message_size\": 10}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].max_message_size: must be between 64 and");
}

/* auth type "refused": enabled, with its message (or a default); no other keys */
static void test_refused_method_config(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"refused\","
	                 " \"message\": \"use cryptosign\"}, \"wampcra\": {\"type\": \"refused\"},"
	                 " \"anonymous\": {\"type\": \"static\"}}}], \"realms\": [{\"name\": \"a\"}]}",
	                 &cfg, err, sizeof(err)));
	assert_true(cfg.listeners[0].auth.m[AUTH_TICKET].enabled);
	assert_string_equal(cfg.listeners[0].auth.m[AUTH_TICKET].refusal, "use cryptosign");
	assert_non_null(cfg.listeners[0].auth.m[AUTH_WAMPCRA].refusal);
	assert_null(cfg.listeners[0].auth.m[AUTH_ANONYMOUS].refusal);
	config_free(&cfg);
	expect_error("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"refused\","
	             " \"principals\": {}}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].auth.ticket.principals: unknown key");
	expect_error("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"static\","
	             " \"message\": \"x\", \"principals\": {}}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].auth.ticket: message applies to type \"refused\" only");
	expect_error("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"function\"}}}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "type must be \"static\", \"dynamic\" or \"refused\"");
}

static void test_admin_and_logs(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	/* off by default */
	assert_true(load("{\"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_false(cfg.admin.enabled);
	assert_int_equal(cfg.log_format, WLOG_TEXT);
	assert_int_equal(cfg.log_levels.def, WLOG_NOTICE);
	config_free(&cfg);

	assert_true(load("{\"admin\": {}, \"realms\": [{\"name\": \"a\"}]}", &cfg, err,
	                 sizeof(err)));
	assert_true(cfg.admin.enabled);
	assert_string_equal(cfg.admin.host, "127.0.0.1");
	assert_int_equal(cfg.admin.port, 8081);
	assert_null(cfg.admin.ticket);
	config_free(&cfg);

	assert_true(load("{\"admin\": {\"host\": \"*\", \"port\": 0, \"ticket\": \"t0k\"},"
	                 " \"log_level\": \"info,router=debug, auth=warn\", \"log_format\": \"json\","
	                 " \"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_true(cfg.admin.enabled);
	assert_null(cfg.admin.host);
	assert_int_equal(cfg.admin.port, 0);
	assert_string_equal(cfg.admin.ticket, "t0k");
	assert_int_equal(cfg.log_format, WLOG_JSON);
	assert_int_equal(cfg.log_levels.def, WLOG_INFO);
	assert_int_equal(cfg.log_levels.n, 2);
	assert_string_equal(cfg.log_levels.mod[0].name, "router");
	assert_int_equal(cfg.log_levels.mod[0].level, WLOG_DEBUG);
	assert_string_equal(cfg.log_levels.mod[1].name, "auth");
	assert_int_equal(cfg.log_levels.mod[1].level, WLOG_WARN);
	config_free(&cfg);

	assert_true(load("{\"admin\": {\"enabled\": false}, \"realms\": [{\"name\": \"a\"}]}",
	                 &cfg, err, sizeof(err)));
	assert_false(cfg.admin.enabled);
	config_free(&cfg);

	expect_error("{\"admin\": {\"prot\": 1}}", "admin.prot: unknown key");
	expect_error("{\"admin\": {\"port\": 99999}}", "admin.port: must be between");
	expect_error("{\"admin\": {\"ticket\": \"\"}}", "admin.ticket: must not be empty");
	/* reachable from other hosts: a ticket is required (SECURITY.md) */
	expect_error("{\"admin\": {\"host\": \"*\"}}", "admin.ticket: is required when admin.host (*)");
	expect_error("{\"admin\": {\"host\": \"0.0.0.0\"}}", "admin.ticket: is required");
	expect_error("{\"admin\": {\"host\": \"10.1.2.3\"}}", "admin.ticket: is required");
	expect_error("{\"admin\": {\"host\": \"\"}}", "admin.ticket: is required");
	assert_true(load("{\"admin\": {\"host\": \"127.0.0.2\"}, \"realms\": [{\"name\": \"a\"}]}",
	                 &cfg, err, sizeof(err)));
	config_free(&cfg);
	expect_error("{\"admin\": []}", "admin: must be an object");
	expect_error("{\"log_format\": \"xml\"}", "log_format: must be");
	expect_error("{\"log_level\": \"info,router=loud\"}", "log_level: unknown log level \"loud\"");
	expect_error("{\"log_level\": \"info,debug\"}", "two default log levels");
}

static void test_backplane(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"realms\": [{\"name\": \"a\"}], \"listeners\": [{\"port\": 0, "
	                 "\"reuse_port\": true}], \"backplane\": {\"redis\": "
	                 "\"redis://10.0.0.5:6380/2\", \"node_id\": \"n-1\", \"heartbeat_ttl\": 1500}}",
	                 &cfg, err, sizeof(err)));
	assert_string_equal(cfg.backplane.redis, "redis://10.0.0.5:6380/2");
	assert_string_equal(cfg.backplane.redis_host, "10.0.0.5");
	assert_int_equal(cfg.backplane.redis_port, 6380);
	assert_int_equal(cfg.backplane.redis_db, 2);
	assert_null(cfg.backplane.redis_user);
	assert_null(cfg.backplane.redis_password);
	assert_string_equal(cfg.backplane.node_id, "n-1");
	assert_int_equal(cfg.backplane.heartbeat_ttl_ms, 1500);
	assert_true(cfg.listeners[0].reuse_port);
	config_free(&cfg);
	assert_true(load("{\"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_null(cfg.backplane.redis); /* off by default */
	assert_int_equal(cfg.backplane.heartbeat_ttl_ms, 5000);
	assert_false(cfg.listeners[0].reuse_port);
	config_free(&cfg);
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {}}",
	             "backplane.redis: is required");
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {\"redis\": \"http://x\"}}",
	             "backplane.redis: must be a redis://");
	/* a password (and an ACL user), %-encoded; never in the error message */
	assert_true(load("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {\"redis\": "
	                 "\"redis://u%3a1:p%40ss%25w@h:7000\"}}", &cfg, err, sizeof(err)));
	assert_string_equal(cfg.backplane.redis_user, "u:1");
	assert_string_equal(cfg.backplane.redis_password, "p@ss%w");
	assert_string_equal(cfg.backplane.redis_host, "h");
	assert_int_equal(cfg.backplane.redis_port, 7000);
	assert_int_equal(cfg.backplane.redis_db, 0);
	config_free(&cfg);
	assert_true(load("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {\"redis\": "
	                 "\"redis://:pw@h/3\"}}", &cfg, err, sizeof(err)));
	assert_null(cfg.backplane.redis_user);
	assert_string_equal(cfg.backplane.redis_password, "pw");
	assert_int_equal(cfg.backplane.redis_db, 3);
	config_free(&cfg);
	{
		static const char *const bad[] = {"redis://pw@h", "redis://u:@h", "redis://:%zz@h",
		                                  "redis://:%00@h", "redis://:pw@", "redis://:pw@h:x"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char text[256];

			snprintf(text, sizeof(text), "{\"realms\": [{\"name\": \"a\"}], "
			         "\"backplane\": {\"redis\": \"%s\"}}", bad[i]);
			assert_false(load(text, &cfg, err, sizeof(err)));
			assert_non_null(strstr(err, "backplane.redis: must be a redis://"));
			assert_null(strstr(err, bad[i] + 8)); /* the URL is not repeated */
		}
	}
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {\"redis\": "
	             "\"redis://h\", \"node_id\": \"a b\"}}", "backplane.node_id");
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {\"redis\": "
	             "\"redis://h\", \"heartbeat_ttl\": 10}}", "backplane.heartbeat_ttl");
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"backplane\": {\"redis\": "
	             "\"redis://h\", \"nodeid\": \"x\"}}", "backplane.nodeid: unknown key");
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"listeners\": [{\"reuse_port\": 1}]}",
	             "reuse_port must be true or false");
}

/* allowed_origins (issue #17 finding 7): per listener, per HTTP service, from Crossbar */
static void test_allowed_origins(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"listeners\": [{\"allowed_origins\": [\"https://a.example\","
	                 " \"https://*.b.example\"], \"http\": {\"/p\": {\"type\": \"publisher\","
	                 " \"realm\": \"a\", \"allowed_origins\": []}, \"/s\": {\"type\": \"sse\","
	                 " \"realm\": \"a\"}}}], \"realms\": [{\"name\": \"a\"}]}",
	                 &cfg, err, sizeof(err)));
	assert_string_equal(cfg.listeners[0].allowed_origins[0], "https://a.example");
	assert_string_equal(cfg.listeners[0].allowed_origins[1], "https://*.b.example");
	assert_null(cfg.listeners[0].allowed_origins[2]);
	assert_non_null(cfg.listeners[0].http[0].allowed_origins); /* [] overrides */
	assert_null(cfg.listeners[0].http[0].allowed_origins[0]);
	assert_null(cfg.listeners[0].http[1].allowed_origins);     /* the listener's */
	config_free(&cfg);
	assert_true(load("{\"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_null(cfg.listeners[0].allowed_origins);
	config_free(&cfg);
	expect_error("{\"listeners\": [{\"allowed_origins\": [\"https://a.example/app\"]}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].allowed_origins: [0] \"https://a.example/app\" is not an origin");
	expect_error("{\"listeners\": [{\"allowed_origins\": \"https://a.example\"}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].allowed_origins: must be a list of strings");
	expect_error("{\"listeners\": [{\"type\": \"rawsocket\", \"allowed_origins\": [\"*\"]}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].allowed_origins: applies to websocket, universal and http");
	expect_error("{\"listeners\": [{\"http\": {\"/s\": {\"type\": \"sse\", \"realm\": \"a\","
	             " \"allowed_origins\": [\"\"]}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].http./s.allowed_origins: [0] must be a non-empty string");
	/* Crossbar: a WebSocket transport option, the listener's (its web services share it) */
	assert_true(load("{\"version\": 2, \"workers\": [{\"type\": \"router\", \"realms\":"
	                 " [{\"name\": \"a\"}], \"transports\": [{\"type\": \"web\", \"endpoint\":"
	                 " {\"type\": \"tcp\", \"port\": 8080}, \"paths\": {\"ws\": {\"type\":"
	                 " \"websocket\", \"options\": {\"allowed_origins\": [\"https://*.c.example\"]}},"
	                 " \"call\": {\"type\": \"caller\", \"realm\": \"a\"}}}]}]}",
	                 &cfg, err, sizeof(err)));
	assert_string_equal(cfg.listeners[0].allowed_origins[0], "https://*.c.example");
	assert_int_equal(cfg.listeners[0].nhttp, 1);
	assert_null(cfg.listeners[0].http[0].allowed_origins);
	config_free(&cfg);
}

/* listeners[].type "http": HTTP services only (no WebSocket, no RawSocket); the shapes it
 * is accepted in and those refused, and a configuration without any WAMP endpoint */
static void test_http_listener(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"listeners\": [{\"type\": \"http\", \"port\": 9000, \"allowed_origins\":"
	                 " [\"https://a.example\"], \"http\": {\"/j\": {\"type\": \"json\", \"value\":"
	                 " 1}, \"/lp\": {\"type\": \"longpoll\"}}, \"serializers\": [\"json\"],"
	                 " \"auth\": {\"ticket\": {\"type\": \"static\", \"principals\": {\"joe\":"
	                 " {\"ticket\": \"t\", \"role\": \"r\"}}}}},"
	                 " {\"type\": \"websocket\", \"port\": 9000, \"path\": \"/ws\"}],"
	                 " \"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_false(cfg.listeners[0].websocket);
	assert_false(cfg.listeners[0].rawsocket);
	assert_true(cfg.listeners[0].serves_http);
	assert_int_equal(cfg.listeners[0].nhttp, 2);
	assert_string_equal(cfg.listeners[0].allowed_origins[0], "https://a.example");
	/* its long-poll sessions': its serializers and auth */
	assert_int_equal(cfg.listeners[0].serializers, 1u << WAMP_SER_JSON);
	assert_true(cfg.listeners[0].auth.m[AUTH_TICKET].enabled);
	assert_int_equal(cfg.listeners[1].port_owner, 0); /* shares the port with /ws */
	assert_true(cfg.listeners[1].websocket && cfg.listeners[1].serves_http);
	assert_true(config_serves_wamp(&cfg));
	config_free(&cfg);
	/* web paths only: valid, no WAMP endpoint, no realm needed */
	assert_true(load("{\"listeners\": [{\"type\": \"http\", \"http\": {\"/\": {\"type\":"
	                 " \"json\", \"value\": []}}}], \"realms\": []}", &cfg, err, sizeof(err)));
	assert_false(config_serves_wamp(&cfg));
	assert_int_equal(cfg.nrealms, 0);
	config_free(&cfg);
	/* a long-poll service is a WAMP endpoint: it needs a realm */
	expect_error("{\"listeners\": [{\"type\": \"http\", \"http\": {\"/lp\": {\"type\":"
	             " \"longpoll\"}}}], \"realms\": []}", "no realm defined");
	/* refused shapes: nothing to serve, keys of WebSocket and RawSocket */
	expect_error("{\"listeners\": [{\"type\": \"http\"}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0]: an http listener serves its HTTP services only: give them");
	expect_error("{\"listeners\": [{\"type\": \"http\", \"http\": {}}],"
	             " \"realms\": [{\"name\": \"a\"}]}", "give them (http)");
	expect_error("{\"listeners\": [{\"type\": \"http\", \"path\": \"/ws\", \"http\": {\"/\":"
	             " {\"type\": \"json\", \"value\": 1}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].path: does not apply to an http listener");
	expect_error("{\"listeners\": [{\"type\": \"http\", \"ping_interval\": 5, \"http\": {\"/\":"
	             " {\"type\": \"json\", \"value\": 1}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].ping_interval: does not apply to an http listener");
	expect_error("{\"listeners\": [{\"type\": \"http\", \"max_message_size\": 500, \"http\":"
	             " {\"/\": {\"type\": \"json\", \"value\": 1}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].max_message_size: does not apply to an http listener");
	expect_error("{\"listeners\": [{\"type\": \"htttp\"}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0]: type \"htttp\" is not supported (universal, websocket, rawsocket, "
	             "http)");
	/* a rawsocket listener still has no HTTP */
	expect_error("{\"listeners\": [{\"type\": \"rawsocket\", \"http\": {\"/\": {\"type\":"
	             " \"json\", \"value\": 1}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].http: HTTP services need a websocket, universal or http listener");
	/* on one port: one service path once; SSE not over TLS, as elsewhere */
	expect_error("{\"listeners\": [{\"type\": \"http\", \"port\": 9000, \"http\": {\"/j\":"
	             " {\"type\": \"json\", \"value\": 1}}}, {\"type\": \"http\", \"port\": 9000,"
	             " \"http\": {\"/j\": {\"type\": \"json\", \"value\": 2}}}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[1].http./j: listeners[0] serves this path on port 9000 already");
	expect_error("{\"listeners\": [{\"type\": \"http\", \"tls\": {\"certificate\": \"c\","
	             " \"key\": \"k\"}, \"http\": {\"/s\": {\"type\": \"sse\", \"realm\": \"a\"}}}],"
	             " \"realms\": [{\"name\": \"a\"}]}", "are not served on TLS listeners yet");
	/* WebSocket listeners with no realm are still refused */
	expect_error("{\"listeners\": [{\"type\": \"websocket\"}], \"realms\": []}",
	             "no realm defined");
}

/* Does authid log in on listener auth a with this ticket (method "ticket"), or, with
 * `wampcra`, by signing the challenge with this key? What the configuration stored is the
 * method's own (opaque): a login is how to see it. */
static bool logs_in(const struct auth_config *a, const char *authid, const char *secret,
                    bool wampcra)
{
	json_t *d = json_pack("{s:[s], s:s}", "authmethods", wampcra ? "wampcra" : "ticket",
	                      "authid", authid);
	json_t *extra = NULL;
	struct ids_gen ids = {.avail = 0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	char *sig = NULL;
	bool ok = auth_hello(a, "a", d, 1, NULL, &ids, &st, &step, &extra, &id) == WAMPD_OK &&
	          step == AUTH_STEP_CHALLENGE;

	if (ok && wampcra)
		sig = auth_wampcra_sign(secret, wamp_dict_str(extra, "challenge", ""));
	ok = ok && auth_authenticate(&st, sig ? sig : secret, strlen(sig ? sig : secret), NULL,
	                             &step, &id) == WAMPD_OK;
	free(sig);
	json_decref(extra);
	json_decref(d);
	auth_pending_clear(&st);
	auth_identity_clear(&id);
	return ok;
}

/* #17 finding 2: a string value that is exactly "${NAME}" comes from the environment, in
 * both formats, wherever it is; unset, empty or not a name: the error names the key */
static void test_env_values(void **state)
{
	struct config cfg;
	char err[256];
	struct auth_principal *p = NULL;
	const struct auth_config *a;

	(void)state;
	setenv("WAMPD_T_TICKET", "from-env", 1);
	setenv("WAMPD_T_ADMIN", "adm", 1);
	setenv("WAMPD_T_EMPTY", "", 1);
	unsetenv("WAMPD_T_UNSET");
	assert_true(load("{\"admin\": {\"ticket\": \"${WAMPD_T_ADMIN}\"}, \"listeners\": [{\"auth\":"
	                 " {\"ticket\": {\"type\": \"static\", \"principals\": {"
	                 "\"joe\": {\"ticket\": \"${WAMPD_T_TICKET}\", \"role\": \"user\"},"
	                 "\"amy\": {\"ticket\": \"x${WAMPD_T_TICKET}\", \"role\": \"user\"},"
	                 "\"bob\": {\"ticket\": \"$WAMPD_T_TICKET\", \"role\": \"user\"}}}}}],"
	                 " \"realms\": [{\"name\": \"a\"}]}", &cfg, err, sizeof(err)));
	assert_string_equal(cfg.admin.ticket, "adm");
	HASH_FIND_STR(cfg.listeners[0].auth.m[AUTH_TICKET].principals, "joe", p);
	assert_non_null(p);
	a = &cfg.listeners[0].auth;
	assert_true(logs_in(a, "joe", "from-env", false));
	assert_false(logs_in(a, "joe", "${WAMPD_T_TICKET}", false));
	/* only the whole string is a reference */
	assert_true(logs_in(a, "amy", "x${WAMPD_T_TICKET}", false));
	assert_false(logs_in(a, "amy", "xfrom-env", false));
	assert_true(logs_in(a, "bob", "$WAMPD_T_TICKET", false));
	config_free(&cfg);

	/* a Crossbar document: the path is the Crossbar one */
	assert_true(load("{\"workers\": [{\"type\": \"router\", \"realms\": [{\"name\": \"a\"}],"
	                 " \"transports\": [{\"type\": \"websocket\", \"endpoint\": {\"type\":"
	                 " \"tcp\", \"port\": 8080}, \"auth\": {\"wampcra\": {\"type\": \"static\","
	                 " \"users\": {\"peter\": {\"secret\": \"${WAMPD_T_TICKET}\","
	                 " \"role\": \"u\"}}}}}]}]}", &cfg, err, sizeof(err)));
	HASH_FIND_STR(cfg.listeners[0].auth.m[AUTH_WAMPCRA].principals, "peter", p);
	assert_non_null(p);
	assert_true(logs_in(&cfg.listeners[0].auth, "peter", "from-env", true));
	assert_false(logs_in(&cfg.listeners[0].auth, "peter", "${WAMPD_T_TICKET}", true));
	config_free(&cfg);
	expect_error("{\"workers\": [{\"type\": \"router\", \"realms\": [{\"name\": \"a\"}],"
	             " \"transports\": [{\"type\": \"websocket\", \"endpoint\": {\"type\":"
	             " \"tcp\", \"port\": 8080}, \"auth\": {\"ticket\": {\"type\": \"static\","
	             " \"principals\": {\"joe\": {\"ticket\": \"${WAMPD_T_UNSET}\","
	             " \"role\": \"u\"}}}}}]}]}",
	             "workers[0].transports[0].auth.ticket.principals.joe.ticket: environment "
	             "variable WAMPD_T_UNSET is not set");
	expect_error("{\"admin\": {\"ticket\": \"${WAMPD_T_EMPTY}\"}, \"realms\": [{\"name\": \"a\"}]}",
	             "admin.ticket: environment variable WAMPD_T_EMPTY is empty");
	expect_error("{\"admin\": {\"ticket\": \"${}\"}, \"realms\": [{\"name\": \"a\"}]}",
	             "admin.ticket: \"${...}\" must name an environment variable");
	expect_error("{\"admin\": {\"ticket\": \"${9A}\"}, \"realms\": [{\"name\": \"a\"}]}",
	             "admin.ticket: \"${...}\" must name an environment variable");
	expect_error("{\"realms\": [{\"name\": \"a\"}], \"listeners\": [{\"http\": {\"/c\": {"
	             "\"type\": \"caller\", \"realm\": \"a\", \"auth\": {\"type\": \"ticket\","
	             " \"tickets\": [\"t\", \"${WAMPD_T_UNSET}\"]}}}}]}",
	             "listeners[0].http./c.auth.tickets[1]: environment variable WAMPD_T_UNSET");
	unsetenv("WAMPD_T_TICKET");
	unsetenv("WAMPD_T_ADMIN");
	unsetenv("WAMPD_T_EMPTY");
}

/* #17 (also seen): cryptosign channel binding required per listener, on TLS listeners only */
static void test_channel_binding_option(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"listeners\": [{\"tls\": {\"certificate\": \"s.pem\", \"key\": \"s.key\"},"
	                 " \"auth\": {\"cryptosign\": {\"type\": \"static\","
	                 " \"require_channel_binding\": true, \"principals\": {\"al\": {"
	                 "\"authorized_keys\": [\"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8\"],"
	                 " \"role\": \"u\"}}}}}], \"realms\": [{\"name\": \"a\"}]}",
	                 &cfg, err, sizeof(err)));
	{
		enum auth_method m = AUTH_TICKET;

		assert_string_equal(auth_config_tls_only(&cfg.listeners[0].auth, &m),
		                    "require_channel_binding");
		assert_int_equal(m, AUTH_CRYPTOSIGN);
	}
	config_free(&cfg);
	expect_error("{\"listeners\": [{\"auth\": {\"cryptosign\": {\"type\": \"dynamic\","
	             " \"authenticator\": \"com.a\", \"require_channel_binding\": true}}}],"
	             " \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].auth.cryptosign.require_channel_binding: needs a TLS listener");
	expect_error("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"dynamic\","
	             " \"authenticator\": \"com.a\", \"require_channel_binding\": true}}}],"
	             " \"realms\": [{\"name\": \"a\"}]}", "applies to cryptosign only");
	expect_error("{\"listeners\": [{\"tls\": {\"certificate\": \"s.pem\", \"key\": \"s.key\"},"
	             " \"auth\": {\"cryptosign\": {\"type\": \"dynamic\", \"authenticator\": \"com.a\","
	             " \"require_channel_binding\": 1}}}], \"realms\": [{\"name\": \"a\"}]}",
	             "require_channel_binding must be true or false");
}

/* #17 (also seen): the roles pinned to register authenticators and authorizers */
static void test_register_pins(void **state)
{
	struct config cfg;
	char err[256];
	struct authz_role *role = NULL;

	(void)state;
	assert_true(load("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"dynamic\","
	                 " \"authenticator\": \"com.a\", \"authenticator_role\": \"authn\"}}}],"
	                 " \"realms\": [{\"name\": \"a\", \"roles\": [{\"name\": \"dyn\","
	                 " \"authorizer\": \"com.z\", \"authorizer_role\": \"authz\"}]}]}",
	                 &cfg, err, sizeof(err)));
	assert_string_equal(cfg.listeners[0].auth.m[AUTH_TICKET].authenticator_role, "authn");
	HASH_FIND_STR(cfg.realms[0].authz.roles, "dyn", role);
	assert_non_null(role);
	assert_string_equal(role->authorizer_role, "authz");
	config_free(&cfg);
	expect_error("{\"listeners\": [{\"auth\": {\"ticket\": {\"type\": \"static\","
	             " \"authenticator_role\": \"x\", \"principals\": {}}}}],"
	             " \"realms\": [{\"name\": \"a\"}]}", "applies to dynamic methods only");
	expect_error("{\"realms\": [{\"name\": \"a\", \"roles\": [{\"name\": \"r\","
	             " \"authorizer_role\": \"x\"}]}]}", "authorizer_role needs an authorizer");
}

/* realms[].store and event_history[].max_age (#21) */
static void test_event_store(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"lmdb\", "
	                 "\"path\": \"/var/lib/wampd/a\", \"durable\": true}, \"event_history\": "
	                 "[{\"uri\": \"com.\", \"match\": \"prefix\", \"max_age\": 60}]}, "
	                 "{\"name\": \"b\"}]}", &cfg, err, sizeof(err)));
	assert_string_equal(cfg.realms[0].store.type, "lmdb");
	assert_string_equal(cfg.realms[0].store.path, "/var/lib/wampd/a");
	assert_true(cfg.realms[0].store.durable);
	assert_int_equal(cfg.realms[0].store.max_size, STORE_DEFAULT_LMDB_MAX_SIZE);
	assert_int_equal(cfg.realms[0].history[0].max_age_ms, 60000);
	assert_int_equal(cfg.realms[0].history[0].limit, 100);
	assert_null(cfg.realms[1].store.type); /* memory */
	config_free(&cfg);
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"disk\"}}]}",
	             "realms[0].store: type must be memory, lmdb or redis");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"lmdb\"}}]}",
	             "realms[0].store: path (a directory for the lmdb files) is required");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"durable\": true}}]}",
	             "durable needs a store that keeps events");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"redis\"}}]}",
	             "configure backplane.redis");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"lmdb\", \"path\":"
	             " \"/x\"}}, {\"name\": \"b\", \"store\": {\"type\": \"lmdb\", \"path\": \"/x\"}}]}",
	             "each realm needs a directory of its own");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"lmdb\", \"path\":"
	             " \"/x\", \"max_size\": 4096}}]}", "realms[0].store.max_size: must be between");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"type\": \"memory\", "
	             "\"path\": \"/x\"}}]}", "path is for the lmdb store only");
	expect_error("{\"realms\": [{\"name\": \"a\", \"store\": {\"kind\": 1}}]}",
	             "realms[0].store.kind: unknown key");
	assert_true(load("{\"backplane\": {\"redis\": \"redis://127.0.0.1:6379/0\"}, \"realms\": "
	                 "[{\"name\": \"a\", \"store\": {\"type\": \"redis\"}}]}", &cfg, err,
	                 sizeof(err)));
	assert_string_equal(cfg.realms[0].store.type, "redis");
	config_free(&cfg);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_false(config_load_file("/nonexistent/wampd.json", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/wampd.json"));
}

/* The web services' keys (config_web.c): a relative directory is taken from the
 * configuration file's directory; header values are checked; defaults. */
static void test_web_services(void **state)
{
	struct config cfg;
	char err[256] = "";
	const struct http_service_config *h;

	(void)state;
	assert_true(load("{\"realms\": [{\"name\": \"a\"}], \"listeners\": [{\"http\": {"
	                 "\"/\": {\"type\": \"static\", \"directory\": \"web/../site\","
	                 " \"directory_listing\": true, \"cache_timeout\": 60,"
	                 " \"default_file\": \"index.html\", \"mime_types\": {\".X\": \"text/x\"}},"
	                 "\"/abs\": {\"type\": \"static\", \"directory\": \"/srv/www\"},"
	                 "\"/old\": {\"type\": \"redirect\", \"url\": \"https://e.example/n\"},"
	                 "\"/moved\": {\"type\": \"redirect\", \"url\": \"/n\", \"status\": 308},"
	                 "\"/conf\": {\"type\": \"json\", \"value\": {\"b\": [1], \"a\": null}},"
	                 "\"/pretty\": {\"type\": \"json\", \"value\": [1], \"prettify\": true},"
	                 "\"/info\": {\"type\": \"nodeinfo\"}}}]}",
	                 &cfg, err, sizeof(err)));
	assert_int_equal(cfg.listeners[0].nhttp, 7);
	h = cfg.listeners[0].http;
	assert_int_equal(h[0].type, HTTP_SVC_STATIC);
	/* load() writes the file in /tmp: the directory is /tmp's, made absolute */
	assert_string_equal(h[0].directory, "/tmp/web/../site");
	assert_true(h[0].directory_listing);
	assert_int_equal(h[0].cache_timeout_s, 60);
	assert_string_equal(h[0].default_file, "index.html");
	assert_string_equal(h[0].mime_types[0], ".X");
	assert_string_equal(h[0].mime_types[1], "text/x");
	assert_null(h[0].mime_types[2]);
	assert_string_equal(h[1].directory, "/srv/www");
	assert_false(h[1].directory_listing);    /* defaults */
	assert_int_equal(h[1].cache_timeout_s, 0);
	assert_null(h[1].default_file);
	assert_int_equal(h[2].type, HTTP_SVC_REDIRECT);
	assert_int_equal(h[2].redirect_status, 302);
	assert_string_equal(h[2].url, "https://e.example/n");
	assert_int_equal(h[3].redirect_status, 308);
	assert_int_equal(h[4].type, HTTP_SVC_JSON);
	assert_string_equal(h[4].json, "{\"b\":[1],\"a\":null}");
	assert_string_equal(h[5].json, "[\n   1\n]");
	assert_int_equal(h[6].type, HTTP_SVC_NODEINFO);
	config_free(&cfg);

	expect_error("{\"listeners\": [{\"http\": {\"/\": {\"type\": \"static\"}}}]}",
	             "listeners[0].http./: a static service needs a directory");
	expect_error("{\"listeners\": [{\"http\": {\"/\": {\"type\": \"static\","
	             " \"directory\": \"d\", \"realm\": \"a\"}}}]}",
	             "listeners[0].http./.realm: unknown key");
	expect_error("{\"listeners\": [{\"http\": {\"/\": {\"type\": \"static\","
	             " \"directory\": \"d\", \"default_file\": \"/etc/passwd\"}}}]}",
	             "default_file must be a file name relative to the directory");
	expect_error("{\"listeners\": [{\"http\": {\"/\": {\"type\": \"static\","
	             " \"directory\": \"d\", \"mime_types\": {\".x\": \"a\\r\\nSet-Cookie: x\"}}}}]}",
	             "listeners[0].http./.mime_types: .x: an extension maps to a MIME type");
	expect_error("{\"listeners\": [{\"http\": {\"/\": {\"type\": \"static\","
	             " \"directory\": \"d\", \"directory_listing\": 1}}}]}",
	             "directory_listing must be true or false");
	expect_error("{\"listeners\": [{\"http\": {\"/r\": {\"type\": \"redirect\","
	             " \"url\": \"https://a\\r\\nSet-Cookie: x\"}}}]}",
	             "listeners[0].http./r: a redirect needs a url");
	expect_error("{\"listeners\": [{\"http\": {\"/r\": {\"type\": \"redirect\","
	             " \"url\": \"/x\", \"status\": 305}}}]}",
	             "status must be 301, 302, 303, 307 or 308");
	expect_error("{\"listeners\": [{\"http\": {\"/j\": {\"type\": \"json\"}}}]}",
	             "listeners[0].http./j: a json service needs a value");
	expect_error("{\"listeners\": [{\"http\": {\"/i\": {\"type\": \"nodeinfo\","
	             " \"value\": 1}}}]}", "listeners[0].http./i.value: unknown key");
	expect_error("{\"listeners\": [{\"http\": {\"/i\": {\"type\": \"wsgi\"}}}]}",
	             "type \"wsgi\" is not an HTTP service");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_packaged_default),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_name_the_key),
		cmocka_unit_test(test_tls_listeners),
		cmocka_unit_test(test_listeners_sharing_a_port),
		cmocka_unit_test(test_refused_method_config),
		cmocka_unit_test(test_admin_and_logs),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_backplane),
		cmocka_unit_test(test_allowed_origins),
		cmocka_unit_test(test_http_listener),
		cmocka_unit_test(test_env_values),
		cmocka_unit_test(test_channel_binding_option),
		cmocka_unit_test(test_register_pins),
		cmocka_unit_test(test_event_store),
		cmocka_unit_test(test_web_services),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
