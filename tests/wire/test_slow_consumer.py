"""A slow consumer among fast ones (issue: 1 slow + 100 normal subscribers).

wampbench's fan-out with --slow 1 for 20 s per serializer, 32 KiB events (over 1 MiB/s
published, 100 times that delivered): 100 subscribers read everything, one stops reading once
subscribed. The router (send_queue_bytes 1 MiB) must disconnect the slow one, keep every
other subscriber receiving every event in order (wampbench fails the run on a reordered
event, and on a lost one, which stalls its paced publisher), and keep its memory flat.
Speed is not asserted."""

import http.client
import json
import os
import subprocess
import unittest

import promparse
from wirecase import WireCase

WAMPBENCH = os.environ.get("WAMPBENCH_BIN")
SECONDS = int(os.environ.get("SLOW_CONSUMER_SECONDS", "20"))  # per serializer


@unittest.skipUnless(WAMPBENCH, "WAMPBENCH_BIN not set (bench not built)")
class SlowConsumer(WireCase):
    # no keepalive: the witness reads nothing while a run lasts (up to a minute or more on a
    # loaded machine) and would miss the router's PING and be hung up after ping_timeout
    config = {"realms": [{"name": "realm1"}], "admin": {"port": 0},
              "limits": {"send_queue_bytes": 1 << 20, "max_sessions_per_ip": 0,
                         "ping_interval": 0}}

    def run_fanout(self, serializer):
        url = "ws://%s:%d%s" % (self.host, self.port, self.path)
        out = subprocess.run(
            [WAMPBENCH, "--url", url, "--scenario", "fanout", "--serializer", serializer,
             "--subscribers", "100", "--slow", "1", "--payload", "32768", "--window", "8",
             "--warmup", "0.5", "--duration", str(SECONDS),
             "--router-pid", str(self.router.proc.pid)],
            capture_output=True, timeout=SECONDS + 90 + 60, check=False)
        lines = out.stdout.decode().strip().splitlines()
        self.assertTrue(lines, out.stderr.decode())
        return json.loads(lines[-1])

    def slow_disconnects(self):
        host, port = self.router.admin_url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", "/metrics")
        fams = promparse.parse(conn.getresponse().read().decode())
        conn.close()
        return fams["wampd_slow_consumer_disconnects_total"].value()

    def check(self, serializer):
        before = self.slow_disconnects()
        r = self.run_fanout(serializer)
        print(json.dumps(r), flush=True)  # the figures, for the record
        self.assertNotIn("error", r, r)
        self.assertGreater(r["ops"], 0, r)
        self.assertEqual(r["slow_closed"], 1, "the slow subscriber was not disconnected: %s" % r)
        # flat memory: well under the queues' worst case (101 x 1 MiB)
        growth = r["router_rss_max_kib"] - r["router_rss_start_kib"]
        self.assertLess(growth, 32 * 1024, r)
        self.router.wait_log(r"slow consumer", timeout=5)
        self.assertEqual(self.slow_disconnects() - before, 1)  # and the metric counted it

    def test_json(self):
        self.check("json")

    def test_msgpack(self):
        self.check("msgpack")


if __name__ == "__main__":
    unittest.main()
