/*
 * config_yaml.h - a YAML document (Crossbar's config.yaml) as a JSON value, so that a YAML
 * configuration takes exactly the path of a JSON one (config.c). The rules are in
 * config_yaml.c's opening comment.
 */
#ifndef WAMPD_ROUTER_CONFIG_YAML_H
#define WAMPD_ROUTER_CONFIG_YAML_H

#include <jansson.h>
#include <stddef.h>

#define CONFIG_YAML_MAX_BYTES (16u << 20)  /* a document larger than this is refused */
#define CONFIG_YAML_MAX_DEPTH 100          /* nested mappings and sequences */
#define CONFIG_YAML_MAX_NODES (1u << 20)   /* values in the result, aliases expanded */
#define CONFIG_YAML_MAX_ALIAS_NODES (1u << 16) /* values all alias expansions may copy */

/*
 * Parse the one YAML document of buf[0..len) (UTF-8, or UTF-16 with a BOM) into a new JSON
 * value (the caller owns the reference). On failure returns NULL and writes
 * "LINE:COLUMN: what" (1-based) into err: a syntax error, a duplicate key, an undefined or
 * recursive alias, aliases expanding beyond CONFIG_YAML_MAX_ALIAS_NODES, nesting deeper
 * than CONFIG_YAML_MAX_DEPTH, an unsupported tag, a scalar JSON cannot hold (.inf, .nan,
 * an integer beyond 64 bits, a NUL character), an ambiguous number (see config_yaml.c),
 * no document or more than one, or allocation failure.
 */
json_t *config_yaml_parse(const char *buf, size_t len, char *err, size_t errlen);

#endif
