"""Autobahn|Python (Twisted) sessions over RawSocket and WebSocket as the admin listener's
/metrics sees them: sessions by transport and serializer, messages by type, call latency,
registrations, subscriptions and authentications follow what the clients do.

    WAMPD_BIN=... /usr/bin/python3 test_metrics.py json|msgpack
"""

import http.client
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "wire"))

from autobahn.wamp.types import PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

import promparse  # noqa: E402
from wampclient import connect, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"
TICKET = "metrics-t1cket"


def scrape(admin_url):
    host, port = admin_url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + TICKET})
    res = conn.getresponse()
    body = res.read().decode()
    conn.close()
    assert res.status == 200, (res.status, body)
    return promparse.parse(body)


@defer.inlineCallbacks
def scenario(router):
    rs_url = "rs://127.0.0.1:%d" % router.port
    before = scrape(router.admin_url)
    callee = yield connect(rs_url, "realm1", SER)
    caller = yield connect(router.url, "realm1", SER)
    yield callee.register(lambda x: x + 1, "com.metrics.inc")
    got = defer.Deferred()
    yield callee.subscribe(lambda x: got.called or got.callback(x), "com.metrics.news")
    for i in range(3):
        assert (yield caller.call("com.metrics.inc", i)) == i + 1
    yield caller.publish("com.metrics.news", 7, options=PublishOptions(acknowledge=True))
    assert (yield wait_for(got, 5, "EVENT")) == 7
    m = scrape(router.admin_url)
    sessions = m["wampd_sessions"]
    assert sessions.value(realm="realm1", transport="rawsocket", serializer=SER) == 1
    assert sessions.value(realm="realm1", transport="websocket", serializer=SER) == 1
    assert m["wampd_registrations"].value(realm="realm1") == 1
    assert m["wampd_subscriptions"].value(realm="realm1") == 1
    assert m["wampd_connections"].value() == 2

    def delta(fam, **labels):
        return m[fam].value(**labels) - before[fam].value(**labels)

    assert delta("wampd_messages_received_total", type="HELLO") == 2
    assert delta("wampd_messages_received_total", type="CALL") == 3
    assert delta("wampd_messages_sent_total", type="INVOCATION") == 3
    assert delta("wampd_messages_sent_total", type="RESULT") == 3
    assert delta("wampd_messages_sent_total", type="EVENT") == 1
    assert delta("wampd_authentications_total", method="anonymous", result="success") == 2
    count = m["wampd_call_duration_seconds"].series("_count")[0][1]
    assert count - before["wampd_call_duration_seconds"].series("_count")[0][1] == 3
    assert m["wampd_pending_calls"].value() == 0
    yield caller.leave_and_wait()
    yield callee.leave_and_wait()
    # once both have left, the gauges are back to zero
    m = scrape(router.admin_url)
    assert m["wampd_sessions"].value(realm="realm1", transport="rawsocket", serializer=SER) == 0
    assert m["wampd_registrations"].value(realm="realm1") == 0


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={"admin": {"port": 0, "ticket": TICKET},
                                  "realms": [{"name": "realm1"}]}).start()
    try:
        yield scenario(router)
    finally:
        router.stop()


run(main, timeout=60)
