/*
 * test_config_yaml.c - YAML configurations (router/config/config_yaml.c, config_file.c,
 * config_summary.c): the YAML to JSON mapping (each scalar type, quoted scalars, tags,
 * anchors and aliases, merge keys), what is refused (duplicate keys, alias bombs, recursion,
 * depth, ambiguous numbers, several documents), a YAML file loading exactly like its JSON
 * twin, --cbdir's file choice and relative paths, and the summary and preflight checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "router/config/config.h"
#include "router/config/config_summary.h"
#include "router/config/config_yaml.h"

static json_t *yaml(const char *text)
{
	char err[256];
	json_t *j = config_yaml_parse(text, strlen(text), err, sizeof(err));

	if (!j)
		fail_msg("YAML refused: %s\n%s", err, text);
	return j;
}

/* text must parse to the JSON document want (types included: 1 is not 1.0) */
static void expect_yaml(const char *text, const char *want)
{
	json_error_t jerr;
	json_t *got = yaml(text), *w = json_loads(want, JSON_DECODE_ANY, &jerr);

	if (!w)
		fail_msg("bad expectation %s: %s", want, jerr.text);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);

		fail_msg("YAML\n%s\nbecame %s, expected %s", text, g, want);
	}
	json_decref(got);
	json_decref(w);
}

/* text must be refused with an error containing `what` */
static void expect_refused(const char *text, size_t len, const char *what)
{
	char err[256];
	json_t *j = config_yaml_parse(text, len, err, sizeof(err));

	if (j) {
		char *g = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

		fail_msg("YAML accepted as %s, expected \"%s\":\n%s", g, what, text);
	}
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not say \"%s\"", err, what);
}

#define REFUSED(text, what) expect_refused(text, strlen(text), what)

static void test_scalars(void **state)
{
	(void)state;
	expect_yaml("a: ~\nb: null\nc: NULL\nd:\ne: Null", "{\"a\":null,\"b\":null,\"c\":null,"
	            "\"d\":null,\"e\":null}");
	expect_yaml("[true, True, TRUE, false, yes, No, on, OFF]",
	            "[true,true,true,false,true,false,true,false]");
	expect_yaml("[0, 42, -17, +3, 0x1F, 0o17, 0b101, 1_000, -0x10]",
	            "[0,42,-17,3,31,15,5,1000,-16]");
	expect_yaml("[9223372036854775807, -9223372036854775808]",
	            "[9223372036854775807,-9223372036854775808]");
	expect_yaml("[1.5, .5, -1.25, 1e3, 1.5E-3, 1., 1_0.5]",
	            "[1.5,0.5,-1.25,1000.0,0.0015,1.0,10.5]");
	/* not numbers: stay strings */
	expect_yaml("[1.2.3, 0x, 0b2, 1e, abc, '-', y, n]",
	            "[\"1.2.3\",\"0x\",\"0b2\",\"1e\",\"abc\",\"-\",\"y\",\"n\"]");
	expect_yaml("- 00:11:22\n- ::1\n- 2001:db8::1\n- 10.0.0.1\n",
	            "[\"00:11:22\",\"::1\",\"2001:db8::1\",\"10.0.0.1\"]");
	/* quoted and block scalars are strings, whatever they look like */
	expect_yaml("['42', \"true\", 'null', \"1.5\", '', \"a\\tb\"]",
	            "[\"42\",\"true\",\"null\",\"1.5\",\"\",\"a\\tb\"]");
	expect_yaml("a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\n",
	            "{\"a\":\"line 1\\nline 2\\n\",\"b\":\"folded text\\n\"}");
	expect_yaml("secret: ${TICKET}\nport: 8080", "{\"secret\":\"${TICKET}\",\"port\":8080}");
	/* keys are the text as written */
	expect_yaml("{1: a, true: b, ~: c, 'q': d}", "{\"1\":\"a\",\"true\":\"b\",\"~\":\"c\","
	            "\"q\":\"d\"}");
}

