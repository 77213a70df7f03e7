/*
 * fuzz_yaml.c - libFuzzer target for the YAML reader of configurations
 * (router/config/config_yaml.c: libyaml's events into a JSON value) with arbitrary bytes.
 *
 * Input: the YAML document, as it is.
 *
 * Invariants (abort otherwise): no crash, leak or UB, and no runaway memory (alias bombs are
 * refused before they are copied: run.sh's malloc and RSS limits catch one that is not);
 * a refused document has an error "LINE:COLUMN: what" with both numbers at least 1; an
 * accepted one is a tree (every value held once: aliases were copied, never shared),
 * within CONFIG_YAML_MAX_DEPTH and CONFIG_YAML_MAX_NODES, without a NUL character in a
 * string or key, and survives a JSON round trip (valid UTF-8, finite numbers) unchanged;
 * parsing the same bytes again gives the same result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/config/config_yaml.h"

#define CHECK(cond)                                                                        \
	do {                                                                                   \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_yaml: invariant failed: %s (line %d)\n", #cond,          \
			        __LINE__);                                                             \
			abort();                                                                       \
		}                                                                                  \
	} while (0)

/* Walk v: every value held once, depth and count within the limits, no NUL. */
static void walk(json_t *v, int depth, size_t *nodes)
{
	CHECK(v->refcount == 1 || json_is_true(v) || json_is_false(v) || json_is_null(v));
	CHECK(depth <= CONFIG_YAML_MAX_DEPTH);
	CHECK(++*nodes <= CONFIG_YAML_MAX_NODES);
	if (json_is_string(v))
		CHECK(strlen(json_string_value(v)) == json_string_length(v));
	if (json_is_object(v)) {
		const char *key;
		json_t *m;

		json_object_foreach(v, key, m)
			walk(m, depth + 1, nodes);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;

		json_array_foreach(v, i, m)
			walk(m, depth + 1, nodes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], err2[256];
	json_t *v = config_yaml_parse((const char *)data, size, err, sizeof(err));
	json_t *again = config_yaml_parse((const char *)data, size, err2, sizeof(err2));

	if (!v) {
		unsigned long line = 0, col = 0;

		CHECK(!again);
		CHECK(!strcmp(err, err2));
		CHECK(sscanf(err, "%lu:%lu: ", &line, &col) == 2 && line >= 1 && col >= 1);
		return 0;
	}
	CHECK(again && json_equal(v, again));
	json_decref(again);
	{
		size_t nodes = 0;
		char *text;
		json_t *back;

		walk(v, 0, &nodes);
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		CHECK(text);
		back = json_loads(text, JSON_DECODE_ANY, NULL);
		CHECK(back && json_equal(back, v));
		json_decref(back);
		free(text);
	}
	json_decref(v);
	return 0;
}
