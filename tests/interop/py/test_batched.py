"""Autobahn|Python over batched WebSocket subprotocols (wamp.2.<ser>.batched) against
wampd: RPC with binary payloads and PubSub between a batched session and an unbatched one.

    WAMPD_BIN=... /usr/bin/python3 test_batched.py json|msgpack|cbor
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from autobahn.wamp.types import CallResult, PublishOptions  # noqa: E402
from twisted.internet import defer  # noqa: E402

from wampclient import connect, run, wait_for  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

SER = sys.argv[1] if len(sys.argv) > 1 else "json"


@defer.inlineCallbacks
def main():
    router = WampdProcess(config={"realms": [{"name": "realm1"}]}).start()
    try:
        url = router.url
        b = yield connect(url, "realm1", SER + ".batched")
        p = yield connect(url, "realm1", SER)
        info = yield p.call("wamp.session.get", b._session_id)
        assert info["transport"]["protocol"] == "wamp.2.%s.batched" % SER, info
        yield b.register(lambda *a, **kw: CallResult(*a, **kw), "com.batched.echo")
        # many calls at once: the router may answer them in one batch
        calls = [p.call("com.batched.echo", i, b"\x00\xff", k=i) for i in range(50)]
        results = yield defer.gatherResults(calls)
        assert [list(r.results) for r in results] == [[i, b"\x00\xff"] for i in range(50)]
        got = []
        done = defer.Deferred()

        def on_event(i):
            got.append(i)
            if len(got) == 20 and not done.called:
                done.callback(None)
        yield b.subscribe(on_event, "com.batched.t")
        for i in range(20):
            p.publish("com.batched.t", i, options=PublishOptions(acknowledge=False))
        yield wait_for(done, 5, "20 events on the batched session")
        assert got == list(range(20)), got
        yield p.leave_and_wait()
        yield b.leave_and_wait()
    finally:
        router.stop()


run(main, timeout=60)