static void test_tags(void **state)
{
	(void)state;
	expect_yaml("[!!str 123, !!int '7', !!float 3, !!bool yes, !!null '', ! 12, !!str true]",
	            "[\"123\",7,3.0,true,null,\"12\",\"true\"]");
	expect_yaml("!!map {a: !!seq [1]}", "{\"a\":[1]}");
	REFUSED("a: !!binary aGVsbG8=", "tag tag:yaml.org,2002:binary is not supported");
	REFUSED("a: !custom x", "is not supported");
	REFUSED("a: !!int abc", "is not a valid !!int");
	REFUSED("a: !!bool maybe", "is not a valid !!bool");
	REFUSED("a: !!seq {b: 1}", "is not supported on a mapping");
	REFUSED("a: !!set {b}", "is not supported on a mapping");
}

static void test_refused_scalars(void **state)
{
	(void)state;
	REFUSED("mode: 0755", "ambiguous (a leading zero");
	REFUSED("a: 09", "ambiguous (a leading zero");
	REFUSED("t: 1:30", "ambiguous (YAML 1.1 reads a sexagesimal");
	REFUSED("t: 190:20:30.15", "sexagesimal");
	REFUSED("a: .inf", "no infinite or NaN");
	REFUSED("a: -.Inf", "no infinite or NaN");
	REFUSED("a: .nan", "no infinite or NaN");
	REFUSED("a: 9223372036854775808", "does not fit 64 bits");
	REFUSED("a: -9223372036854775809", "does not fit 64 bits");
	REFUSED("a: 0x10000000000000000", "does not fit 64 bits");
	REFUSED("a: 1e999", "out of range");
	REFUSED("a: \"x\\0y\"", "NUL character");
	REFUSED("\"k\\0\": 1", "NUL character");
	/* the line and column of the value are named */
	REFUSED("a: 1\nb:\n  c: 0755\n", "3:6: ");
}

static void test_anchors(void **state)
{
	(void)state;
	expect_yaml("base: &b {port: 8080, tls: [x, y]}\ncopy: *b\n",
	            "{\"base\":{\"port\":8080,\"tls\":[\"x\",\"y\"]},"
	            "\"copy\":{\"port\":8080,\"tls\":[\"x\",\"y\"]}}");
	expect_yaml("[&s hello, *s, &s bye, *s]", "[\"hello\",\"hello\",\"bye\",\"bye\"]");
	/* merge keys: own keys win, earlier merged mappings win over later ones */
	expect_yaml("d: &d {a: 1, b: 2}\ne: &e {b: 3, c: 4}\n"
	            "m: {<<: [*d, *e], a: 9}\nn: {<<: *e, z: 0}\n",
	            "{\"d\":{\"a\":1,\"b\":2},\"e\":{\"b\":3,\"c\":4},"
	            "\"m\":{\"a\":9,\"b\":2,\"c\":4},\"n\":{\"z\":0,\"b\":3,\"c\":4}}");
	/* "<<" quoted is an ordinary key */
	expect_yaml("{'<<': 1}", "{\"<<\":1}");
	/* an anchored key, used as a key again */
	expect_yaml("{&k name: 1, x: {*k : 2}}", "{\"name\":1,\"x\":{\"name\":2}}");
	/* a copy is a copy: the tree holds no shared values (env resolution edits in place) */
	{
		json_t *j = yaml("a: &x {k: v}\nb: *x\n");

		assert_ptr_not_equal(json_object_get(j, "a"), json_object_get(j, "b"));
		assert_int_equal(json_object_get(j, "a")->refcount, 1);
		json_decref(j);
	}
	REFUSED("a: *nope", "names no finished anchor");
	REFUSED("a: &r [1, *r]", "names no finished anchor");
	REFUSED("a: &r {b: *r}", "names no finished anchor");
	REFUSED("a: {<<: 1}", "a merge key (<<) takes a mapping");
	REFUSED("a: {<<: [x]}", "a merge key (<<) takes a mapping");
	REFUSED("d: &d {a: 1}\nm: {<<: *d, <<: *d}", "duplicate key \"<<\"");
	REFUSED("s: &s [1]\nm: {*s : 1}", "only a string can be a key");
}

