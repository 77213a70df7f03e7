"""Autobahn|Python against wampd: authentication and authorization (issue #5).

ticket, wampcra (plain and salted), cryptosign, a dynamic authenticator and a dynamic
authorizer (with its cache proven by counting its invocations), static role permissions,
and TLS with a self-signed certificate made by the test (server and client certificate).

    WAMPD_BIN=... /usr/bin/python3 test_auth.py json|msgpack
"""

import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from tlscerts import make_certs, server_tls, twisted_options  # noqa: E402
from wampclient import JoinFailed, connect, expect_error, run  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"

ALICE_SEED = bytes(range(32))
ALICE_PUB = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"

ALL = {"call": True, "register": True, "publish": True, "subscribe": True}

CONFIG = {
    "listeners": [{"auth": {
        "ticket": {"type": "static", "principals": {
            "joe": {"ticket": "t-joe", "role": "user"},
            "svc": {"ticket": "t-svc", "role": "backend"}}},
        "wampcra": {"type": "static", "users": {
            "peter": {"secret": "s3cret", "role": "user"},
            "salty": {"password": "pw", "salt": "pepper", "iterations": 50, "keylen": 32,
                      "role": "user"}}},
        "cryptosign": {"type": "static", "principals": {
            "alice": {"authorized_keys": [ALICE_PUB], "role": "user"}}},
        "scram": {"type": "static", "principals": {
            # Autobahn|Python 22's WAMP-SCRAM ("scram", kdf argon2id-13; its pbkdf2 branch
            # raises a TypeError in the client)
            "bob": {"kdf": "argon2id-13", "iterations": 2, "memory": 512,
                    "salt": "c2FsdHNhbHRzYWx0c2FsdA==", "password": "pw-bob", "role": "user"}}},
        "anonymous": {"type": "static", "role": "dyn"},
    }}],
    "realms": [{"name": "realm1", "authorizer_cache_ttl": 60000, "roles": [
        {"name": "backend", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]},
        {"name": "user", "permissions": [
            {"uri": "com.app.", "match": "prefix", "trustlevel": 1,  # call_trustlevels
             "allow": {"call": True, "subscribe": True}},
            {"uri": "com.app.admin.", "match": "prefix", "allow": {}}]},
        {"name": "dyn", "authorizer": "com.auth.authorize"},
    ]}],
}


@defer.inlineCallbacks
def refused(url, reason, **opts):
    try:
        s = yield connect(url, "realm1", SER, **opts)
    except JoinFailed as e:
        assert e.reason == reason, "expected %s, got %s" % (reason, e.reason)
        return
    yield s.leave_and_wait()
    raise AssertionError("admitted; expected %s" % reason)


@defer.inlineCallbacks
def methods(url):
    for opts, role in (
            (dict(authmethods=["ticket"], authid="joe", secret="t-joe"), "user"),
            (dict(authmethods=["wampcra"], authid="peter", secret="s3cret"), "user"),
            (dict(authmethods=["wampcra"], authid="salty", secret="pw"), "user"),
            (dict(authmethods=["cryptosign"], authid="alice", cryptosign_seed=ALICE_SEED), "user"),
            (dict(authmethods=["cryptosign"], cryptosign_seed=ALICE_SEED), "user"),  # by key
            (dict(authmethods=["wampcra", "ticket"], authid="peter", secret="s3cret"), "user"),
    ):
        s = yield connect(url, "realm1", SER, **opts)
        assert s.details.authrole == role, (opts, s.details.authrole)
        yield s.leave_and_wait()
    yield refused(url, "wamp.error.authentication_failed", authmethods=["ticket"], authid="joe",
                  secret="wrong")
    yield refused(url, "wamp.error.authentication_failed", authmethods=["ticket"],
                  authid="nobody", secret="x")
    yield refused(url, "wamp.error.authentication_failed", authmethods=["wampcra"],
                  authid="salty", secret="not-pw")
    yield refused(url, "wamp.error.authentication_failed", authmethods=["cryptosign"],
                  authid="alice", cryptosign_seed=bytes(32))
    # a channel binding a plain TCP connection cannot give
    yield refused(url, "wamp.error.authentication_failed", authmethods=["cryptosign"],
                  authid="alice", cryptosign_seed=ALICE_SEED, channel_binding="tls-unique",
                  channel_id=bytes(32))
    # unknown authids, per method
    yield refused(url, "wamp.error.authentication_failed", authmethods=["wampcra"],
                  authid="nobody", secret="s3cret")
    yield refused(url, "wamp.error.authentication_failed", authmethods=["cryptosign"],
                  authid="nobody", cryptosign_seed=ALICE_SEED)
    yield refused(url, "wamp.error.authentication_failed", authmethods=["wampcra"],
                  authid="peter", secret="wrong")
    yield refused(url, "wamp.error.no_matching_auth_method", authmethods=["tls"], authid="joe")


