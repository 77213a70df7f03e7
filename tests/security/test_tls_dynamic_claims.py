"""Dynamic tls (Crossbar's): a client cannot make the authenticator see another certificate.

A dynamic authenticator decides on the client certificate the router shows it in
details.transport.client_cert (Crossbar's older name, which crossbar-examples'
authenticator reads) and details.transport.peer_cert (its current one). Before this test,
wampd passed HELLO.Details to the authenticator as the client sent them, so a client could
put its own "transport" in HELLO - {"client_cert": {"sha1": <an accepted fingerprint>,
"subject": {"cn": "device-7"}}} - and an authenticator written for Crossbar would accept
it; and the tls method could not complete at all.

Attacks, each over WebSocket, RawSocket and long-poll over TLS, with certificates made by openssl at
test time (tests/lib/tlscerts.py: client = CN device-7, stranger = CN stranger, one CA):
- the stranger's certificate with a HELLO claiming device-7's fingerprint and CN in
  "transport", authid "device-7" and an authextra saying the same: the authenticator sees
  the stranger's real fingerprint, CN and issuer, the authid argument is the certificate's
  CN; it refuses -> ABORT wamp.error.authentication_failed;
- the same when the authenticator admits any certificate of its CA with a role only: the
  session's authid is the certificate's CN, not the claimed "device-7";
- no certificate, with the forged "transport": ABORT wamp.error.no_matching_auth_method,
  and the authenticator is never asked (the next invocation it gets is the next login's);
- a dynamic ticket login on a plain listener with a forged "transport": its authenticator
  sees client_cert/peer_cert null;
and the tls-unique channel binding is never in what the authenticator sees.
"""
# ctest-areas: auth tls

import atexit
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

from rsraw import RS
from tlscerts import client_context, make_certs, server_tls
from wampd_proc import WampdProcess
from wsraw import WS

WELCOME, ABORT, CHALLENGE, AUTHENTICATE, ERROR = 2, 3, 4, 5, 8
REGISTER, REGISTERED, INVOCATION, YIELD = 64, 65, 68, 70

CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-sec-tlsdyn-"))
atexit.register(shutil.rmtree, CERTS, True)


def fingerprint(name):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in",
                          os.path.join(CERTS, name + ".pem")],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1].upper()


CLIENT_SHA1, STRANGER_SHA1 = fingerprint("client"), fingerprint("stranger")
assert CLIENT_SHA1 != STRANGER_SHA1

TLS_AUTH = {"tls": {"type": "dynamic", "authenticator": "com.auth.tls",
                    "authenticator_role": "authenticator"}}
CONFIG = {
    "listeners": [
        {"type": "websocket", "port": 0, "auth": {
            "anonymous": {"type": "static", "role": "authenticator"},
            "ticket": {"type": "dynamic", "authenticator": "com.auth.ticket",
                       "authenticator_role": "authenticator"}}},
        {"type": "websocket", "port": 0, "tls": server_tls(CERTS), "auth": TLS_AUTH,
         "http": {"/lp": {"type": "longpoll", "poll_timeout": 10}}},
        {"type": "rawsocket", "port": 0, "tls": server_tls(CERTS), "auth": TLS_AUTH},
    ],
    "realms": [{"name": "realm1", "roles": [
        {"name": "authenticator", "permissions": [
            {"uri": "com.auth.", "match": "prefix", "allow": {"register": True}}]},
        {"name": "device", "permissions": [
            {"uri": "com.app.", "match": "prefix", "allow": {"call": True}}]}]}],
}

# what an attacker claims in HELLO: device-7's certificate, authid and extra
FORGED_CERT = {"sha1": CLIENT_SHA1, "subject": {"cn": "device-7"},
               "issuer": {"cn": "wampd test CA"}}
FORGED = {"authmethods": ["tls"], "authid": "device-7",
          "authextra": {"client_cert": FORGED_CERT, "cn": "device-7"},
          "transport": {"client_cert": FORGED_CERT, "peer_cert": FORGED_CERT,
                        "channel_id": {"tls-unique": "00" * 32}},
          "roles": {"caller": {}}}


