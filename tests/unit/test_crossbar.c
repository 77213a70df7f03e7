/*
 * test_crossbar.c - the translation of a Crossbar.io node configuration into wampd's own
 * (router/config/crossbar.c): small Crossbar documents, each with the native document it must
 * become and the exact list of what it must report as ignored (in order), covering every
 * row of crossbar-interop/README.md's "What maps" and "What is ignored" tables; and every
 * example configuration of that guide loading through the router's own loader.
 *
 * The documents are written with ' for " (the helper swaps them) to keep them readable;
 * the ignored lines are compared as they are.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "router/config/config.h"
#include "router/config/crossbar.h"

/* A JSON document written with ' for ". */
static json_t *doc(const char *text)
{
	char *s = strdup(text);
	json_error_t err;
	json_t *j;

	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(s, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		fail_msg("test document does not parse: %s: %s", err.text, s);
	free(s);
	return j;
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Translate the Crossbar document `in`: the result must equal `want` and the ignored list
 * the NULL-terminated `ignored`. */
static void expect_translation(const char *in, const char *want, const char *const *ignored)
{
	json_t *cb = doc(in), *expected = doc(want), *notes = json_array(), *got;
	char err[512] = "";
	size_t n = 0;

	got = crossbar_translate(cb, notes, err, sizeof(err));
	if (!got)
		fail_msg("translation failed: %s", err);
	if (!json_equal(got, expected)) {
		char *g = dump(got), *w = dump(expected);

		fail_msg("translated to\n  %s\nexpected\n  %s", g, w);
	}
	while (ignored[n])
		n++;
	for (size_t i = 0; i < n || i < json_array_size(notes); i++) {
		const char *note = json_string_value(json_array_get(notes, i));

		if (i >= n || !note || strcmp(note, ignored[i]))
			fail_msg("ignored[%zu] is \"%s\", expected \"%s\"", i, note ? note : "(none)",
			         i < n ? ignored[i] : "(none)");
	}
	json_decref(got);
	json_decref(notes);
	json_decref(expected);
	json_decref(cb);
}

#define NONE ((const char *const[]){NULL})

static void test_hello_world(void **state)
{
	(void)state;
	expect_translation(
		"{'version': 2, 'controller': {}, 'workers': [{'type': 'router',"
		" 'realms': [{'name': 'realm1', 'roles': [{'name': 'anonymous', 'permissions':"
		"  [{'uri': '', 'match': 'prefix', 'allow': {'call': true, 'register': true,"
		"    'publish': true, 'subscribe': true}, 'disclose': {'caller': false,"
		"    'publisher': false}, 'cache': true}]}]}],"
		" 'transports': [{'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'paths': {'/': {'type': 'static', 'directory': '..'}, 'ws': {'type': 'websocket'},"
		"   'info': {'type': 'nodeinfo'}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws',"
		"  'http': {'/': {'type': 'static', 'directory': '..', 'cache_timeout': 43200},"
		"   '/info': {'type': 'nodeinfo'}}}],"
		" 'realms': [{'name': 'realm1', 'roles': [{'name': 'anonymous', 'permissions':"
		"  [{'uri': '', 'match': 'prefix', 'allow': {'call': true, 'register': true,"
		"    'publish': true, 'subscribe': true}, 'disclose': {'caller': false,"
		"    'publisher': false}}]}]}]}",
		(const char *const[]){
			"ignored: controller: wampd has no controller",
			NULL});
}

/* Realms: roles keep what wampd reads (cache silently: static permissions need none),
 * event history per (uri, match), only the memory store. */
/* Crossbar's auto_ping_timeout waits for a pong; wampd's ping_timeout counts from the last
 * traffic: the interval is added, and without pings (no interval, 0) nothing is timed (a
 * timeout alone under wampd's default interval would hang up every idle session) */
static void test_ping_timeout(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080}, 'paths': {"
		"  'a': {'type': 'websocket', 'options': {'auto_ping_interval': 10000,"
		"   'auto_ping_timeout': 5000}},"
		"  'b': {'type': 'websocket', 'options': {'auto_ping_timeout': 5000}},"
		"  'c': {'type': 'websocket', 'options': {'auto_ping_interval': 0,"
		"   'auto_ping_timeout': 5000}}}}]}]}",
		"{'listeners': ["
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/a', 'ping_interval': 10,"
		"   'ping_timeout': 15},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/b'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/c', 'ping_interval': 0}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){NULL});
}

static void test_realms_roles_history(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': ["
		" {'name': 'r', 'options': {'enable_meta_api': true, 'uri_check': 'strict',"
		"   'bridge_meta_api': true, 'event_dispatching_chunk_size': 100, 'x': 1},"
		"  'rlinks': [],"
		"  'store': {'type': 'memory', 'limit': 7, 'call-queue': [], 'event-history':"
		"   [{'uri': 'com.log.', 'match': 'prefix', 'limit': 100}, {'uri': 'com.one'}]},"
		"  'roles': [{'name': 'user', 'authorizer': 'com.authz', 'x': 1, 'permissions':"
		"   [{'uri': 'com.', 'match': 'prefix', 'allow': {'call': true}, 'cache': true,"
		"     'y': 2}]}]},"
		" {'name': 'other', 'store': {'type': 'redis', 'path': 'p'}},"
		" {'name': 'db', 'store': {'type': 'cfxdb', 'path': '../.db', 'maxsize': 1048576,"
		"   'buffer-flush': 250, 'event-history': [{'uri': 'd.', 'match': 'prefix'}]}}],"
		" 'transports': [{'type': 'websocket', 'endpoint': {'type': 'tcp', 'port': 9000,"
		"  'interface': '127.0.0.1'}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 9000, 'host': '127.0.0.1', 'path': '*'}],"
		" 'realms': [{'name': 'r', 'uri_check': 'strict',"
		"  'event_history': [{'uri': 'com.log.', 'match': 'prefix', 'limit': 100},"
		"   {'uri': 'com.one', 'limit': 7}],"
		"  'roles': [{'name': 'user', 'authorizer': 'com.authz', 'permissions':"
		"   [{'uri': 'com.', 'match': 'prefix', 'allow': {'call': true}}]}]},"
		" {'name': 'other'},"
		" {'name': 'db', 'store': {'type': 'lmdb', 'path': '../.db', 'max_size': 1048576},"
		"  'event_history': [{'uri': 'd.', 'match': 'prefix'}]}]}",
		(const char *const[]){
			"ignored: workers[0].realms[0].rlinks: router-to-router links are not supported "
			"(one wampd process is one router: its router workers are merged)",
			"ignored: workers[0].realms[0].options.bridge_meta_api: router-to-router links are "
			"not supported",
			"ignored: workers[0].realms[0].options.event_dispatching_chunk_size: wampd queues "
			"an event to all its subscribers at once (encoded once per serializer)",
			"ignored: workers[0].realms[0].options.x: realm option not supported",
			"ignored: workers[0].realms[0].roles[0].x: not supported by wampd",
			"ignored: workers[0].realms[0].roles[0].permissions[0].y: not supported by wampd",
			"ignored: workers[0].realms[0].store.call-queue: queued calls are not supported",
			"ignored: workers[0].realms[1].store.type: store type not supported (memory and "
			"cfxdb are)",
			"ignored: workers[0].realms[1].store.path: only for a cfxdb store",
			"ignored: workers[0].realms[2].store.buffer-flush: wampd commits once per event "
			"loop iteration (durable: false)",
			NULL});
}

/* A websocket transport (served on any path): serializers wampd serves, the options that
 * map to the listener's limits and allowed_origins, auth blocks as they are (less what
 * wampd does not read), function authenticators refused; the other options listed. */
static void test_websocket_transport(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'websocket', 'id': 't1', 'url': 'ws://x', 'debug': false,"
		"  'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'serializers': ['msgpack', 'ubjson', 'json'],"
		"  'options': {'max_message_size': 1048576, 'auto_ping_interval': 10000,"
		"   'auto_ping_timeout': 2500, 'allowed_origins': ['https://app.example'],"
		"   'allow_null_origin': true, 'require_websocket_subprotocol': true,"
		"   'compression': {'deflate': {}}, 'auto_ping_size': 4, 'enable_webstatus': false,"
		"   'open_handshake_timeout': 1000, 'fail_by_drop': true},"
		"  'cookie': {'name': 'cbtid'},"
		"  'auth': {'anonymous': {'type': 'static', 'role': 'guest'},"
		"   'ticket': {'type': 'static', 'principals': {'joe': {'ticket': 's', 'role': 'u'}},"
		"    'comment': 'x'},"
		"   'wampcra': {'type': 'dynamic', 'authenticator': 'com.auth',"
		"    'authenticator-realm': 'auth'},"
		"   'cryptosign': {'type': 'function', 'create': 'auth.create'},"
		"   'cookie': {}, 'tls': {'type': 'static', 'principals': {'client_0':"
		"    {'certificate-sha1': 'E0:01', 'role': 'backend'}}}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '*',"
		"  'serializers': ['msgpack', 'json'],"
		"  'allowed_origins': ['https://app.example', 'null'],"
		"  'max_message_size': 1048576, 'ping_interval': 10, 'ping_timeout': 13,"
		"  'auth': {'anonymous': {'type': 'static', 'role': 'guest'},"
		"   'ticket': {'type': 'static', 'principals': {'joe': {'ticket': 's', 'role': 'u'}}},"
		"   'wampcra': {'type': 'dynamic', 'authenticator': 'com.auth',"
		"    'authenticator-realm': 'auth'},"
		"   'cryptosign': {'type': 'refused', 'message': 'cryptosign logins are not supported "
		"here: wampd cannot run a Crossbar function authenticator, Python code "
		"(workers[0].transports[0].auth.cryptosign)'},"
		"   'tls': {'type': 'static', 'principals': {'client_0':"
		"    {'certificate-sha1': 'E0:01', 'role': 'backend'}}}}}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].serializers[1]: serializer not supported",
			"ignored: workers[0].transports[0].auth.ticket.comment: not supported by wampd",
			"ignored: workers[0].transports[0].auth.cryptosign: function authenticators "
			"(Python code) are not supported: this method's logins are refused (ABORT "
			"wamp.error.not_authorized), the other methods are served",
			"ignored: workers[0].transports[0].auth.cookie: cookie authentication is not "
			"supported",
			"ignored: workers[0].transports[0].cookie: cookie tracking is not supported (nor "
			"cookie authentication)",
			"ignored: workers[0].transports[0].options.compression: permessage-deflate is not "
			"offered (libwebsockets 4.1.6's can be crashed by one crafted frame: SECURITY.md): "
			"messages go uncompressed (clients fall back to that)",
			"ignored: workers[0].transports[0].options.auto_ping_size: wampd's pings carry no "
			"payload",
			"ignored: workers[0].transports[0].options.enable_webstatus: WebSocket option not "
			"supported",
			"ignored: workers[0].transports[0].options.open_handshake_timeout: the opening "
			"handshake (and HELLO) must come within limits.hello_timeout",
			"ignored: workers[0].transports[0].options.fail_by_drop: wampd closes with a close "
			"frame (a violation: 1002)",
			NULL});
}

