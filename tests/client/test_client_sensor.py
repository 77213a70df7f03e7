"""client/examples/sensor.c against the real wampd: RawSocket + CBOR with ticket
authentication, an Autobahn|Python session watching its readings and calling get_config.

1. The router is unreachable at first (a proxy refuses the connections): the sensor keeps
   trying with backoff and keeps its readings in the offline queue; once the proxy lets it
   through it joins (ticket), and the readings arrive from 1 on, each once and in order;
   get_config answers. Then its link is cut while joined: it comes back by itself,
   get_config is registered again (the library restores it), and the readings go on in
   order (what was written into the cut connection may be lost: at most 2). SIGTERM: it leaves (GOODBYE)
   and exits 0.
2. --readings 5: the five readings, in order, then it leaves and exits 0 by itself.
3. A wrong ticket: refused (authentication_failed), reconnecting forever as a device does,
   never joined; killed by the test.

    WAMPD_BIN=... WAMPC_SENSOR=... /usr/bin/python3 test_client_sensor.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

from twisted.internet import defer  # noqa: E402

from clientlib import Cutter, Inbox, Peer  # noqa: E402
from wampclient import connect, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SENSOR = os.environ.get("WAMPC_SENSOR")
TICKET = "t-sensor-7"
READINGS = 10  # at least this many are taken before the sensor can join


def sensor(url, prefix, readings, ticket=TICKET):
    return Peer.spawn(SENSOR, "--url", url, "--realm", "realm1", "--authid", "sensor-7",
                      "--prefix", prefix, "--interval", "40", "--readings", str(readings),
                      env={"WAMP_TICKET": ticket})


@defer.inlineCallbacks
def reading(inbox, prefix):
    args, kw = yield inbox.get(prefix + ".reading")
    assert kw == {"unit": "C"} and len(args) == 2, (args, kw)
    assert abs(args[1] - (20.0 + ((args[0] - 1) % 10) / 2)) < 1e-9, args
    return args[0]


@defer.inlineCallbacks
def offline_join_cut(py, inbox, cutter):
    prefix = "com.sensor.a"
    yield py.subscribe(inbox.handler(prefix + ".reading"), prefix + ".reading")
    cutter.refuse = True
    s = sensor("rs://127.0.0.1:%d" % cutter.port, prefix, 0)
    for _ in range(3):  # attempts refused, with backoff; readings pile up offline
        yield wait_for(cutter.refused.get(), 10, "a connection attempt")
    cutter.refuse = False
    yield s.line_starting("joined")
    for i in range(1, READINGS + 1):  # the offline ones first: none lost, in order
        assert (yield reading(inbox, prefix)) == i
    cfg = yield py.call(prefix + ".get_config")
    assert cfg.kwresults["interval"] == 40 and cfg.kwresults["unit"] == "C", cfg.kwresults
    assert cfg.kwresults["prefix"] == prefix and cfg.kwresults["published"] >= READINGS
    # the router's meta event tells when the sensor's new session has registered again
    yield py.subscribe(inbox.handler("wamp.registration.on_register"),
                       "wamp.registration.on_register")
    cutter.cut()
    assert (yield s.line_starting("left")) == "left wamp.close.transport_lost (reconnecting)"
    session = int((yield s.line_starting("joined")).split()[1])
    while (yield inbox.get("wamp.registration.on_register"))[0][0] != session:
        pass
    cfg = yield py.call(prefix + ".get_config")  # registered again after the new WELCOME
    assert cfg.kwresults["prefix"] == prefix, cfg.kwresults
    published = cfg.kwresults["published"]
    seen = [READINGS]
    while seen[-1] < published + 3:  # readings made after the reconnect arrive
        seen.append((yield reading(inbox, prefix)))
    assert seen == sorted(set(seen)), seen  # in order, never twice
    assert len(seen) >= seen[-1] - READINGS - 1, seen  # lost: only what was in the cut link
    s.transport.signalProcess("TERM")
    yield s.line_starting("left wamp.close.close_realm")
    yield s.exit_ok()


@defer.inlineCallbacks
def bounded(py, inbox, url):
    prefix = "com.sensor.b"
    yield py.subscribe(inbox.handler(prefix + ".reading"), prefix + ".reading")
    s = sensor(url, prefix, 5)
    for i in range(1, 6):
        assert (yield reading(inbox, prefix)) == i
    yield s.line_starting("left wamp.close.close_realm")
    yield s.exit_ok()
    assert inbox.queue(prefix + ".reading").pending == [], "a reading after the fifth"


@defer.inlineCallbacks
def wrong_ticket(url):
    s = sensor(url, "com.sensor.c", 3, ticket="wrong")
    for _ in range(2):
        line = yield s.next_line("the refusal")
        assert line == "left wamp.error.authentication_failed (reconnecting)", line
    s.kill()
    yield wait_for(s.ended, 10, "the sensor to be killed")


@defer.inlineCallbacks
def main():
    auth = {"ticket": {"type": "static", "principals": {
        "sensor-7": {"ticket": "${SENSOR_TICKET}", "role": "device"}}}}
    router = WampdProcess(
        config={"listeners": [{"type": "universal", "port": 0},
                              {"type": "rawsocket", "port": 0, "serializers": ["cbor"],
                               "auth": auth}],
                "realms": [{"name": "realm1", "roles": [
                    {"name": "device", "permissions": [
                        {"uri": "com.sensor.", "match": "prefix",
                         "allow": {"publish": True, "register": True}}]},
                    {"name": "anonymous", "permissions": [
                        {"uri": "", "match": "prefix",
                         "allow": {"call": True, "subscribe": True}}]}]}]},
        env={"SENSOR_TICKET": TICKET}).start()
    try:
        py = yield connect(router.url, "realm1", "json")
        inbox = Inbox()
        rs = router.url_of("rs", 1)
        cutter = Cutter(int(rs.rsplit(":", 1)[1]))
        yield offline_join_cut(py, inbox, cutter)
        yield bounded(py, inbox, rs)
        yield wrong_ticket(rs)
        yield py.leave_and_wait()
    finally:
        router.stop()


if not SENSOR:
    sys.exit("WAMPC_SENSOR is not set (ctest sets it to the built wampc_sensor)")
run(main, timeout=120)