/* "billion laughs": each level 10 aliases of the one before */
static void test_alias_bombs(void **state)
{
	char doc[2048];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "a0: &a0 [lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 10; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
		                      "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
		                      "*a%d, *a%d]\n", i, i, i - 1, i - 1, i - 1, i - 1, i - 1,
		                      i - 1, i - 1, i - 1, i - 1, i - 1);
	expect_refused(doc, n, "an alias bomb");
	/* the same with one alias per level: linear, accepted */
	expect_yaml("a: &a [1, 2]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n",
	            "{\"a\":[1,2],\"b\":[[1,2],[1,2]],\"c\":[[[1,2],[1,2]],[[1,2],[1,2]]],"
	            "\"d\":[[[[1,2],[1,2]],[[1,2],[1,2]]],[[[1,2],[1,2]],[[1,2],[1,2]]]]}");
	/* merge keys copy through aliases too: counted */
	n = (size_t)snprintf(doc, sizeof(doc), "m0: &m0 {a: [1, 2, 3, 4, 5, 6, 7, 8]}\n");
	for (int i = 1; i < 9; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
		                      "m%d: &m%d {x: *m%d, y: *m%d, z: *m%d, w: *m%d, v: *m%d, u: "
		                      "*m%d, t: *m%d, s: *m%d}\n", i, i, i - 1, i - 1, i - 1, i - 1,
		                      i - 1, i - 1, i - 1, i - 1);
	expect_refused(doc, n, "an alias bomb");
}

static void test_duplicates_and_shapes(void **state)
{
	char *deep;
	size_t n;

	(void)state;
	REFUSED("a: 1\nb: 2\na: 3\n", "3:1: duplicate key \"a\"");
	REFUSED("{x: 1, x: 1}", "duplicate key \"x\"");
	REFUSED("a:\n  b: 1\n  b: 1\n", "duplicate key \"b\"");
	REFUSED("'a': 1\na: 2\n", "duplicate key \"a\""); /* the same key, quoted or not */
	REFUSED("? [a, b]\n: 1\n", "a sequence as a mapping key");
	REFUSED("? {a: 1}\n: 1\n", "a mapping as a mapping key");
	REFUSED("a: 1\n---\nb: 2\n", "more than one YAML document");
	REFUSED("", "no YAML document");
	REFUSED("# only a comment\n", "no YAML document");
	REFUSED("a: [1, 2\n", "");       /* syntax errors say where */
	REFUSED("a: b: c\n", "1:5: mapping values are not allowed");
	REFUSED("\tkey: 1\n", "");
	/* depth: CONFIG_YAML_MAX_DEPTH nested sequences are fine, one more is not */
	deep = malloc(2 * 100000 + 1);
	assert_non_null(deep);
	for (n = 0; n < CONFIG_YAML_MAX_DEPTH; n++)
		deep[n] = '[';
	for (size_t i = 0; i < CONFIG_YAML_MAX_DEPTH; i++)
		deep[n++] = ']';
	json_decref(yaml((deep[n] = '\0', deep)));
	for (n = 0; n <= CONFIG_YAML_MAX_DEPTH; n++)
		deep[n] = '[';
	for (size_t i = 0; i <= CONFIG_YAML_MAX_DEPTH; i++)
		deep[n++] = ']';
	expect_refused(deep, n, "nested deeper than");
	/* very deep and unterminated: refused at the limit, not after reading it all */
	memset(deep, '[', 100000);
	expect_refused(deep, 100000, "nested deeper than");
	free(deep);
	expect_refused("a: 1", CONFIG_YAML_MAX_BYTES + 1u, "larger than");
	/* UTF-16 with a BOM is YAML too */
	expect_refused("\xff\xfe" "a\0:\0 \0\xff\xdf", 10, "");
	expect_yaml("\xef\xbb\xbf" "a: \xc3\xa9", "{\"a\":\"\xc3\xa9\"}");
}

/* ---------------------------------------------------------------- files */

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

