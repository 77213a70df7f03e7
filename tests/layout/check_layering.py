"""The layering rules as a test (README "Architecture"): who may include whom.

Dependencies point one way: common <- serializers <- auth <- realm <- router, and client/
uses serializers, auth and common only. libwebsockets.h (and hiredis) stay out of every
layer below router/, and out of the parts of router/ that need no sockets. Within router/,
each part folder says whether it may reach libwebsockets.h and hiredis (ROUTER_PARTS
below), checked through each file's whole include closure.

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
# router/'s parts (one folder each, README "Architecture"): the folders that need no
# sockets must compile without libwebsockets.h or hiredis through their whole include
# closure (a header that pulls libwebsockets.h in counts); hiredis only in cluster/.
# Every file of router/ lives in one of these folders (or is router/main.c), so a new
# part has to be placed here, and the decision is made once.
ROUTER_PARTS = {
    # folder: (may reach libwebsockets.h, may reach hiredis)
    "core": (False, False),     # state machine, router, connection core
    "config": (False, False),   # configuration and its translation
    "http": (False, False),     # request parser, signatures, the HTTP services
    "net": (True, False),       # event loop, listeners, transports' glue
    "admin": (True, False),     # admin listener, metrics, status page
    "cluster": (True, True),    # the Redis backplane, the redis event store
    "store": (False, False),    # the event stores that do file I/O (lmdb)
    "workers": (False, False),  # supervised processes: their pipes and timers via net/loop.h
}
ROUTER_TOP = {"router/main.c", "router/CMakeLists.txt"}
HIREDIS = {"hiredis/hiredis.h", "hiredis/async.h", "hiredis/adapters/libevent.h"}
# libzip: the archive web service's (router/http/archive_svc.c); no other part reads ZIPs
LIBZIP = {"zip.h", "zipconf.h"}
LIBZIP_PARTS = {"http"}
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
            elif name in LIBZIP and layer != "router":
                problems.append("%s includes <%s>: only router/http/ reads ZIP archives"
                                % (rel, name))
        if layer == "router":
            parts = rel.split("/")
            if len(parts) == 2:
                if rel not in ROUTER_TOP:
                    problems.append("%s: every file of router/ but main.c belongs in one of "
                                    "its part folders (%s)" % (rel, ", ".join(ROUTER_PARTS)))
                continue
            part = parts[1]
            if part not in ROUTER_PARTS:
                problems.append("%s: router/%s/ is not a known part (list it in "
                                "tests/layout/check_layering.py)" % (rel, part))
                continue
            lws_ok, redis_ok = ROUTER_PARTS[part]
            _, system = closure(rel)
            if not lws_ok and "libwebsockets.h" in system:
                problems.append("%s reaches libwebsockets.h through its includes; router/%s/ "
                                "must compile without it" % (rel, part))
            if not redis_ok and system & HIREDIS:
                problems.append("%s reaches hiredis; only router/cluster/ may" % rel)
            if part not in LIBZIP_PARTS and system & LIBZIP:
                problems.append("%s reaches libzip; only router/http/ may" % rel)
    for p in problems:
        print("layering: " + p)
    print("%d files checked, %d problems" % (checked, len(problems)))
    print("%d passed, %d failed" % (1 if not problems else 0, 1 if problems else 0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