/* A dynamic tls method (crossbar-examples' authentication/tls/dynamic) is served as it is:
 * its authenticator is asked (before: type "refused", listed as not supported). */
static void test_tls_dynamic_auth(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'realm1'}], 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'paths': {'ws': {'type': 'websocket', 'auth': {'tls': {'type': 'dynamic',"
		"   'authenticator': 'com.example.authenticate'}}}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws',"
		"  'auth': {'tls': {'type': 'dynamic', 'authenticator': 'com.example.authenticate'}}}],"
		" 'realms': [{'name': 'realm1'}]}",
		NONE);
}

/* allow_null_origin: "null" joins a list of origins that has no "*"; refusing it where
 * every origin is allowed does not map (listed) */
static void test_null_origin(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'transports': ["
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8080}, 'websocket': {"
		"  'a': {'options': {'allow_null_origin': true, 'allowed_origins': ['https://x']}},"
		"  'b': {'options': {'allow_null_origin': true}},"
		"  'c': {'options': {'allow_null_origin': false}},"
		"  'd': {'options': {'allowed_origins': ['*'], 'allow_null_origin': false}},"
		"  'e': {'options': {'allowed_origins': ['*'], 'allow_null_origin': true,"
		"   'validate_utf8': false, 'require_websocket_subprotocol': false}}}}]}]}",
		"{'listeners': ["
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/a',"
		"   'allowed_origins': ['https://x', 'null']},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/b'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/c'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/d',"
		"   'allowed_origins': ['*']},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/e',"
		"   'allowed_origins': ['*']}],"
		" 'realms': []}",
		(const char *const[]){
			"ignored: workers[0].transports[0].websocket.c.options.allow_null_origin: an Origin "
			"\"null\" is allowed where every origin is (list the origins in allowed_origins)",
			"ignored: workers[0].transports[0].websocket.d.options.allow_null_origin: an Origin "
			"\"null\" is allowed where every origin is (list the origins in allowed_origins)",
			"ignored: workers[0].transports[0].websocket.e.options.validate_utf8: wampd always "
			"validates UTF-8",
			"ignored: workers[0].transports[0].websocket.e.options.require_websocket_subprotocol: "
			"wampd requires a WAMP subprotocol (a client offering none is refused)",
			NULL});
}

/* endpoint.tls: key, certificate and the CA files; OpenSSL's defaults for the rest. */
static void test_tls_endpoint(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'websocket', 'endpoint': {'type': 'tcp', 'port': 8443, 'tls': {"
		"  'key': 'k.pem', 'certificate': 'c.pem', 'ca_certificates': ['ca1.pem', 'ca2.pem'],"
		"  'dhparam': 'dh.pem', 'ciphers': 'ECDHE', 'chain_certificates': []}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8443, 'host': '*', 'path': '*',"
		"  'tls': {'key': 'k.pem', 'certificate': 'c.pem', 'ca_certificates': ['ca1.pem',"
		"   'ca2.pem']}}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].endpoint.tls.chain_certificates: not "
			"supported by wampd",
			"ignored: workers[0].transports[0].endpoint.tls.dhparam: OpenSSL's defaults are "
			"used",
			"ignored: workers[0].transports[0].endpoint.tls.ciphers: OpenSSL's defaults are "
			"used",
			NULL});
}

/* universal: each WebSocket path of its "websocket" map and of its "web" paths a
 * listener of its own on the port (own serializers, auth, options), RawSocket one more with
 * its own serializers and auth; the rest listed */
static void test_universal_transport(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'universal', 'id': 'u1', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'rawsocket': {'serializers': ['msgpack'], 'auth': {'ticket': {'type': 'static',"
		"   'principals': {'dev': {'ticket': 't', 'role': 'device'}}}},"
		"   'options': {'max_message_size': 4096, 'max_connections': 3}},"
		"  'websocket': {'ws': {'type': 'websocket', 'serializers': ['json'],"
		"    'options': {'auto_ping_interval': 1500}},"
		"   'auth_ws': {'type': 'websocket', 'auth': {'wampcra': {'type': 'static', 'users':"
		"    {'u': {'secret': 'p', 'role': 'user'}}}}, 'options': {'max_message_size': 65536}}},"
		"  'mqtt': {}, 'other': 1,"
		"  'web': {'paths': {'call': {'type': 'caller', 'realm': 'r'},"
		"   'deep': {'type': 'path', 'paths': {'ws': {'type': 'websocket'}}}},"
		"   'options': {'hsts': true}}},"
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8081},"
		"  'websocket': {'/wamp': {'type': 'websocket'}}}]}]}",
		"{'listeners': ["
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws',"
		"   'serializers': ['json'], 'ping_interval': 2,"
		"   'http': {'/call': {'type': 'caller', 'realm': 'r'}}},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/auth_ws',"
		"   'max_message_size': 65536, 'auth': {'wampcra': {'type': 'static', 'users':"
		"    {'u': {'secret': 'p', 'role': 'user'}}}}},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/deep/ws'},"
		"  {'type': 'rawsocket', 'port': 8080, 'host': '*', 'serializers': ['msgpack'],"
		"   'max_message_size': 4096, 'auth': {'ticket': {'type': 'static',"
		"    'principals': {'dev': {'ticket': 't', 'role': 'device'}}}}},"
		"  {'type': 'websocket', 'port': 8081, 'host': '*', 'path': '/wamp'}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].other: not supported by wampd",
			"ignored: workers[0].transports[0].web.options.hsts: web transport option not "
			"supported",
			"ignored: workers[0].transports[0].rawsocket.options.max_connections: RawSocket "
			"option not supported",
			"ignored: workers[0].transports[0].mqtt: MQTT is not served",
			NULL});
}

/* web transports: several WebSocket paths, nested "path" services with WebSocket paths
 * inside (each a listener of the port), the transport's options listed */
static void test_web_paths_nested(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080, 'backlog': 1024,"
		"  'shared': true, 'x': 1}, 'options': {'access_log': true}, 'y': 2, 'paths': {"
		"  '/': {'type': 'static', 'directory': '.'},"
		"  'ws': {'type': 'websocket', 'serializers': ['json']},"
		"  'app': {'type': 'path', 'paths': {"
		"   '/': {'type': 'static', 'directory': 'app'},"
		"   'ws2': {'type': 'websocket', 'serializers': ['msgpack'],"
		"    'auth': {'anonymous': {'type': 'static', 'role': 'app'}}},"
		"   'more': {'type': 'path', 'paths': {'ws': {'type': 'websocket'}}}}},"
		"  'bad': 3}}]}]}",
		"{'listeners': ["
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws',"
		"   'serializers': ['json'], 'http': {"
		"    '/': {'type': 'static', 'directory': '.', 'cache_timeout': 43200},"
		"    '/app': {'type': 'static', 'directory': 'app', 'cache_timeout': 43200}}},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/app/ws2',"
		"   'serializers': ['msgpack'], 'auth': {'anonymous': {'type': 'static', 'role': 'app'}}},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/app/more/ws'}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].endpoint.x: endpoint option not supported",
			"ignored: workers[0].transports[0].endpoint.backlog: the system's listen backlog "
			"is used",
			"ignored: workers[0].transports[0].y: not supported by wampd",
			"ignored: workers[0].transports[0].paths.bad: a web path service must be an object",
			"ignored: workers[0].transports[0].options.access_log: web transport option not "
			"supported",
			NULL});
}

