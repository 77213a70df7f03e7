"""#22: nobody but wampd's own router components gets authmethod "trusted".

Router components (a Crossbar router worker's "class" components) join wampd over its
internal socket and appear as Crossbar shows them: authmethod "trusted", a random UUID as
authid, their configured role (auth/trusted.c). Apps may trust a session for that (a
caller's authmethod in the meta API). What must be refused, driven as an attacker would:
  - a network client on the ordinary listeners (WebSocket and RawSocket) offering
    authmethods ["trusted"]: with no authid, with the component's own authid, with a guessed
    secret in authextra, and with the component's real secret: ABORT
    wamp.error.no_matching_auth_method (the listener has no such method), the connection
    closed, wampd serving on;
  - "trusted" next to a method the listener has, or HELLO.Details claiming authmethod,
    authrole, authprovider "trusted": the listener's own method (anonymous, ticket) and
    role, never "trusted" (the meta API says so for every session);
  - a configuration enabling "trusted" on a listener (wampd's format and Crossbar's): wampd
    refuses to start, naming the key.
Before this change the method did not exist at all (a HELLO naming it found none); the
cases guard the new row: were it configurable, enabled on more than the internal listener,
or its claims read from HELLO, they fail.
"""
# ctest-areas: workers auth

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile

from wampd_proc import WampdError, WampdProcess
from wsraw import WS

COMPONENT = '''
from autobahn.twisted.wamp import ApplicationSession


class Inside(ApplicationSession):
    async def onJoin(self, details):
        print("inside ready as %s/%s/%s" % (details.authid, details.authrole,
                                            details.authmethod))
'''
ROLES = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}
NO_METHOD = "wamp.error.no_matching_auth_method"


def app_dir():
    d = tempfile.mkdtemp(prefix="wampd-trusted-")
    with open(os.path.join(d, "inside.py"), "w") as f:
        f.write(COMPONENT)
    config = {
        "listeners": [
            {"type": "websocket", "host": "127.0.0.1", "port": 8080, "path": "/ws",
             "auth": {"anonymous": {"type": "static", "role": "anonymous"},
                      "ticket": {"type": "static", "principals": {
                          "joe": {"ticket": "s3cret", "role": "user"}}}}},
            {"type": "rawsocket", "host": "127.0.0.1", "port": 0,
             "auth": {"anonymous": {"type": "static", "role": "anonymous"}}}],
        "realms": [{"name": "realm1"}],  # no roles: everyone may use the meta API
        "processes": [{"id": "rc", "type": "python", "components": [
            {"id": "inside", "classname": "inside.Inside", "realm": "realm1",
             "role": "backend"}]}],
    }
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f)
    return d


