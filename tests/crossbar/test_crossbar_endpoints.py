"""wampd on Crossbar configurations with several WebSocket endpoints per port and the
shapes Crossbar starts that wampd used to refuse (tests/crossbar/configs/*.json, written
for these tests), exercised with Autobahn|Python in one serializer:

- two-paths: an anonymous path and a ticket-only path on one port, each refusing the
  other's logins;
- nested-paths: WebSocket paths inside nested "path" services (/ws, /app/ws2,
  /app/deeper/ws3), each with its own serializers, auth and max_message_size;
- root-websocket: a websocket transport, joined at "/" (Autobahn|JS does the same in
  websocket_root.js);
- function-auth: a function authenticator reported, its logins refused with a clear ABORT,
  ticket on the same path served;
- tls-only: a path whose only auth is tls, principals by certificate-sha1 (the test
  puts its own certificates and their fingerprint in);
- tls-dynamic: a path whose only auth is dynamic tls, its authenticator the router
  worker's Autobahn|Python component (configs/tls-dynamic/tlsauth.py, joined over the
  internal socket) deciding on details.transport.client_cert: a principal's certificate
  joins with the dict answer, a guest's with the role answer, another certificate of the
  same CA gets ABORT, no certificate gets ABORT without the authenticator being asked;
- merged-workers: two router workers defining the same realm and transport on a shared port
  (and a Unix RawSocket each): one router.

    WAMPD_BIN=build/router/wampd python3 tests/crossbar/test_crossbar_endpoints.py [json|msgpack|cbor]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from twisted.internet import defer  # noqa: E402

from wampd_proc import WampdProcess  # noqa: E402
from wampclient import JoinFailed, connect, expect_error, run, wait_for  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
CONFIGS = os.path.join(HERE, "configs")


def config(name):
    with open(os.path.join(CONFIGS, name)) as f:
        return json.load(f)


def url(r, path):
    return "ws://127.0.0.1:%d%s" % (r.port, path)


@defer.inlineCallbacks
def refused(u, reason, ser=None, tls=None, message=None, **opts):
    """Joining must fail with ABORT `reason` (and a message containing `message`)."""
    try:
        s = yield connect(u, "realm1", ser or SER, tls=tls, **opts)
    except JoinFailed as e:
        assert e.reason == reason, "%s: expected %s, got %s" % (u, reason, e)
        if message:
            assert message in str(e), "%s: %r has no %r" % (u, str(e), message)
        return
    yield s.leave_and_wait()
    raise AssertionError("%s: admitted %r, expected %s" % (u, opts, reason))


@defer.inlineCallbacks
def publish_roundtrip(pub, sub, topic, value):
    from autobahn.wamp.types import PublishOptions
    got = defer.Deferred()
    s = yield sub.subscribe(lambda v: got.called or got.callback(v), topic)
    yield pub.publish(topic, value, options=PublishOptions(acknowledge=True))
    assert (yield wait_for(got, 5, "event on " + topic)) == value
    yield s.unsubscribe()


@defer.inlineCallbacks
def two_paths():
    with WampdProcess(config=config("two-paths.json")) as r:
        assert sorted(r.urls) == sorted([url(r, "/public"), url(r, "/backend")]), r.urls
        backend = yield connect(url(r, "/backend"), "realm1", SER, authmethods=["ticket"],
                                authid="worker-1", secret="secret-worker-1")
        assert backend.details.authrole == "backend", backend.details
        public = yield connect(url(r, "/public"), "realm1", SER)
        assert public.details.authrole == "public"
        assert public.details.authmethod == "anonymous"
        yield backend.register(lambda x, y: x + y, "com.example.add2")
        assert (yield public.call("com.example.add2", 2, 3)) == 5
        yield expect_error(public.register(lambda: 0, "com.example.mine"),
                           "wamp.error.not_authorized")
        yield publish_roundtrip(backend, public, "com.example.news", "hello")
        # each path refuses the other's logins
        yield refused(url(r, "/backend"), "wamp.error.no_matching_auth_method")
        yield refused(url(r, "/backend"), "wamp.error.no_matching_auth_method",
                      authmethods=["anonymous"])
        yield refused(url(r, "/public"), "wamp.error.no_matching_auth_method",
                      authmethods=["ticket"], authid="worker-1", secret="secret-worker-1")
        yield refused(url(r, "/backend"), "wamp.error.authentication_failed",
                      authmethods=["ticket"], authid="worker-1", secret="wrong")
        # offering both on the public path: anonymous, with the public role only
        both = yield connect(url(r, "/public"), "realm1", SER,
                             authmethods=["ticket", "anonymous"], authid="worker-1",
                             secret="secret-worker-1")
        assert both.details.authrole == "public", both.details
        yield both.leave_and_wait()
        yield refused(url(r, "/"), "transport closed")  # no WebSocket at "/"
        yield public.leave_and_wait()
        yield backend.leave_and_wait()


@defer.inlineCallbacks
def nested_paths():
    binary = SER if SER != "json" else "msgpack"  # /app/ws2 serves msgpack and cbor
    with WampdProcess(config=config("nested-paths.json")) as r:
        assert sorted(r.urls) == sorted([url(r, p) for p in
                                         ("/ws", "/app/ws2", "/app/deeper/ws3")]), r.urls
        top = yield connect(url(r, "/ws"), "realm1", SER)
        app = yield connect(url(r, "/app/ws2"), "realm1", binary)
        deep = yield connect(url(r, "/app/deeper/ws3"), "realm1", "json")
        assert top.details.authrole == "anonymous"
        assert app.details.authrole == "app"
        assert deep.details.authrole == "anonymous"
        yield app.register(lambda x: x * 2, "app.double")
        assert (yield deep.call("app.double", 21)) == 42
        yield expect_error(app.call("com.other"), "wamp.error.not_authorized")
        # every path its own serializers
        yield refused(url(r, "/app/ws2"), "transport closed", ser="json")
        yield refused(url(r, "/app/deeper/ws3"), "transport closed", ser="msgpack")
        # ... and its own max_message_size: 2048 bytes on /app/ws2 only
        big = "x" * 4096
        yield top.register(len, "app.len")
        assert (yield deep.call("app.len", big)) == 4096
        app.call("app.len", big).addErrback(lambda f: None)
        yield wait_for(app.disconnected, 5, "/app/ws2 closing on a message over 2048 bytes")
        r.wait_log(r"message too big .*exceeds the limit of 2048")
        yield top.leave_and_wait()
        yield deep.leave_and_wait()


@defer.inlineCallbacks
def root_websocket():
    with WampdProcess(config=config("root-websocket.json")) as r:
        r.wait_log(r"ignored: workers\[0\]\.transports\[0\]\.options\.compression")
        r.wait_log(r"ignored: workers\[0\]\.transports\[0\]\.serializers\[2\]")
        assert r.urls == ["ws://0.0.0.0:%d/" % r.port], r.urls  # all interfaces
        a = yield connect("ws://127.0.0.1:%d" % r.port, "realm1", SER)  # no path: "/"
        b = yield connect(url(r, "/any/path"), "realm1", SER)  # Crossbar: any path
        yield a.register(lambda x, y: x * y, "com.example.mul")
        assert (yield b.call("com.example.mul", 6, 7)) == 42
        yield publish_roundtrip(a, b, "com.example.tick", [1, 2])
        yield a.leave_and_wait()
        yield b.leave_and_wait()


@defer.inlineCallbacks
def function_auth():
    with WampdProcess(config=config("function-auth.json")) as r:
        r.wait_log(r"ignored: workers\[0\]\.transports\[0\]\.websocket\.ws\.auth\.wampcra: "
                   r"function authenticators \(Python code\) are not supported")
        joe = yield connect(url(r, "/ws"), "realm1", SER, authmethods=["ticket"],
                            authid="joe", secret="secret-joe")
        assert joe.details.authrole == "frontend"
        # the function authenticator's method: a clear ABORT, whatever the credentials
        yield refused(url(r, "/ws"), "wamp.error.not_authorized",
                      message="wampcra logins are not supported here",
                      authmethods=["wampcra"], authid="joe", secret="secret-joe")
        yield refused(url(r, "/ws"), "wamp.error.not_authorized",
                      message="Crossbar function authenticator",
                      authmethods=["wampcra", "ticket"], authid="joe", secret="secret-joe")
        yield refused(url(r, "/ws"), "wamp.error.authentication_failed",
                      authmethods=["ticket"], authid="joe", secret="nope")
        r.wait_log(r"authentication method refused realm=realm1 method=wampcra")
        # still serving
        again = yield connect(url(r, "/ws"), "realm1", SER, authmethods=["ticket", "wampcra"],
                              authid="joe", secret="secret-joe")
        yield again.leave_and_wait()
        yield joe.leave_and_wait()


def fingerprint(pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in", pem],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]


@defer.inlineCallbacks
def tls_only():
    from tlscerts import make_certs, twisted_options
    d = make_certs(tempfile.mkdtemp(prefix="wampd-xbar-tlsonly-"))
    try:
        cfg = config("tls-only.json")
        t = cfg["workers"][0]["transports"][0]
        t["endpoint"]["tls"] = {"key": os.path.join(d, "server.key"),
                                "certificate": os.path.join(d, "server.pem"),
                                "ca_certificates": [os.path.join(d, "ca.pem")]}
        t["paths"]["ws"]["auth"]["tls"]["principals"]["client_0"]["certificate-sha1"] = \
            fingerprint(os.path.join(d, "client.pem"))
        with WampdProcess(config=cfg) as r:
            wss = r.url_of("wss").replace("127.0.0.1", "localhost")
            s = yield connect(wss, "realm1", SER, tls=twisted_options(d, "client"))
            assert s.details.authid == "client_0", s.details
            assert s.details.authrole == "backend"
            assert s.details.authmethod == "tls"
            yield s.register(lambda: "pong", "com.example.ping")
            yield s.leave_and_wait()
            # a certificate of the same CA that is not the principal's; none at all
            yield refused(wss, "wamp.error.authentication_failed",
                          tls=twisted_options(d, "stranger"))
            yield refused(wss, "wamp.error.authentication_failed",
                          tls=twisted_options(d, "stranger"), authmethods=["tls"])
            yield refused(wss, "wamp.error.no_matching_auth_method", tls=twisted_options(d))
            # another CA's certificate: the TLS handshake fails
            yield refused(wss, "transport closed", tls=twisted_options(d, "rogue"))
        # several CA files (Crossbar lists a root and an intermediate): all of them verify
        t["endpoint"]["tls"]["ca_certificates"] = [os.path.join(d, "rogueca.pem"),
                                                   os.path.join(d, "ca.pem")]
        with WampdProcess(config=cfg) as r:
            wss = r.url_of("wss").replace("127.0.0.1", "localhost")
            s = yield connect(wss, "realm1", SER, tls=twisted_options(d, "client"))
            assert s.details.authid == "client_0", s.details
            yield s.leave_and_wait()
            # the first file's certificates are trusted too: rogue's verifies, is no principal
            yield refused(wss, "wamp.error.authentication_failed",
                          tls=twisted_options(d, "rogue"))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def cert_field(pem, opt):
    """`openssl x509 -noout <opt>`'s value (serial=..., notAfter=...)."""
    out = subprocess.run(["openssl", "x509", "-noout", opt, "-in", pem],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]