/* rawsocket: tcp (with TLS or not) and unix endpoints; the rest is listed */
static void test_rawsocket_transports(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'rawsocket', 'endpoint': {'type': 'tcp', 'port': 9000},"
		"  'serializers': ['msgpack'], 'debug': true,"
		"  'options': {'max_message_size': 65536, 'max_connections': 5}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'tcp', 'port': 9001}, 'serializer': 'json'},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'unix', 'path': '/run/x.sock', 'tls': {}}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'unix'}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'tcp', 'port': 9443, 'interface': '::1',"
		"  'tls': {'key': 'k', 'certificate': 'c'}},"
		"  'auth': {'anonymous': {'type': 'static', 'role': 'iot'}}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'twisted', 'server_string': 'x'}}]}]}",
		"{'listeners': ["
		"  {'type': 'rawsocket', 'port': 9000, 'host': '*', 'serializers': ['msgpack'],"
		"   'max_message_size': 65536},"
		"  {'type': 'rawsocket', 'port': 9001, 'host': '*', 'serializers': ['json']},"
		"  {'type': 'rawsocket', 'unix': '/run/x.sock'},"
		"  {'type': 'rawsocket', 'port': 9443, 'host': '::1',"
		"   'tls': {'key': 'k', 'certificate': 'c'},"
		"   'auth': {'anonymous': {'type': 'static', 'role': 'iot'}}}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].options.max_connections: RawSocket option not "
			"supported",
			"ignored: workers[0].transports[2].endpoint.tls: TLS on a Unix domain socket is "
			"not served (the socket file's permissions guard it)",
			"ignored: workers[0].transports[3].endpoint: a unix endpoint needs a path",
			"ignored: workers[0].transports[5].endpoint.type: endpoint type not supported",
			NULL});
}