@defer.inlineCallbacks
def scram(url):
    """WAMP-SCRAM with Autobahn|Python's own AuthScram, which also checks the router's
    server signature in WELCOME (so a router that cannot prove it knows the key fails)."""
    s = yield connect(url, "realm1", SER, authmethods=["scram"], authid="bob", secret="pw-bob")
    assert (s.details.authid, s.details.authrole, s.details.authmethod) == \
        ("bob", "user", "scram"), (s.details.authid, s.details.authrole, s.details.authmethod)
    assert s.scram_server_verified is True, "the server signature was not checked"
    yield s.leave_and_wait()
    yield refused(url, "wamp.error.authentication_failed", authmethods=["scram"], authid="bob",
                  secret="wrong")
    yield refused(url, "wamp.error.authentication_failed", authmethods=["scram"],
                  authid="nobody", secret="pw-bob")


@defer.inlineCallbacks
def static_permissions(url):
    svc = yield connect(url, "realm1", SER, authmethods=["ticket"], authid="svc", secret="t-svc")
    joe = yield connect(url, "realm1", SER, authmethods=["ticket"], authid="joe", secret="t-joe")
    yield svc.register(lambda: "hi", "com.app.hello")
    yield svc.register(lambda: "secret", "com.app.admin.reset")
    assert (yield joe.call("com.app.hello")) == "hi"
    yield expect_error(joe.call("com.app.admin.reset"), "wamp.error.not_authorized")
    yield expect_error(joe.register(lambda: 0, "com.app.mine"), "wamp.error.not_authorized")
    yield expect_error(joe.publish("com.app.news", options=PublishOptions(acknowledge=True)),
                       "wamp.error.not_authorized")
    yield expect_error(joe.subscribe(lambda: 0, "org.other"), "wamp.error.not_authorized")
    yield joe.subscribe(lambda: 0, "com.app.news")
    # a reconnecting client is authorized again from scratch
    yield joe.leave_and_wait()
    joe = yield connect(url, "realm1", SER, authmethods=["ticket"], authid="joe", secret="t-joe")
    yield expect_error(joe.register(lambda: 0, "com.app.mine"), "wamp.error.not_authorized")
    yield joe.leave_and_wait()
    yield svc.leave_and_wait()


@defer.inlineCallbacks
def dynamic_authorizer(url):
    svc = yield connect(url, "realm1", SER, authmethods=["ticket"], authid="svc", secret="t-svc")
    asked = []

    def authorize(session, uri, action, options=None):
        asked.append((uri, action))
        # INVOCATION.Details.trustlevel (the wire tests check it; the clients must cope)
        return {"allow": uri.startswith("com.ok."), "cache": True, "trustlevel": 2}
    yield svc.register(authorize, "com.auth.authorize")
    yield svc.register(lambda: "fine", "com.ok.proc")
    anon = yield connect(url, "realm1", SER)  # role dyn
    assert anon.details.authrole == "dyn"
    for _ in range(3):
        assert (yield anon.call("com.ok.proc")) == "fine"
    yield expect_error(anon.call("com.no.proc"), "wamp.error.not_authorized")
    yield expect_error(anon.call("com.no.proc"), "wamp.error.not_authorized")
    # the cache: one question per (uri, action), not one per call
    assert asked.count(("com.ok.proc", "call")) == 1, asked
    assert asked.count(("com.no.proc", "call")) == 1, asked
    # a new session asks again (its cache is its own)
    anon2 = yield connect(url, "realm1", SER)
    assert (yield anon2.call("com.ok.proc")) == "fine"
    assert asked.count(("com.ok.proc", "call")) == 2, asked
    yield anon2.leave_and_wait()
    yield anon.leave_and_wait()
    yield svc.leave_and_wait()