static int make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/wampd-yaml-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	static const char *const names[] = {"config.json", "config.yaml", "other.yml",
	                                    "cert.pem", NULL};

	(void)state;
	for (const char *const *n = names; *n; n++)
		remove_file(*n);
	rmdir(dir);
	return 0;
}

static const char cb_yaml[] =
	"version: 2\n"
	"controller: {}\n"
	"workers:\n"
	"  - type: router\n"
	"    realms:\n"
	"      - name: realm1\n"
	"        roles:\n"
	"          - &anon\n"
	"            name: anonymous\n"
	"            permissions:\n"
	"              - {uri: '', match: prefix, allow: {call: true, register: true,\n"
	"                 publish: true, subscribe: yes}, disclose: {caller: no}}\n"
	"          - <<: *anon\n"
	"            name: frontend\n"
	"    transports:\n"
	"      - type: web\n"
	"        endpoint: {type: tcp, port: 8080}\n"
	"        paths:\n"
	"          /: {type: static, directory: ../web}\n"
	"          ws:\n"
	"            type: websocket\n"
	"            serializers: [json]\n"
	"            auth:\n"
	"              anonymous: {type: static, role: anonymous}\n"
	"              ticket:\n"
	"                type: static\n"
	"                principals:\n"
	"                  joe: {ticket: 'secret!!!', role: frontend}\n"
	"      - type: rawsocket\n"
	"        endpoint:\n"
	"          type: tcp\n"
	"          port: 8443\n"
	"          tls: {key: cert.pem, certificate: cert.pem}\n";

static const char cb_json[] =
	"{\"version\": 2, \"controller\": {}, \"workers\": [{\"type\": \"router\","
	" \"realms\": [{\"name\": \"realm1\", \"roles\": ["
	"  {\"name\": \"anonymous\", \"permissions\": [{\"uri\": \"\", \"match\": \"prefix\","
	"   \"allow\": {\"call\": true, \"register\": true, \"publish\": true, \"subscribe\": true},"
	"   \"disclose\": {\"caller\": false}}]},"
	"  {\"name\": \"frontend\", \"permissions\": [{\"uri\": \"\", \"match\": \"prefix\","
	"   \"allow\": {\"call\": true, \"register\": true, \"publish\": true, \"subscribe\": true},"
	"   \"disclose\": {\"caller\": false}}]}]}],"
	" \"transports\": [{\"type\": \"web\", \"endpoint\": {\"type\": \"tcp\", \"port\": 8080},"
	"  \"paths\": {\"/\": {\"type\": \"static\", \"directory\": \"../web\"},"
	"   \"ws\": {\"type\": \"websocket\", \"serializers\": [\"json\"], \"auth\": {"
	"    \"anonymous\": {\"type\": \"static\", \"role\": \"anonymous\"},"
	"    \"ticket\": {\"type\": \"static\", \"principals\": {\"joe\": {\"ticket\": \"secret!!!\","
	"     \"role\": \"frontend\"}}}}}}},"
	"  {\"type\": \"rawsocket\", \"endpoint\": {\"type\": \"tcp\", \"port\": 8443,"
	"   \"tls\": {\"key\": \"cert.pem\", \"certificate\": \"cert.pem\"}}}]}]}";

struct lines {
	char text[4096];
	size_t n, count;
};

static void collect(void *arg, const char *line)
{
	struct lines *l = arg;

	l->n += (size_t)snprintf(l->text + l->n, sizeof(l->text) - l->n, "%s\n", line);
	l->count++;
}

/* The YAML node configuration loads exactly like its JSON twin (same notes, listeners,
 * realms), and relative paths are relative to the directory. */
