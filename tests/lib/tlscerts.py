"""Test certificates: a throwaway CA and server/client certificates signed by it.

    from tlscerts import make_certs
    make_certs(d)   # d/ca.pem, d/server.{pem,key} (CN localhost), d/client.{pem,key}
                    # (CN device-7), d/stranger.{pem,key} (CN stranger), all with SAN
                    # localhost and 127.0.0.1; valid for 2 days

Made with the openssl command line.
"""

import os
import subprocess


def make_certs(d):
    def ssl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=wampd test CA")
    for name, cn in (("server", "localhost"), ("client", "device-7"), ("stranger", "stranger")):
        ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        ssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", ext)
