"""Issue #17 finding 7: CORS and cross-site requests on the HTTP services.

Before: every Origin was echoed back with Access-Control-Allow-Credentials: true (any web
site could read SSE streams and long-poll answers that the victim's browser authenticates
with its cached credentials or client certificate), the preflight allowed whatever headers
it was asked for, and the bridge took a POST without a Content-Type (which a browser sends
cross-site without asking): any page could publish and call through `auth: none` services.

Here, as a browser would be driven by a hostile page: a foreign Origin never gets
Access-Control-Allow-Origin nor -Credentials (bridge, SSE, long-poll, preflight), an
allowed one (exact or '*' pattern, per listener, overridden per service, mapped from a
Crossbar config) gets exactly itself; without an allow-list no CORS header is sent at all
(not even "*"); the preflight names a fixed list of request headers; bridge POSTs without
application/json are 415 and publish nothing; a webhook refuses a browser's cross-site
POST. Autobahn|JS's long-poll Content-Type keeps working.
"""
# ctest-areas: http sse longpoll

import json
import socket
import time
import unittest

from httpc import request
from httpcase import RouterCase
from wampd_proc import WampdError, WampdProcess

SUBSCRIBE, SUBSCRIBED, EVENT = 32, 33, 36
ALL = {"call": True, "register": True, "publish": True, "subscribe": True}
APP = "https://app.example"
EVIL = "https://evil.example"
REALMS = [{"name": "realm1", "roles": [
    {"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": ALL}]}]}]
CONFIG = {
    "listeners": [{"port": 0, "path": "/ws",
                   "allowed_origins": [APP, "https://*.trusted.example", "http://localhost:*"],
                   "http": {
        "/publish": {"type": "publisher", "realm": "realm1", "auth": {"type": "none"}},
        "/call": {"type": "caller", "realm": "realm1", "call_timeout": 2000},
        "/hook": {"type": "webhook", "realm": "realm1", "topic": "com.hook"},
        "/sse": {"type": "sse", "realm": "realm1"},
        "/lp": {"type": "longpoll"},
        "/closed": {"type": "publisher", "realm": "realm1", "allowed_origins": []},
        "/other": {"type": "publisher", "realm": "realm1",
                   "allowed_origins": ["https://other.example"]},
    }}],
    "realms": REALMS,
}
NO_LIST = {
    "listeners": [{"port": 0, "path": "/ws", "http": {
        "/publish": {"type": "publisher", "realm": "realm1"},
        "/sse": {"type": "sse", "realm": "realm1"},
        "/lp": {"type": "longpoll"},
    }}],
    "realms": REALMS,
}
CROSSBAR = {
    "version": 2,
    "workers": [{"type": "router", "realms": REALMS, "transports": [{
        "type": "web", "endpoint": {"type": "tcp", "port": 0},
        "paths": {"ws": {"type": "websocket", "options": {"allowed_origins": [APP]}},
                  "call": {"type": "caller", "realm": "realm1"}}}]}],
}


def cors(headers):
    """The response's Access-Control-* headers."""
    return {k: v for k, v in headers.items() if k.startswith("access-control-")}