class Authenticator:
    """The authenticator session (raw WebSocket on the plain listener): registers the
    procedures, then answers one invocation at a time as the test says."""

    def __init__(self, router):
        u = urllib.parse.urlparse(router.url_of("ws"))
        self.ws = WS(u.hostname, u.port, path=u.path or "/")
        w = self.ws.hello(details={"roles": {"callee": {}}})
        assert w[0] == WELCOME and w[2]["authrole"] == "authenticator", w
        self.regs = {}
        for i, proc in enumerate(("com.auth.tls", "com.auth.ticket"), 1):
            self.ws.send([REGISTER, i, {}, proc])
            r = self.ws.recv()
            assert r[:2] == [REGISTERED, i], r
            self.regs[r[2]] = proc

    def invocation(self, proc):
        """The next INVOCATION (of proc): (request id, realm, authid, details)."""
        inv = self.ws.recv()
        assert inv[0] == INVOCATION and self.regs[inv[2]] == proc, inv
        args = inv[4]
        return inv[1], args[0], args[1], args[2]

    def answer(self, req, result):
        self.ws.send([YIELD, req, {}, [result]])

    def refuse(self, req, uri):
        self.ws.send([ERROR, INVOCATION, req, {}, uri, ["certificate denied"]])


def channel_binding_absent(details):
    transport = details["transport"]
    assert set(transport) == {"client_cert", "peer_cert"}, transport  # no channel_id
    assert "00" * 32 not in repr(transport), transport  # the forged one neither


def crossbar_example_policy(details):
    """crossbar-examples' authentication/tls/dynamic authenticator: the fingerprint decides
    (the certificate's subject CN as authid)."""
    cert = details["transport"].get("client_cert")
    if not cert or cert["sha1"] not in (CLIENT_SHA1,):
        return None
    return {"authid": cert["subject"]["cn"], "role": "device"}