/* web paths served over HTTP: the bridge (signed requests, body limits, roles), webhooks
 * and long-poll, on the listener of the transport's WebSocket path */
static void test_web_http_services(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'realm1'}], 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080}, 'paths': {"
		"  'ws': {'type': 'websocket'},"
		"  'publish': {'type': 'publisher', 'realm': 'realm1', 'role': 'pub', 'options': {"
		"   'key': 'k1', 'secret': 's1', 'timestamp_delta_limit': 10, 'post_body_limit': 8192,"
		"   'require_ip': ['127.0.0.1'], 'debug': true}},"
		"  'call': {'type': 'caller', 'realm': 'realm1', 'options': {'post_body_limit': 0,"
		"   'key': 'only-a-key'}},"
		"  'hook': {'type': 'webhook', 'realm': 'realm1', 'role': 'hooks', 'options': {"
		"   'topic': 'com.hook', 'github_secret': 'gh', 'success_response': 'json'}},"
		"  'lp': {'type': 'longpoll', 'options': {'request_timeout': 25,"
		"   'session_timeout': 0, 'queue_limit_bytes': 1000}},"
		"  'sub': {'type': 'subscriber', 'realm': 'realm1'}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws',"
		"  'http': {"
		"   '/publish': {'type': 'publisher', 'realm': 'realm1', 'role': 'pub',"
		"    'max_body': 8192, 'auth': {'type': 'signed', 'key': 'k1', 'secret': 's1',"
		"     'timestamp_delta_limit': 10}},"
		"   '/call': {'type': 'caller', 'realm': 'realm1'},"
		"   '/hook': {'type': 'webhook', 'realm': 'realm1', 'role': 'hooks',"
		"    'topic': 'com.hook', 'github_secret': 'gh'},"
		"   '/lp': {'type': 'longpoll', 'poll_timeout': 25}}}],"
		" 'realms': [{'name': 'realm1'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].paths.publish.options.require_ip: option not "
			"supported",
			"ignored: workers[0].transports[0].paths.hook.options.github_secret: wampd checks "
			"X-Hub-Signature-256 (SHA-256), which GitHub sends alongside the SHA-1 header",
			"ignored: workers[0].transports[0].paths.hook.options.success_response: option "
			"not supported",
			"ignored: workers[0].transports[0].paths.lp.options.session_timeout: option not "
			"supported",
			"ignored: workers[0].transports[0].paths.lp.options.queue_limit_bytes: option not "
			"supported",
			"ignored: workers[0].transports[0].paths.sub (type subscriber): web service type "
			"not served by wampd",
			NULL});
}

/* web paths served as files and fixed answers (static, redirect, json, nodeinfo), and the
 * types wampd does not serve, each reported once with its path and why */
