"""libwampc over TLS against the real wampd, with an Autobahn|Python session on the other
side: RawSocket (rss://, the POSIX adapter on OpenSSL), WebSocket (wss://, the
libwebsockets adapter, on the TLS context libwampc makes) or RawSocket over TLS in an lws
loop (rss-lws: rss:// on the libwebsockets adapter, libwampc's TLS over lws' raw
connection), the same cases for all.

Certificates are made at test time (tests/lib/tlscerts.py: a test CA, a server certificate
for localhost / 127.0.0.1, client certificates of that CA and of another one). wampd has a
universal TLS listener (RawSocket and WebSocket; client certificates optional, verified
against the test CA; the tls, cryptosign and anonymous methods), one that requires
cryptosign's channel binding, and one on 127.0.0.2.

What must work: the router verified against a CA file, a CA directory, by name and by
address; data both ways, a 200 KB payload (many TLS records, decrypted input left in the
TLS layer) through the application's own poll loop; the tls method (the client certificate
names the session), cryptosign bound to the TLS channel (tls-unique) where the router
requires it; --insecure connecting to a router it cannot verify.
What must be refused, before any session: a router certificate from a CA it does not trust
(or no CA at all), a router whose address (127.0.0.2: a listener there with the same
certificate) or name is not the certificate's, a client certificate of another CA (the
router refuses the handshake), a CA file that does not exist; and at the session: a client
certificate the router does not know (tls refused), cryptosign without the binding where
the router requires it.
Every refusal must say why (the transport error the peer prints) and the peer exits 0
(under ASan: no leak).

    WAMPD_BIN=... WAMPC_PEER=... /usr/bin/python3 test_client_tls.py json|msgpack|cbor
        [rss|wss|rss-lws]
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

from autobahn.wamp.types import PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from clientlib import Inbox, Peer  # noqa: E402
from tlscerts import make_certs, server_tls  # noqa: E402
from wampclient import connect, run  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
MODE = sys.argv[2] if len(sys.argv) > 2 else "rss"
SCHEME = MODE.split("-")[0]                       # the router's listener URL
ADAPTER = ["--lws"] if MODE.endswith("-lws") else []  # the peer's adapter
OTHER = "msgpack" if SER == "json" else "json"
PEER = os.environ.get("WAMPC_PEER")
TMP = tempfile.mkdtemp(prefix="wampc-tls-")
CERTS = make_certs(TMP)
CA = os.path.join(CERTS, "ca.pem")
ALICE_SEED = bytes(range(32))
ALICE_PUB = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
AUTH = {"tls": {"type": "static", "principals": {"device-7": {"role": "device"}}},
        "cryptosign": {"type": "static", "principals": {
            "alice": {"authorized_keys": [ALICE_PUB], "role": "user"}}},
        "anonymous": {"type": "static", "role": "public"}}
BOUND = {"cryptosign": {"type": "static", "require_channel_binding": True, "principals": {
    "alice": {"authorized_keys": [ALICE_PUB], "role": "user"}}}}
BIG = b"\x00\x01\xfe\xff" * 50000


def cert(name):
    return ["--cert", os.path.join(CERTS, name + ".pem"),
            "--key", os.path.join(CERTS, name + ".key")]


def ca_dir():
    """The test CA as a directory in `openssl rehash` layout."""
    d = os.path.join(TMP, "cadir")
    os.mkdir(d)
    shutil.copy(CA, os.path.join(d, "ca.pem"))
    subprocess.run(["openssl", "rehash", d], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return d


def start_peer(url, *args):
    return Peer.spawn(PEER, "--serializer", SER, "--url", url, *ADAPTER, *args)


@defer.inlineCallbacks
def joins(url, who, *args):
    """The peer joins as `who` ("AUTHID AUTHROLE AUTHMETHOD"; AUTHID "*": any, as the
    router makes up an anonymous one) and leaves."""
    peer = start_peer(url, "--exit-on-join", *args)
    line = yield peer.line_starting("joined")
    got, want = line.split()[2:], who.split()
    assert len(got) == 3 and all(w in ("*", g) for w, g in zip(want, got)), (args, line)
    yield peer.line_starting("exit")
    yield peer.exit_ok()


@defer.inlineCallbacks
def refused_before_session(url, why, *args):
    """The attempt fails before its connection opens (no session), saying `why`."""
    peer = start_peer(url, "--exit-on-join", *args)
    line = yield peer.line_starting("transport-error")
    assert why in line, (args, line)
    assert (yield peer.next_line("never-connected")) == "never-connected", args
    line = yield peer.next_line("left")
    assert line == "left wamp.close.transport_lost stopped", (args, line)
    yield peer.line_starting("exit")
    yield peer.exit_ok()


@defer.inlineCallbacks
def no_session(url, *args):
    """No session: the connection ends before any WELCOME, saying why (a TLS 1.3 client
    finishes its handshake before the server has checked the client's certificate, so the
    router's refusal arrives as the end of an open connection)."""
    peer = start_peer(url, "--exit-on-join", *args)
    lines = []
    while not lines or not lines[-1].startswith("left"):
        lines.append((yield peer.next_line("left")))
    assert not [x for x in lines if x.startswith("joined")], (args, lines)
    assert [x for x in lines if x.startswith("transport-error ")], (args, lines)
    assert lines[-1] == "left wamp.close.transport_lost stopped", (args, lines)
    yield peer.line_starting("exit")
    yield peer.exit_ok()


@defer.inlineCallbacks
def refused_at_session(url, reason, *args):
    peer = start_peer(url, "--exit-on-join", *args)
    line = yield peer.line_starting("left")
    assert line == "left %s stopped" % reason, (args, line)
    yield peer.line_starting("exit")
    yield peer.exit_ok()


@defer.inlineCallbacks
def data_both_ways(py, url):
    """Over TLS, from the application's own poll loop: a registration called with a payload
    of many TLS records, echoed back as its bytes; a publication both ways."""
    inbox = Inbox()
    for t in ("com.c.ack", "com.c.hello", "com.c.event"):
        yield py.subscribe(inbox.handler(t), t)

    def cmd(*args, **kw):
        return py.publish("com.c.cmd", *args, options=PublishOptions(acknowledge=True), **kw)

    peer = start_peer(url, "--own-loop", "--ca-file", CA)
    hello = (yield inbox.get("com.c.hello"))[0]
    assert hello[2:] == ["public", "anonymous"], hello
    yield cmd("register", "echo", "com.tls.echo", "echo")
    assert (yield inbox.get("com.c.ack"))[0][:2] == ["echo", None]
    yield cmd("subscribe", "news", "com.tls.news")
    assert (yield inbox.get("com.c.ack"))[0][:2] == ["news", None]
    r = yield py.call("com.tls.echo", BIG, "z", k=[1.5])
    assert list(r.results) == [BIG, "z"] and r.kwresults == {"k": [1.5]}, "echo over TLS"
    yield py.publish("com.tls.news", "over tls", options=PublishOptions(acknowledge=True))
    ev = (yield inbox.get("com.c.event"))[0]
    assert ev[:2] == ["news", "com.tls.news"] and ev[4] == ["over tls"], ev
    yield cmd("leave")
    yield peer.line_starting("exit")
    yield peer.exit_ok()


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={
        "listeners": [{"type": "universal", "port": 0},
                      {"type": "universal", "port": 0, "tls": server_tls(CERTS), "auth": AUTH},
                      {"type": "universal", "port": 0, "tls": server_tls(CERTS), "auth": BOUND},
                      {"type": "universal", "port": 0, "host": "127.0.0.2",
                       "tls": server_tls(CERTS), "auth": AUTH}],
        "realms": [{"name": "realm1"}]}).start()
    try:
        by_ip = router.url_of(SCHEME, 0)
        by_name = by_ip.replace("127.0.0.1", "localhost")
        bound = router.url_of(SCHEME, 1).replace("127.0.0.1", "localhost")
        elsewhere = router.url_of(SCHEME, 2)
        assert elsewhere.startswith(SCHEME + "://127.0.0.2:"), router.urls
        py = yield connect(router.url, "realm1", OTHER)
        print("scenario: data", SER, MODE, flush=True)
        yield data_both_ways(py, by_name)

        print("scenario: verification", SER, flush=True)
        yield joins(by_name, "* public anonymous", "--ca-file", CA)
        yield joins(by_ip, "* public anonymous", "--ca-file", CA)
        yield joins(by_name, "* public anonymous", "--ca-path", ca_dir())
        yield refused_before_session(by_name, "certificate verify failed",
                                     "--ca-file", os.path.join(CERTS, "rogueca.pem"))
        # no CA given: the system's store, which does not know the test CA
        yield refused_before_session(by_name, "certificate verify failed")
        yield refused_before_session(by_name, "hostname mismatch", "--ca-file", CA,
                                     "--server-name", "elsewhere.example")
        yield refused_before_session(elsewhere, "IP address mismatch", "--ca-file", CA)
        yield joins(elsewhere, "* public anonymous", "--ca-file", CA, "--server-name", "localhost")
        yield refused_before_session(by_name, "cannot load the CA certificates",
                                     "--ca-file", os.path.join(TMP, "missing.pem"))
        # verifying nothing connects to what could not be verified
        yield joins(by_name, "* public anonymous", "--insecure", "--server-name", "x.example")

        print("scenario: client certificates", SER, flush=True)
        yield joins(by_name, "device-7 device tls", "--ca-file", CA, "--authmethods", "tls",
                    *cert("client"))
        # a certificate of another CA: the router ends the handshake
        yield no_session(by_name, "--ca-file", CA, "--authmethods", "tls", *cert("rogue"))
        # a valid certificate of nobody the router knows (no default role): no session
        yield refused_at_session(by_name, "wamp.error.authentication_failed", "--ca-file", CA,
                                 "--authmethods", "tls", *cert("stranger"))

        print("scenario: channel binding", SER, flush=True)
        alice = ["--authmethods", "cryptosign", "--authid", "alice", "--seed", ALICE_SEED.hex(),
                 "--ca-file", CA]
        yield joins(by_name, "alice user cryptosign", *alice)
        yield joins(by_name, "alice user cryptosign", "--channel-binding", *alice)
        yield joins(bound, "alice user cryptosign", "--channel-binding", *alice)
        # the router requires the binding: without it, no session
        yield refused_at_session(bound, "wamp.error.authentication_failed", *alice)
        yield py.leave_and_wait()
    finally:
        router.stop()
        shutil.rmtree(TMP, ignore_errors=True)


if not PEER:
    sys.exit("WAMPC_PEER is not set (ctest sets it to the built interop_peer)")
run(main, timeout=150)
