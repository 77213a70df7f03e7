"""The admin listener: /health, /metrics (parsed strictly, values following real traffic),
the ticket, /status.json, the /status/events stream, errors, and /health turning 503 while
the router shuts down."""

import http.client
import json
import os
import signal
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import promparse  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402
from wirecase import (WireCase, WS, HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE,  # noqa: E402
                      CALL, RESULT, REGISTER, REGISTERED, INVOCATION, YIELD, SUBSCRIBE,
                      SUBSCRIBED, PUBLISH, PUBLISHED, EVENT)

TICKET = "adm1n-t1cket"
CONFIG = {
    "admin": {"port": 0, "ticket": TICKET},
    "listeners": [{"port": 0, "auth": {
        "anonymous": {"type": "static", "role": "anonymous"},
        "ticket": {"type": "static", "principals": {"joe": {"ticket": "pw", "role": "user"}}}}}],
    "realms": [{"name": "realm1"}, {"name": "other"}],
}


def http_get(base, path, headers=None, method="GET", timeout=5):
    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        return res.status, dict((k.lower(), v) for k, v in res.getheaders()), res.read()
    finally:
        conn.close()


class Admin(WireCase):
    config = CONFIG

    def get(self, path, **kw):
        return http_get(self.router.admin_url, path, **kw)

    def scrape(self):
        status, headers, body = self.get("/metrics", headers={"Authorization": "Bearer " + TICKET})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        return promparse.parse(body.decode())

    def test_health_needs_no_ticket(self):
        status, headers, body = self.get("/health")
        self.assertEqual((status, body), (200, b"ok\n"))
        self.assertEqual(headers["cache-control"], "no-store")

    def test_ticket(self):
        for path in ("/metrics", "/status", "/status.json", "/status/events"):
            status, headers, _ = self.get(path)
            self.assertEqual(status, 401, path)
            self.assertEqual(headers["www-authenticate"], 'Bearer realm="wampd admin"')
            status, _, _ = self.get(path, headers={"Authorization": "Bearer wrong"})
            self.assertEqual(status, 401, path)
            status, _, _ = self.get(path + "?ticket=" + TICKET[:-1])
            self.assertEqual(status, 401, path)
        self.assertEqual(self.get("/metrics?ticket=" + TICKET)[0], 200)
        self.assertEqual(self.get("/status.json", headers={"Authorization": "Bearer " + TICKET})[0], 200)

    def test_errors(self):
        auth = {"Authorization": "Bearer " + TICKET}
        status, _, body = self.get("/nope", headers=auth)
        self.assertEqual(status, 404)
        self.assertIn(b"/metrics", body)
        status, headers, _ = self.get("/metrics", headers=auth, method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET")
        # the admin port speaks no WAMP, the WAMP port serves no metrics
        status, _, _ = http_get("http://127.0.0.1:%d" % self.port, "/metrics", headers=auth)
        self.assertEqual(status, 404)

    def test_exposition_is_strict_and_complete(self):
        fams = self.scrape()
        for name in ("wampd_build_info", "wampd_up", "wampd_connections", "wampd_sessions",
                     "wampd_messages_received_total", "wampd_messages_sent_total",
                     "wampd_received_bytes_total", "wampd_sent_bytes_total",
                     "wampd_send_queue_bytes", "wampd_send_queue_max_bytes",
                     "wampd_slow_consumer_disconnects_total", "wampd_authentications_total",
                     "wampd_call_duration_seconds", "wampd_pending_calls", "wampd_calls_total",
                     "wampd_registrations", "wampd_subscriptions", "wampd_event_loop_lag_seconds",
                     "process_resident_memory_bytes", "process_open_fds"):
            self.assertIn(name, fams)
        self.assertEqual(fams["wampd_call_duration_seconds"].type, "histogram")
        self.assertEqual(fams["wampd_up"].value(), 1)
        self.assertEqual(fams["wampd_sessions"].value(realm="other", transport="rawsocket",
                                                      serializer="msgpack"), 0)
        self.assertGreater(fams["process_resident_memory_bytes"].value(), 1 << 20)
        # the witness (a JSON WebSocket session in realm1) is counted
        self.assertGreaterEqual(fams["wampd_sessions"].value(realm="realm1", transport="websocket",
                                                             serializer="json"), 1)

    def test_parser_rejects_bad_expositions(self):
        good = "# HELP a_total x\n# TYPE a_total counter\na_total 1\n"
        promparse.parse(good)
        bad = [
            good[:-1],                                                    # no final newline
            "a_total 1\n",                                                # no TYPE
            "# HELP a x\n# TYPE a counter\na 1\n",                        # counter not *_total
            '# HELP g x\n# TYPE g gauge\ng{l="\\x"} 1\n',                 # bad escape
            "# HELP g x\n# TYPE g gauge\ng one\n",                        # bad value
            '# HELP g x\n# TYPE g gauge\ng{l="a"} 1\ng{l="a"} 2\n',       # duplicate series
            "# HELP g x\n# TYPE g gauge\ng 1\n# HELP h x\n# TYPE h gauge\nh 1\ng 2\n",  # split
            '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\n'
            "h_sum 1\nh_count 1\n",                                       # not cumulative
            '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',  # no +Inf
        ]
        for text in bad:
            with self.assertRaises(ValueError, msg=text):
                promparse.parse(text)

    def test_counters_follow_traffic(self):
        callee = self.session("wamp.2.msgpack")
        caller = self.session("wamp.2.json")
        callee.send([REGISTER, 1, {}, "com.adm.echo"])
        self.assertEqual(callee.recv()[0], REGISTERED)
        caller.send([SUBSCRIBE, 2, {}, "com.adm.topic"])
        self.assertEqual(caller.recv()[0], SUBSCRIBED)
        before = self.scrape()
        self.assertEqual(before["wampd_sessions"].value(realm="realm1", transport="websocket",
                                                        serializer="msgpack"), 1)
        self.assertEqual(before["wampd_registrations"].value(realm="realm1"), 2)  # + the witness
        self.assertEqual(before["wampd_subscriptions"].value(realm="realm1"), 1)

        # one call left pending: the gauge shows it
        caller.send([CALL, 10, {}, "com.adm.echo", ["x"]])
        inv = callee.recv()
        self.assertEqual(inv[0], INVOCATION)
        self.assertEqual(self.scrape()["wampd_pending_calls"].value(), 1)
        callee.send([YIELD, inv[1], {}, ["x"]])
        self.assertEqual(caller.recv()[0], RESULT)
        for i in range(4):
            caller.send([CALL, 11 + i, {}, "com.adm.echo", [i]])
            inv = callee.recv()
            callee.send([YIELD, inv[1], {}, inv[4]])
            self.assertEqual(caller.recv()[0], RESULT)
        caller.send([PUBLISH, 20, {"acknowledge": True, "exclude_me": False}, "com.adm.topic", [1]])
        got = {caller.recv()[0], caller.recv()[0]}
        self.assertEqual(got, {PUBLISHED, EVENT})
        after = self.scrape()

        def delta(fam, **labels):
            return after[fam].value(**labels) - before[fam].value(**labels)

        self.assertEqual(delta("wampd_messages_received_total", type="CALL"), 5)
        self.assertEqual(delta("wampd_messages_received_total", type="YIELD"), 5)
        self.assertEqual(delta("wampd_messages_received_total", type="PUBLISH"), 1)
        self.assertEqual(delta("wampd_messages_sent_total", type="INVOCATION"), 5)
        self.assertEqual(delta("wampd_messages_sent_total", type="RESULT"), 5)
        self.assertEqual(delta("wampd_messages_sent_total", type="EVENT"), 1)
        self.assertEqual(delta("wampd_messages_sent_total", type="PUBLISHED"), 1)
        self.assertEqual(delta("wampd_calls_total", realm="realm1"), 5)
        self.assertEqual(delta("wampd_publications_total", realm="realm1"), 1)
        self.assertEqual(after["wampd_pending_calls"].value(), 0)
        self.assertGreater(delta("wampd_received_bytes_total"), 5 * 20)
        self.assertGreater(delta("wampd_sent_bytes_total"), 5 * 20)
        lat = dict((l["le"], v) for l, v in after["wampd_call_duration_seconds"].series("_bucket"))
        lat0 = dict((l["le"], v) for l, v in before["wampd_call_duration_seconds"].series("_bucket"))
        self.assertEqual(lat["+Inf"] - lat0["+Inf"], 5)
        self.assertEqual(after["wampd_call_duration_seconds"].series("_count")[0][1]
                         - before["wampd_call_duration_seconds"].series("_count")[0][1], 5)
        callee.close()
        caller.close()

    def test_authentication_counters(self):
        def ticket_session(ticket):
            ws = self.open("wamp.2.json")
            ws.send([HELLO, "realm1", {"authmethods": ["ticket"], "authid": "joe",
                                       "roles": {"caller": {}}}])
            ch = ws.recv()
            self.assertEqual(ch[0], CHALLENGE)
            ws.send([AUTHENTICATE, ticket, {}])
            return ws, ws.recv()

        before = self.scrape()["wampd_authentications_total"]
        ok, welcome = ticket_session("pw")
        self.assertEqual(welcome[0], WELCOME)
        bad, abort = ticket_session("wrong")
        self.assertEqual(abort[0], ABORT)
        nomethod = self.open("wamp.2.json")
        nomethod.send([HELLO, "realm1", {"authmethods": ["cryptosign"], "authid": "x", "roles": {}}])
        self.assertEqual(nomethod.recv()[0], ABORT)
        after = self.scrape()["wampd_authentications_total"]

        def delta(method, result):
            return (after.value(method=method, result=result)
                    - before.value(method=method, result=result))

        self.assertEqual(delta("ticket", "success"), 1)
        self.assertEqual(delta("ticket", "failure"), 1)
        self.assertEqual(delta("none", "failure"), 1)
        self.assertEqual(delta("anonymous", "failure"), 0)
        for ws in (ok, bad, nomethod):
            ws.close()

    def test_event_loop_lag_is_measured(self):
        deadline = time.monotonic() + 5
        while True:
            fams = self.scrape()
            n = fams["wampd_event_loop_lag_seconds"].series("_count")[0][1]
            if n > 0:
                break
            self.assertLess(time.monotonic(), deadline, "no lag sample within 5 s")
            fams = None
        self.assertGreaterEqual(fams["wampd_event_loop_lag_last_seconds"].value(), 0)

    def test_status_json(self):
        ws = self.session("wamp.2.msgpack")
        ws.send([SUBSCRIBE, 3, {"match": "prefix"}, "com.adm.status"])
        self.assertEqual(ws.recv()[0], SUBSCRIBED)
        status, headers, body = self.get("/status.json?ticket=" + TICKET)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        doc = json.loads(body)
        realms = {r["name"]: r for r in doc["realms"]}
        self.assertEqual(set(realms), {"realm1", "other"})
        r1 = realms["realm1"]
        self.assertEqual(r1["session_count"], len(r1["sessions"]))
        mine = [s for s in r1["sessions"] if s["serializer"] == "msgpack"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["transport"], "websocket")
        self.assertEqual(mine[0]["authrole"], "anonymous")
        self.assertRegex(mine[0]["peer"], r"^127\.0\.0\.1:\d+$")
        self.assertGreaterEqual(mine[0]["age_s"], 0)
        subs = [s for s in r1["subscriptions"] if s["uri"] == "com.adm.status"]
        self.assertEqual(subs[0]["match"], "prefix")
        self.assertEqual(subs[0]["subscribers"], 1)
        self.assertIn("com.witness.echo", [g["uri"] for g in r1["registrations"]])
        # the meta API's built-in procedures are not listed as registrations
        self.assertFalse([g for g in r1["registrations"] if g["uri"].startswith("wamp.")])
        ws.close()

    def test_status_page_is_served(self):
        status, headers, body = self.get("/status", headers={"Authorization": "Bearer " + TICKET})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", headers["content-security-policy"])
        self.assertTrue(body.startswith(b"<!DOCTYPE html>"))
        self.assertNotIn(b"http://", body.split(b"<script>")[1])  # nothing loaded from elsewhere

    def test_event_stream(self):
        host, port = self.router.admin_url.split("//")[1].split(":")
        sock = socket.create_connection((host, int(port)), timeout=5)
        f = sock.makefile("rb")
        try:
            sock.sendall(("GET /status/events?ticket=%s HTTP/1.1\r\nHost: x\r\n"
                          "Accept: text/event-stream\r\n\r\n" % TICKET).encode())
            self.assertIn(b" 200 ", f.readline())
            headers = {}
            while True:
                line = f.readline().strip()
                if not line:
                    break
                k, v = line.decode().split(":", 1)
                headers[k.lower()] = v.strip()
            self.assertEqual(headers["content-type"], "text/event-stream")
            events = []
            while len(events) < 3:  # socket timeout (5 s) is the deadline of each read
                event, data = None, None
                while True:
                    line = f.readline()
                    self.assertTrue(line, "the stream ended")
                    line = line.rstrip(b"\r\n")
                    if not line:
                        break
                    k, v = line.decode().split(": ", 1)
                    if k == "event":
                        event = v
                    elif k == "data":
                        data = json.loads(v)
                self.assertEqual(event, "sample")
                events.append(data)
            for key in ("t", "msgs_in", "msgs_out", "bytes_in", "bytes_out", "sessions",
                        "connections", "pending_calls", "loop_lag_ms"):
                self.assertIn(key, events[0])
            self.assertLess(events[0]["t"], events[1]["t"])
            self.assertLess(events[1]["t"], events[2]["t"])
            self.assertGreaterEqual(events[0]["sessions"], 1)  # the witness
        finally:
            f.close()
            sock.close()


class HealthDuringShutdown(unittest.TestCase):
    def test_health_is_503_while_shutting_down(self):
        r = WampdProcess(config={"admin": {"port": 0}, "realms": [{"name": "realm1"}]}).start()
        try:
            self.assertEqual(http_get(r.admin_url, "/health")[0], 200)
            ws = WS("127.0.0.1", r.port, r.path)
            self.assertEqual(ws.hello()[0], WELCOME)
            r.proc.send_signal(signal.SIGTERM)
            self.assertEqual(ws.recv(timeout=5)[0], GOODBYE)
            # the router waits for our GOODBYE: it is shutting down, and says so
            status, _, body = http_get(r.admin_url, "/health")
            self.assertEqual((status, body), (503, b"shutting down\n"))
            fams = promparse.parse(http_get(r.admin_url, "/metrics")[2].decode())
            self.assertEqual(fams["wampd_up"].value(), 0)
            ws.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
            ws.close()
            self.assertEqual(r.proc.wait(timeout=10), 0)
        finally:
            r.stop()


if __name__ == "__main__":
    unittest.main()
