"""#17 (also seen): a listener can require cryptosign channel binding.

Channel binding ties a cryptosign signature to one TLS connection (the client signs the
challenge XOR the tls-unique channel id), so a man in the middle terminating TLS cannot
relay the login. But it was the client's choice (HELLO.Details.authextra.channel_binding),
and whoever sits in the middle can strip that request: the router then accepted an unbound
signature. With "require_channel_binding": true on the listener's cryptosign method, a HELLO
without channel_binding "tls-unique" gets ABORT wamp.error.authentication_failed; with it
(on TLS) the client joins. The option is refused on a listener without TLS, where nobody
could ever log in.

Client: Autobahn|Python's cryptosign (it computes the channel id of its TLS connection).
"""
# ctest-areas: auth tls

import json
import os
import shutil
import subprocess
import tempfile

from twisted.internet import defer

from tlscerts import make_certs, server_tls, twisted_options
from wampclient import JoinFailed, connect, run
from wampd_proc import WampdProcess

ALICE_SEED = bytes(range(32))
ALICE_PUB = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


def cryptosign(require):
    return {"cryptosign": {"type": "static", "require_channel_binding": require,
                           "principals": {"alice": {"authorized_keys": [ALICE_PUB],
                                                    "role": "user"}}}}


@defer.inlineCallbacks
def login(url, tls, **opts):
    """The joined session's authid, or the ABORT reason."""
    try:
        s = yield connect(url, "realm1", tls=tls, authmethods=["cryptosign"], authid="alice",
                          cryptosign_seed=ALICE_SEED, **opts)
    except JoinFailed as e:
        return e.reason
    authid = s.details.authid
    yield s.leave_and_wait()
    return authid


def plain_listener_refused():
    fd, path = tempfile.mkstemp(prefix="wampd-cb-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"listeners": [{"auth": cryptosign(True)}], "realms": [{"name": "realm1"}]}, f)
    try:
        p = subprocess.run([os.environ["WAMPD_BIN"], "--port", "0", "--config", path],
                           capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(path)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "listeners[0].auth.cryptosign.require_channel_binding: needs a TLS listener" \
        in p.stderr, p.stderr


@defer.inlineCallbacks
def main():
    plain_listener_refused()
    d = tempfile.mkdtemp(prefix="wampd-cb-")
    try:
        make_certs(d)
        tls = twisted_options(d)
        for require in (True, False):
            cfg = {"listeners": [{"tls": server_tls(d, client_ca=False),
                                  "auth": cryptosign(require)}],
                   "realms": [{"name": "realm1"}]}
            with WampdProcess(config=cfg) as r:
                url = "wss://localhost:%d/ws" % r.port
                # bound to this TLS connection: joins either way
                got = yield login(url, tls, channel_binding="tls-unique")
                assert got == "alice", got
                # the binding stripped (what a man in the middle does): refused only
                # where the listener requires it
                got = yield login(url, tls)
                want = "wamp.error.authentication_failed" if require else "alice"
                assert got == want, (require, got)
                # bound to another channel (a relayed signature): refused anyway
                got = yield login(url, tls, channel_binding="tls-unique", channel_id=bytes(32))
                assert got == "wamp.error.authentication_failed", got
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run(main, timeout=120)