class RS:
    """A RawSocket client speaking JSON (frames: 4-byte header, length-prefixed)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(bytes([0x7F, 0xF1, 0, 0]))  # max length, JSON
        reply = self._read(4)
        assert reply[0] == 0x7F and reply[1] & 0x0F == 1, reply

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("closed after %r" % data)
            data += chunk
        return data

    def send(self, msg):
        data = json.dumps(msg).encode()
        self.sock.sendall(struct.pack("!I", len(data)) + data)

    def recv(self):
        head = self._read(4)
        assert head[0] & 0x07 == 0, head  # a message frame
        return json.loads(self._read(struct.unpack("!I", b"\0" + head[1:])[0]))

    def hello(self, realm="realm1", details=None):
        self.send([1, realm, details])
        return self.recv()

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def refused(conn, details):
    msg = conn.hello(details=details)
    assert msg[0] == 3 and msg[2] == NO_METHOD, (details, msg)


def welcome(conn, details):
    msg = conn.hello(details=details)
    assert msg[0] == 2, (details, msg)
    return msg[2]


def call(conn, req, proc, args):
    conn.send([48, req, {}, proc, args])
    msg = conn.recv()
    assert msg[:2] == [50, req], msg
    return msg[3][0]


def config_refused(d, name, text, key):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([os.environ["WAMPD_BIN"], "check", "--config", path],
                       capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert key in out and "is wampd's own method for its router components" in out, out
    r = WampdProcess(config=path)
    try:
        r.start()
    except WampdError as e:
        assert key in str(e), e
    else:
        r.kill()
        raise AssertionError("wampd started with %s" % name)


def main():
    d = app_dir()
    try:
        with WampdProcess(config=os.path.join(d, "config.json"),
                          env={"PYTHONDONTWRITEBYTECODE": "1"}) as r:
            authid = r.wait_log(r"router component worker=rc component=inside joins as "
                                r"authid=([0-9a-f-]{36}) authrole=backend").group(1)
            r.wait_log(r"worker=rc stdout: inside ready as %s/backend/trusted" % authid,
                       timeout=60)
            pid = int(re.search(r"started worker=rc pid=(\d+)", r.stderr()).group(1))
            with open("/proc/%d/fd/0" % pid) as f:
                secret = json.load(f)["components"][0]["router"]["secret"]
            rs_port = int(r.url_of("rs").rsplit(":", 1)[1])

            # "trusted" offered alone: no such method on an ordinary listener, however the
            # HELLO dresses it up
            attempts = [
                {"roles": ROLES, "authmethods": ["trusted"]},
                {"roles": ROLES, "authmethods": ["trusted"], "authid": authid},
                {"roles": ROLES, "authmethods": ["trusted"], "authid": authid,
                 "authextra": {"secret": "0" * 64, "ticket": "0" * 64,
                               "authmethod": "trusted"}},
                {"roles": ROLES, "authmethods": ["trusted"], "authid": authid,
                 "authextra": {"secret": secret}},                  # even the real secret
                {"roles": ROLES, "authmethods": ["trusted"], "authid": "joe"},
            ]
            for details in attempts:
                for conn in (WS("127.0.0.1", r.port, r.path), RS(rs_port)):
                    refused(conn, details)
                    if isinstance(conn, RS):
                        assert conn.closed(), "the connection stays open after ABORT"
                    conn.close()
            # next to a method the listener has: that method, never trusted
            ws = WS("127.0.0.1", r.port, r.path)
            w = welcome(ws, {"roles": ROLES, "authmethods": ["trusted", "anonymous"],
                             "authid": authid, "authrole": "backend",
                             "authmethod": "trusted", "authprovider": "trusted",
                             "authextra": {"authmethod": "trusted", "secret": secret}})
            assert (w["authmethod"], w["authrole"]) == ("anonymous", "anonymous"), w
            assert w["authid"] != authid, w
            ws2 = WS("127.0.0.1", r.port, r.path)
            ws2.send([1, "realm1", {"roles": ROLES, "authmethods": ["trusted", "ticket"],
                                    "authid": "joe"}])
            ch = ws2.recv()
            assert ch[:2] == [4, "ticket"], ch
            ws2.send([5, "s3cret", {}])
            w2 = ws2.recv()
            assert w2[0] == 2 and w2[2]["authmethod"] == "ticket", w2
            # the meta API: the component is the one trusted session
            ids = call(ws, 1, "wamp.session.list", [])
            infos = [call(ws, 2 + i, "wamp.session.get", [s]) for i, s in enumerate(ids)]
            trusted = [(i["authid"], i["authrole"]) for i in infos
                       if i["authmethod"] == "trusted"]
            assert trusted == [(authid, "backend")], infos
            ws.close()
            ws2.close()
            assert r.alive()
        # a configuration may not enable it, in wampd's format or Crossbar's
        listener = {"type": "websocket", "host": "127.0.0.1", "port": 0,
                    "auth": {"trusted": {"type": "static", "principals": {
                        "x": {"secret": "s", "role": "backend"}}}}}
        config_refused(d, "native.json", json.dumps(
            {"listeners": [listener], "realms": [{"name": "realm1"}]}),
            "listeners[0].auth.trusted")
        config_refused(d, "crossbar.json", json.dumps({"version": 2, "workers": [{
            "type": "router", "realms": [{"name": "realm1", "roles": []}],
            "transports": [{"type": "websocket", "endpoint": {
                "type": "tcp", "port": 8080, "interface": "127.0.0.1"},
                "auth": {"trusted": {"type": "static", "principals": {
                    "x": {"secret": "s", "role": "backend"}}}}}]}]}),
            ".auth.trusted")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("ok: trusted only for router components")


if __name__ == "__main__":
    main()
