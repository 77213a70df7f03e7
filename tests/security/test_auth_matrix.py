"""Issue #17: the authentication matrix.

One router with listeners of every kind (WebSocket, RawSocket, universal over both, TLS with
client certificates, a long-poll service, HTTP bridge services), each configuring its own
set of methods. Some principals share their authid across listeners with another secret,
so that a router mixing the listeners' principals up would let them in.

For every way in (listener x transport), every WAMP method (anonymous, ticket, wampcra,
cryptosign, scram, tls) and every credential (this listener's right one, its principal
with a wrong secret, every other listener's valid credential for that method): only a
method the listener configures, with this listener's right credential, joins, with the
authid and authrole this listener gives; everything else gets ABORT. The HTTP bridge
services: only their own Bearer ticket / signature is accepted (200); every other
credential, WAMP tickets of the listeners included, gets 400/401.

The expected outcome comes from the table below, not from the router.
"""
# ctest-areas: auth websocket rawsocket longpoll http tls

import base64
import hashlib
import hmac
import json
import os
import shutil
import ssl
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))
sys.path.insert(0, os.path.join(HERE, "..", "http"))

import nacl.signing  # noqa: E402
from autobahn.wamp.auth import AuthScram  # noqa: E402
from autobahn.wamp.types import Challenge  # noqa: E402

from httpc import request, sign  # noqa: E402
from rsraw import RS, RSClosed  # noqa: E402
from tlscerts import make_certs, server_tls  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wsraw import WS, Closed, HandshakeRefused  # noqa: E402

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE = 1, 2, 3, 4, 5
ROLES = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}
METHODS = ("anonymous", "ticket", "wampcra", "cryptosign", "scram", "tls")

SEED_A, SEED_D, SEED_X = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))


def pub(seed):
    return nacl.signing.SigningKey(seed).verify_key.encode().hex()


SCRAM = {"kdf": "argon2id-13", "iterations": 2, "memory": 512,
         "salt": base64.b64encode(b"saltsaltsaltsalt").decode()}

# listener -> method -> (authid, secret, authrole) of its one principal for that method.
# Shared authids (joe, alice, peter) have another secret/key on every listener.
TABLE = {
    "a": {"anonymous": (None, None, "a-anon"), "ticket": ("joe", "t-joe-a", "a-user")},
    "b": {"wampcra": ("peter", "cra-b", "b-user"), "cryptosign": ("alice", SEED_A, "b-key")},
    "c": {"scram": ("bob", "pw-bob-c", "c-user"), "ticket": ("joe", "t-joe-c", "c-user2")},
    "d": {"cryptosign": ("alice", SEED_D, "d-key"), "wampcra": ("peter", "cra-d", "d-user")},
    "e": {"tls": ("device-7", "client", "e-dev"), "ticket": ("joe", "t-joe-e", "e-user")},
    "f": {"ticket": ("joe", "t-joe-f", "f-user")},
}
# a wrong secret of the same principal, per method
WRONG = {"ticket": "nope", "wampcra": "nope", "cryptosign": SEED_X, "scram": "nope",
         "tls": "stranger"}


def auth_config(methods):
    out = {}
    for m, (authid, secret, role) in methods.items():
        if m == "anonymous":
            out[m] = {"type": "static", "role": role}
        elif m == "ticket":
            out[m] = {"type": "static", "principals": {authid: {"ticket": secret, "role": role}}}
        elif m == "wampcra":
            out[m] = {"type": "static", "users": {authid: {"secret": secret, "role": role}}}
        elif m == "cryptosign":
            out[m] = {"type": "static", "principals": {
                authid: {"authorized_keys": [pub(secret)], "role": role}}}
        elif m == "scram":
            out[m] = {"type": "static", "principals": {
                authid: dict(SCRAM, password=secret, role=role)}}
        elif m == "tls":
            out[m] = {"type": "static", "principals": {authid: {"role": role}}}
    return out


