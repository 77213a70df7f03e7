"""#22: the internal socket of router components admits each component only, as itself.

A Crossbar router worker's components run inside the router; wampd runs them in a child
process that joins over an internal RawSocket listener on a Unix socket. What guards it:
  - the socket is in a directory of its own, mode 0700, owned by wampd's user, removed at
    exit: no other user can connect;
  - each component has its own random secret (proven with authmethod "trusted", for its
    random UUID authid, its role, its realm only), handed to the launcher on a memfd stdin:
    never in a command line, an environment or a log line;
  - on that socket: no secret, a wrong secret, another authid, another realm, anonymous,
    ticket: ABORT; the component's secret works there only (not on the router's public
    listener);
  - what the component may do is its role's, like any session.
"""
# ctest-areas: workers auth

import os
import re
import shutil
import stat
import tempfile
import json

from twisted.internet import defer

from wampclient import JoinFailed, connect, expect_error, run
from wampd_proc import WampdProcess

COMPONENT = '''
from autobahn.twisted.wamp import ApplicationSession


class Inside(ApplicationSession):
    async def onJoin(self, details):
        await self.register(lambda: [details.authid, details.authrole], "com.example.whoami")
        print("inside ready")
'''


def app_dir():
    d = tempfile.mkdtemp(prefix="wampd-wsock-")
    with open(os.path.join(d, "inside.py"), "w") as f:
        f.write(COMPONENT)
    config = {
        "listeners": [{"type": "websocket", "host": "127.0.0.1", "port": 8080, "path": "/ws",
                       "auth": {"anonymous": {"type": "static", "role": "anonymous"}}}],
        "realms": [
            {"name": "realm1", "roles": [
                {"name": "backend", "permissions": [
                    {"uri": "com.example.", "match": "prefix",
                     "allow": {"call": True, "register": True}}]},
                {"name": "anonymous", "permissions": [
                    {"uri": "com.example.", "match": "prefix", "allow": {"call": True}}]}]},
            {"name": "other"}],
        "processes": [{"id": "rc", "type": "python", "components": [
            {"id": "inside", "classname": "inside.Inside", "realm": "realm1",
             "role": "backend"}]}],
    }
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f)
    return d


def launcher_pid(r):
    m = re.search(r"started worker=rc pid=(\d+)", r.stderr())
    assert m, r.stderr()
    return int(m.group(1))


@defer.inlineCallbacks
def main():
    d = app_dir()
    try:
        with WampdProcess(config=os.path.join(d, "config.json"),
                          env={"PYTHONDONTWRITEBYTECODE": "1"}) as r:
            sock = r.url_of("unix")[len("unix:"):]
            sdir = os.path.dirname(sock)
            st = os.stat(sdir)
            assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
            assert st.st_uid == os.getuid()
            authid = r.wait_log(r"router component worker=rc component=inside joins as "
                                r"authid=([0-9a-f-]{36}) authrole=backend realm=realm1").group(1)
            r.wait_log(r"join session=\d+ realm=realm1 authid=%s authrole=backend "
                       r"authmethod=trusted transport=rawsocket" % authid, timeout=60)
            r.wait_log(r"worker=rc stdout: inside ready", timeout=60)

            # the secret, as only wampd's own user can read it: the launcher's stdin
            pid = launcher_pid(r)
            with open("/proc/%d/fd/0" % pid) as f:
                spec = json.load(f)
            ticket = spec["components"][0]["router"]["secret"]
            assert re.fullmatch(r"[0-9a-f]{64}", ticket), ticket
            assert spec["components"][0]["router"]["authid"] == authid
            # ... and nowhere it would be seen by others or logged
            for p in (pid, r.proc.pid):
                for what in ("cmdline", "environ"):
                    with open("/proc/%d/%s" % (p, what), "rb") as f:
                        assert ticket.encode() not in f.read(), (p, what)

            unix = "unix:" + sock
            refused = [
                (dict(), "wamp.error.no_matching_auth_method"),        # anonymous
                (dict(authmethods=["ticket"], authid=authid, secret=ticket),
                 "wamp.error.no_matching_auth_method"),                # ticket: not here
                (dict(authmethods=["trusted"], authid=authid, secret="0" * 64),
                 "wamp.error.authentication_failed"),                  # a wrong secret
                (dict(authmethods=["trusted"], authid="inside", secret=ticket),
                 "wamp.error.authentication_failed"),                  # another authid
            ]
            for opts, reason in refused:
                try:
                    s = yield connect(unix, "realm1", **opts)
                except JoinFailed as e:
                    assert e.reason == reason, (opts, e.reason)
                else:
                    yield s.leave_and_wait()
                    raise AssertionError("admitted on the internal socket: %r" % (opts,))
            # the component's secret is for its realm only
            try:
                s = yield connect(unix, "other", authmethods=["trusted"], authid=authid,
                                  secret=ticket)
            except JoinFailed as e:
                assert e.reason == "wamp.error.authentication_failed", e.reason
            else:
                raise AssertionError("the secret opened another realm")
            # and for the internal socket only: the public listener does not know it
            for method in ("trusted", "ticket"):
                try:
                    s = yield connect(r.url, "realm1", authmethods=[method], authid=authid,
                                      secret=ticket)
                except JoinFailed as e:
                    assert e.reason == "wamp.error.no_matching_auth_method", e.reason
                else:
                    raise AssertionError("the component's secret worked on the public "
                                         "listener as %s" % method)
            # the component's own session: its role's rights, no more
            s = yield connect(unix, "realm1", authmethods=["trusted"], authid=authid,
                              secret=ticket)
            assert s.details.authrole == "backend"
            assert s.details.authmethod == "trusted"
            assert s.details.authid == authid
            yield expect_error(s.register(lambda: 0, "org.elsewhere.proc"),
                               "wamp.error.not_authorized")
            yield s.leave_and_wait()
            c = yield connect(r.url, "realm1")
            assert (yield c.call("com.example.whoami")) == [authid, "backend"]
            yield c.leave_and_wait()
            # no ticket in wampd's own output
            assert ticket not in r.stderr()
        assert not os.path.exists(sdir), "the private directory outlives wampd"
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run(main, timeout=120)
