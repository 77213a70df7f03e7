"""A Crossbar node for the web services' tests (tests/http/test_static.py,
tests/security/test_static_traversal.py), written at test time into a temporary directory:

    <root>/.crossbar/config.json   Crossbar's config.json (the node directory: "directory"
                                   values are relative to it, as in Crossbar)
    <root>/web/                    the served directory: pages, scripts, a 3 MB file, a
                                   listing directory with names that need escaping, links
    <root>/secret/secret.txt       outside the served directory: no request may read it
    <root>/app.zip                 the archive path's ZIP (ZIP_INDEX as its index.html)

    node = make_node(tempfile.mkdtemp(), certs=None)   # certs: tlscerts.make_certs dir
    node.config, node.web, node.secret (the secret file's text), node.big (bytes)

and curl(url, *args): one request with the real curl, the path sent as written
(--path-as-is), returning (status, headers, body); status 0 when no answer came."""

import json
import os
import subprocess
import tempfile
import zipfile

INDEX = b"<!DOCTYPE html><html><body><h1>static index</h1></body></html>\n"
FILES = {
    "index.html": INDEX,
    "app.js": b"console.log('wampd');\n",
    "style.css": b"body { color: #333; }\n",
    "data.json": b'{"k": [1, 2, 3]}\n',
    "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "README": b"no extension\n",
    "page.wampd": b"a type from mime_types\n",
    "range.txt": b"0123456789abcdefghijklmnopqrstuvwxyz\n",
    "nolist/plain.txt": b"in a directory without index.html\n",
    "sub/index.html": b"<p>sub index</p>\n",
    "files/a b.txt": b"a name with a blank\n",
    "files/<b>&'\".txt": b"a name that needs escaping\n",
    "files/deeper/x.txt": b"x\n",
    "empty.txt": b"",
}
ZIP_INDEX = b"<p>from the archive</p>\n"
BIG_SIZE = 3 * 1024 * 1024 + 12345  # several HTTP_BODY_CHUNKs, not a multiple of one


class Node:
    pass


def make_node(root, certs=None):
    n = Node()
    n.root = root
    n.web = os.path.join(root, "web")
    n.cbdir = os.path.join(root, ".crossbar")
    secret_dir = os.path.join(root, "secret")
    for d in (n.web, n.cbdir, secret_dir):
        os.makedirs(d, exist_ok=True)
    n.secret = "TOP-SECRET-" + os.urandom(8).hex()
    with open(os.path.join(secret_dir, "secret.txt"), "w") as f:
        f.write(n.secret + "\n")
    for name, data in FILES.items():
        path = os.path.join(n.web, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    n.big = os.urandom(BIG_SIZE)
    with open(os.path.join(n.web, "big.bin"), "wb") as f:
        f.write(n.big)
    # links: out of the served directory (relative, absolute, a directory), and inside it
    os.symlink("../secret/secret.txt", os.path.join(n.web, "escape.txt"))
    os.symlink(os.path.join(secret_dir, "secret.txt"), os.path.join(n.web, "abs_escape.txt"))
    os.symlink("../secret", os.path.join(n.web, "escape_dir"))
    os.symlink("style.css", os.path.join(n.web, "inlink.css"))
    os.mkfifo(os.path.join(n.web, "fifo"))
    with zipfile.ZipFile(os.path.join(root, "app.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.html", ZIP_INDEX)
    paths = {
        "/": {"type": "static", "directory": "../web",
              "options": {"cache_timeout": 600, "mime_types": {".wampd": "application/x-wampd"}}},
        "files": {"type": "static", "directory": "../web/files",
                  "options": {"enable_directory_listing": True}},
        "ws": {"type": "websocket", "serializers": ["json"]},
        "info": {"type": "nodeinfo"},
        "go": {"type": "redirect", "url": "https://example.com/moved?x=1"},
        "conf": {"type": "json", "value": {"service": "wampd", "list": [1, "two", None]}},
        "pkg": {"type": "static", "package": "myapp", "resource": "web"},
        "app": {"type": "wsgi", "module": "myapp", "object": "app"},
        "res": {"type": "resource", "classname": "myapp.Resource"},
        "cgi": {"type": "cgi", "directory": "../cgi", "processor": "/usr/bin/python3"},
        "proxy": {"type": "reverseproxy", "host": "127.0.0.1", "port": 9999},
        "upload": {"type": "upload", "realm": "realm1", "role": "anonymous",
                   "directory": "../uploads", "temp_directory": "../tmp"},
        "wap": {"type": "wap", "templates": "../templates", "realm": "realm1"},
        "zip": {"type": "archive", "archive": "../app.zip"},
        "doc": {"type": "schemadoc", "realm": "realm1"},
    }
    transports = [{"type": "web", "endpoint": {"type": "tcp", "port": 8080}, "paths": paths}]
    if certs:
        transports.append({
            "type": "web",
            "endpoint": {"type": "tcp", "port": 0,
                         "tls": {"key": os.path.join(certs, "server.key"),
                                 "certificate": os.path.join(certs, "server.pem")}},
            "paths": {"/": paths["/"], "files": paths["files"],
                      "ws": {"type": "websocket", "serializers": ["json"]}}})
    config = {
        "version": 2,
        "controller": {},
        "workers": [{
            "type": "router",
            "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [
                {"uri": "", "match": "prefix",
                 "allow": {"call": True, "register": True, "publish": True, "subscribe": True},
                 "disclose": {"caller": False, "publisher": False}, "cache": True}]}]}],
            "transports": transports,
        }],
    }
    n.config = os.path.join(n.cbdir, "config.json")
    with open(n.config, "w") as f:
        json.dump(config, f, indent=2)
    return n


def curl(url, *args, cacert=None):
    """(status, headers (lower-case name -> value), body bytes) of one request made by curl;
    the path goes out exactly as written (--path-as-is: curl does not resolve dot
    segments). Status 0: the server hung up without an answer."""
    with tempfile.TemporaryDirectory() as d:
        hf, bf = os.path.join(d, "h"), os.path.join(d, "b")
        cmd = ["curl", "-sS", "--path-as-is", "--max-time", "30", "-D", hf, "-o", bf,
               "-w", "%{http_code}"]
        if cacert:
            cmd += ["--cacert", cacert]
        p = subprocess.run(cmd + list(args) + [url], capture_output=True, timeout=60)
        out = p.stdout.decode()
        if p.returncode and out != "000":
            raise AssertionError("curl failed: %s" % p.stderr.decode())
        headers = {}
        with open(hf, "a+b") as f:
            f.seek(0)
            for line in f.read().decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
        body = b""
        if os.path.exists(bf):
            with open(bf, "rb") as f:
                body = f.read()
        return int(out), headers, body