@defer.inlineCallbacks
def tls_dynamic():
    import datetime
    import tlscerts
    from tlscerts import make_certs, twisted_options
    d = make_certs(tempfile.mkdtemp(prefix="wampd-xbar-tlsdyn-"))
    # another certificate of the same CA, which the authenticator does not know
    tlscerts._ec_key_req(d, "intruder", "intruder")
    tlscerts._sign(d, "intruder", "ca")
    try:
        cfg = config("tls-dynamic.json")
        w = cfg["workers"][0]
        w["options"]["pythonpath"] = [os.path.join(CONFIGS, "tls-dynamic")]
        t = w["transports"][0]
        t["endpoint"]["tls"] = {"key": os.path.join(d, "server.key"),
                                "certificate": os.path.join(d, "server.pem"),
                                "ca_certificates": [os.path.join(d, "ca.pem")]}
        client_pem = os.path.join(d, "client.pem")
        w["components"][0]["extra"]["principals"] = {fingerprint(client_pem): "client_0"}
        with WampdProcess(config=cfg) as r:
            r.wait_log(r"worker=\S+ stdout: tls authenticator registered", timeout=60)
            assert not [line for line in r.stderr().splitlines()
                        if "auth.tls" in line and "ignored" in line], r.stderr()
            wss = r.url_of("wss").replace("127.0.0.1", "localhost")
            # a principal's certificate: the authenticator's dict answer
            s = yield connect(wss, "realm1", SER, tls=twisted_options(d, "client"))
            got = (s.details.authid, s.details.authrole, s.details.authmethod,
                   s.details.authprovider, s.details.authextra)
            assert got == ("client_0", "backend", "tls", "dynamic", {"cn": "device-7"}), got
            # what it saw: the certificate as openssl reads it, the CN as authid
            seen = yield s.call("com.example.seen")
            assert seen["count"] == 1, seen
            last = seen["last"]
            assert (last["realm"], last["authid"]) == ("realm1", "device-7"), last
            cert = last["transport"]["client_cert"]
            assert cert == last["transport"]["peer_cert"], last["transport"]
            assert cert["sha1"] == fingerprint(client_pem), cert
            assert cert["subject"] == {"cn": "device-7"}, cert
            assert cert["issuer"] == {"cn": "wampd test CA"}, cert
            assert int(cert["serial"]) == int(cert_field(client_pem, "-serial"), 16), cert
            not_after = datetime.datetime.strptime(cert_field(client_pem, "-enddate"),
                                                   "%b %d %H:%M:%S %Y %Z")
            assert cert["not_after"] == not_after.strftime("%Y%m%d%H%M%SZ"), cert
            assert cert["expired"] is False and cert["version"] == 2, cert
            assert "channel_id" not in last["transport"], last["transport"]
            # a guest's certificate: the role answer, the certificate's CN as authid
            g = yield connect(wss, "realm1", SER, tls=twisted_options(d, "stranger"),
                              authmethods=["tls"], authid="client_0")
            got = (g.details.authid, g.details.authrole, g.details.authprovider)
            assert got == ("stranger", "guest", "dynamic"), got
            yield expect_error(g.call("com.example.seen"), "wamp.error.not_authorized")
            yield g.leave_and_wait()
            # a certificate of the same CA that the authenticator refuses
            yield refused(wss, "wamp.error.authentication_failed",
                          message="com.example.invalid_cert",
                          tls=twisted_options(d, "intruder"))
            assert (yield s.call("com.example.seen"))["count"] == 3
            # no certificate: refused before the authenticator is asked
            yield refused(wss, "wamp.error.no_matching_auth_method", tls=twisted_options(d))
            yield refused(wss, "wamp.error.no_matching_auth_method", tls=twisted_options(d),
                          authmethods=["tls"], authid="client_0")
            assert (yield s.call("com.example.seen"))["count"] == 3
            # another CA's certificate: the TLS handshake fails
            yield refused(wss, "transport closed", tls=twisted_options(d, "rogue"))
            r.wait_log(r"authentication failed realm=realm1 authid=intruder method=tls")
            yield s.leave_and_wait()
    finally:
        shutil.rmtree(d, ignore_errors=True)


