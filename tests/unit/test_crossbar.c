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
	size_t n = 0;

	got = crossbar_translate(cb, notes);
	assert_non_null(got);
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
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws'}],"
		" 'realms': [{'name': 'realm1', 'roles': [{'name': 'anonymous', 'permissions':"
		"  [{'uri': '', 'match': 'prefix', 'allow': {'call': true, 'register': true,"
		"    'publish': true, 'subscribe': true}, 'disclose': {'caller': false,"
		"    'publisher': false}}]}]}]}",
		(const char *const[]){
			"ignored: controller: wampd has no controller",
			"ignored: workers[0].transports[0].paths./: web services other than WebSocket "
			"and the HTTP bridge / long-poll are not served",
			"ignored: workers[0].transports[0].paths.info: web services other than WebSocket "
			"and the HTTP bridge / long-poll are not served",
			NULL});
}

/* Realms: roles keep what wampd reads (cache silently: static permissions need none),
 * event history per (uri, match), only the memory store. */
static void test_realms_roles_history(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': ["
		" {'name': 'r', 'options': {'enable_meta_api': true},"
		"  'store': {'type': 'memory', 'event-history': [{'uri': 'com.log.', 'match': 'prefix',"
		"   'limit': 100}, {'uri': 'com.one', 'limit': 5}]},"
		"  'roles': [{'name': 'user', 'authorizer': 'com.authz', 'x': 1, 'permissions':"
		"   [{'uri': 'com.', 'match': 'prefix', 'allow': {'call': true}, 'cache': true,"
		"     'y': 2}]}]},"
		" {'name': 'other', 'store': {'type': 'redis'}}],"
		" 'transports': [{'type': 'websocket', 'endpoint': {'type': 'tcp', 'port': 9000,"
		"  'interface': '127.0.0.1'}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 9000, 'host': '127.0.0.1', 'path': '*'}],"
		" 'realms': [{'name': 'r', 'event_history': [{'uri': 'com.log.', 'match': 'prefix',"
		"   'limit': 100}, {'uri': 'com.one', 'limit': 5}],"
		"  'roles': [{'name': 'user', 'authorizer': 'com.authz', 'permissions':"
		"   [{'uri': 'com.', 'match': 'prefix', 'allow': {'call': true}}]}]},"
		" {'name': 'other'}]}",
		(const char *const[]){
			"ignored: workers[0].realms[0].options: not supported by wampd",
			"ignored: workers[0].realms[0].roles[0].x: not supported by wampd",
			"ignored: workers[0].realms[0].roles[0].permissions[0].y: not supported by wampd",
			"ignored: workers[0].realms[1].store.type: only the in-memory store exists",
			NULL});
}

/* A websocket transport: serializers wampd serves, the options that map to limits and
 * allowed_origins, auth blocks as they are (less what wampd does not read). */
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
		"   'compression': {'deflate': {}}, 'auto_ping_size': 4},"
		"  'auth': {'anonymous': {'type': 'static', 'role': 'guest'},"
		"   'ticket': {'type': 'static', 'principals': {'joe': {'ticket': 's', 'role': 'u'}},"
		"    'comment': 'x'},"
		"   'wampcra': {'type': 'dynamic', 'authenticator': 'com.auth',"
		"    'authenticator-realm': 'auth'},"
		"   'cookie': {}, 'tls': {'type': 'static'}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '*',"
		"  'serializers': ['msgpack', 'json'], 'allowed_origins': ['https://app.example'],"
		"  'auth': {'anonymous': {'type': 'static', 'role': 'guest'},"
		"   'ticket': {'type': 'static', 'principals': {'joe': {'ticket': 's', 'role': 'u'}}},"
		"   'wampcra': {'type': 'dynamic', 'authenticator': 'com.auth',"
		"    'authenticator-realm': 'auth'}}}],"
		" 'realms': [{'name': 'r'}],"
		" 'limits': {'max_message_size': 1048576, 'ping_interval': 10, 'ping_timeout': 3}}",
		(const char *const[]){
			"ignored: workers[0].transports[0].id: not supported by wampd",
			"ignored: workers[0].transports[0].serializers[1]: serializer not supported",
			"ignored: workers[0].transports[0].auth.ticket.comment: not supported by wampd",
			"ignored: workers[0].transports[0].auth.cookie: cookie authentication is not "
			"supported",
			"ignored: workers[0].transports[0].auth.tls: Crossbar keys TLS principals by "
			"certificate fingerprint; wampd by common name: configure it natively",
			"ignored: workers[0].transports[0].options.compression: WebSocket option not "
			"supported",
			"ignored: workers[0].transports[0].options.auto_ping_size: WebSocket option not "
			"supported",
			NULL});
}