static void test_yaml_file_like_json(void **state)
{
	struct config y, j;
	char err[512], p[160], want[160];

	(void)state;
	write_file("config.yaml", cb_yaml);
	write_file("config.json", cb_json);
	snprintf(p, sizeof(p), "%s/config.yaml", dir);
	if (!config_load_file(p, &y, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(p, sizeof(p), "%s/config.json", dir);
	if (!config_load_file(p, &j, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(json_equal(y.notes, j.notes));
	assert_int_equal(y.nlisteners, 2);
	assert_int_equal(j.nlisteners, 2);
	assert_int_equal(y.listeners[0].port, 8080);
	assert_string_equal(y.listeners[0].path, "/ws");
	assert_int_equal(y.listeners[0].serializers, j.listeners[0].serializers);
	assert_true(y.listeners[0].auth.m[AUTH_TICKET].enabled);
	assert_int_equal(y.nrealms, 1);
	assert_int_equal(HASH_COUNT(y.realms[0].authz.roles), 2);
	snprintf(want, sizeof(want), "%s/cert.pem", y.base_dir);
	assert_string_equal(y.listeners[1].tls_key, want);
	assert_string_equal(y.listeners[1].tls_cert, want);
	assert_string_equal(y.base_dir, j.base_dir);
	assert_true(y.base_dir[0] == '/');
	config_free(&y);
	config_free(&j);
	remove_file("config.json");
}

static void test_cbdir(void **state)
{
	struct config cfg;
	char err[512], want[200];
	struct lines out = {.n = 0};

	(void)state;
	/* neither */
	remove_file("config.yaml");
	remove_file("config.json");
	assert_false(config_load_cbdir(dir, NULL, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "holds no config.json or config.yaml"));
	/* both */
	write_file("config.yaml", cb_yaml);
	write_file("config.json", cb_json);
	assert_false(config_load_cbdir(dir, NULL, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "holds both config.json and config.yaml"));
	/* one */
	remove_file("config.json");
	if (!config_load_cbdir(dir, NULL, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.nlisteners, 2);
	/* what it serves: the URLs, auth methods, realms; never a secret */
	config_summary(&cfg, collect, &out);
	assert_non_null(strstr(out.text, "ws://0.0.0.0:8080/ws WebSocket (json); auth "
	                                 "anonymous (role anonymous), ticket (1 principal)"));
	assert_non_null(strstr(out.text, "rss://0.0.0.0:8443 RawSocket"));
	assert_non_null(strstr(out.text, "realm1: roles anonymous, frontend"));
	assert_null(strstr(out.text, "secret!!!"));
	/* the certificate does not exist: the start would fail */
	out.n = out.count = 0;
	assert_int_equal(config_preflight(&cfg, collect, &out), 2);
	snprintf(want, sizeof(want), "listeners[1].tls.certificate: %s/cert.pem: No such file",
	         cfg.base_dir);
	assert_non_null(strstr(out.text, want));
	config_free(&cfg);
	write_file("cert.pem", "x");
	assert_true(config_load_cbdir(dir, NULL, &cfg, err, sizeof(err)));
	out.n = out.count = 0;
	assert_int_equal(config_preflight(&cfg, collect, &out), 0);
	config_free(&cfg);
	/* --config beside --cbdir: relative to the directory */
	write_file("other.yml", "listeners: [{type: rawsocket, port: 0, unix: sock}]\n"
	                        "realms: [{name: r}]\n");
	write_file("config.json", "{}");
	if (!config_load_cbdir(dir, "other.yml", &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(want, sizeof(want), "%s/sock", cfg.base_dir);
	assert_string_equal(cfg.listeners[0].unix_path, want);
	config_free(&cfg);
	/* errors name the file, the line and the column */
	write_file("other.yml", "realms: [{name: r}]\nlisteners: {a: 1, a: 2}\n");
	assert_false(config_load_cbdir(dir, "other.yml", &cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s/other.yml:2:19: duplicate key \"a\"", dir);
	assert_string_equal(err, want);
	/* and then the configuration's own checks, as for JSON */
	write_file("other.yml", "realms: [{name: r}]\nlimits: {max_sesions: 1}\n");
	assert_false(config_load_cbdir(dir, "other.yml", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "other.yml: limits.max_sesions: unknown key"));
	assert_false(config_load_cbdir("/nonexistent-wampd", NULL, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_refused_scalars),
		cmocka_unit_test(test_anchors),
		cmocka_unit_test(test_alias_bombs),
		cmocka_unit_test(test_duplicates_and_shapes),
		cmocka_unit_test(test_yaml_file_like_json),
		cmocka_unit_test(test_cbdir),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
