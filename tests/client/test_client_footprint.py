"""The heap of one idle libwampc session (RawSocket + CBOR + ticket, 10 subscriptions and
10 registrations acknowledged by the real wampd), counted by tests/client/footprint.c's
counting allocator: it must stay under 8 KiB (issue #20's goal), malloc's per-block
overhead included. Prints the figures (client/README.md quotes them).

    WAMPD_BIN=... WAMPC_FOOTPRINT=... /usr/bin/python3 test_client_footprint.py
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdProcess  # noqa: E402

LIMIT = 8192

auth = {"ticket": {"type": "static", "principals": {"dev": {"ticket": "t-dev", "role": "dev"}}}}
with WampdProcess(config={"listeners": [{"type": "rawsocket", "port": 0, "serializers": ["cbor"],
                                         "auth": auth}],
                          "realms": [{"name": "realm1"}]}) as router:
    out = subprocess.run([os.environ["WAMPC_FOOTPRINT"], router.url_of("rs"), "t-dev"],
                         capture_output=True, timeout=30, text=True)
    assert out.returncode == 0, (out.returncode, out.stderr)
    fig = json.loads(out.stdout.strip().splitlines()[0])
    print("idle session, 10 subscriptions + 10 registrations: %(live)d bytes in %(blocks)d "
          "blocks (+%(overhead)d malloc overhead = %(total)d); peak while joining %(peak)d"
          % fig)
    assert fig["total"] < LIMIT, fig
