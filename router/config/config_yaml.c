/*
 * config_yaml.c - a YAML document as a JSON value (jansson), for configurations written in
 * YAML (Crossbar reads config.yaml as well as config.json; so does wampd --cbdir).
 *
 * Algorithm: one pass over libyaml's event stream (yaml_parser_parse), never its document
 * loader: each event builds the JSON value at once, on an explicit stack of the mappings
 * and sequences being filled (bounded by CONFIG_YAML_MAX_DEPTH), so nothing recurses on
 * the input's shape. Each finished value knows how many values it holds ("nodes").
 *
 * What a YAML document becomes:
 *  - a mapping: an object whose keys are the key scalars' text as written (a key that is a
 *    mapping or a sequence is refused: JSON keys are strings); a key given twice is refused
 *    (YAML requires unique keys; PyYAML silently keeps the last, which hides mistakes);
 *  - a sequence: an array;
 *  - a quoted or block scalar, or one tagged !!str or "!": a string;
 *  - an untagged plain scalar: null, a boolean, an integer or a float when YAML 1.2's core
 *    schema or YAML 1.1 (PyYAML, the reader Crossbar uses) reads it as one, else a string:
 *      null   ~ null Null NULL and the empty scalar
 *      bool   true/false, and YAML 1.1's yes/no/on/off, each as lower, Capitalised or UPPER
 *      int    [-+] decimal, 0x hex, 0o octal (1.2), 0b binary (1.1); '_' between digits
 *      float  [-+] digits with '.' and/or an exponent (1.5, .5, 1., 1e3, 1.5E-3)
 *    A plain scalar the two specifications read as two different numbers is refused with
 *    a hint to write it unambiguously: a decimal with a leading zero (0755 is octal 493 in
 *    YAML 1.1 and 755 in 1.2) and sexagesimal numbers (1:30 is 90 in YAML 1.1, a string in
 *    1.2). .inf and .nan are refused (JSON has no such numbers), and so are integers that
 *    do not fit 64 bits;
 *  - an explicit tag !!null, !!bool, !!int, !!float, !!str on a scalar (its text must be of
 *    that type), !!map on a mapping, !!seq on a sequence; every other tag is refused;
 *  - an anchor (&a) names the finished value; an alias (*a) is a deep copy of it. An alias
 *    to an anchor whose value is not finished (a recursive document) is undefined. Copies
 *    are what alias bombs ("billion laughs") multiply, so all the aliases of a document
 *    may copy at most CONFIG_YAML_MAX_ALIAS_NODES values in total, and the result holds
 *    at most CONFIG_YAML_MAX_NODES: beyond, the document is refused before the copy;
 *  - merge keys (YAML 1.1's "<<", which PyYAML honours): the value (a mapping, or a
 *    sequence of mappings, earlier ones first) gives the mapping every key it does not
 *    have itself, after its own keys are read;
 *  - a NUL character in a string or key is refused (the configuration's strings are C
 *    strings, and jansson's own parser refuses \u0000 too).
 * Exactly one document: none (an empty file) or several ("---" twice) are refused.
 */
#include "router/config/config_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <yaml.h>

/* A mapping or sequence being filled. */
struct yframe {
	json_t *v;          /* the object or array */
	char *key;          /* mapping: the key read, awaiting its value (owned), or NULL */
	bool key_is_merge;  /* ... and it is the merge key "<<" */
	bool has_merge;     /* mapping: a "<<" key was given (a second is a duplicate) */
	json_t *merges;     /* mapping: the "<<" values, applied at the end (owned), or NULL */
	char *anchor;       /* owned, or NULL */
	size_t nodes;       /* values in v so far, v included */
};

struct yanchor {
	char *name;
	json_t *v;          /* a reference */
	size_t nodes;
	UT_hash_handle hh;
};

struct yctx {
	struct yframe stack[CONFIG_YAML_MAX_DEPTH];
	int depth;
	struct yanchor *anchors;
	size_t nodes;        /* values made so far, aliases expanded */
	size_t alias_nodes;  /* values copied by aliases so far */
	json_t *root;
	int documents;
	yaml_mark_t mark;    /* the event being handled */
	char *err;
	size_t errlen;
};