def config(certdir):
    tls = server_tls(certdir)
    listeners = [
        {"type": "websocket", "path": "/a", "auth": auth_config(TABLE["a"])},
        {"type": "websocket", "path": "/b", "auth": auth_config(TABLE["b"])},
        {"type": "rawsocket", "auth": auth_config(TABLE["c"])},
        {"type": "universal", "path": "/d", "auth": auth_config(TABLE["d"])},
        {"type": "websocket", "path": "/e", "tls": tls, "auth": auth_config(TABLE["e"])},
        {"type": "websocket", "path": "/f", "auth": auth_config(TABLE["f"]),
         "http": {"/lp": {"type": "longpoll"}}},
        {"type": "websocket", "path": "/g", "http": {
            "/call": {"type": "caller", "realm": "realm1", "role": "bridge",
                      "auth": {"type": "ticket", "tickets": ["b-ticket"]}},
            "/pub": {"type": "publisher", "realm": "realm1", "role": "bridge",
                     "auth": {"type": "signed", "key": "k1", "secret": "s3cret-k1"}},
            "/pub2": {"type": "publisher", "realm": "realm1", "role": "bridge",
                      "auth": {"type": "signed", "key": "k2", "secret": "s3cret-k2"}}}},
    ]
    for lc in listeners:
        lc.update(host="127.0.0.1", port=0)
    roles = sorted({r for t in TABLE.values() for (_, _, r) in t.values()} | {"bridge"})
    return {"listeners": listeners,
            "limits": {"max_auth_failures_per_ip": 0},  # the matrix fails on purpose
            "realms": [{"name": "realm1", "roles": [
                {"name": r, "permissions": [{"uri": "", "match": "prefix", "allow": {
                    "call": True, "register": True, "publish": True, "subscribe": True}}]}
                for r in roles]}]}


# ---------------------------------------------------------------------- clients
class LongPoll:
    """A WAMP session over the long-poll transport (JSON), with WS's send/recv."""

    def __init__(self, port, path):
        self.port = port
        st, _, data = request(port, "POST", path + "/open", {"protocols": ["wamp.2.json"]})
        assert st == 200, (st, data)
        self.base = path + "/" + json.loads(data)["transport"]
        self.queue = []

    def send(self, msg):
        st, _, data = request(self.port, "POST", self.base + "/send", json.dumps(msg).encode())
        if st == 404:
            raise Closed()
        assert st in (200, 204), (st, data)

    def recv(self):
        while not self.queue:
            st, _, data = request(self.port, "POST", self.base + "/receive", timeout=15)
            if st == 404:
                raise Closed()
            assert st == 200, (st, data)
            self.queue += [json.loads(m) for m in data.decode().split("\x1e") if m.strip()]
        return self.queue.pop(0)

    def close(self):
        request(self.port, "POST", self.base + "/close")


class Matrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="wampd-authm-")
        make_certs(cls.certdir)
        cls.router = WampdProcess(config=config(cls.certdir)).start()
        urls = cls.router.urls
        ws = {u.rsplit("/", 1)[1]: u for u in urls if u.startswith(("ws://", "wss://"))}
        rs = [u for u in urls if u.startswith("rs://")]
        port = lambda u: int(u.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])  # noqa
        # ways in: (name, listener, kind, port, path)
        cls.ways = [("a-ws", "a", "ws", port(ws["a"]), "/a"),
                    ("b-ws", "b", "ws", port(ws["b"]), "/b"),
                    ("c-rs", "c", "rs", port(rs[0]), None),
                    ("d-ws", "d", "ws", port(ws["d"]), "/d"),
                    ("d-rs", "d", "rs", port(rs[1]), None),
                    ("e-wss", "e", "wss", port(ws["e"]), "/e"),
                    ("f-ws", "f", "ws", port(ws["f"]), "/f"),
                    ("f-lp", "f", "lp", port(ws["f"]), "/lp")]
        cls.bridge_port = port(ws["g"])
        cls.checked = 0

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def tls_context(self, cert):
        ctx = ssl.create_default_context(cafile=os.path.join(self.certdir, "ca.pem"))
        if cert:
            ctx.load_cert_chain(os.path.join(self.certdir, cert + ".pem"),
                                os.path.join(self.certdir, cert + ".key"))
        return ctx

    def transport(self, kind, port, path, cert=None):
        if kind == "rs":
            c = RS("127.0.0.1", port)
            c.handshake("json")
            return c
        if kind == "lp":
            return LongPoll(port, path)
        return WS("127.0.0.1", port, path=path,
                  tls=self.tls_context(cert) if kind == "wss" else None)

    def login(self, way, method, authid, secret):
        """HELLO offering only `method` (with `secret` the credential); the final answer,
        or None when the transport was refused or closed."""
        _, _, kind, port, path = way
        try:
            c = self.transport(kind, port, path, cert=secret if method == "tls" else None)
        except (ssl.SSLError, HandshakeRefused, ConnectionError, Closed, RSClosed):
            return None
        details = {"roles": ROLES, "authmethods": [method]}
        if authid:
            details["authid"] = authid
        scram = None
        if method == "cryptosign":
            details["authextra"] = {"pubkey": pub(secret)}
        if method == "scram":
            scram = AuthScram(authid=authid, password=secret)
            details["authextra"] = scram.authextra
        try:
            c.send([HELLO, "realm1", details])
            msg = c.recv()
            if msg[0] == CHALLENGE:
                c.send([AUTHENTICATE, answer(msg, method, secret, scram), {}])
                msg = c.recv()
        except (Closed, RSClosed, ssl.SSLError, ConnectionError):
            msg = None
        c.close()
        return msg

    def check(self, way, method, cred, expect_join):
        authid, secret, role = cred
        msg = self.login(way, method, authid, secret)
        type(self).checked += 1
        what = "%s %s authid=%s secret=%r" % (way[0], method, authid, secret)
        if expect_join:
            self.assertIsNotNone(msg, what)
            self.assertEqual(msg[0], WELCOME, "%s: %r" % (what, msg))
            self.assertEqual(msg[2]["authrole"], role, what)
            self.assertEqual(msg[2]["authmethod"], method, what)
            if authid:
                self.assertEqual(msg[2]["authid"], authid, what)
        else:
            self.assertTrue(msg is None or msg[0] == ABORT, "%s must be refused: %r" % (what, msg))

    def test_wamp_listeners(self):
        for way in self.ways:
            own = TABLE[way[1]]
            for method in METHODS:
                with self.subTest(way=way[0], method=method):
                    if method in own:
                        self.check(way, method, own[method], True)
                        if method not in ("anonymous",):
                            authid, _, role = own[method]
                            self.check(way, method, (authid, WRONG[method], role), False)
                    elif method == "anonymous":
                        self.check(way, method, (None, None, None), False)
                    for other, methods in TABLE.items():
                        if other == way[1] or method not in methods:
                            continue
                        if method == "anonymous" and method in own:
                            continue  # anonymous has no credential to mix up
                        self.check(way, method, methods[method], False)
        # every way, every method was tried; the sum is fixed by the table
        listeners = [w[1] for w in self.ways]
        own = sum(len(TABLE[l]) + sum(m != "anonymous" for m in TABLE[l]) for l in listeners)
        anon_refused = sum("anonymous" not in TABLE[l] for l in listeners)
        foreign = sum(m in TABLE[o] for l in listeners for m in METHODS
                      for o in TABLE if o != l and not (m == "anonymous" and m in TABLE[l]))
        self.assertEqual(self.checked, own + anon_refused + foreign)

    def test_http_bridge(self):
        p = self.bridge_port
        call = json.dumps({"procedure": "wamp.session.count"})
        pub_body = json.dumps({"topic": "com.matrix.t", "args": [1]})
        bearer = lambda t: {"Authorization": "Bearer " + t}  # noqa: E731
        wamp_tickets = [s for t in TABLE.values() for m, (_, s, _) in t.items() if m == "ticket"]
        # caller: only its own Bearer ticket
        self.assertEqual(request(p, "POST", "/call", call, bearer("b-ticket"))[0], 200)
        for t in ["", "b-ticke", "b-ticketX", "B-TICKET", "s3cret-k1"] + wamp_tickets:
            with self.subTest(service="/call", ticket=t):
                self.assertEqual(request(p, "POST", "/call", call, bearer(t))[0], 401)
        self.assertEqual(request(p, "POST", "/call", call)[0], 401)
        for key, secret in (("k1", "s3cret-k1"), ("k2", "s3cret-k2")):
            with self.subTest(service="/call", signed=key):
                self.assertEqual(request(p, "POST", "/call?" + sign(key, secret, call), call)[0],
                                 401)
        # publishers: only their own key and secret
        for path, own, other in (("/pub", ("k1", "s3cret-k1"), ("k2", "s3cret-k2")),
                                 ("/pub2", ("k2", "s3cret-k2"), ("k1", "s3cret-k1"))):
            with self.subTest(service=path, case="own"):
                st, _, data = request(p, "POST", path + "?" + sign(*own, pub_body), pub_body)
                self.assertEqual(st, 200, data)
            for key, secret in (other, (own[0], other[1]), (own[0], "nope"),
                                (other[0], own[1])):
                with self.subTest(service=path, key=key, secret=secret):
                    st, _, _ = request(p, "POST", path + "?" + sign(key, secret, pub_body),
                                       pub_body)
                    self.assertEqual(st, 401)
            for t in ["b-ticket"] + wamp_tickets:
                with self.subTest(service=path, ticket=t):
                    self.assertIn(request(p, "POST", path, pub_body, bearer(t))[0], (400, 401))


def answer(challenge, method, secret, scram):
    """The AUTHENTICATE signature for a CHALLENGE, computed here from the spec."""
    extra = challenge[2]
    if method == "ticket":
        return secret
    if method == "wampcra":
        key = secret.encode()
        return base64.b64encode(hmac.new(key, extra["challenge"].encode(),
                                         hashlib.sha256).digest()).decode()
    if method == "cryptosign":
        ch = bytes.fromhex(extra["challenge"])
        return (nacl.signing.SigningKey(secret).sign(ch).signature + ch).hex()
    if method == "scram":
        sig = scram.on_challenge(None, Challenge("scram", extra))
        return sig.decode() if isinstance(sig, bytes) else sig
    return ""


if __name__ == "__main__":
    unittest.main(verbosity=2)