static void test_web_paths(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'realm1'}], 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080}, 'paths': {"
		"  'ws': {'type': 'websocket'},"
		"  '/': {'type': 'static', 'directory': '../web', 'options': {"
		"   'enable_directory_listing': true, 'cache_timeout': 60, 'default_file': 'i.html',"
		"   'mime_types': {'.x': 'text/x'}, 'allow_cross_origin': true, 'extra': 1}},"
		"  'nocache': {'type': 'static', 'directory': 'd', 'options': {'cache_timeout': null}},"
		"  'pkg': {'type': 'static', 'package': 'app', 'resource': 'web'},"
		"  'nodir': {'type': 'static'},"
		"  'old': {'type': 'redirect', 'url': 'https://example.com/new'},"
		"  'badredirect': {'type': 'redirect'},"
		"  'conf': {'type': 'json', 'value': {'a': [1, 'b']}, 'options': {'prettify': true,"
		"   'discourage_caching': true, 'allow_cross_origin': false}},"
		"  'noval': {'type': 'json'},"
		"  'info': {'type': 'nodeinfo', 'x': 1},"
		"  'notype': {},"
		"  'app': {'type': 'wsgi', 'module': 'm', 'object': 'o'},"
		"  'res': {'type': 'resource', 'classname': 'c'},"
		"  'cgi': {'type': 'cgi', 'directory': 'd', 'processor': 'p'},"
		"  'proxy': {'type': 'reverseproxy', 'host': 'h'},"
		"  'up': {'type': 'upload', 'realm': 'realm1'},"
		"  'wap': {'type': 'wap', 'templates': 't'},"
		"  'zip': {'type': 'archive', 'archive': 'a.zip', 'origin': 'https://x/a.zip',"
		"   'download': true, 'cache': true, 'object_prefix': 'dist', 'default_object': 'm.html',"
		"   'mime_types': {'.y': 'text/y'}, 'options': {'default_file': 'i.html', 'z': 1}},"
		"  'zip2': {'type': 'archive', 'archive': 'b.zip', 'hashes': ['00']},"
		"  'nozip': {'type': 'archive'},"
		"  'doc': {'type': 'schemadoc', 'realm': 'realm1'}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws',"
		"  'http': {"
		"   '/': {'type': 'static', 'directory': '../web', 'cache_timeout': 60,"
		"    'directory_listing': true, 'default_file': 'i.html', 'mime_types': {'.x': 'text/x'}},"
		"   '/nocache': {'type': 'static', 'directory': 'd', 'cache_timeout': 0},"
		"   '/old': {'type': 'redirect', 'url': 'https://example.com/new'},"
		"   '/conf': {'type': 'json', 'value': {'a': [1, 'b']}, 'prettify': true},"
		"   '/info': {'type': 'nodeinfo'},"
		"   '/zip': {'type': 'archive', 'archive': 'a.zip', 'cache_timeout': 43200,"
		"    'object_prefix': 'dist', 'default_object': 'm.html', 'mime_types': {'.y': 'text/y'},"
		"    'default_file': 'i.html'},"
		"   '/zip2': {'type': 'archive', 'archive': 'b.zip', 'cache_timeout': 0}}}],"
		" 'realms': [{'name': 'realm1'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].paths./.options.allow_cross_origin: CORS "
			"headers are sent to the listener's allowed_origins only",
			"ignored: workers[0].transports[0].paths./.options.extra: option not supported",
			"ignored: workers[0].transports[0].paths.pkg: static files from a Python package "
			"(package/resource) are not applicable to wampd: give a directory",
			"ignored: workers[0].transports[0].paths.nodir: a static path needs a directory",
			"ignored: workers[0].transports[0].paths.badredirect: a redirect needs a url",
			"ignored: workers[0].transports[0].paths.conf.options.allow_cross_origin: CORS "
			"headers are sent to the listener's allowed_origins only",
			"ignored: workers[0].transports[0].paths.noval: a json path needs a value",
			"ignored: workers[0].transports[0].paths.info.x: not supported by wampd",
			"ignored: workers[0].transports[0].paths.notype: web path without a type",
			"ignored: workers[0].transports[0].paths.app (type wsgi): WSGI applications are "
			"Python: wampd runs none (serve it behind a proxy)",
			"ignored: workers[0].transports[0].paths.res (type resource): Twisted Web "
			"resources are Python: wampd runs none",
			"ignored: workers[0].transports[0].paths.cgi (type cgi): CGI scripts are not run "
			"by wampd",
			"ignored: workers[0].transports[0].paths.proxy (type reverseproxy): reverse "
			"proxying is not done by wampd (put a proxy in front)",
			"ignored: workers[0].transports[0].paths.up (type upload): file uploads are not "
			"served by wampd",
			"ignored: workers[0].transports[0].paths.wap (type wap): WAMP application pages "
			"(templates rendered by procedures) are not served",
			"ignored: workers[0].transports[0].paths.zip.origin: wampd downloads nothing: put "
			"the archive at its path (404 until it is there)",
			"ignored: workers[0].transports[0].paths.zip.options.z: option not supported",
			"ignored: workers[0].transports[0].paths.zip2.hashes: the archive's SHA-256 "
			"fingerprint is not verified by wampd",
			"ignored: workers[0].transports[0].paths.nozip: an archive path needs an archive "
			"(the ZIP file)",
			"ignored: workers[0].transports[0].paths.doc (type schemadoc): schema "
			"documentation pages are not served",
			NULL});
}

/* A web transport without WebSocket paths is an http listener of its own (HTTP services
 * only); several WebSocket paths on one port are several listeners of the port (a
 * websocket transport's: any path) */
static void test_http_without_websocket_and_second_paths(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8081},"
		"  'paths': {'call': {'type': 'caller', 'realm': 'r'}}},"
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'paths': {'ws': {'type': 'websocket'}, 'ws2': {'type': 'websocket'}}},"
		" {'type': 'websocket', 'endpoint': {'type': 'tcp', 'port': 8080}}]}]}",
		"{'listeners': [{'type': 'http', 'port': 8081, 'host': '*',"
		"   'http': {'/call': {'type': 'caller', 'realm': 'r'}}},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws2'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '*'}],"
		" 'realms': [{'name': 'r'}]}",
		NONE);
}

/* Several router workers: the same realm or transport defined the same way by several of
 * them (Crossbar's shared port) is served once, realms compared as wampd serves them
 * (rlinks between the workers do not count) */
static void test_workers_merged(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': ["
		" {'type': 'router', 'realms': [{'name': 'realm1', 'rlinks': [{'id': 'a'}],"
		"   'roles': [{'name': 'anonymous', 'permissions': [{'uri': '', 'match': 'prefix',"
		"    'allow': {'call': true}, 'cache': true}]}]}],"
		"  'transports': [{'type': 'rawsocket', 'endpoint': {'type': 'unix', 'path': 'e1.sock'}},"
		"   {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080, 'shared': true},"
		"    'paths': {'ws': {'type': 'websocket'}}}]},"
		" {'type': 'router', 'realms': [{'name': 'realm1', 'rlinks': [{'id': 'b'}],"
		"   'roles': [{'name': 'anonymous', 'permissions': [{'uri': '', 'match': 'prefix',"
		"    'allow': {'call': true}}]}]}, {'name': 'realm2'}],"
		"  'transports': [{'type': 'rawsocket', 'endpoint': {'type': 'unix', 'path': 'e2.sock'}},"
		"   {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080, 'shared': true},"
		"    'paths': {'ws': {'type': 'websocket'}}},"
		"   {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080, 'shared': true},"
		"    'paths': {'ws': {'type': 'websocket'}, 'ws2': {'type': 'websocket'}}}]}]}",
		"{'listeners': [{'type': 'rawsocket', 'unix': 'e1.sock'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws'},"
		"  {'type': 'rawsocket', 'unix': 'e2.sock'},"
		"  {'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws2'}],"
		" 'realms': [{'name': 'realm1', 'roles': [{'name': 'anonymous', 'permissions':"
		"   [{'uri': '', 'match': 'prefix', 'allow': {'call': true}}]}]}, {'name': 'realm2'}]}",
		(const char *const[]){
			"ignored: workers[0].realms[0].rlinks: router-to-router links are not supported "
			"(one wampd process is one router: its router workers are merged)",
			"ignored: workers[1].realms[0] (realm \"realm1\", as workers[0].realms[0]): "
			"merged: the same realm as that of the first router worker defining it, served once",
			"ignored: workers[1].transports[1] (as workers[0].transports[1]): the same as an "
			"earlier router worker's transport, served once",
			"ignored: workers[1].transports[2].paths.ws (as workers[0].transports[1].paths.ws): "
			"the same as an earlier transport's, served once",
			NULL});
}