static bool yfail(struct yctx *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool yfail(struct yctx *y, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(y->err, y->errlen, "%zu:%zu: %s", y->mark.line + 1, y->mark.column + 1, what);
	return false;
}

/* ---------------------------------------------------------------- scalars */

/* A resolver's "refused" (-1), once yfail has written why. */
static int refuse(bool written)
{
	(void)written;
	return -1;
}

/* A scalar resolver: 1 if s[0..n) is of its type (*out set; NULL when out of memory), 0 if
 * not, -1 if refused (the error written). tagged: the type was given by an explicit tag. */
typedef int (*scalar_fn)(struct yctx *y, const char *s, size_t n, bool tagged, json_t **out);

static bool word_in(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && !memcmp(*words, s, n))
			return true;
	return false;
}

static int scalar_null(struct yctx *y, const char *s, size_t n, bool tagged, json_t **out)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};

	(void)y;
	(void)tagged;
	if (!word_in(s, n, nulls))
		return 0;
	*out = json_null();
	return 1;
}

static int scalar_bool(struct yctx *y, const char *s, size_t n, bool tagged, json_t **out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On",
	                                  "ON", NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off",
	                                 "OFF", NULL};

	(void)y;
	(void)tagged;
	if (word_in(s, n, yes))
		*out = json_true();
	else if (word_in(s, n, no))
		*out = json_false();
	else
		return 0;
	return 1;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* YAML 1.1's sexagesimal numbers: the integer [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+ and the
 * float [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* (so 00:11:22 stays a string) */
static bool sexagesimal(const char *s, size_t n)
{
	size_t i = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	bool colon = false, zero = i < n && s[i] == '0', fraction = false;

	if (i >= n || !is_digit(s[i]))
		return false;
	while (i < n && (is_digit(s[i]) || s[i] == '_'))
		i++;
	while (i < n && s[i] == ':') {
		size_t d = 0;

		i++;
		while (i < n && is_digit(s[i]) && d < 3)
			i++, d++;
		if (d == 0 || d > 2 || (d == 2 && s[i - 2] > '5'))
			return false;
		colon = true;
	}
	if (i < n && s[i] == '.')
		for (i++, fraction = true; i < n && (is_digit(s[i]) || s[i] == '_');)
			i++;
	return colon && i == n && (fraction || !zero);
}

static int scalar_int(struct yctx *y, const char *s, size_t n, bool tagged, json_t **out)
{
	size_t i = 0;
	unsigned base = 10;
	uint64_t v = 0, limit;
	bool neg = false, digits = false;

	(void)tagged;
	if (sexagesimal(s, n))
		return refuse(yfail(y, "\"%.*s\" is ambiguous (YAML 1.1 reads a sexagesimal number, "
		                    "YAML 1.2 a string): quote it or write the number",
		                    (int)(n > 40 ? 40 : n), s));
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
		i += 2;
	} else if (n - i > 1 && s[i] == '0') {
		size_t j = i + 1;

		while (j < n && (is_digit(s[j]) || s[j] == '_'))
			j++;
		if (j == n)
			return refuse(yfail(y, "\"%.*s\" is ambiguous (a leading zero: YAML 1.1 reads "
			                    "octal, YAML 1.2 decimal): write it without the zero, as "
			                    "0o..., or quote it", (int)(n > 40 ? 40 : n), s));
		return 0;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;
		char ch = s[i];

		if (ch == '_' && digits)
			continue;
		if (is_digit(ch))
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return 0;
		if (d >= base)
			return 0;
		if (v > (limit - d) / base)
			return refuse(yfail(y, "integer \"%.*s\" does not fit 64 bits",
			                    (int)(n > 40 ? 40 : n), s));
		v = v * base + d;
		digits = true;
	}
	if (!digits)
		return 0;
	*out = json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v);
	return 1;
}

