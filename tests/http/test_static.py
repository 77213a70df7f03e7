"""The web path services of a Crossbar config.json (static, nodeinfo, redirect, json, archive) against
the real wampd, fetched with curl over http:// and https:// (lws' HTTP role): contents and
MIME types, index.html, the directory listing only where enable_directory_listing is set
(names escaped), Last-Modified / ETag with 304 on If-None-Match and If-Modified-Since,
Cache-Control from cache_timeout, HEAD, one byte range (206 / 416), a file larger than
several chunks, traversal attempts and links out of the directory refused, methods other
than GET/HEAD refused; the redirect, json and node information answers; and the start-up
report naming each web path wampd does not serve once. The node is written by
webfixture.py (the config in <node>/.crossbar/, "directory": "../web" relative to it)."""

import email.utils
import hashlib
import json
import os
import socket
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from tlscerts import make_certs  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from webfixture import FILES, INDEX, ZIP_INDEX, curl, make_node  # noqa: E402
from wsraw import WS  # noqa: E402

WELCOME = 2
CERTS = make_certs(tempfile.mkdtemp(prefix="wampd-static-certs-"))
NODE = make_node(tempfile.mkdtemp(prefix="wampd-static-"), certs=CERTS)
CACERT = os.path.join(CERTS, "ca.pem")