@defer.inlineCallbacks
def expired_challenge():
    """A client answering its CHALLENGE after the deadline (limits.hello_timeout, 1 s here)
    is not admitted: the connection is gone before its late AUTHENTICATE."""
    cfg = {"limits": {"hello_timeout": 1},
           "listeners": [{"auth": {"ticket": {"type": "static", "principals": {
               "joe": {"ticket": "t-joe", "role": "user"}}}}}],
           "realms": [{"name": "realm1"}]}
    with WampdProcess(config=cfg) as r:
        start = time.monotonic()
        try:
            s = yield connect(r.url, "realm1", SER, authmethods=["ticket"], authid="joe",
                              secret="t-joe", challenge_delay=2.5)
            yield s.leave_and_wait()
            raise AssertionError("admitted after the challenge expired")
        except JoinFailed:
            pass
        took = time.monotonic() - start
        assert 0.9 < took < 2.4, "closed after %.2fs, not at the 1 s deadline" % took
        # an answer in time still works
        s = yield connect(r.url, "realm1", SER, authmethods=["ticket"], authid="joe",
                          secret="t-joe", challenge_delay=0.2)
        yield s.leave_and_wait()


@defer.inlineCallbacks
def dynamic_authenticator():
    """Dynamic authenticators (ticket and wampcra) on a procedure of a trusted session:
    called with (realm, authid, details); a dict answer gives the role (and the wampcra
    secret); an error, an unknown authid or a missing authenticator refuse the session."""
    cfg = {"listeners": [{"auth": {
        "ticket": {"type": "dynamic", "authenticator": "com.auth.authenticate"},
        "wampcra": {"type": "dynamic", "authenticator": "com.auth.authenticate"},
        "anonymous": {"type": "static", "role": "backend"}}}],
        "realms": [{"name": "realm1", "roles": [
            {"name": "backend", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]},
            {"name": "user", "permissions": [{"uri": "com.app.", "match": "prefix",
                                              "allow": {"call": True}}]}]}]}
    with WampdProcess(config=cfg) as r:
        yield refused(r.url, "wamp.error.authentication_failed", authmethods=["ticket"],
                      authid="joe", secret="t")  # nobody has registered the authenticator
        svc = yield connect(r.url, "realm1", SER)
        asked = []

        def authenticate(realm, authid, details):
            asked.append((realm, authid, details.get("authmethod"), details.get("ticket")))
            if details.get("authmethod") == "wampcra" and authid == "peter":
                return {"secret": "s3cret", "role": "user"}
            if details.get("authmethod") == "ticket" and details.get("ticket") == "t-" + authid:
                return {"role": "user", "extra": {"hello": authid}}
            raise ApplicationError("com.auth.unknown", "no such user")
        yield svc.register(authenticate, "com.auth.authenticate")
        yield svc.register(lambda: "ok", "com.app.proc")
        joe = yield connect(r.url, "realm1", SER, authmethods=["ticket"], authid="joe", secret="t-joe")
        assert (joe.details.authid, joe.details.authrole, joe.details.authmethod,
                joe.details.authprovider) == ("joe", "user", "ticket", "dynamic"), joe.details
        assert joe.details.authextra == {"hello": "joe"}, joe.details.authextra
        assert (yield joe.call("com.app.proc")) == "ok"
        peter = yield connect(r.url, "realm1", SER, authmethods=["wampcra"], authid="peter",
                              secret="s3cret")
        assert (peter.details.authrole, peter.details.authmethod) == ("user", "wampcra")
        assert asked[0][:3] == ("realm1", "joe", "ticket") and asked[0][3] == "t-joe", asked
        assert asked[1][:3] == ("realm1", "peter", "wampcra"), asked
        yield refused(r.url, "wamp.error.authentication_failed", authmethods=["ticket"],
                      authid="joe", secret="wrong")
        yield refused(r.url, "wamp.error.authentication_failed", authmethods=["wampcra"],
                      authid="peter", secret="wrong")
        yield refused(r.url, "wamp.error.authentication_failed", authmethods=["wampcra"],
                      authid="nobody", secret="x")
        assert len(asked) == 5, asked  # once per HELLO, none for the admitted sessions since
        for s in (peter, joe, svc):
            yield s.leave_and_wait()