/* endpoint.tls: key, certificate and the first CA; OpenSSL's defaults for the rest. */
static void test_tls_endpoint(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'websocket', 'endpoint': {'type': 'tcp', 'port': 8443, 'tls': {"
		"  'key': 'k.pem', 'certificate': 'c.pem', 'ca_certificates': ['ca1.pem', 'ca2.pem'],"
		"  'dhparam': 'dh.pem', 'ciphers': 'ECDHE', 'chain_certificates': []}}}]}]}",
		"{'listeners': [{'type': 'websocket', 'port': 8443, 'host': '*', 'path': '*',"
		"  'tls': {'key': 'k.pem', 'certificate': 'c.pem', 'ca_certificates': 'ca1.pem'}}],"
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

/* universal: its WebSocket path, and RawSocket on the same port with the same serializers */
static void test_universal_transport(void **state)
{
	(void)state;
	expect_translation(
		"{'workers': [{'type': 'router', 'realms': [{'name': 'r'}], 'transports': ["
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8080},"
		"  'rawsocket': {'serializers': ['json']},"
		"  'websocket': {'ws': {'type': 'websocket', 'serializers': ['json']}},"
		"  'web': {'paths': {}}},"
		" {'type': 'universal', 'endpoint': {'type': 'tcp', 'port': 8081},"
		"  'websocket': {'/wamp': {'type': 'websocket'}}}]}]}",
		"{'listeners': [{'type': 'universal', 'port': 8080, 'host': '*', 'path': '/ws',"
		"   'serializers': ['json']},"
		"  {'type': 'websocket', 'port': 8081, 'host': '*', 'path': '/wamp'}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].rawsocket.serializers: the port's WebSocket "
			"serializers apply to RawSocket too",
			"ignored: workers[0].transports[0].web: web services other than WebSocket are not "
			"served",
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
		" {'type': 'rawsocket', 'endpoint': {'type': 'unix', 'path': '/run/x.sock', 'tls': {}}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'unix'}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'tcp', 'port': 9443, 'interface': '::1',"
		"  'tls': {'key': 'k', 'certificate': 'c'}},"
		"  'auth': {'anonymous': {'type': 'static', 'role': 'iot'}}},"
		" {'type': 'rawsocket', 'endpoint': {'type': 'twisted', 'server_string': 'x'}}]}]}",
		"{'listeners': ["
		"  {'type': 'rawsocket', 'port': 9000, 'host': '*', 'serializers': ['msgpack']},"
		"  {'type': 'rawsocket', 'unix': '/run/x.sock'},"
		"  {'type': 'rawsocket', 'port': 9443, 'host': '::1',"
		"   'tls': {'key': 'k', 'certificate': 'c'},"
		"   'auth': {'anonymous': {'type': 'static', 'role': 'iot'}}}],"
		" 'realms': [{'name': 'r'}], 'limits': {'max_message_size': 65536}}",
		(const char *const[]){
			"ignored: workers[0].transports[0].options.max_connections: RawSocket option not "
			"supported",
			"ignored: workers[0].transports[1].endpoint.tls: TLS on a Unix domain socket is "
			"not served (the socket file's permissions guard it)",
			"ignored: workers[0].transports[2].endpoint: a unix endpoint needs a path",
			"ignored: workers[0].transports[4].endpoint.type: endpoint type not supported",
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
			"ignored: workers[0].transports[0].paths.sub: web services other than WebSocket "
			"and the HTTP bridge / long-poll are not served",
			NULL});
}

/* HTTP services need their transport's WebSocket listener; one WebSocket path per port */
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
		"{'listeners': [{'type': 'websocket', 'port': 8080, 'host': '*', 'path': '/ws'}],"
		" 'realms': [{'name': 'r'}]}",
		(const char *const[]){
			"ignored: workers[0].transports[0].paths: HTTP services need a WebSocket path on "
			"the same transport",
			"ignored: workers[0].transports[1].paths.ws2: one WebSocket path per port is served",
			"ignored: workers[0].transports[2]: one WebSocket path per port is served",
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_world),
		cmocka_unit_test(test_realms_roles_history),
		cmocka_unit_test(test_websocket_transport),
		cmocka_unit_test(test_tls_endpoint),
		cmocka_unit_test(test_universal_transport),
		cmocka_unit_test(test_rawsocket_transports),
		cmocka_unit_test(test_web_http_services),
		cmocka_unit_test(test_http_without_websocket_and_second_paths),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_worker_processes),
		cmocka_unit_test(test_unservable_transports),
		cmocka_unit_test(test_guide_examples_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