static int scalar_float(struct yctx *y, const char *s, size_t n, bool tagged, json_t **out)
{
	static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
	                                  "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL};
	char buf[128];
	size_t i = 0, o = 0, mant = 0;
	bool point = false, has_exp = false;
	double d;
	char *end;

	if (word_in(s, n, inf))
		return refuse(yfail(y, "\"%.*s\": JSON has no infinite or NaN numbers", (int)n, s));
	if (n >= sizeof(buf))
		return 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		buf[o++] = s[i++];
	for (; i < n && (is_digit(s[i]) || s[i] == '_' || (s[i] == '.' && !point)); i++) {
		if (s[i] == '.')
			point = true;
		else if (s[i] == '_' && !mant)
			return 0;
		else if (s[i] == '_')
			continue;
		else
			mant++;
		buf[o++] = s[i];
	}
	if (!mant)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t digits = 0;

		buf[o++] = s[i++];
		if (i < n && (s[i] == '+' || s[i] == '-'))
			buf[o++] = s[i++];
		for (; i < n && is_digit(s[i]); i++, digits++)
			buf[o++] = s[i];
		if (!digits)
			return 0;
		has_exp = true;
	}
	if (i != n || (!point && !has_exp && !tagged))
		return 0;
	buf[o] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (*end || !isfinite(d) || errno == ERANGE)
		return refuse(yfail(y, "number \"%.*s\" is out of range", (int)n, s));
	*out = json_real(d);
	return 1;
}

static int scalar_str(struct yctx *y, const char *s, size_t n, bool tagged, json_t **out)
{
	(void)tagged;
	if (memchr(s, '\0', n))
		return refuse(yfail(y, "a string holds a NUL character"));
	*out = json_stringn(s, n);
	if (!*out)
		return refuse(yfail(y, "a string is not valid UTF-8"));
	return 1;
}

/* The scalar types, in the order an untagged plain scalar is tried (a string last). */
static const struct scalar_kind {
	const char *tag;
	const char *name;
	scalar_fn resolve;
} scalar_kinds[] = {
	{YAML_NULL_TAG, "!!null", scalar_null},
	{YAML_BOOL_TAG, "!!bool", scalar_bool},
	{YAML_INT_TAG, "!!int", scalar_int},
	{YAML_FLOAT_TAG, "!!float", scalar_float},
	{YAML_STR_TAG, "!!str", scalar_str},
};
#define NKINDS (sizeof(scalar_kinds) / sizeof(scalar_kinds[0]))

/* The JSON value of a scalar event, or NULL (the error written). */
static json_t *scalar_value(struct yctx *y, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value, *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	json_t *out = NULL;
	int rc;

	if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t k = 0; k < NKINDS; k++)
			if ((rc = scalar_kinds[k].resolve(y, s, n, false, &out)) != 0)
				break;
	} else if (!tag || !strcmp(tag, "!")) {
		rc = scalar_str(y, s, n, false, &out);
	} else {
		size_t k;

		for (k = 0; k < NKINDS && strcmp(scalar_kinds[k].tag, tag); k++)
			;
		if (k == NKINDS) {
			yfail(y, "tag %.60s is not supported (!!str, !!int, !!float, !!bool, !!null)", tag);
			return NULL;
		}
		rc = scalar_kinds[k].resolve(y, s, n, true, &out);
		if (rc == 0) {
			yfail(y, "\"%.*s\" is not a valid %s", (int)(n > 40 ? 40 : n), s,
			      scalar_kinds[k].name);
			return NULL;
		}
	}
	if (rc < 0)
		return NULL;
	if (!out)
		yfail(y, "out of memory");
	return out;
}

/* ---------------------------------------------------------------- the tree */

static bool anchor_set(struct yctx *y, char *name, json_t *v, size_t nodes)
{
	struct yanchor *a;

	HASH_FIND_STR(y->anchors, name, a);
	if (a) { /* a later anchor of the same name replaces the earlier one */
		free(name);
		json_decref(a->v);
	} else {
		if (!(a = calloc(1, sizeof(*a)))) {
			free(name);
			return yfail(y, "out of memory");
		}
		a->name = name;
		HASH_ADD_KEYPTR(hh, y->anchors, a->name, strlen(a->name), a);
	}
	a->v = json_incref(v);
	a->nodes = nodes;
	return true;
}

/* Attach a finished value (the reference is taken, also on failure) of `nodes` values,
 * named by anchor (owned, or NULL), to the container at the top of the stack. */
static bool attach(struct yctx *y, json_t *v, size_t nodes, char *anchor)
{
	struct yframe *f = y->depth ? &y->stack[y->depth - 1] : NULL;
	bool ok = true;

	if (anchor && !anchor_set(y, anchor, v, nodes)) {
		json_decref(v);
		return false;
	}
	if (!f) {
		y->root = v;
		return true;
	}
	f->nodes += nodes;
	if (json_is_array(f->v)) {
		ok = json_array_append_new(f->v, v) == 0;
	} else if (f->key_is_merge) {
		if (!f->merges)
			f->merges = json_array();
		ok = f->merges && json_array_append_new(f->merges, v) == 0;
		if (!f->merges)
			json_decref(v);
		f->key_is_merge = false;
	} else {
		ok = json_object_set_new(f->v, f->key, v) == 0;
		free(f->key);
		f->key = NULL;
	}
	return ok ? true : yfail(y, "out of memory");
}

