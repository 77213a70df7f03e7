"""The archive web service (the entries of a ZIP file, router/http/archive_svc.c) against
the real wampd, started on a Crossbar node configuration written for this test
(tests/crossbar/configs/archive.json, copied next to a ZIP made here with zipfile):
contents and MIME types (mime_types included), default_object for a path ending in '/',
default_file only where configured, ETag with 304 on If-None-Match and If-Modified-Since,
Cache-Control from Crossbar's cache, HEAD, 404 for missing entries and folders, no
listing, methods other than GET/HEAD refused, Range ignored; traversal attempts refused
(dot segments, %2e, %2f, backslash, NUL) and entries outside object_prefix (or named
"../x" inside the ZIP) never served; an 8 MB entry and a 64 MB entry that deflates from
64 KB streamed to slow readers with the router's RSS growing by far less than one entry;
origin/download reported once at start; a missing archive is a warning (`wampd check`
too) and 404 until it appears; a damaged one stops `wampd check` and the start.

    WAMPD_BIN=build/router/wampd python3 tests/http/test_archive.py
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdError, WampdProcess, rss_bytes  # noqa: E402
from webfixture import curl  # noqa: E402

CONFIG = os.path.join(HERE, "..", "crossbar", "configs", "archive.json")
MIB = 1 << 20
BIG_SIZE = 8 * MIB            # incompressible: 8 MB of deflate data
BOMB_SIZE = 64 * MIB          # zeros: about 64 KB compressed (a 1000:1 ratio)
SLOW_READERS = 4              # connections per large entry that stop reading
SECRET = b"outside the prefix: never served\n"
FILES = {
    "site/index.html": b"<!DOCTYPE html><p>archive index</p>\n",
    "site/app.js": b"console.log('from the zip');\n",
    "site/style.css": b"p { color: red; }\n",
    "site/data.json": b'{"zip": true}\n',
    "site/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "site/page.wampd": b"a type from mime_types\n",
    "site/sub/index.html": b"<p>sub index</p>\n",
    "site/sub/deeper/x.txt": b"x\n",
    "site/a b.txt": b"a name with a blank\n",
    "secret.txt": SECRET,            # beside the prefix
    "site/../escape.txt": SECRET,    # a name that climbs out, stored as is
    "../escape.txt": SECRET,
}
TYPES = {
    "/": "text/html; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
    "/style.css": "text/css; charset=utf-8",
    "/data.json": "application/json",
    "/logo.png": "image/png",
    "/page.wampd": "application/x-wampd",
    "/sub/": "text/html; charset=utf-8",
    "/sub/deeper/x.txt": "text/plain; charset=utf-8",
    "/a%20b.txt": "text/plain; charset=utf-8",
}
BODIES = {
    "/": FILES["site/index.html"], "/sub/": FILES["site/sub/index.html"],
    "/a%20b.txt": FILES["site/a b.txt"],
}


def make_zip(path):
    big = os.urandom(BIG_SIZE)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in FILES.items():
            z.writestr(zipfile.ZipInfo(name, (2024, 5, 1, 12, 0, 0)), data,
                       zipfile.ZIP_DEFLATED)
        z.writestr("site/big.bin", big)
        with z.open("site/bomb.bin", "w", force_zip64=True) as f:
            zero = bytes(MIB)
            for _ in range(BOMB_SIZE // MIB):
                f.write(zero)
    return hashlib.sha256(big).hexdigest()


def node(d):
    """The Crossbar node of this test in directory d: its config.json and ZIP."""
    cfg = os.path.join(d, "config.json")
    shutil.copy(CONFIG, cfg)
    return cfg, make_zip(os.path.join(d, "archive-site.zip"))


def wampd_check(config):
    out = subprocess.run([os.environ["WAMPD_BIN"], "check", "--config", config],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return out.returncode, out.stdout.decode()


class SlowReader:
    """GET path with a small receive buffer, reading the head and the first bytes only."""

    def __init__(self, port, path):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.s.settimeout(30)
        self.s.connect(("127.0.0.1", port))
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError("closed before the head")
            buf += chunk
        head, _, self.body = buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        while not self.body:
            self.body += self.s.recv(65536)

    def rest(self, length):
        h = hashlib.sha256(self.body)
        n = len(self.body)
        while n < length:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        return n, h.hexdigest()

    def close(self):
        self.s.close()


class Archive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="wampd-archive-")
        cls.config, cls.big_sha = node(cls.dir)
        cls.r = WampdProcess(config=cls.config).start()
        cls.http = "http://127.0.0.1:%d" % cls.r.port

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def get(self, path, *args):
        return curl(self.http + path, *args)

    def test_entries_and_types(self):
        for path, ctype in TYPES.items():
            st, h, body = self.get(path)
            self.assertEqual(st, 200, path)
            self.assertEqual(h["content-type"], ctype, path)
            want = BODIES.get(path, FILES.get("site" + path))
            self.assertEqual(body, want, path)
            self.assertEqual(int(h["content-length"]), len(want), path)
            self.assertEqual(h["x-content-type-options"], "nosniff")
            self.assertNotIn("accept-ranges", h)

    def test_missing_entries_folders_and_no_listing(self):
        for path in ("/nothing.html", "/sub", "/sub/deeper/", "/sub/deeper", "/site/index.html",
                     "/index.html/", "/big.bin/x"):
            st, h, body = self.get(path)
            self.assertEqual(st, 404, path)
            self.assertNotIn(b"x.txt", body, path)
        # default_file where it is configured (Crossbar's options.default_file)
        for path in ("/spa/nothing", "/spa/sub", "/spa/"):
            st, h, body = self.get(path)
            self.assertEqual((st, body), (200, FILES["site/index.html"]), path)
        self.assertEqual(self.get("/spa/app.js")[2], FILES["site/app.js"])

    def test_traversal_refused(self):
        for path, want in (("/../secret.txt", 403), ("/%2e%2e/secret.txt", 403),
                           ("/sub/..%2fsecret.txt", 403), ("/sub%2f..%2f..%2fsecret.txt", 403),
                           ("/..%5csecret.txt", 403), ("/%2E%2e/escape.txt", 403),
                           ("/./index.html", 403), ("/../escape.txt", 403),
                           ("/sub/../../secret.txt", 403), ("/index.html%00.js", 400),
                           ("/%zz", 400), ("/spa/../secret.txt", 403),
                           ("/spa/%2e%2e/escape.txt", 403)):
            st, h, body = self.get(path)
            self.assertEqual(st, want, path)
            self.assertNotIn(SECRET, body, path)
        # what a client cannot name: the entries outside object_prefix
        for path in ("/secret.txt", "/escape.txt", "/spa/secret.txt"):
            st, h, body = self.get(path)
            self.assertNotIn(SECRET, body, path)
        self.assertTrue(self.r.alive())

    def test_validators_and_304(self):
        st, h, body = self.get("/app.js")
        etag, lm = h["etag"], h["last-modified"]
        self.assertRegex(etag, r'^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]{8}"$')
        self.assertEqual(h["cache-control"], "max-age=43200, public")  # Crossbar's cache
        st, h, body = self.get("/app.js", "-H", "If-None-Match: " + etag)
        self.assertEqual((st, body), (304, b""))
        self.assertEqual(h["etag"], etag)
        st, h, body = self.get("/app.js", "-H", 'If-None-Match: "other"')
        self.assertEqual((st, body), (200, FILES["site/app.js"]))
        self.assertEqual(self.get("/app.js", "-H", "If-Modified-Since: " + lm)[0], 304)
        self.assertEqual(self.get("/app.js", "-H",
                                  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT")[0], 200)
        # another entry of the same size has another tag (its CRC)
        self.assertNotEqual(self.get("/style.css")[1]["etag"], etag)
        # without cache: revalidate
        self.assertEqual(self.get("/spa/app.js")[1]["cache-control"], "no-cache")

    def test_head_methods_range(self):
        # curl -I saves the head where the body would go: nothing may follow it
        st, h, out = self.get("/data.json", "-I")
        self.assertEqual(st, 200)
        self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)
        self.assertTrue(out.endswith(b"\r\n\r\n"), out)
        self.assertEqual(int(h["content-length"]), len(FILES["site/data.json"]))
        self.assertEqual(h["content-type"], "application/json")
        # a HEAD of the large entry, then a GET on the same connection: no body after the head
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        s.sendall(b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        head1, _, rest = data.partition(b"\r\n\r\n")
        self.assertIn(b"Content-Length: %d" % BIG_SIZE, head1)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 "), data[:300])
        self.assertTrue(rest.endswith(b"\r\n\r\n" + FILES["site/app.js"]), data[:300])
        st, h, body = self.get("/data.json", "-X", "DELETE")
        self.assertEqual(st, 405)
        self.assertIn("GET", h["allow"])
        st, h, body = self.get("/data.json", "-H", "Range: bytes=0-3")
        self.assertEqual((st, body), (200, FILES["site/data.json"]))

    def test_large_entries_streamed_rss_bounded(self):
        """Slow readers of an 8 MB entry and of a 64 MB one that deflates from 64 KB: the
        router holds one chunk per connection, not the entry (reading an entry whole
        before its first byte would add 4 x 8 + 4 x 64 MB here)."""
        self.get("/big.bin", "-r", "0-0")  # the first large answer's own allocations
        base = rss_bytes(self.r.proc.pid)
        readers = [SlowReader(self.r.port, p) for p in ["/big.bin"] * SLOW_READERS +
                   ["/bomb.bin"] * SLOW_READERS]
        try:
            growth = rss_bytes(self.r.proc.pid) - base
            self.assertLess(growth, BIG_SIZE, "RSS grew by %.1f MiB" % (growth / MIB))
            for r in readers:
                self.assertIn("\r\nContent-Length: ", r.head.replace("content-length",
                                                                    "Content-Length"))
            n, sha = readers[0].rest(BIG_SIZE)
            self.assertEqual((n, sha), (BIG_SIZE, self.big_sha))
            n, sha = readers[SLOW_READERS].rest(BOMB_SIZE)
            self.assertEqual((n, sha), (BOMB_SIZE, hashlib.sha256(bytes(BOMB_SIZE)).hexdigest()))
        finally:
            for r in readers:
                r.close()
        self.assertEqual(self.get("/app.js")[2], FILES["site/app.js"])  # still serving

    def test_startup_report(self):
        err = self.r.stderr()
        self.assertEqual(err.count("ignored: workers[0].transports[0].paths./.origin: wampd "
                                   "downloads nothing"), 1, err)
        self.assertNotIn("(type archive)", err)
        self.assertNotIn("paths.spa", err)


class ArchiveCheck(unittest.TestCase):
    """`wampd check` and the start: the archive must be a ZIP at its path."""

    def test_check_and_start(self):
        d = tempfile.mkdtemp(prefix="wampd-archive-check-")
        try:
            cfg, _ = node(d)
            rc, text = wampd_check(cfg)
            self.assertEqual(rc, 0, text)
            self.assertIn("archive (files inside a ZIP archive)", text)
            self.assertNotIn("warning", text)
            zpath = os.path.join(d, "archive-site.zip")
            os.rename(zpath, zpath + ".moved")
            # missing (Crossbar would download it): a warning, 404 until it is there
            rc, text = wampd_check(cfg)
            self.assertEqual(rc, 0, text)
            self.assertIn("warning: %s does not exist (yet)" % zpath, text)
            with WampdProcess(config=cfg) as r:
                url = "http://127.0.0.1:%d/" % r.port
                self.assertEqual(curl(url + "app.js")[0], 404)
                os.rename(zpath + ".moved", zpath)
                self.assertEqual(curl(url + "app.js")[2], FILES["site/app.js"])
            # there, but not a ZIP: wampd check and the start refuse it
            with open(zpath, "wb") as f:
                f.write(b"PK\x03\x04 this is not an archive" * 10)
            rc, text = wampd_check(cfg)
            self.assertEqual(rc, 1, text)
            self.assertIn("listeners[0].http./.archive: %s: not a readable ZIP archive"
                          % zpath, text)
            self.assertIn("not ok", text)
            with self.assertRaises(WampdError):
                WampdProcess(config=cfg).start()
            # a damaged ZIP appearing later: 404, logged once, not parsed again per request
            os.unlink(zpath)
            with WampdProcess(config=cfg) as r:
                url = "http://127.0.0.1:%d/" % r.port
                with open(zpath, "wb") as f:
                    f.write(b"not a zip" * 100)
                for _ in range(3):
                    self.assertEqual(curl(url + "app.js")[0], 404)
                self.assertTrue(r.alive())
            # stopped: its stderr has been read to the end
            self.assertEqual(r.stderr().count("not a readable ZIP archive"), 1, r.stderr())
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_native_keys_checked(self):
        d = tempfile.mkdtemp(prefix="wampd-archive-keys-")
        try:
            make_zip(os.path.join(d, "a.zip"))
            for svc, why in (({"type": "archive"}, "needs an archive"),
                             ({"type": "archive", "archive": "a.zip", "object_prefix": "../x"},
                              "object_prefix"),
                             ({"type": "archive", "archive": "a.zip", "default_object": "a/b"},
                              "default_object"),
                             ({"type": "archive", "archive": "a.zip", "default_file": "x/../y"},
                              "default_file"),
                             ({"type": "archive", "archive": "a.zip", "extra": 1}, "extra")):
                cfg = os.path.join(d, "wampd.json")
                with open(cfg, "w") as f:
                    json.dump({"listeners": [{"type": "websocket", "port": 0, "path": "/ws",
                                              "http": {"/z": svc}}],
                               "realms": [{"name": "realm1"}]}, f)
                rc, text = wampd_check(cfg)
                self.assertEqual(rc, 1, text)
                self.assertIn(why, text)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