/* What cannot be served as Crossbar would: an error naming both definitions */
static void expect_failure(const char *in, const char *want)
{
	json_t *cb = doc(in), *notes = json_array(), *got;
	char err[512] = "";

	got = crossbar_translate(cb, notes, err, sizeof(err));
	if (got)
		fail_msg("translated, expected the error \"%s\"", want);
	assert_string_equal(err, want);
	json_decref(notes);
	json_decref(cb);
}

static void test_conflicts_fail(void **state)
{
	(void)state;
	expect_failure(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'realm1'}]},"
		" {'type': 'router', 'realms': [{'name': 'realm1', 'options': {'uri_check': 'strict'}}]}]}",
		"workers[1].realms[0]: realm \"realm1\" is also defined by workers[0].realms[0], "
		"differently (wampd serves one definition of a realm: make them the same)");
	expect_failure(
		"{'workers': [{'type': 'router', 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'paths': {'ws': {'type': 'websocket'}}}]},"
		" {'type': 'router', 'transports': ["
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'websocket': {'ws': {'type': 'websocket', 'serializers': ['json']}}}]}]}",
		"workers[1].transports[0].websocket.ws: this WebSocket path of this port is also "
		"served by workers[0].transports[0].paths.ws, with other settings");
	expect_failure(
		"{'workers': [{'type': 'router', 'transports': ["
		" {'type': 'rawsocket', 'endpoint': {'type': 'tcp', 'port': 9000}},"
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 9000},"
		"  'rawsocket': {'serializers': ['json']}}]}]}",
		"workers[0].transports[1].rawsocket: RawSocket on this port is also served by "
		"workers[0].transports[0], with other settings");
}

/* crossbar-examples' benchmark/web: web transports without WebSocket (static, json, a
 * Python resource) defined by several workers sharing the port, no realm: one http
 * listener; a universal transport's web paths without a websocket map, next to its
 * RawSocket on the port, over TLS; nested path services; and it loads (no WAMP endpoint,
 * no realm needed) */
static void test_web_transport_without_websocket(void **state)
{
	static const char *const bench =
		"{'version': 2, 'workers': ["
		" {'type': 'router', 'transports': [{'type': 'web', 'endpoint': {'type': 'tcp',"
		"  'port': 8080, 'shared': true}, 'paths': {'/': {'type': 'static', 'directory': '..'},"
		"  'json': {'type': 'json', 'value': {'a': [1, 2]}},"
		"  'resource': {'type': 'resource', 'classname': 'm.R'}}}]},"
		" {'type': 'router', 'transports': [{'type': 'web', 'endpoint': {'type': 'tcp',"
		"  'port': 8080, 'shared': true}, 'paths': {'/': {'type': 'static', 'directory': '..'},"
		"  'json': {'type': 'json', 'value': {'a': [1, 2]}},"
		"  'resource': {'type': 'resource', 'classname': 'm.R'}}}]}]}";
	char err[512];
	struct config cfg;

	(void)state;
	expect_translation(bench,
		"{'listeners': [{'type': 'http', 'port': 8080, 'host': '*', 'http': {"
		"   '/': {'type': 'static', 'directory': '..', 'cache_timeout': 43200},"
		"   '/json': {'type': 'json', 'value': {'a': [1, 2]}}}}],"
		" 'realms': []}",
		(const char *const[]){
			"ignored: workers[0].transports[0].paths.resource (type resource): Twisted Web "
			"resources are Python: wampd runs none",
			"ignored: workers[1].transports[0] (as workers[0].transports[0]): the same as an "
			"earlier router worker's transport, served once",
			NULL});
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8443, 'tls':"
		"  {'key': 'k', 'certificate': 'c'}},"
		"  'rawsocket': {'serializers': ['msgpack']},"
		"  'web': {'paths': {'info': {'type': 'nodeinfo'}, 'app': {'type': 'path', 'paths':"
		"   {'/': {'type': 'redirect', 'url': '/info'}}}}}}]}]}",
		"{'listeners': [{'type': 'http', 'port': 8443, 'host': '*',"
		"   'tls': {'key': 'k', 'certificate': 'c'}, 'http': {"
		"   '/info': {'type': 'nodeinfo'}, '/app': {'type': 'redirect', 'url': '/info'}}},"
		"  {'type': 'rawsocket', 'port': 8443, 'host': '*',"
		"   'tls': {'key': 'k', 'certificate': 'c'}, 'serializers': ['msgpack']}],"
		" 'realms': [{'name': 'r'}]}",
		NONE);
	/* two different web-only transports on one port: which one's paths? */
	expect_failure(
		"{'workers': [{'type': 'router', 'transports': ["
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'paths': {'a': {'type': 'json', 'value': 1}}},"
		" {'type': 'web', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'paths': {'b': {'type': 'json', 'value': 2}}}]}]}",
		"workers[0].transports[1].paths: the web paths of this port are also served by "
		"workers[0].transports[0].paths, with other settings");
	/* the router's own loader takes it: an http listener, no realm */
	{
		char path[] = "/tmp/wampd-cbweb-XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		assert_non_null(f);
		for (const char *p = bench; *p; p++)
			fputc(*p == '\'' ? '"' : *p, f);
		fclose(f);
		if (!config_load_file(path, &cfg, err, sizeof(err)))
			fail_msg("%s", err);
		unlink(path);
	}
	assert_int_equal(cfg.nlisteners, 1);
	assert_false(cfg.listeners[0].websocket);
	assert_false(cfg.listeners[0].rawsocket);
	assert_true(cfg.listeners[0].serves_http);
	assert_int_equal(cfg.listeners[0].nhttp, 2);
	assert_int_equal(cfg.nrealms, 0);
	assert_false(config_serves_wamp(&cfg));
	config_free(&cfg);
}

/* A TLS port: its WebSocket paths serve one list of serializers (config.c) */
static void test_tls_port_serializers(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'transports': ["
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8443, 'tls':"
		"  {'key': 'k', 'certificate': 'c'}},"
		"  'websocket': {'a': {'serializers': ['json']}, 'b': {'serializers': ['msgpack',"
		"   'json']}, 'c': {'serializers': ['json', 'msgpack']}}}]}]}",
		"{'listeners': ["
		"  {'type': 'websocket', 'port': 8443, 'host': '*', 'path': '/a',"
		"   'tls': {'key': 'k', 'certificate': 'c'}, 'serializers': ['json', 'msgpack']},"
		"  {'type': 'websocket', 'port': 8443, 'host': '*', 'path': '/b',"
		"   'tls': {'key': 'k', 'certificate': 'c'}, 'serializers': ['msgpack', 'json']},"
		"  {'type': 'websocket', 'port': 8443, 'host': '*', 'path': '/c',"
		"   'tls': {'key': 'k', 'certificate': 'c'}, 'serializers': ['json', 'msgpack']}],"
		" 'realms': []}",
		(const char *const[]){
			"ignored: workers[0].transports[0].websocket.a.serializers: on a TLS port every "
			"WebSocket path serves the serializers of all of them",
			NULL});
}

