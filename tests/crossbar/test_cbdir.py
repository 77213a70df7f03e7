"""How Crossbar users start wampd: `wampd --cbdir DIR` on a node directory holding a
config.yaml (written here), `--config DIR/config.yaml`, and `wampd check`.

    WAMPD_BIN=build/router/wampd python3 tests/crossbar/test_cbdir.py

 - --cbdir with a YAML configuration (anchors, a merge key, YAML 1.1 booleans): wampd starts,
   resolves the TLS files relative to DIR (not to its working directory), logs what it
   ignores and then what it serves where; Autobahn|Python joins with the configuration's
   ticket over WebSocket, anonymously, and over RawSocket-TLS; a wrong ticket is refused;
 - --config DIR/config.yaml: the same, DIR being the file's directory;
 - wampd check: exit 0 and the URLs, auth methods, realms and ignored lines on a good
   directory, even with the configured port taken (it opens no socket); exit 1 naming the
   problem on a missing certificate (and a start refuses it the same way), a YAML error,
   a directory with both config.json and config.yaml, and a native key misspelt.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from twisted.internet import defer  # noqa: E402

from tlscerts import make_certs, twisted_options  # noqa: E402
from wampclient import JoinFailed, connect, run  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

WAMPD = os.environ.get("WAMPD_BIN")

CONFIG_YAML = """\
# a Crossbar node configuration, as `crossbar init` would leave one, in YAML
version: 2
controller: {}
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          - &anonymous
            name: anonymous
            permissions:
              - uri: com.example.
                match: prefix
                allow: {call: yes, register: yes, publish: yes, subscribe: yes}
                disclose: {caller: no, publisher: no}
                cache: true
          - <<: *anonymous
            name: frontend
    transports:
      - type: web
        endpoint: {type: tcp, port: %(port)d}
        paths:
          /: {type: static, directory: ../web}
          ws:
            type: websocket
            serializers: [json, msgpack]
            auth:
              anonymous: {type: static, role: anonymous}
              ticket:
                type: static
                principals:
                  joe: {ticket: 'secret!!!', role: frontend}
      - type: rawsocket
        endpoint:
          type: tcp
          port: 0
          tls: {key: server.key, certificate: server.pem}
        serializers: [json]
