"""wampd started on Crossbar node configurations (the migration guide's examples in
crossbar-interop/configs/*.json), each exercised with Autobahn|Python using that
configuration's own credentials and roles.

    WAMPD_BIN=build/router/wampd python3 tests/crossbar/test_crossbar_configs.py [json|msgpack]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from twisted.internet import defer, reactor  # noqa: E402

from wampd_proc import WampdProcess  # noqa: E402
from wampclient import JoinFailed, connect, expect_error, run, wait_for  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
CONFIGS = os.path.join(HERE, "..", "..", "crossbar-interop", "configs")


def config(name):
    return os.path.join(CONFIGS, name)


@defer.inlineCallbacks
def expect_refused(url, realm, reason, **opts):
    try:
        s = yield connect(url, realm, "msgpack" if url.startswith("unix:") else SER, **opts)
    except JoinFailed as e:
        assert e.reason == reason, "expected %s, got %s" % (reason, e.reason)
        return
    yield s.leave_and_wait()
    raise AssertionError("session was admitted, expected %s" % reason)


@defer.inlineCallbacks
def hello_world():
    from twisted.internet import threads
    sys.path.insert(0, os.path.join(HERE, "..", "http"))
    from httpc import request
    with WampdProcess(config=config("hello-world.json")) as r:
        # the web paths are served: "/" the files of ../web (relative to the config file),
        # "info" the node information page
        st, h, body = yield threads.deferToThread(request, r.port, "GET", "/")
        assert st == 200 and h["content-type"] == "text/html; charset=utf-8", (st, h)
        with open(os.path.join(CONFIGS, "..", "web", "index.html"), "rb") as f:
            assert body == f.read()
        st, h, body = yield threads.deferToThread(request, r.port, "GET", "/info")
        assert st == 200 and b"wampd" in body, (st, body)
        assert not [line for line in r.stderr().splitlines() if "ignored:" in line and
                    "paths" in line], r.stderr()
        a = yield connect(r.url, "realm1", SER)
        b = yield connect(r.url, "realm1", SER)
        assert a.details.authrole == "anonymous"
        yield a.register(lambda x, y: x + y, "com.example.add2")
        assert (yield b.call("com.example.add2", 2, 3)) == 5
        got = defer.Deferred()
        yield a.subscribe(lambda v: got.callback(v), "com.example.oncounter")
        from autobahn.wamp.types import PublishOptions
        yield b.publish("com.example.oncounter", 7, options=PublishOptions(acknowledge=True))
        assert (yield wait_for(got, 5, "event")) == 7
        yield a.leave_and_wait()
        yield b.leave_and_wait()


@defer.inlineCallbacks
def ticket_roles():
    from autobahn.wamp.types import PublishOptions
    with WampdProcess(config=config("ticket-roles.json")) as r:
        r.wait_log(r"ignored: workers\[1\] \(type container\): no component to run")
        # the router component is started (its class is not in the guide's directory:
        # given up on, and routing goes on)
        r.wait_log(r"started worker=worker001 pid=")
        r.wait_log(r"gave up worker=worker001: exit 78", timeout=60)
        backend = yield connect(r.url, "realm1", SER, authmethods=["ticket"], authid="backend1",
                                secret="secret-backend")
        assert backend.details.authrole == "backend"
        joe = yield connect(r.url, "realm1", SER, authmethods=["ticket"], authid="joe",
                            secret="secret!!!")
        assert joe.details.authrole == "frontend"
        assert joe.details.authid == "joe"
        assert joe.details.authmethod == "ticket"

        yield backend.register(lambda x, y: x + y, "com.example.add2")
        assert (yield joe.call("com.example.add2", 20, 22)) == 42
        yield expect_error(joe.register(lambda: 0, "com.example.mine"),
                           "wamp.error.not_authorized")
        yield expect_error(joe.publish("com.example.oncounter", 1,
                                       options=PublishOptions(acknowledge=True)),
                           "wamp.error.not_authorized")
        yield expect_error(joe.call("com.example.other"), "wamp.error.not_authorized")
        got = defer.Deferred()
        yield joe.subscribe(lambda v, details=None: got.callback((v, details)),
                            "com.example.oncounter",
                            options=__import__("autobahn.wamp.types", fromlist=["x"])
                            .SubscribeOptions(details_arg="details"))
        yield backend.publish("com.example.oncounter", 9, options=PublishOptions(acknowledge=True))
        value, details = yield wait_for(got, 5, "event")
        assert value == 9
        # the backend role's permission discloses the publisher
        assert details.publisher == backend.details.session, details

        yield expect_refused(r.url, "realm1", "wamp.error.authentication_failed",
                             authmethods=["ticket"], authid="joe", secret="wrong")
        yield expect_refused(r.url, "realm1", "wamp.error.authentication_failed",
                             authmethods=["ticket"], authid="mallory", secret="x")
        yield joe.leave_and_wait()
        yield backend.leave_and_wait()


@defer.inlineCallbacks
def wampcra_salted():
    with WampdProcess(config=config("wampcra-salted.json")) as r:
        # the universal transport's RawSocket: a listener of its own on the port (its own
        # serializers, and no auth block: anonymous, as in Crossbar)
        assert r.url_of("rs").endswith(":%d" % r.port), r.urls
        joe = yield connect(r.url, "realm1", SER, authmethods=["wampcra"], authid="joe",
                            secret="secret2")
        assert joe.details.authrole == "frontend"
        peter = yield connect(r.url, "realm1", SER, authmethods=["wampcra"], authid="peter",
                              secret="secret123")
        assert peter.details.authmethod == "wampcra"
        yield expect_refused(r.url, "realm1", "wamp.error.authentication_failed",
                             authmethods=["wampcra"], authid="peter", secret="secret124")
        yield expect_refused(r.url, "realm1", "wamp.error.no_matching_auth_method")
        yield joe.leave_and_wait()
        yield peter.leave_and_wait()


@defer.inlineCallbacks
def cryptosign():
    import json
    import tempfile
    with open(config("cryptosign.json")) as f:
        cfg = json.load(f)
    # the config's RawSocket Unix endpoint, moved to a private path so runs do not collide
    sock = os.path.join(tempfile.mkdtemp(prefix="wampd-xbar-"), "wampd.sock")
    cfg["workers"][0]["transports"][1]["endpoint"]["path"] = sock
    with WampdProcess(config=cfg) as r:
        s = yield connect(r.url, "devices", SER, authmethods=["cryptosign"],
                          authid="client01@example.com", cryptosign_seed=bytes(range(32)))
        assert s.details.authrole == "device"
        assert s.details.authmethod == "cryptosign"
        # the RawSocket transport (Unix socket, msgpack only) is served; it has no "auth"
        # block, so as in Crossbar only anonymous is offered there
        yield expect_refused("unix:" + sock, "devices", "wamp.error.no_matching_auth_method",
                             authmethods=["cryptosign"], authid="client01@example.com",
                             cryptosign_seed=bytes(range(32)))
        yield expect_refused(r.url, "devices", "wamp.error.authentication_failed",
                             authmethods=["cryptosign"], authid="client01@example.com",
                             cryptosign_seed=bytes(32))
        # the principal is bound to realm "devices"
        yield expect_refused(r.url, "other", "wamp.error.no_such_realm",
                             authmethods=["cryptosign"], authid="client01@example.com",
                             cryptosign_seed=bytes(range(32)))
        yield s.leave_and_wait()


@defer.inlineCallbacks
def rawsocket_tls():
    import json
    import shutil
    import tempfile
    from tlscerts import make_certs, twisted_options
    with open(config("rawsocket-tls.json")) as f:
        cfg = json.load(f)
    d = make_certs(tempfile.mkdtemp(prefix="wampd-xbar-tls-"))
    try:
        # the config's certificate files and fixed port, made and moved for this run
        endpoint = cfg["workers"][0]["transports"][1]["endpoint"]
        endpoint["port"] = 0
        endpoint["tls"].update(key=os.path.join(d, "server.key"),
                               certificate=os.path.join(d, "server.pem"),
                               ca_certificates=[os.path.join(d, "ca.pem")])
        with WampdProcess(config=cfg) as r:
            r.wait_log(r"ignored: workers\[0\]\.transports\[1\]\.endpoint\.tls\.dhparam")
            rss = r.url_of("rss").replace("127.0.0.1", "localhost")
            dev = yield connect(rss, "iot", SER, tls=twisted_options(d, "client"))
            ws = yield connect(r.url, "iot", SER)
            yield dev.register(lambda x: x * 2, "com.iot.double")
            assert (yield ws.call("com.iot.double", 21)) == 42
            yield expect_error(dev.call("com.other.proc"), "wamp.error.not_authorized")
            yield ws.leave_and_wait()
            yield dev.leave_and_wait()
    finally:
        shutil.rmtree(d, ignore_errors=True)


@defer.inlineCallbacks
def dynamic_authenticator():
    from autobahn.wamp.exception import ApplicationError
    with WampdProcess(config=config("dynamic-authenticator.json")) as r:
        svc = yield connect(r.url, "realm1", SER)
        assert svc.details.authrole == "authenticator"

        def authenticate(realm, authid, details):
            if details.get("ticket") == "magic-" + authid:
                return {"role": "frontend", "extra": {"greeting": "hello " + authid}}
            raise ApplicationError("com.example.invalid_ticket", "no")
        yield svc.register(authenticate, "com.example.authenticate")
        alice = yield connect(r.url, "realm1", SER, authmethods=["ticket"], authid="alice",
                              secret="magic-alice")
        assert alice.details.authrole == "frontend"
        assert alice.details.authprovider == "dynamic"
        yield expect_refused(r.url, "realm1", "wamp.error.authentication_failed",
                             authmethods=["ticket"], authid="alice", secret="nope")
        yield alice.leave_and_wait()
        yield svc.leave_and_wait()


@defer.inlineCallbacks
def http_bridge():
    """web paths publisher (signed), caller, webhook and longpoll served over HTTP."""
    import json
    from twisted.internet import threads
    sys.path.insert(0, os.path.join(HERE, "..", "http"))
    from httpc import post_json, request, sign
    with WampdProcess(config=config("http-bridge.json")) as r:
        r.wait_log(r"ignored: workers\[0\]\.transports\[0\]\.paths\.publish\.options\.require_ip")
        a = yield connect(r.url, "realm1", SER)
        yield a.register(lambda x, y: x + y, "com.example.add2")
        got = defer.Deferred()
        yield a.subscribe(lambda v: got.callback(v), "com.example.news")
        st, body = yield threads.deferToThread(
            post_json, r.port, "/call", {"procedure": "com.example.add2", "args": [2, 3]})
        assert (st, body) == (200, {"args": [5], "kwargs": {}}), (st, body)
        st, body = yield threads.deferToThread(
            post_json, r.port, "/call", {"procedure": "other.add2", "args": [2, 3]})
        assert st == 403 and body["error"] == "wamp.error.not_authorized", (st, body)
        data = json.dumps({"topic": "com.example.news", "args": ["signed"]})
        st, _, _ = yield threads.deferToThread(request, r.port, "POST", "/publish", data)
        assert st == 400, st  # unsigned
        st, _, _ = yield threads.deferToThread(
            request, r.port, "POST", "/publish?" + sign("foobar", "secret", data), data)
        assert st == 200, st
        assert (yield wait_for(got, 5, "event")) == "signed"
        st, body = yield threads.deferToThread(
            post_json, r.port, "/lp/open", {"protocols": ["wamp.2.json"]})
        assert st == 200 and body["protocol"] == "wamp.2.json", (st, body)
        yield a.leave_and_wait()


@defer.inlineCallbacks
def main():
    for scenario in (hello_world, ticket_roles, wampcra_salted, cryptosign, rawsocket_tls,
                     dynamic_authenticator, http_bridge):
        print("crossbar config scenario:", scenario.__name__, SER)
        yield scenario()


if __name__ == "__main__":
    run(main, timeout=90)