/* Workers: router workers are merged; the types wampd runs no process for, and workers
 * with nothing to run, are listed */
static void test_workers(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': ["
		" {'type': 'container', 'components': []},"
		" {'id': 'x'},"
		" {'type': 'router', 'id': 'w1', 'options': {'pythonpath': ['..']},"
		"  'components': [{}], 'manhole': {}, 'realms': [{'name': 'a'}]},"
		" {'type': 'router', 'realms': [{'name': 'b'}], 'transports': [{'type': 'websocket',"
		"  'endpoint': {'type': 'tcp', 'port': 1}}]},"
		" {'type': 'proxy'}]}",
		"{'listeners': [{'type': 'websocket', 'port': 1, 'host': '*', 'path': '*'}],"
		" 'realms': [{'name': 'a'}, {'name': 'b'}]}",
		(const char *const[]){
			"ignored: workers[0] (type container): no component to run: not started",
			"ignored: workers[1] (type ?): skipped: wampd runs no worker processes of this type",
			"ignored: workers[2].manhole: not supported by wampd",
			"ignored: workers[2].components[0]: a component needs a classname "
			"(\"module.Class\") and a realm",
			"ignored: workers[2].options: worker process options do not apply",
			"ignored: workers[4] (type proxy): skipped: wampd runs no worker processes of this "
			"type",
			NULL});
}

/* Guest and container workers and a router worker's components become "processes"
 * (router/config/crossbar_workers.c): ids kept or numbered (workers by their place, components
 * over the whole file), options at the top, what does not map listed */
static void test_worker_processes(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': ["
		" {'type': 'router', 'id': 'router1', 'options': {'pythonpath': ['..'], 'title': 't'},"
		"  'realms': [{'name': 'realm1'}],"
		"  'transports': [{'type': 'websocket', 'endpoint': {'type': 'tcp', 'port': 1}}],"
		"  'components': [{'type': 'class', 'classname': 'app.Backend', 'realm': 'realm1',"
		"                  'role': 'backend', 'extra': {'a': 1}, 'references': []},"
		"                 {'type': 'function', 'callbacks': {}}]},"
		" {'type': 'guest', 'executable': 'node', 'arguments': ['backend.js'],"
		"  'options': {'workdir': '../node', 'env': {'inherit': ['PATH'], 'vars': {'A': 'b'}},"
		"              'watch': {'directories': ['.']}, 'stdin': 'close', 'stdout': 'log',"
		"              'stderr': 'drop', 'title': 'x'}},"
		" {'type': 'container', 'id': 'c1',"
		"  'options': {'pythonpath': ['..'], 'shutdown': 'shutdown-manual'},"
		"  'components': [{'type': 'class', 'classname': 'hello.App', 'realm': 'realm1',"
		"                  'transport': {'type': 'websocket', 'url': 'ws://127.0.0.1:1/ws',"
		"                   'endpoint': {'type': 'tcp', 'host': '127.0.0.1', 'port': 1}}},"
		"                 {'type': 'class', 'classname': 'hello.Lost', 'realm': 'realm1'},"
		"                 {'type': 'class', 'id': 'second', 'classname': 'hello.Other',"
		"                  'realm': 'realm1', 'transport': {'type': 'rawsocket', 'serializer':"
		"                   'json', 'endpoint': {'type': 'unix', 'path': 'x.sock'}}}]},"
		" {'type': 'guest', 'options': {'stdin': {'type': 'json', 'value': 1}}},"
		" {'type': 'guest', 'executable': 'a', 'arguments': [1]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 1, 'host': '*', 'path': '*'}],"
		" 'realms': [{'name': 'realm1'}],"
		" 'processes': ["
		"  {'type': 'python', 'id': 'router1', 'pythonpath': ['..'], 'components': ["
		"   {'id': 'component001', 'classname': 'app.Backend', 'realm': 'realm1',"
		"    'role': 'backend', 'extra': {'a': 1}}]},"
		"  {'type': 'guest', 'id': 'worker002', 'executable': 'node',"
		"   'arguments': ['backend.js'], 'workdir': '../node',"
		"   'env': {'inherit': ['PATH'], 'vars': {'A': 'b'}}, 'stdout': 'log', 'stderr': 'drop'},"
		"  {'type': 'python', 'id': 'c1', 'pythonpath': ['..'], 'components': ["
		"   {'id': 'component002', 'classname': 'hello.App', 'realm': 'realm1',"
		"    'transport': {'type': 'websocket', 'url': 'ws://127.0.0.1:1/ws',"
		"     'endpoint': {'type': 'tcp', 'host': '127.0.0.1', 'port': 1}}},"
		"   {'id': 'second', 'classname': 'hello.Other', 'realm': 'realm1',"
		"    'transport': {'type': 'rawsocket', 'serializer': 'json',"
		"     'endpoint': {'type': 'unix', 'path': 'x.sock'}}}]}]}",
		(const char *const[]){
			"ignored: workers[0].components[0].references: not supported by wampd",
			"ignored: workers[0].components[1]: only components of type \"class\" are run",
			"ignored: workers[0].options.title: worker process option not supported by wampd",
			"ignored: workers[1].options.watch: restarting on file changes is not supported (a "
			"process that exits is restarted by its restart policy)",
			"ignored: workers[1].options.title: worker process option not supported by wampd",
			"ignored: workers[2].components[1]: a container component needs a transport (url or "
			"endpoint)",
			"ignored: workers[2].options.shutdown: worker process option not supported by wampd",
			"ignored: workers[3] (type guest): a guest needs an executable: not started",
			"ignored: workers[4].arguments: arguments must be a list of strings: not started",
			NULL});
}

