"""#17 finding 10: dynamic WAMP-SCRAM asks the authenticator.

Before the fix a dynamic SCRAM HELLO never called the authenticator procedure: the
unknown-user decoy branch answered it, so every dynamic SCRAM login failed. Now the
authenticator (a real session that registered it) is called with (realm, authid, details)
and answers with Crossbar's SCRAM credentials - what Autobahn's derive_scram_credential
makes: kdf, iterations, memory, salt, stored-key, server-key (hex) - plus the role.

Client: Autobahn|Python's own AuthScram (which also checks the router's server signature
in WELCOME). The right password joins with the authenticator's authid/authrole; a wrong
password and an unknown user both get ABORT wamp.error.authentication_failed.
"""
# ctest-areas: auth

import os

from autobahn.wamp.auth import derive_scram_credential
from autobahn.wamp.exception import ApplicationError
from twisted.internet import defer

from wampclient import JoinFailed, connect, run
from wampd_proc import WampdProcess

PASSWORD = "correct horse"
SALT = os.urandom(16)
CREDENTIAL = derive_scram_credential("bob", PASSWORD, SALT)  # Crossbar's format

CONFIG = {
    "listeners": [{"auth": {
        "scram": {"type": "dynamic", "authenticator": "com.auth.scram",
                  "authenticator_role": "authenticator"},
        "anonymous": {"type": "static", "role": "authenticator"}}}],
    "realms": [{"name": "realm1", "roles": [
        {"name": "authenticator", "permissions": [
            {"uri": "com.auth.scram", "match": "exact", "allow": {"register": True}}]},
        {"name": "user", "permissions": [
            {"uri": "com.app.", "match": "prefix", "allow": {"call": True}}]}]}],
}


@defer.inlineCallbacks
def refused(url, **opts):
    try:
        s = yield connect(url, "realm1", authmethods=["scram"], **opts)
    except JoinFailed as e:
        assert e.reason == "wamp.error.authentication_failed", e.reason
        return
    yield s.leave_and_wait()
    raise AssertionError("admitted: %r" % (opts,))


@defer.inlineCallbacks
def main():
    with WampdProcess(config=CONFIG) as r:
        svc = yield connect(r.url, "realm1")
        assert svc.details.authrole == "authenticator", svc.details.authrole
        asked = []

        def authenticate(realm, authid, details):
            asked.append((realm, authid, details.get("authmethod")))
            if authid == "bob":
                return dict(CREDENTIAL, role="user")
            raise ApplicationError("com.auth.no_such_user", "no such user")
        yield svc.register(authenticate, "com.auth.scram")

        bob = yield connect(r.url, "realm1", authmethods=["scram"], authid="bob",
                            secret=PASSWORD)
        got = (bob.details.authid, bob.details.authrole, bob.details.authmethod,
               bob.details.authprovider)
        assert got == ("bob", "user", "scram", "dynamic"), got
        assert bob.scram_server_verified is True, "the server signature was not checked"
        yield bob.leave_and_wait()

        yield refused(r.url, authid="bob", secret="wrong password")
        yield refused(r.url, authid="mallory", secret=PASSWORD)
        assert asked == [("realm1", "bob", "scram")] * 2 + [("realm1", "mallory", "scram")], \
            asked
        r.wait_log(r"authentication failed .*authid=mallory")
        yield svc.leave_and_wait()


if __name__ == "__main__":
    run(main, timeout=120)
