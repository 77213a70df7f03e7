"""scripts/cluster-demo.sh (make cluster-demo) end to end: Redis and the nodes start, the
ports it prints are the nodes' own, an event crosses nodes, Ctrl-C stops everything.

    WAMPD_BIN=... python3 test_cluster_demo.py

The shared port asked for (PORT) is held by a socket of this test that is bound but not
listening: nothing answers a connect there, so only the bind itself can tell it is taken.
The script must then fall back to a port the kernel picks for node0 (it used to probe
with a connect and hand the port on), and every node must serve the port node0 got.
Then: WELCOME on the shared port; a subscriber on node0's own port gets what a publisher
on the last node's own port publishes; SIGINT (Ctrl-C) stops the nodes and Redis and
removes the script's directory, leaving no process behind. Every wait has a deadline.
"""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

from wsraw import WS  # noqa: E402

SCRIPT = os.path.join(HERE, "..", "..", "scripts", "cluster-demo.sh")
NODES = 3


class Output:
    """A process's stdout, read line by line with deadlines (nothing read is lost)."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []   # every line read
        self.next = 0     # the first line no read_until has looked at
        self.buf = b""

    def read_until(self, pattern, timeout):
        """The match of the next line matching pattern (lines before it are passed)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            while self.next < len(self.lines):
                self.next += 1
                m = rx.search(self.lines[self.next - 1])
                if m:
                    return m
            if time.monotonic() >= deadline:
                break
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            self.buf += chunk
            *done, self.buf = self.buf.split(b"\n")
            self.lines += [x.decode(errors="replace") for x in done]
        raise AssertionError("no line matching %r within %ss; output:\n%s"
                             % (pattern, timeout, "\n".join(self.lines)))


def pids_with(text):
    """Processes whose command line contains text."""
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if text.encode() in f.read().replace(b"\0", b" "):
                    found.append(int(p))
        except OSError:
            pass
    return found


def joined(port):
    ws = WS("127.0.0.1", port)
    welcome = ws.hello()
    assert welcome[0] == 2, welcome
    return ws


def main():
    wampd = os.environ["WAMPD_BIN"]
    holder = socket.socket()  # bound, not listening: connects are refused, binds fail
    holder.bind(("127.0.0.1", 0))
    taken = holder.getsockname()[1]
    env = dict(os.environ, WAMPD=wampd, PORT=str(taken), NODES=str(NODES))
    env.pop("REDIS_PORT", None)
    proc = subprocess.Popen(["bash", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env)
    out = Output(proc)
    tmp = None
    try:
        redis_port = out.read_until(r"^redis:\s+redis://127\.0\.0\.1:(\d+)/0", 30).group(1)
        own = []
        for i in range(NODES):
            m = out.read_until(r"^node%d:\s+ws://127\.0\.0\.1:(\d+)/ws .* log: (\S+)/node" % i,
                               60)
            own.append(int(m.group(1)))
            tmp = m.group(2)
        m = out.read_until(r"^cluster: ws://127\.0\.0\.1:(\d+)/ws", 30)
        shared = int(m.group(1))
        assert shared != taken, "the shared port is the one held by someone else"
        assert len(set(own + [shared])) == NODES + 1, (own, shared)
        out.read_until(r"^Connect clients", 10)

        # the shared port is served (by whichever node the kernel picks)
        joined(shared).close()
        # one router: node0's subscriber gets the last node's publication
        sub = joined(own[0])
        sub.send([32, 1, {}, "com.example.demo"])
        subscribed = sub.recv()
        assert subscribed[:2] == [33, 1], subscribed
        pub = joined(own[-1])
        pub.send([16, 2, {"acknowledge": True}, "com.example.demo", ["across"]])
        published = pub.recv()
        assert published[:2] == [17, 2], published
        event = sub.recv(timeout=10)
        assert event[0] == 36 and event[1] == subscribed[2] and event[4] == ["across"], event
        sub.close()
        pub.close()

        assert pids_with(tmp), "no node runs from %s" % tmp
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=30)
        out.read_until(r"^stopped\.$", 5)
        assert not os.path.exists(tmp), "%s is left behind" % tmp
        left = pids_with(tmp) + pids_with("redis-server 127.0.0.1:%s" % redis_port)
        assert not left, "processes left behind: %r" % left
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        holder.close()
    print("ok: cluster-demo: %d nodes, shared port %d (asked %d, taken), stopped cleanly"
          % (NODES, shared, taken))


if __name__ == "__main__":
    main()
