"""The component launcher (router/workers/wampd-component.py) turns Crossbar's client "tls"
block of a container component's transport ({hostname, ca_certificates, certificate, key},
files relative to the node directory) into Twisted client TLS options that Autobahn's
Component accepts, and then really connects: a TLS server with a CA of the test's own
accepts the options (server verified against ca_certificates, by hostname; the client's
certificate presented); a server whose certificate another CA signed is refused; a block in
Autobahn's own shape ({hostname, trust_root}) is passed through untouched.

    /usr/bin/python3 test_launcher_tls.py
"""

import importlib.util
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "..", "..", "router", "workers", "wampd-component.py")


def openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
            "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + name, cwd=d)


def make_cert(d, ca, name, cn):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
            name + ".csr", "-subj", "/CN=" + cn, cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % cn)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", ext, cwd=d)


def serve_once(d, cert, result):
    """A TLS server on a free port that requires a client certificate of ca: records what
    happened in result."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, cert + ".pem"), os.path.join(d, cert + ".key"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(d, "ca.pem"))
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)

    def run():
        c, _ = ls.accept()
        try:
            with ctx.wrap_socket(c, server_side=True) as s:
                result["client_cn"] = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
                s.sendall(b"ok")
        except (ssl.SSLError, OSError) as e:
            result["error"] = str(e)
        finally:
            ls.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return ls.getsockname()[1], t


def connect(creator, port):
    """Connect with Twisted client TLS options; returns the bytes read or the failure."""
    from twisted.internet import defer, protocol, reactor, endpoints
    out = {}

    class P(protocol.Protocol):
        def dataReceived(self, data):
            out["data"] = data
            self.transport.loseConnection()

        def connectionLost(self, reason):
            out.setdefault("lost", reason.getErrorMessage())
            reactor.callLater(0, reactor.stop)

    ep = endpoints.wrapClientTLS(creator, endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port))
    d = ep.connect(protocol.Factory.forProtocol(P))
    d.addErrback(lambda f: (out.setdefault("lost", f.getErrorMessage()), reactor.stop()))
    reactor.callLater(20, lambda: (out.setdefault("lost", "timeout"), reactor.stop()))
    reactor.run()
    return out


def main():
    spec = importlib.util.spec_from_file_location("launcher", LAUNCHER)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    d = tempfile.mkdtemp(prefix="wampd-launcher-tls-")
    try:
        make_ca(d, "ca")
        make_ca(d, "other")
        make_cert(d, "ca", "server", "localhost")
        make_cert(d, "other", "foreign", "localhost")
        make_cert(d, "ca", "client", "backend-1")
        block = {"hostname": "localhost", "ca_certificates": ["ca.pem"],
                 "certificate": "client.pem", "key": "client.key"}
        # Autobahn's own shape passes through; a non-TLS endpoint is left alone
        own = {"hostname": "localhost", "trust_root": None}
        assert launcher.tls_of(own, "h", d) is own
        e = launcher.endpoint_of({"type": "tcp", "host": "127.0.0.1", "port": 1, "x": 2}, d)
        assert e == {"type": "tcp", "host": "127.0.0.1", "port": 1}, e

        ep = launcher.endpoint_of({"type": "tcp", "host": "127.0.0.1", "port": 1,
                                   "tls": block}, d)
        creator = ep["tls"]
        assert not isinstance(creator, dict), creator

        result = {}
        port, t = serve_once(d, "server", result)
        got = connect(creator, port)
        t.join(10)
        assert got.get("data") == b"ok", got
        assert result.get("client_cn") == "backend-1", result
        print("ok   the router's certificate verified against ca_certificates, ours presented")

        # a server certificate of another CA: the connection is refused
        from twisted.internet import reactor  # noqa: F401 (one reactor: a child process)
        r = subprocess.run([sys.executable, __file__, "--foreign", d], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        print(r.stdout.strip())
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("1 passed, 0 failed")


def foreign(d):
    spec = importlib.util.spec_from_file_location("launcher", LAUNCHER)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    block = {"hostname": "localhost", "ca_certificates": ["ca.pem"],
             "certificate": "client.pem", "key": "client.key"}
    result = {}
    port, t = serve_once(d, "foreign", result)
    got = connect(launcher.tls_of(block, "127.0.0.1", d), port)
    assert "data" not in got, got
    print("ok   a router certificate of another CA is refused (%s)" % got.get("lost"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--foreign":
        foreign(sys.argv[2])
    else:
        main()
