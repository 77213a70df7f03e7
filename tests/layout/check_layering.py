"""The layering rules as a test (README "Architecture"): who may include whom.

Dependencies point one way: common <- serializers <- auth <- realm <- router, and client/
uses serializers, auth and common only. libwebsockets.h (and hiredis) stay out of every
layer below router/, and out of the parts of router/ that need no sockets: those are
listed in NO_LWS below and checked through their whole include closure (a header that
pulls libwebsockets.h in counts). A new file in router/ must be placed in one list or the
other, so the decision is made once, here.

    python3 check_layering.py <source root>
"""

import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
LAYERS = ["common", "serializers", "auth", "realm", "router"]
ALLOWED = {
    "common": {"common"},
    "serializers": {"common", "serializers"},
    "auth": {"common", "serializers", "auth"},
    "realm": {"common", "serializers", "auth", "realm"},
    "router": set(LAYERS),
    "client": {"common", "serializers", "auth", "client"},
}
FORBIDDEN_SYSTEM = {
    # no sockets below router/, no Redis client outside the backplane
    "common": {"libwebsockets.h", "hiredis/hiredis.h", "hiredis/async.h"},
    "serializers": {"libwebsockets.h", "hiredis/hiredis.h", "hiredis/async.h"},
    "auth": {"libwebsockets.h", "hiredis/hiredis.h", "hiredis/async.h"},
    "realm": {"libwebsockets.h", "hiredis/hiredis.h", "hiredis/async.h"},
    "client": {"hiredis/hiredis.h", "hiredis/async.h"},
}
# router/ files that must compile without libwebsockets.h, through every header they
# include (the connection core, configuration, the state machine, pure parsers)
NO_LWS = {
    "router/conn.c", "router/conn.h", "router/protocol.c", "router/protocol.h",
    "router/router.c", "router/router.h", "router/config.c", "router/config.h",
    "router/config_auth.c", "router/config_env.c", "router/config_http.c",
    "router/config_internal.h", "router/crossbar.c", "router/crossbar.h",
    "router/outq.c", "router/outq.h", "router/iplimit.c", "router/iplimit.h",
    "router/batched.c", "router/batched.h", "router/httpreq.c", "router/httpreq.h",
    "router/httpsig.c", "router/httpsig.h", "router/lpreq.c", "router/lpreq.h",
    "router/bridge_msg.c", "router/bridge_msg.h", "router/procguard.c",
    "router/procguard.h",
    # the HTTP services: handlers see router/httpapi.h, never the connection's glue
    "router/httpapi.h", "router/httpsvc.c", "router/httpsvc.h", "router/http_bridge.c",
    "router/sse.c", "router/longpoll.c",
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def sources():
    for layer in list(ALLOWED):
        d = os.path.join(ROOT, layer)
        for dirpath, _, files in os.walk(d):
            for f in files:
                if f.endswith((".c", ".h")):
                    p = os.path.join(dirpath, f)
                    yield layer, os.path.relpath(p, ROOT)


def includes(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as f:
        return INCLUDE.findall(f.read())


def closure(rel, seen=None):
    """Every project header rel includes, transitively, and the system headers met."""
    seen = seen if seen is not None else set()
    system = set()
    for kind, name in includes(rel):
        if kind == '"' and os.path.exists(os.path.join(ROOT, name)):
            if name not in seen:
                seen.add(name)
                system |= closure(name, seen)[1]
        else:
            system.add(name)
    return seen, system


def main():
    problems = []
    checked = 0
    for layer, rel in sources():
        checked += 1
        for kind, name in includes(rel):
            if kind == '"':
                top = name.split("/", 1)[0]
                if top in ALLOWED and top not in ALLOWED[layer]:
                    problems.append("%s includes %s: %s/ may not depend on %s/"
                                    % (rel, name, layer, top))
            elif name in FORBIDDEN_SYSTEM.get(layer, ()):
                problems.append("%s includes <%s>, which %s/ must not" % (rel, name, layer))
        if rel in NO_LWS:
            _, system = closure(rel)
            if "libwebsockets.h" in system:
                problems.append("%s reaches libwebsockets.h through its includes; it is "
                                "listed as lws-free (tests/layout/check_layering.py)" % rel)
    for rel in sorted(NO_LWS):
        if not os.path.exists(os.path.join(ROOT, rel)):
            problems.append("%s is listed in NO_LWS but does not exist" % rel)
    for p in problems:
        print("layering: " + p)
    print("%d files checked, %d problems" % (checked, len(problems)))
    print("%d passed, %d failed" % (1 if not problems else 0, 1 if problems else 0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