/* Transports wampd cannot serve at all */
static void test_unservable_transports(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'transports': ["
		" {'endpoint': {'type': 'tcp', 'port': 1}},"
		" {'type': 'mqtt', 'endpoint': {'type': 'tcp', 'port': 2}},"
		" {'type': 'websocket', 'endpoint': {'type': 'unix', 'path': '/x'}}]}]}",
		"{'listeners': [], 'realms': []}",
		(const char *const[]){
			"ignored: workers[0].transports[0]: transport without a type",
			"ignored: workers[0].transports[1]: unknown transport type",
			"ignored: workers[0].transports[2].endpoint.type: only tcp endpoints serve "
			"WebSocket",
			NULL});
	/* nothing at all: an empty native document */
	expect_translation("{'workers': []}", "{'listeners': [], 'realms': []}", NONE);
}

/* The migration guide's examples (crossbar-interop/configs/) load through the router's own
 * loader: translated, then checked like a native configuration. */
static void test_guide_examples_load(void **state)
{
	const char *dir = WAMPD_SOURCE_DIR "/crossbar-interop/configs";
	DIR *d = opendir(dir);
	struct dirent *e;
	int loaded = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[1024], err[512] = "";
		struct config cfg;

		if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!config_load_file(path, &cfg, err, sizeof(err)))
			fail_msg("%s does not load: %s", e->d_name, err);
		assert_true(cfg.nlisteners > 0);
		assert_true(cfg.nrealms > 0);
		assert_non_null(cfg.notes); /* read as a Crossbar document */
		config_free(&cfg);
		loaded++;
	}
	closedir(d);
	assert_true(loaded >= 7);
}

/* The configurations of tests/crossbar/ (several endpoints per port and what Crossbar
 * starts) load through the router's own loader, as those tests expect them. */
static void test_own_configs_load(void **state)
{
	const char *dir = WAMPD_SOURCE_DIR "/tests/crossbar/configs";
	char path[1024], err[512] = "";
	struct config cfg;
	const struct listener_config *l;

	(void)state;
	snprintf(path, sizeof(path), "%s/two-paths.json", dir);
	if (!config_load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.nlisteners, 2);
	l = cfg.listeners;
	assert_string_equal(l[0].path, "/public");
	assert_string_equal(l[1].path, "/backend");
	assert_int_equal(l[1].port_owner, 0);
	assert_true(l[0].auth.m[AUTH_ANONYMOUS].enabled && !l[0].auth.m[AUTH_TICKET].enabled);
	assert_true(l[1].auth.m[AUTH_TICKET].enabled && !l[1].auth.m[AUTH_ANONYMOUS].enabled);
	assert_int_equal(l[1].ping_interval_s, 10);
	assert_int_equal(l[1].ping_timeout_s, 15); /* the interval + the wait for the pong */
	assert_int_equal(l[0].ping_interval_s, cfg.ping_interval_s);
	config_free(&cfg);

	snprintf(path, sizeof(path), "%s/nested-paths.json", dir);
	if (!config_load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.nlisteners, 3);
	assert_string_equal(cfg.listeners[1].path, "/app/ws2");
	assert_string_equal(cfg.listeners[2].path, "/app/deeper/ws3");
	assert_int_equal(cfg.listeners[1].max_message_size, 2048);
	assert_int_equal(cfg.listeners[2].max_message_size, cfg.max_message_size);
	assert_int_equal(cfg.listeners[2].port_owner, 0);
	config_free(&cfg);

	snprintf(path, sizeof(path), "%s/function-auth.json", dir);
	if (!config_load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(cfg.listeners[0].auth.m[AUTH_WAMPCRA].refusal);
	assert_true(cfg.listeners[0].auth.m[AUTH_WAMPCRA].enabled);
	assert_null(cfg.listeners[0].auth.m[AUTH_TICKET].refusal);
	config_free(&cfg);

	snprintf(path, sizeof(path), "%s/tls-only.json", dir); /* the test sets the real files */
	if (!config_load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(cfg.listeners[0].auth.m[AUTH_TLS].enabled);
	assert_non_null(cfg.listeners[0].auth.m[AUTH_TLS].principals);
	assert_non_null(cfg.listeners[0].auth.m[AUTH_TLS].principals->cred);
	{
		char ca[600];

		snprintf(ca, sizeof(ca), "%s/ca.pem", dir); /* relative to the file's directory */
		assert_string_equal(cfg.listeners[0].tls_ca, ca);
	}
	assert_null(cfg.listeners[0].tls_ca_more);
	config_free(&cfg);

	snprintf(path, sizeof(path), "%s/merged-workers.json", dir);
	if (!config_load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.nrealms, 1);
	assert_int_equal(cfg.nlisteners, 3); /* the WebSocket path once, two Unix sockets */
	config_free(&cfg);

	snprintf(path, sizeof(path), "%s/web-only.json", dir);
	if (!config_load_file(path, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.nlisteners, 2);
	l = cfg.listeners;
	assert_true(l[0].serves_http && !l[0].websocket && !l[0].rawsocket);
	assert_int_equal(l[0].nhttp, 3); /* static, json, longpoll */
	assert_true(l[1].websocket);
	assert_int_equal(l[1].port, 0);
	{
		char web[600];

		snprintf(web, sizeof(web), "%s/web-only", dir); /* relative to the file's directory */
		for (size_t i = 0; i < l[0].nhttp; i++)
			if (l[0].http[i].type == HTTP_SVC_STATIC)
				assert_string_equal(l[0].http[i].directory, web);
	}
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_world),
		cmocka_unit_test(test_realms_roles_history),
		cmocka_unit_test(test_ping_timeout),
		cmocka_unit_test(test_websocket_transport),
		cmocka_unit_test(test_tls_dynamic_auth),
		cmocka_unit_test(test_null_origin),
		cmocka_unit_test(test_tls_endpoint),
		cmocka_unit_test(test_universal_transport),
		cmocka_unit_test(test_rawsocket_transports),
		cmocka_unit_test(test_web_http_services),
		cmocka_unit_test(test_web_paths),
		cmocka_unit_test(test_web_paths_nested),
		cmocka_unit_test(test_http_without_websocket_and_second_paths),
		cmocka_unit_test(test_web_transport_without_websocket),
		cmocka_unit_test(test_workers_merged),
		cmocka_unit_test(test_conflicts_fail),
		cmocka_unit_test(test_tls_port_serializers),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_worker_processes),
		cmocka_unit_test(test_unservable_transports),
		cmocka_unit_test(test_guide_examples_load),
		cmocka_unit_test(test_own_configs_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
