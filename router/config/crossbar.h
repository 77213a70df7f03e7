/*
 * crossbar.h - Crossbar.io node configuration (config.json v2) compatibility.
 */
#ifndef WAMPD_ROUTER_CROSSBAR_H
#define WAMPD_ROUTER_CROSSBAR_H

#include <jansson.h>

/*
 * Translate a Crossbar node configuration (borrowed) into a wampd configuration document
 * (new reference). Every option that is not carried over is appended to `ignored` (a JSON
 * list) as "ignored: <json path>: <reason>". NULL when it cannot be served as Crossbar
 * would (two router workers defining one realm, or one WebSocket path of a port,
 * differently) or on allocation failure: err (errlen bytes) says why, naming the Crossbar
 * paths ("workers[1].realms[0]: realm \"realm1\" is also defined by workers[0].realms[0],
 * differently ...").
 */
json_t *crossbar_translate(json_t *root, json_t *ignored, char *err, size_t errlen);

#endif