/* A key scalar of the mapping at the top of the stack. */
static bool mapping_key(struct yctx *y, struct yframe *f, const char *s, size_t n, bool merge)
{
	if (memchr(s, '\0', n))
		return yfail(y, "a key holds a NUL character");
	if (merge) {
		if (f->has_merge)
			return yfail(y, "duplicate key \"<<\"");
		f->has_merge = f->key_is_merge = true;
		return true;
	}
	if (!(f->key = strndup(s, n)))
		return yfail(y, "out of memory");
	if (json_object_get(f->v, f->key))
		return yfail(y, "duplicate key \"%.80s\"", f->key);
	return true;
}

/* The top frame awaits a key (a mapping with neither a key nor a merge key pending). */
static bool awaits_key(const struct yctx *y)
{
	const struct yframe *f = y->depth ? &y->stack[y->depth - 1] : NULL;

	return f && json_is_object(f->v) && !f->key && !f->key_is_merge;
}

static bool on_scalar(struct yctx *y, yaml_event_t *ev)
{
	json_t *v;
	char *anchor = NULL;
	bool ok;

	if (awaits_key(y)) {
		const char *s = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		bool merge = n == 2 && !memcmp(s, "<<", 2) && !ev->data.scalar.tag &&
		             ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

		if (!mapping_key(y, &y->stack[y->depth - 1], s, n, merge))
			return false;
		if (!ev->data.scalar.anchor) /* an anchored key: the string, for aliases as keys */
			return true;
		if (!(anchor = strdup((const char *)ev->data.scalar.anchor)) ||
		    !(v = json_stringn(s, n))) {
			free(anchor);
			return yfail(y, "out of memory");
		}
		ok = anchor_set(y, anchor, v, 1);
		json_decref(v);
		return ok;
	}
	if (!(v = scalar_value(y, ev)))
		return false;
	if (++y->nodes > CONFIG_YAML_MAX_NODES) {
		json_decref(v);
		return yfail(y, "more than %u values", CONFIG_YAML_MAX_NODES);
	}
	if (ev->data.scalar.anchor && !(anchor = strdup((const char *)ev->data.scalar.anchor))) {
		json_decref(v);
		return yfail(y, "out of memory");
	}
	return attach(y, v, 1, anchor);
}

static bool on_alias(struct yctx *y, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct yanchor *a;
	json_t *copy;

	HASH_FIND_STR(y->anchors, name, a);
	if (!a)
		return yfail(y, "alias *%.60s names no finished anchor (undefined, or the value "
		             "holding it: recursive)", name);
	if (awaits_key(y)) {
		if (!json_is_string(a->v))
			return yfail(y, "alias *%.60s as a key: only a string can be a key", name);
		return mapping_key(y, &y->stack[y->depth - 1], json_string_value(a->v),
		                   json_string_length(a->v), false);
	}
	if (a->nodes > CONFIG_YAML_MAX_ALIAS_NODES - y->alias_nodes ||
	    a->nodes > CONFIG_YAML_MAX_NODES - y->nodes)
		return yfail(y, "aliases expand to more than %u values (an alias bomb?)",
		             CONFIG_YAML_MAX_ALIAS_NODES);
	y->alias_nodes += a->nodes;
	y->nodes += a->nodes;
	if (!(copy = json_deep_copy(a->v)))
		return yfail(y, "out of memory");
	return attach(y, copy, a->nodes, NULL);
}