class Static(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = WampdProcess(config=NODE.config).start()
        cls.http = "http://127.0.0.1:%d" % cls.r.port
        cls.tls_port = int(cls.r.url_of("wss").rsplit(":", 1)[1].split("/")[0])
        cls.https = "https://localhost:%d" % cls.tls_port

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def get(self, path, *args, tls=False):
        if tls:
            return curl(self.https + path, *args, cacert=CACERT)
        return curl(self.http + path, *args)


    # ------------------------------------------------------------------ files
    def test_files_and_mime_types(self):
        want = {"/": ("text/html; charset=utf-8", INDEX),
                "/index.html": ("text/html; charset=utf-8", INDEX),
                "/app.js": ("text/javascript; charset=utf-8", FILES["app.js"]),
                "/style.css": ("text/css; charset=utf-8", FILES["style.css"]),
                "/data.json": ("application/json", FILES["data.json"]),
                "/logo.png": ("image/png", FILES["logo.png"]),
                "/README": ("application/octet-stream", FILES["README"]),
                "/page.wampd": ("application/x-wampd", FILES["page.wampd"]),
                "/sub/": ("text/html; charset=utf-8", FILES["sub/index.html"]),
                "/inlink.css": ("text/css; charset=utf-8", FILES["style.css"]),
                "/files/a%20b.txt": ("text/plain; charset=utf-8", FILES["files/a b.txt"]),
                "/empty.txt": ("text/plain; charset=utf-8", b"")}
        for tls in (False, True):  # http://, then https://
            for path, (ctype, body) in want.items():
                st, h, got = self.get(path, tls=tls)
                self.assertEqual((st, h.get("content-type"), got), (200, ctype, body), (path, tls))
                self.assertEqual(h["content-length"], str(len(body)), (path, tls))
                self.assertEqual(h["x-content-type-options"], "nosniff")
                self.assertEqual(h["accept-ranges"], "bytes")

    def test_large_file_streamed(self):
        for tls in (False, True):  # http://, then https://
            st, h, body = self.get("/big.bin", tls=tls)
            self.assertEqual(st, 200)
            self.assertEqual(h["content-length"], str(len(NODE.big)))
            self.assertEqual(hashlib.sha256(body).hexdigest(),
                             hashlib.sha256(NODE.big).hexdigest())

    def test_caching_headers_and_304(self):
        path = os.path.join(NODE.web, "style.css")
        mtime = int(os.stat(path).st_mtime)
        for tls in (False, True):  # http://, then https://
            st, h, _ = self.get("/style.css", tls=tls)
            self.assertEqual(st, 200)
            # "/" has options.cache_timeout 600; Crossbar's form
            self.assertEqual(h["cache-control"], "max-age=600, public")
            self.assertIn("expires", h)
            self.assertEqual(email.utils.parsedate_to_datetime(h["last-modified"]).timestamp(),
                             mtime)
            etag = h["etag"]
            self.assertRegex(etag, r'^"[0-9a-f]+-[0-9a-f]+"$')
            st, h2, body = self.get("/style.css", "-H", "If-None-Match: " + etag, tls=tls)
            self.assertEqual((st, body), (304, b""))
            self.assertEqual(h2["etag"], etag)
            self.assertNotIn("content-length", h2)
            st, _, body = self.get("/style.css", "-H", 'If-None-Match: "x", W/' + etag, tls=tls)
            self.assertEqual((st, body), (304, b""))
            st, _, body = self.get("/style.css", "-H", 'If-None-Match: "other"', tls=tls)
            self.assertEqual((st, body), (200, FILES["style.css"]))
            st, _, body = self.get("/style.css", "-H",
                                   "If-Modified-Since: " + h["last-modified"], tls=tls)
            self.assertEqual((st, body), (304, b""))
            st, _, body = self.get("/style.css", "-H",
                                   "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT", tls=tls)
            self.assertEqual((st, body), (200, FILES["style.css"]))
        # a path without cache_timeout (files: Crossbar's default, 12 hours)
        st, h, _ = self.get("/files/a%20b.txt")
        self.assertEqual(h["cache-control"], "max-age=43200, public")

    def test_file_changed_gets_new_etag(self):
        path = os.path.join(NODE.web, "changing.txt")
        with open(path, "w") as f:
            f.write("one\n")
        os.utime(path, (1000000000, 1000000000))
        st, h, _ = self.get("/changing.txt")
        etag = h["etag"]
        with open(path, "w") as f:
            f.write("two!\n")
        st, h2, body = self.get("/changing.txt", "-H", "If-None-Match: " + etag)
        self.assertEqual((st, body), (200, b"two!\n"))
        self.assertNotEqual(h2["etag"], etag)

    def test_head(self):
        for tls in (False, True):  # http://, then https://
            # curl -I saves the head where the body would go: nothing may follow it
            st, h, out = self.get("/big.bin", "-I", tls=tls)
            self.assertEqual(st, 200)
            self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)
            self.assertTrue(out.endswith(b"\r\n\r\n"), out)
            self.assertEqual(h["content-length"], str(len(NODE.big)))
            self.assertIn("etag", h)

    def test_head_then_get_on_one_connection(self):
        """A HEAD answer has no body: the next answer on the keep-alive connection starts
        right after its head."""
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=5)
        s.sendall(b"HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        head1, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(head1.startswith(b"HTTP/1.1 200 "), data)
        self.assertIn(b"Content-Length: %d" % len(FILES["app.js"]), head1)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 "), data)
        self.assertTrue(rest.endswith(b"\r\n\r\n" + FILES["style.css"]), data)

    def test_range(self):
        text = FILES["range.txt"]
        n = len(text)
        for tls in (False, True):  # http://, then https://
            st, h, body = self.get("/range.txt", "-r", "10-19", tls=tls)
            self.assertEqual((st, body), (206, text[10:20]))
            self.assertEqual(h["content-range"], "bytes 10-19/%d" % n)
            self.assertEqual(h["content-length"], "10")
            st, h, body = self.get("/range.txt", "-r", "-5", tls=tls)
            self.assertEqual((st, body), (206, text[-5:]))
            st, h, body = self.get("/range.txt", "-r", "30-", tls=tls)
            self.assertEqual((st, body), (206, text[30:]))
            st, h, body = self.get("/big.bin", "-r", "1000000-2000000", tls=tls)
            self.assertEqual((st, body), (206, NODE.big[1000000:2000001]))
            st, h, _ = self.get("/range.txt", "-r", "%d-" % n, tls=tls)
            self.assertEqual(st, 416)
            self.assertEqual(h["content-range"], "bytes */%d" % n)
            st, _, _ = self.get("/empty.txt", "-r", "0-", tls=tls)
            self.assertEqual(st, 416)
            # several ranges, a reversed one, another unit: the whole file
            for spec in ("0-1,5-6", "9-3"):
                st, _, body = self.get("/range.txt", "-r", spec, tls=tls)
                self.assertEqual((st, body), (200, text), spec)
            st, _, body = self.get("/range.txt", "-H", "Range: items=1-2", tls=tls)
            self.assertEqual((st, body), (200, text))
            # If-Range: the range applies to the version named only
            st, h, _ = self.get("/range.txt", tls=tls)
            st, _, body = self.get("/range.txt", "-r", "0-3", "-H", "If-Range: " + h["etag"],
                                   tls=tls)
            self.assertEqual((st, body), (206, text[:4]))
            st, _, body = self.get("/range.txt", "-r", "0-3", "-H", 'If-Range: "old"', tls=tls)
            self.assertEqual((st, body), (200, text))

    # ------------------------------------------------------------------ directories
    def test_listing_only_where_enabled(self):
        for tls in (False, True):  # http://, then https://
            # "/" has no enable_directory_listing: a directory without index.html is 404
            st, h, body = self.get("/nolist/", tls=tls)
            self.assertEqual(st, 404)
            self.assertNotIn(b"plain.txt", body)
            # "files" has it
            st, h, body = self.get("/files/", tls=tls)
            self.assertEqual(st, 200)
            self.assertEqual(h["content-type"], "text/html; charset=utf-8")
            self.assertIn(b'<a href="a%20b.txt">a b.txt</a>', body)
            self.assertIn(b'<a href="deeper/">deeper/</a>', body)
            # a name with markup in it: escaped in the text, percent-encoded in the link
            self.assertIn(b'<a href="%3Cb%3E%26%27%22.txt">&lt;b&gt;&amp;&#39;&quot;.txt</a>',
                          body)
            self.assertNotIn(b"<b>&'\"", body)
            st, _, body = self.get("/files/%3Cb%3E%26%27%22.txt", tls=tls)
            self.assertEqual((st, body), (200, FILES["files/<b>&'\".txt"]))
            st, _, body = self.get("/files/deeper/", tls=tls)
            self.assertEqual(st, 200)
            self.assertIn(b'<a href="../">../</a>', body)
            self.assertIn(b'<a href="x.txt">x.txt</a>', body)

    def test_directory_without_slash_redirects(self):
        for tls in (False, True):  # http://, then https://
            st, h, _ = self.get("/sub", tls=tls)
            self.assertEqual((st, h["location"]), (302, "/sub/"))
            st, h, _ = self.get("/files/deeper", tls=tls)
            self.assertEqual((st, h["location"]), (302, "/files/deeper/"))
            st, h, _ = self.get("/files", tls=tls)
            self.assertEqual((st, h["location"]), (302, "/files/"))

    # ------------------------------------------------------------------ refusals
    def test_traversal_refused(self):
        attempts = ["/../secret/secret.txt", "/%2e%2e/secret/secret.txt",
                    "/%2E%2E/secret/secret.txt", "/..%2fsecret%2fsecret.txt",
                    "/sub/..%2f..%2fsecret/secret.txt", "/files/%2e%2e/%2e%2e/secret/secret.txt",
                    "/.%2e/secret/secret.txt", "/..%5csecret%5csecret.txt",
                    "/escape.txt", "/abs_escape.txt", "/escape_dir/secret.txt",
                    "/escape_dir/", "/files/../../secret/secret.txt"]
        for tls in (False, True):  # http://, then https://
            for path in attempts:
                st, _, body = self.get(path, tls=tls)
                self.assertIn(st, (400, 403, 404), path)
                self.assertNotIn(NODE.secret.encode(), body, path)
            # on plain connections, exactly: a dot segment, an encoded '/' or '\' is 403,
            # a link out of the directory 403 (lws resolves dot segments itself on TLS)
            if not tls:
                for path in attempts:
                    self.assertEqual(self.get(path)[0], 403, path)
        st, _, _ = self.get("/a%00b")
        self.assertEqual(st, 400)
        st, _, _ = self.get("/fifo")
        self.assertEqual(st, 403)

    def test_methods(self):
        for tls in (False, True):  # http://, then https://
            st, h, _ = self.get("/index.html", "-X", "DELETE", tls=tls)
            self.assertEqual(st, 405)
            self.assertEqual(h["allow"], "GET, HEAD, OPTIONS")
            st, _, _ = self.get("/index.html", "-d", "x=1", tls=tls)
            self.assertEqual(st, 413)  # no request body on a web service

    def test_not_found(self):
        for tls in (False, True):  # http://, then https://
            st, _, _ = self.get("/nope.html", tls=tls)
            self.assertEqual(st, 404)

    # ------------------------------------------------------------------ the other services
    def test_redirect(self):
        for path in ("/go", "/go/anything/below"):
            st, h, body = self.get(path)
            self.assertEqual((st, h["location"]), (302, "https://example.com/moved?x=1"))
            self.assertIn(b'href="https://example.com/moved?x=1"', body)

    def test_json(self):
        st, h, body = self.get("/conf")
        self.assertEqual((st, h["content-type"]), (200, "application/json; charset=utf-8"))
        self.assertEqual(json.loads(body), {"service": "wampd", "list": [1, "two", None]})
        st, _, out = self.get("/conf", "-I")
        self.assertEqual(st, 200)
        self.assertTrue(out.endswith(b"Connection: keep-alive\r\n\r\n"), out)
        self.assertEqual(self.get("/conf", "-X", "POST")[0], 405)
        self.assertEqual(self.get("/conf/below")[0], 404)  # json answers its own path only

    def test_nodeinfo(self):
        st, h, body = self.get("/info")
        self.assertEqual((st, h["content-type"]), (200, "text/html; charset=utf-8"))
        self.assertIn(b"wampd", body)
        self.assertIn(b"127.0.0.1:", body)  # the client's own address
        st, h, body = self.get("/info?format=json")
        doc = json.loads(body)
        self.assertEqual(doc["server"], "wampd")
        self.assertEqual(set(doc), {"server", "version", "started", "uptime_s", "pid", "peer"})
        st, h, body = self.get("/info", "-H", "Accept: application/json")
        self.assertEqual(json.loads(body)["server"], "wampd")

    def test_archive_path(self):
        """The archive path serves its ZIP's entries (tests/http/test_archive.py: the rest)."""
        st, h, body = self.get("/zip/")
        self.assertEqual((st, h["content-type"], body),
                         (200, "text/html; charset=utf-8", ZIP_INDEX))
        self.assertEqual(self.get("/zip/nothing.html")[0], 404)

    def test_websocket_path_on_the_same_port(self):
        w = WS("127.0.0.1", self.r.port, "/ws")
        self.assertEqual(w.hello()[0], WELCOME)
        w.close()

    def test_startup_report(self):
        """Each web path wampd does not serve is reported once, with its JSON path."""
        err = self.r.stderr()
        for name, kind in (("app", "wsgi"), ("res", "resource"), ("cgi", "cgi"),
                           ("proxy", "reverseproxy"), ("upload", "upload"), ("wap", "wap"),
                           ("doc", "schemadoc")):
            line = "ignored: workers[0].transports[0].paths.%s (type %s): " % (name, kind)
            self.assertEqual(err.count(line), 1, line)
        self.assertEqual(err.count("ignored: workers[0].transports[0].paths.pkg: static files "
                                   "from a Python package"), 1)
        for served in ("paths./:", "paths.files", "paths.info", "paths.go", "paths.conf",
                       "paths.zip"):
            self.assertNotIn("ignored: workers[0].transports[0]." + served, err)


if __name__ == "__main__":
    unittest.main()
