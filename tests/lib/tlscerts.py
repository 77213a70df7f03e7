"""Test certificates made at test time with the openssl CLI (nothing is checked in): a
throwaway CA and server/client certificates signed by it, valid for 2 days.

    from tlscerts import make_certs
    d = make_certs(tempfile.mkdtemp())   # d/ca.pem, server.{pem,key} (CN localhost),
                                         # client.{pem,key} (CN device-7, signed by ca.pem),
                                         # stranger.{pem,key} (CN stranger, signed by ca.pem),
                                         # rogue.{pem,key} (CN device-7, its own CA)
    ctx = client_context(d, "client")    # an ssl.SSLContext trusting ca.pem, with that cert
    opts = twisted_options(d, "client")  # the same for a Twisted SSL4ClientEndpoint

Server and client certificates carry subjectAltName DNS:localhost, IP:127.0.0.1.
"""

import os
import ssl
import subprocess


def _openssl(d, *args):
    subprocess.run(["openssl"] + list(args), cwd=d, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _ec_key_req(d, name, cn):
    _openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)


def _ca(d, name, cn):
    _openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
             "-subj", "/CN=" + cn)


def _sign(d, name, ca):
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(d, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", ext)


def make_certs(d):
    _ca(d, "ca", "wampd test CA")
    _ca(d, "rogueca", "someone else's CA")
    for name, cn, ca in (("server", "localhost", "ca"), ("client", "device-7", "ca"),
                         ("stranger", "stranger", "ca"), ("rogue", "device-7", "rogueca")):
        _ec_key_req(d, name, cn)
        _sign(d, name, ca)
    return d


def server_tls(d, client_ca=True, require=False):
    """The "tls" object of a wampd listener using these certificates."""
    t = {"certificate": os.path.join(d, "server.pem"), "key": os.path.join(d, "server.key")}
    if client_ca:
        t["ca_certificates"] = os.path.join(d, "ca.pem")
    if require:
        t["require_client_cert"] = True
    return t


def client_context(d, cert=None):
    """A client SSLContext trusting the test CA, presenting cert ("client", "stranger",
    "rogue") if given."""
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    if cert:
        ctx.load_cert_chain(os.path.join(d, cert + ".pem"), os.path.join(d, cert + ".key"))
    return ctx


def twisted_options(d, cert=None):
    """Twisted client TLS options trusting the test CA (server name localhost), presenting
    cert ("client", "rogue") if given."""
    from twisted.internet import ssl as tssl
    ca = tssl.Certificate.loadPEM(open(os.path.join(d, "ca.pem"), "rb").read())
    client = None
    if cert:
        client = tssl.PrivateCertificate.loadPEM(
            open(os.path.join(d, cert + ".pem"), "rb").read() +
            open(os.path.join(d, cert + ".key"), "rb").read())
    return tssl.optionsForClientTLS("localhost", trustRoot=ca, clientCertificate=client)