@defer.inlineCallbacks
def tls_client_certificate():
    """wss:// with a self-signed CA; a client certificate selects the tls method, a
    CA-signed one naming no principal is refused, one from another CA naming a principal
    is refused in the TLS handshake."""
    d = tempfile.mkdtemp(prefix="wampd-tls-")
    try:
        make_certs(d)
        cfg = {"listeners": [{"tls": server_tls(d),
                              "auth": {"tls": {"type": "static", "principals": {
                                  "device-7": {"role": "device"}}},
                                  "cryptosign": {"type": "static", "principals": {
                                      "alice": {"authorized_keys": [ALICE_PUB],
                                                "role": "user"}}},
                                  "anonymous": {"type": "static", "role": "public"}}}],
               "realms": [{"name": "realm1"}]}
        with WampdProcess(config=cfg) as r:
            assert r.url.startswith("wss://"), r.url
            url = "wss://localhost:%d/ws" % r.port
            for cert, method, role in (("client", "tls", "device"),
                                       (None, "anonymous", "public")):
                s = yield connect(url, "realm1", SER, tls=twisted_options(d, cert))
                assert s.details.authmethod == method, s.details.authmethod
                assert s.details.authrole == role, s.details.authrole
                if cert:
                    assert s.details.authid == "device-7", s.details.authid
                yield s.leave_and_wait()
            # cryptosign bound to this TLS channel (tls-unique), and a signature bound to
            # another channel refused
            for channel_id, outcome in ((None, "user"),
                                        (bytes(range(32)), "wamp.error.authentication_failed")):
                try:
                    s = yield connect(url, "realm1", SER, tls=twisted_options(d),
                                      authmethods=["cryptosign"], authid="alice",
                                      cryptosign_seed=ALICE_SEED, channel_binding="tls-unique",
                                      channel_id=channel_id)
                except JoinFailed as e:
                    assert e.reason == outcome, e.reason
                    continue
                assert s.details.authrole == outcome, (s.details.authrole, outcome)
                assert s.details.authmethod == "cryptosign"
                yield s.leave_and_wait()
            # a CA-signed certificate whose CN is no principal (and the tls method has no
            # default role): refused, no fallback to anonymous
            try:
                s = yield connect(url, "realm1", SER, tls=twisted_options(d, "stranger"))
                yield s.leave_and_wait()
                raise AssertionError("a stranger's certificate was admitted")
            except JoinFailed as e:
                assert e.reason == "wamp.error.authentication_failed", e.reason
            # same CN as a principal, another CA: refused in the TLS handshake
            try:
                s = yield connect(url, "realm1", SER, tls=twisted_options(d, "rogue"))
                raise AssertionError("a certificate from another CA joined as %s"
                                     % s.details.authid)
            except JoinFailed as e:
                assert e.reason in ("transport closed", "connect failed"), e
    finally:
        shutil.rmtree(d, ignore_errors=True)


@defer.inlineCallbacks
def main():
    with WampdProcess(config=CONFIG) as r:
        for scenario in (methods, scram, static_permissions, dynamic_authorizer):
            print("scenario:", scenario.__name__, SER, flush=True)
            yield scenario(r.url)
    for scenario in (expired_challenge, dynamic_authenticator, tls_client_certificate):
        print("scenario:", scenario.__name__, SER, flush=True)
        yield scenario()


if __name__ == "__main__":
    run(main, timeout=120)