static bool on_start(struct yctx *y, yaml_event_t *ev, bool mapping)
{
	const char *tag = (const char *)(mapping ? ev->data.mapping_start.tag
	                                         : ev->data.sequence_start.tag);
	const char *anchor = (const char *)(mapping ? ev->data.mapping_start.anchor
	                                            : ev->data.sequence_start.anchor);
	struct yframe *f;

	if (awaits_key(y))
		return yfail(y, "a %s as a mapping key: only a scalar can be a key",
		             mapping ? "mapping" : "sequence");
	if (tag && strcmp(tag, "!") && strcmp(tag, mapping ? YAML_MAP_TAG : YAML_SEQ_TAG))
		return yfail(y, "tag %.60s is not supported on a %s", tag,
		             mapping ? "mapping (!!map)" : "sequence (!!seq)");
	if (y->depth >= CONFIG_YAML_MAX_DEPTH)
		return yfail(y, "nested deeper than %d", CONFIG_YAML_MAX_DEPTH);
	if (++y->nodes > CONFIG_YAML_MAX_NODES)
		return yfail(y, "more than %u values", CONFIG_YAML_MAX_NODES);
	f = &y->stack[y->depth];
	memset(f, 0, sizeof(*f));
	f->nodes = 1;
	if (!(f->v = mapping ? json_object() : json_array()) ||
	    (anchor && !(f->anchor = strdup(anchor)))) {
		json_decref(f->v);
		return yfail(y, "out of memory");
	}
	y->depth++;
	return true;
}

/* Apply a mapping's merge keys: every key of each merged mapping it lacks, in order. */
static bool apply_merges(struct yctx *y, struct yframe *f)
{
	size_t i;
	json_t *m;

	json_array_foreach(f->merges, i, m) {
		json_t *one = json_is_array(m) ? m : NULL, *src;
		size_t k = 0, n = one ? json_array_size(one) : 1;

		for (k = 0; k < n; k++) {
			const char *key;
			json_t *v;

			src = one ? json_array_get(one, k) : m;
			if (!json_is_object(src))
				return yfail(y, "a merge key (<<) takes a mapping or a sequence of "
				             "mappings");
			json_object_foreach(src, key, v)
				if (!json_object_get(f->v, key) && json_object_set(f->v, key, v))
					return yfail(y, "out of memory");
		}
	}
	return true;
}

static void frame_clear(struct yframe *f)
{
	json_decref(f->v);
	json_decref(f->merges);
	free(f->key);
	free(f->anchor);
	memset(f, 0, sizeof(*f));
}

static bool on_end(struct yctx *y)
{
	struct yframe f = y->stack[--y->depth];

	memset(&y->stack[y->depth], 0, sizeof(y->stack[y->depth]));
	if (f.merges && !apply_merges(y, &f)) {
		frame_clear(&f);
		return false;
	}
	json_decref(f.merges);
	free(f.key);
	return attach(y, f.v, f.nodes, f.anchor);
}

static bool on_event(struct yctx *y, yaml_event_t *ev)
{
	y->mark = ev->start_mark;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++y->documents > 1)
			return yfail(y, "more than one YAML document (---): a configuration is one");
		return true;
	case YAML_SCALAR_EVENT:
		return on_scalar(y, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(y, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(y, ev, false);
	case YAML_MAPPING_START_EVENT:
		return on_start(y, ev, true);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(y);
	default: /* stream start/end, document end, no event */
		return true;
	}
}

json_t *config_yaml_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct yctx *y = calloc(1, sizeof(*y));
	yaml_parser_t parser;
	yaml_event_t ev;
	bool ok = true, done = false;
	json_t *root = NULL;

	if (!y) {
		snprintf(err, errlen, "1:1: out of memory");
		return NULL;
	}
	y->err = err;
	y->errlen = errlen;
	if (len > CONFIG_YAML_MAX_BYTES) {
		free(y);
		snprintf(err, errlen, "1:1: larger than %u bytes", CONFIG_YAML_MAX_BYTES);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(y);
		snprintf(err, errlen, "1:1: out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			y->mark = parser.problem_mark;
			ok = yfail(y, "%s%s%s", parser.problem ? parser.problem : "syntax error",
			           parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		ok = on_event(y, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	if (ok && !y->root) {
		y->mark = parser.mark;
		ok = yfail(y, "no YAML document (the file is empty)");
	}
	yaml_parser_delete(&parser);
	while (y->depth)
		frame_clear(&y->stack[--y->depth]);
	{
		struct yanchor *a, *tmp;

		HASH_ITER(hh, y->anchors, a, tmp) {
			HASH_DEL(y->anchors, a);
			json_decref(a->v);
			free(a->name);
			free(a);
		}
	}
	if (ok)
		root = y->root;
	else
		json_decref(y->root);
	free(y);
	return root;
}