def stream_head(port, path, headers):
    """The status and headers of a GET whose answer is a stream (read up to the empty
    line, then hang up)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, "".join(
            "%s: %s\r\n" % kv for kv in headers.items()))).encode())
        buf = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    lines = buf.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), buf
    return int(lines[0].split()[1]), {
        k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}


class Cors(RouterCase):
    CONFIG = CONFIG

    def assert_no_cors(self, headers, what):
        self.assertEqual(cors(headers), {}, what)

    def assert_cors(self, headers, origin):
        self.assertEqual(headers.get("access-control-allow-origin"), origin)
        self.assertEqual(headers.get("access-control-allow-credentials"), "true")
        self.assertIn("origin", headers.get("vary", "").lower())

    # ------------------------------------------------------------ responses
    def test_foreign_origin_gets_no_cors_headers(self):
        for origin in (EVIL, "null", "https://app.example.evil.example", "http://app.example",
                       "https://app.example:8443", "https://trusted.example",
                       "https://x.trusted.example.evil.example", APP + "/"):
            st, hdrs, _ = request(self.port, "POST", "/publish", {"topic": "com.x"},
                                  {"Origin": origin})
            self.assertEqual(st, 200)
            self.assert_no_cors(hdrs, origin)
            st, hdrs, _ = request(self.port, "POST", "/lp/open",
                                  {"protocols": ["wamp.2.json"]}, {"Origin": origin})
            self.assertEqual(st, 200)
            self.assert_no_cors(hdrs, origin)

    def test_allowed_origin_gets_exactly_itself(self):
        for origin in (APP, "https://a.trusted.example", "https://a.b.trusted.example",
                       "http://localhost:5173", "HTTPS://APP.EXAMPLE"):
            st, hdrs, _ = request(self.port, "POST", "/publish", {"topic": "com.x"},
                                  {"Origin": origin})
            self.assertEqual(st, 200)
            self.assert_cors(hdrs, origin)
        st, hdrs, _ = request(self.port, "POST", "/lp/open", {"protocols": ["wamp.2.json"]},
                              {"Origin": APP})
        self.assertEqual(st, 200)
        self.assert_cors(hdrs, APP)
        # a request without Origin (curl, a server) gets no CORS headers either
        st, hdrs, _ = request(self.port, "POST", "/publish", {"topic": "com.x"})
        self.assertEqual(st, 200)
        self.assert_no_cors(hdrs, "no Origin")

    def test_service_list_overrides_the_listener(self):
        st, hdrs, _ = request(self.port, "POST", "/closed", {"topic": "com.x"}, {"Origin": APP})
        self.assertEqual(st, 200)
        self.assert_no_cors(hdrs, "allowed_origins [] on the service")
        st, hdrs, _ = request(self.port, "POST", "/other", {"topic": "com.x"}, {"Origin": APP})
        self.assert_no_cors(hdrs, "the listener's origin on a service with its own list")
        st, hdrs, _ = request(self.port, "POST", "/other", {"topic": "com.x"},
                              {"Origin": "https://other.example"})
        self.assert_cors(hdrs, "https://other.example")

    def test_sse_with_a_foreign_origin(self):
        # what a hostile page's EventSource(url, {withCredentials: true}) sends
        st, hdrs = stream_head(self.port, "/sse?topic=com.secret",
                               {"Origin": EVIL, "Accept": "text/event-stream",
                                "Authorization": "Bearer whatever"})
        self.assertNotEqual(st, 200)  # ticket auth is not configured: refused anyway
        self.assert_no_cors(hdrs, "refused SSE")
        st, hdrs = stream_head(self.port, "/sse?topic=com.secret",
                               {"Origin": EVIL, "Accept": "text/event-stream"})
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/event-stream"))
        self.assert_no_cors(hdrs, "SSE stream for a foreign origin")
        st, hdrs = stream_head(self.port, "/sse?topic=com.secret",
                               {"Origin": APP, "Accept": "text/event-stream"})
        self.assertEqual(st, 200)
        self.assert_cors(hdrs, APP)

    # ------------------------------------------------------------ preflight
    def test_preflight(self):
        asked = "x-evil, content-type, authorization, x-requested-with"
        st, hdrs, _ = request(self.port, "OPTIONS", "/call", None, {
            "Origin": EVIL, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked})
        self.assertEqual(st, 204)
        self.assert_no_cors(hdrs, "preflight from a foreign origin")
        st, hdrs, _ = request(self.port, "OPTIONS", "/call", None, {
            "Origin": APP, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked})
        self.assertEqual(st, 204)
        self.assert_cors(hdrs, APP)
        allowed = [h.strip().lower() for h in
                   hdrs["access-control-allow-headers"].split(",")]
        self.assertEqual(sorted(allowed), ["authorization", "content-type", "last-event-id"])
        self.assertNotIn("x-evil", hdrs["access-control-allow-headers"].lower())
        # nothing asked for is echoed anywhere in the answer
        st, hdrs, _ = request(self.port, "OPTIONS", "/sse", None, {
            "Origin": APP, "Access-Control-Request-Headers": "x-echo-me-back"})
        self.assertFalse(any("x-echo-me-back" in v.lower() for v in hdrs.values()), hdrs)

    # ------------------------------------------------------------ CSRF
    def test_bridge_post_needs_application_json(self):
        w = self.subscriber("com.csrf")
        body = json.dumps({"topic": "com.csrf", "args": ["forged"]})
        for ct in (None, "text/plain", "text/plain; charset=utf-8",
                   "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                   "application/jsonp", "application/json-patch+json", "text/json",
                   "application/json; charset=latin1", "application/json; charset",
                   "application/json x"):
            st, _, data = self.post_raw("/publish", body, ct, EVIL)
            self.assertEqual(st, 415, (ct, data))
            st, _, data = self.post_raw("/call", json.dumps(
                {"procedure": "wamp.session.count"}), ct, EVIL)
            self.assertEqual(st, 415, (ct, data))
        for ct in ("application/json", "Application/JSON; charset=UTF-8",
                   'application/json;charset="utf-8"', "application/json; v=1"):
            st, _, data = self.post_raw("/publish", json.dumps(
                {"topic": "com.csrf", "args": [ct]}), ct, None)
            self.assertEqual(st, 200, (ct, data))
            ev = w.recv()
            # the first event is this one: none of the refused posts published anything
            self.assertEqual((ev[0], ev[4]), (EVENT, [ct]))

    def post_raw(self, path, body, content_type, origin):
        """A POST with exactly these headers (http.client would add none, but be explicit
        about Content-Type: absent when None)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            head = "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % path
            if content_type is not None:
                head += "Content-Type: %s\r\n" % content_type
            if origin:
                head += "Origin: %s\r\n" % origin
            raw = body.encode()
            s.sendall(head.encode() + b"Content-Length: %d\r\n\r\n" % len(raw) + raw)
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        head, _, data = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        return int(lines[0].split()[1]), lines[1:], data

    def test_webhook_refuses_cross_site_posts(self):
        w = self.subscriber("com.hook")
        st, _, data = self.post_raw("/hook", "a=1", "application/x-www-form-urlencoded", EVIL)
        self.assertEqual(st, 403, data)
        self.assertEqual(json.loads(data)["error"], "wamp.error.not_authorized")
        st, _, data = self.post_raw("/hook", "a=2", None, "null")
        self.assertEqual(st, 403, data)
        st, _, data = self.post_raw("/hook", "a=3", "application/x-www-form-urlencoded", None)
        self.assertEqual(st, 202, data)  # a webhook sender (no Origin)
        self.assertEqual(w.recv()[4][0]["body"], "a=3")  # the refused ones published nothing
        st, _, data = self.post_raw("/hook", "a=4", "text/plain", APP)
        self.assertEqual(st, 202, data)
        self.assertEqual(w.recv()[4][0]["body"], "a=4")

    def test_longpoll_as_autobahn_sends_it(self):
        # Autobahn|JS (lib/util.js http_post): every request with this Content-Type
        ct = "application/json; charset=utf-8"
        st, _, data = self.post_raw("/lp/open", json.dumps({"protocols": ["wamp.2.json"]}),
                                    ct, None)
        self.assertEqual(st, 200, data)
        tid = json.loads(data)["transport"]
        st, _, _ = self.post_raw("/lp/%s/send" % tid, json.dumps(
            [1, "realm1", {"roles": {"subscriber": {}}}]), ct, None)
        self.assertEqual(st, 204)
        st, _, data = self.post_raw("/lp/%s/receive" % tid, "", ct, None)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)[0], 2)  # WELCOME
        st, _, _ = self.post_raw("/lp/%s/close" % tid, "", ct, None)
        self.assertEqual(st, 204)