class LongPollTLS:
    """A WAMP session over long-poll on https (JSON), each request presenting the same
    client certificate (the TLS listener answers one request per connection)."""

    def __init__(self, port, ctx):
        self.port, self.ctx, self.queue = port, ctx, []
        self.base = "/lp/" + self.post("/lp/open", {"protocols": ["wamp.2.json"]})["transport"]

    def post(self, path, body=None):
        c = http.client.HTTPSConnection("localhost", self.port, timeout=15, context=self.ctx)
        try:
            c.request("POST", path, body=json.dumps(body) if body is not None else None,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        assert r.status in (200, 204), (path, r.status, data)
        return json.loads(data) if r.status == 200 and not path.endswith("/receive") \
            else data

    def send(self, msg):
        self.post(self.base + "/send", msg)

    def recv(self):
        while not self.queue:
            data = self.post(self.base + "/receive")
            self.queue += [json.loads(m) for m in data.decode().split("\x1e") if m.strip()]
        return self.queue.pop(0)

    def close(self):
        try:
            self.post(self.base + "/close")
        except AssertionError:
            pass  # already closed by the router (an ABORT)


def connect_tls(router, kind, cert):
    """A TLS connection to the dynamic-tls listener of this kind ("ws", "rs" or "lp")
    presenting cert (None: no certificate)."""
    ctx = client_context(CERTS, cert)
    if kind == "lp":
        return LongPollTLS(urllib.parse.urlparse(router.url_of("wss")).port, ctx)
    if kind == "ws":
        u = urllib.parse.urlparse(router.url_of("wss"))
        return WS("localhost", u.port, path=u.path or "/", tls=ctx)
    port = int(router.url_of("rss").rsplit(":", 1)[1])
    c = RS("localhost", port, tls=ctx)
    assert c.handshake("json")[0] == 0x7F
    return c


def check_transport(details, cn, sha1):
    """details.transport holds the real certificate (cn, sha1), under both names."""
    channel_binding_absent(details)
    cert = details["transport"]["client_cert"]
    assert cert == details["transport"]["peer_cert"], details["transport"]
    assert cert["sha1"] == sha1, (cert["sha1"], sha1)
    assert cert["subject"]["cn"] == cn, cert["subject"]
    assert cert["issuer"]["cn"] == "wampd test CA", cert["issuer"]


def attacks(router, auth, kind):
    # the right certificate: the authenticator's decision stands
    c = connect_tls(router, kind, "client")
    c.send([1, "realm1", {"authmethods": ["tls"], "roles": {"caller": {}}}])
    req, realm, authid, details = auth.invocation("com.auth.tls")
    assert (realm, authid) == ("realm1", "device-7"), (realm, authid)
    check_transport(details, "device-7", CLIENT_SHA1)
    auth.answer(req, crossbar_example_policy(details))
    w = c.recv()
    assert w[0] == WELCOME and (w[2]["authid"], w[2]["authrole"]) == ("device-7", "device"), w
    c.close()

    # the stranger claiming device-7's certificate in HELLO: the authenticator sees its own
    c = connect_tls(router, kind, "stranger")
    c.send([1, "realm1", FORGED])
    req, realm, authid, details = auth.invocation("com.auth.tls")
    assert authid == "stranger", authid  # the certificate's CN, not HELLO's authid
    check_transport(details, "stranger", STRANGER_SHA1)
    assert crossbar_example_policy(details) is None
    auth.refuse(req, "com.example.invalid_cert")
    a = c.recv()
    assert a[0] == ABORT and a[2] == "wamp.error.authentication_failed", a
    c.close()

    # an authenticator admitting every certificate of its CA by role: still the stranger
    c = connect_tls(router, kind, "stranger")
    c.send([1, "realm1", FORGED])
    req, _, authid, details = auth.invocation("com.auth.tls")
    check_transport(details, "stranger", STRANGER_SHA1)
    auth.answer(req, {"role": "device"})
    w = c.recv()
    assert w[0] == WELCOME and w[2]["authid"] == "stranger", w
    assert w[2]["authmethod"] == "tls" and w[2]["authprovider"] == "dynamic", w
    c.close()

    # no certificate at all: refused before anyone is asked
    c = connect_tls(router, kind, None)
    c.send([1, "realm1", FORGED])
    a = c.recv()
    assert a[0] == ABORT and a[2] == "wamp.error.no_matching_auth_method", a
    c.close()
    # the authenticator's next invocation is the next login's, not that one's
    c = connect_tls(router, kind, "client")
    c.send([1, "realm1", {"authmethods": ["tls"], "authid": "someone"}])
    req, _, authid, details = auth.invocation("com.auth.tls")
    assert authid == "device-7", authid
    check_transport(details, "device-7", CLIENT_SHA1)
    auth.refuse(req, "com.example.invalid_cert")
    assert c.recv()[0] == ABORT
    c.close()


def ticket_claims(router, auth):
    """Another dynamic method's authenticator: HELLO's "transport" is not what it sees."""
    u = urllib.parse.urlparse(router.url_of("ws"))
    c = WS(u.hostname, u.port, path=u.path or "/")
    c.send([1, "realm1", dict(FORGED, authmethods=["ticket"], authid="joe")])
    ch = c.recv()
    assert ch[0] == CHALLENGE and ch[1] == "ticket", ch
    c.send([AUTHENTICATE, "joes-ticket", {}])
    req, _, authid, details = auth.invocation("com.auth.ticket")
    assert (authid, details["ticket"]) == ("joe", "joes-ticket"), (authid, details)
    channel_binding_absent(details)
    assert details["transport"]["client_cert"] is None, details["transport"]
    assert details["transport"]["peer_cert"] is None, details["transport"]
    auth.refuse(req, "com.example.no_such_user")
    a = c.recv()
    assert a[0] == ABORT and a[2] == "wamp.error.authentication_failed", a
    c.close()


def main():
    with WampdProcess(config=CONFIG) as r:
        auth = Authenticator(r)
        for kind in ("ws", "rs", "lp"):
            attacks(r, auth, kind)
            print("refused over", kind)
        ticket_claims(r, auth)
        auth.ws.close()
    print("ok")


if __name__ == "__main__":
    main()