"""


def make_cbdir(port=8080):
    d = tempfile.mkdtemp(prefix="wampd-cbdir-")
    make_certs(d)
    with open(os.path.join(d, "config.yaml"), "w") as f:
        f.write(CONFIG_YAML % {"port": port})
    return d


def check(*args):
    """wampd check ARGS from / (so nothing resolves against the working directory)."""
    p = subprocess.run([WAMPD, "check"] + list(args), capture_output=True, text=True,
                       timeout=30, cwd="/")
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    return p.returncode, p.stdout


def check_good():
    # the configured port is taken, by us: check opens no socket, so it does not care
    holder = socket.socket()
    holder.bind(("0.0.0.0", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    d = make_cbdir(port)
    try:
        rc, out = check("--cbdir", d)
        assert rc == 0, out
        for want in ("configuration: " + d,
                     "http://0.0.0.0:%d/ static (files of a directory)" % port,
                     "ws://0.0.0.0:%d/ws WebSocket (json,msgpack); auth anonymous (role "
                     "anonymous), ticket (1 principal)" % port,
                     "rss://0.0.0.0:0(any free port) RawSocket (json); auth anonymous",
                     "realm1: roles anonymous, frontend",
                     "ok: wampd would start"):
            assert want in out, "%r not in:\n%s" % (want, out)
        assert "secret!!!" not in out, out
        # --config names the file; its directory is the base
        rc, out2 = check("--config", os.path.join(d, "config.yaml"))
        assert rc == 0, out2
        assert out2.split("\n", 1)[1] == out.split("\n", 1)[1], (out, out2)
    finally:
        holder.close()
        shutil.rmtree(d, ignore_errors=True)


def check_bad():
    d = make_cbdir()
    try:
        # a certificate that is not there: check says so, exit 1, and a start refuses it
        os.unlink(os.path.join(d, "server.pem"))
        rc, out = check("--cbdir", d)
        assert rc == 1, out
        assert "listeners[1].tls.certificate: %s/server.pem: No such file or directory" % \
            os.path.realpath(d) in out, out
        assert "not ok: wampd would not start (1 problem above)" in out, out
        assert "ws://0.0.0.0:8080/ws WebSocket" in out, out  # still says what it would serve
        p = subprocess.run([WAMPD, "--cbdir", d, "--port", "0"], capture_output=True,
                           text=True, timeout=30, cwd="/")
        assert p.returncode == 1, p
        assert "cannot start: listeners[1].tls.certificate" in p.stderr, p.stderr
        assert "listening" not in p.stdout, p.stdout
        # a YAML error: file, line and column
        with open(os.path.join(d, "config.yaml"), "w") as f:
            f.write("version: 2\nworkers:\n  - type: router\n    type: router\n")
        rc, out = check("--cbdir", d)
        assert rc == 1, out
        assert "not ok: %s/config.yaml:4:5: duplicate key \"type\"" % d in out, out
        # both files
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write("{}")
        rc, out = check("--cbdir", d)
        assert rc == 1 and "holds both config.json and config.yaml" in out, out
        # a native configuration with a misspelt key
        rc, out = check("--config", os.path.join(d, "config.json"))
        assert rc == 0, out
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write('{"limits": {"max_sesions": 1}}')
        rc, out = check("--config", os.path.join(d, "config.json"))
        assert rc == 1 and "limits.max_sesions: unknown key" in out, out
        rc, out = check("--cbdir", os.path.join(d, "nonexistent"))
        assert rc == 1 and "not a directory" in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


@defer.inlineCallbacks
def serve(args, d):
    with WampdProcess(args=args) as r:
        r.wait_log(r"serving:")
        r.wait_log(r"http://0\.0\.0\.0:0\(any free port\)/ static \(files of a directory\)")
        r.wait_log(r"ws://0\.0\.0\.0:0\(any free port\)/ws WebSocket \(json,msgpack\); auth "
                   r"anonymous \(role anonymous\), ticket \(1 principal\)")
        r.wait_log(r"realm1: roles anonymous, frontend")
        assert "secret!!!" not in r.stderr()
        joe = yield connect(r.url, "realm1", "msgpack", authmethods=["ticket"], authid="joe",
                            secret="secret!!!")
        assert joe.details.authrole == "frontend", joe.details
        anon = yield connect(r.url, "realm1", "json")
        assert anon.details.authrole == "anonymous"
        # the TLS files were found relative to the directory (wampd runs elsewhere)
        rss = r.url_of("rss").replace("0.0.0.0", "localhost")
        dev = yield connect(rss, "realm1", "json", tls=twisted_options(d))
        yield dev.register(lambda x: x * 2, "com.example.double")
        assert (yield joe.call("com.example.double", 21)) == 42
        try:
            s = yield connect(r.url, "realm1", "json", authmethods=["ticket"], authid="joe",
                              secret="wrong")
            yield s.leave_and_wait()
            raise AssertionError("a wrong ticket was admitted")
        except JoinFailed as e:
            assert e.reason == "wamp.error.authentication_failed", e.reason
        for s in (dev, anon, joe):
            yield s.leave_and_wait()


@defer.inlineCallbacks
def main():
    d = make_cbdir()
    try:
        print("cbdir: --cbdir", d)
        yield serve(["--cbdir", d], d)
        print("cbdir: --config", os.path.join(d, "config.yaml"))
        yield serve(["--config", os.path.join(d, "config.yaml")], d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    assert WAMPD, "WAMPD_BIN is not set"
    print("cbdir: wampd check, good directory")
    check_good()
    print("cbdir: wampd check, bad directories")
    check_bad()
    run(main, timeout=90)