@defer.inlineCallbacks
def merged_workers():
    d = tempfile.mkdtemp(prefix="wampd-xbar-merged-")
    try:
        cfg = config("merged-workers.json")
        for i, w in enumerate(cfg["workers"]):
            w["transports"][1]["endpoint"]["path"] = os.path.join(d, "edge%d.sock" % (i + 1))
        with WampdProcess(config=cfg) as r:
            r.wait_log(r"ignored: workers\[1\]\.realms\[0\] \(realm \"realm1\", as "
                       r"workers\[0\]\.realms\[0\]\): merged")
            r.wait_log(r"ignored: workers\[1\]\.transports\[0\] \(as workers\[0\]\."
                       r"transports\[0\]\): the same as an earlier router worker's transport")
            assert [u for u in r.urls if u.startswith("ws")] == [url(r, "/ws")], r.urls
            ws = yield connect(url(r, "/ws"), "realm1", SER)
            e1 = yield connect("unix:" + os.path.join(d, "edge1.sock"), "realm1", "msgpack")
            e2 = yield connect("unix:" + os.path.join(d, "edge2.sock"), "realm1", "msgpack")
            # one router: what one worker's transport registers, the other's calls
            yield e1.register(lambda x: x + 1, "com.example.inc")
            assert (yield e2.call("com.example.inc", 1)) == 2
            assert (yield ws.call("com.example.inc", 41)) == 42
            yield publish_roundtrip(e2, ws, "com.example.merged", "one router")
            for s in (ws, e1, e2):
                yield s.leave_and_wait()
    finally:
        shutil.rmtree(d, ignore_errors=True)


@defer.inlineCallbacks
def main():
    for scenario in (two_paths, nested_paths, root_websocket, function_auth, tls_only,
                     tls_dynamic, merged_workers):
        print("crossbar endpoints scenario:", scenario.__name__, SER)
        yield scenario()


if __name__ == "__main__":
    run(main, timeout=120)