class NoAllowList(unittest.TestCase):
    """Without allowed_origins: no CORS header at all, for any origin or none."""

    def test_no_cors_headers_at_all(self):
        with WampdProcess(config=NO_LIST) as r:
            for origin in (None, APP, EVIL, "null"):
                h = {"Origin": origin} if origin else {}
                st, hdrs, _ = request(r.port, "POST", "/publish", {"topic": "com.x"}, h)
                self.assertEqual(st, 200)
                self.assertEqual(cors(hdrs), {}, origin)
                st, hdrs, _ = request(r.port, "POST", "/lp/open",
                                      {"protocols": ["wamp.2.json"]}, h)
                self.assertEqual(cors(hdrs), {}, origin)
                st, hdrs, _ = request(r.port, "OPTIONS", "/publish", None, dict(
                    h, **{"Access-Control-Request-Headers": "content-type"}))
                self.assertEqual(st, 204)
                self.assertEqual(cors(hdrs), {}, origin)
                st, hdrs = stream_head(r.port, "/sse?topic=com.x", h)
                self.assertEqual(st, 200)
                self.assertEqual(cors(hdrs), {}, origin)


class Configuration(unittest.TestCase):
    def test_crossbar_allowed_origins_apply_to_the_web_services(self):
        with WampdProcess(config=CROSSBAR) as r:
            st, hdrs, _ = request(r.port, "OPTIONS", "/call", None, {"Origin": APP})
            self.assertEqual(st, 204)
            self.assertEqual(hdrs.get("access-control-allow-origin"), APP)
            st, hdrs, _ = request(r.port, "OPTIONS", "/call", None, {"Origin": EVIL})
            self.assertEqual(cors(hdrs), {})

    def test_malformed_patterns_are_refused(self):
        for bad, where in (("https://app.example/", "listeners[0].allowed_origins"),
                           ("app.example", "listeners[0].allowed_origins"),
                           ("https://a.example, https://b.example",
                            "listeners[0].allowed_origins")):
            cfg = json.loads(json.dumps(NO_LIST))
            cfg["listeners"][0]["allowed_origins"] = [bad]
            with self.assertRaises(WampdError) as e:
                WampdProcess(config=cfg).start()
            self.assertIn(where, str(e.exception))
        cfg = json.loads(json.dumps(NO_LIST))
        cfg["listeners"][0]["http"]["/sse"]["allowed_origins"] = "https://app.example"
        with self.assertRaises(WampdError) as e:
            WampdProcess(config=cfg).start()
        self.assertIn("/sse.allowed_origins", str(e.exception))


if __name__ == "__main__":
    unittest.main()
