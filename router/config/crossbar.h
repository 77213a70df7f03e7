/*
 * crossbar.h - Crossbar.io node configuration (config.json v2) compatibility.
 */
#ifndef WAMPD_ROUTER_CROSSBAR_H
#define WAMPD_ROUTER_CROSSBAR_H

#include <jansson.h>

/*
 * Translate a Crossbar node configuration (borrowed) into a wampd configuration document
 * (new reference; NULL on allocation failure). Every option that is not carried over is
 * appended to `ignored` (a JSON list) as "ignored: <json path>: <reason>".
 */
json_t *crossbar_translate(json_t *root, json_t *ignored);

#endif
