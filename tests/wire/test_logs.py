"""Logs of the real binary: --log-format json gives one JSON object per line for every event
(joins, calls, protocol violations, authentication failures with a client-chosen authid
holding a newline), with the key=value fields as members; --log-level with per-module levels
filters by module; bad log options are refused at start."""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdProcess  # noqa: E402
from wirecase import (WS, HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, CALL, REGISTER,  # noqa: E402
                      REGISTERED, INVOCATION, YIELD, RESULT)

CONFIG = {
    "listeners": [{"port": 0, "auth": {
        "anonymous": {"type": "static", "role": "anonymous"},
        "ticket": {"type": "static", "principals": {"joe": {"ticket": "pw", "role": "user"}}}}}],
    "realms": [{"name": "realm1"}],
}


def traffic(r):
    """A session with a call round trip, a protocol violation, a failed ticket; returns the
    first session's id."""
    a = WS("127.0.0.1", r.port, r.path)
    welcome = a.hello()
    assert welcome[0] == WELCOME, welcome
    a.send([REGISTER, 1, {}, "com.log.echo"])
    assert a.recv()[0] == REGISTERED
    a.send([CALL, 2, {}, "com.log.echo", [1]])
    inv = a.recv()
    assert inv[0] == INVOCATION
    a.send([YIELD, inv[1], {}, [1]])
    assert a.recv()[0] == RESULT
    b = WS("127.0.0.1", r.port, r.path)
    b.send_text("[1, 2, 3")  # not JSON: ABORT protocol_violation
    assert b.recv()[0] == ABORT
    c = WS("127.0.0.1", r.port, r.path)
    c.send([HELLO, "realm1", {"authmethods": ["ticket"], "authid": "evil\nnotice fake: line",
                              "roles": {"caller": {}}}])
    assert c.recv()[0] == CHALLENGE  # no such principal: challenged all the same (a decoy)
    c.send([AUTHENTICATE, "x", {}])
    assert c.recv()[0] == ABORT  # ... and refused at AUTHENTICATE
    for ws in (a, b, c):
        ws.close()
    return welcome[1]


class JsonLogs(unittest.TestCase):
    def test_every_line_is_a_json_object(self):
        r = WampdProcess(config=CONFIG, log_level="debug", args=["--log-format", "json"]).start()
        sid = traffic(r)
        r.wait_log(r'"msg":"leave session=%d' % sid)
        r.stop()
        lines = r.stderr().splitlines()
        self.assertGreater(len(lines), 10)
        events = []
        for line in lines:
            obj = json.loads(line)  # raises on any line that is not one JSON object
            self.assertIsInstance(obj, dict, line)
            for key in ("ts", "level", "module", "msg"):
                self.assertIsInstance(obj[key], str, line)
            self.assertRegex(obj["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(obj["level"], ("error", "warn", "notice", "info", "debug"))
            events.append(obj)
        joins = [e for e in events if e["msg"].startswith("join session=%d " % sid)]
        self.assertEqual(len(joins), 1)
        j = joins[0]
        self.assertEqual((j["module"], j["level"], j["session"], j["realm"]),
                         ("realm", "info", sid, "realm1"))
        self.assertEqual((j["authrole"], j["transport"], j["serializer"]),
                         ("anonymous", "websocket", "json"))
        self.assertRegex(j["peer"], r"^127\.0\.0\.1:\d+$")
        self.assertIsInstance(j["authid"], str)
        leave = [e for e in events if e["msg"].startswith("leave session=%d " % sid)][0]
        self.assertIsInstance(leave["duration_ms"], int)
        aborts = [e for e in events if e["module"] == "session" and e["msg"].startswith("abort")]
        self.assertTrue(any(e.get("reason") == "wamp.error.protocol_violation" for e in aborts), aborts)
        failed = [e for e in events if e["msg"].startswith("authentication failed")]
        self.assertEqual(len(failed), 1, failed)
        self.assertEqual(failed[0]["authid"], "evil\nnotice")  # escaped: still one line
        self.assertEqual(failed[0]["realm"], "realm1")


class TextLogs(unittest.TestCase):
    def test_per_module_levels(self):
        r = WampdProcess(config=CONFIG, log_level="warn,realm=info,auth=error").start()
        sid = traffic(r)
        r.wait_log(r"info realm: leave session=%d " % sid)
        r.stop()
        text = r.stderr()
        self.assertIn("info realm: join session=%d " % sid, text)
        self.assertNotIn(" auth: ", text)          # the failed ticket is a notice: filtered
        self.assertNotIn("info session: abort", text)  # the default (warn) filters info
        for line in text.splitlines():
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT[\d:.]+Z (error|warn|notice|info|debug) \w+: ")

    def test_control_characters_are_escaped(self):
        r = WampdProcess(config=CONFIG, log_level="notice").start()
        traffic(r)
        r.wait_log(r"authentication failed")
        r.stop()
        lines = r.stderr().splitlines()
        failed = [l for l in lines if "authentication failed" in l]
        self.assertEqual(len(failed), 1)
        self.assertIn("authid=evil\\nnotice fake: line", failed[0])
        self.assertFalse([l for l in lines if l.startswith("notice fake")])

    def test_bad_options_are_refused(self):
        binary = os.environ["WAMPD_BIN"]
        for args, what in ((["--log-level", "info,router=loud"], "unknown log level \"loud\""),
                           (["--log-level", "Info"], "unknown log level"),
                           (["--log-format", "xml"], "must be text or json")):
            p = subprocess.run([binary, "--port", "0"] + args, capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 2, p)
            self.assertIn(what, p.stderr.decode())

    def test_unknown_module_is_warned_about(self):
        r = WampdProcess(config=CONFIG, log_level="info,rutor=debug").start()
        r.wait_log(r"warn config: log level for module=rutor: wampd logs nothing under that name")
        r.stop()


if __name__ == "__main__":
    unittest.main()
