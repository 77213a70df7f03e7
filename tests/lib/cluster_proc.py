"""A private Redis and several wampd nodes sharing it as their backplane, for tests.

    with Cluster(3, ttl_ms=1500) as c:
        c.nodes[0].url, c.nodes[1].url, ...      # each node's ws:// URL
        c.kill_node(1)                           # SIGKILL (its state must vanish in Redis)
        c.redis.restart()                        # same port, empty (no persistence)
        c.wait_joined(node)                      # "joined the cluster" in its log

redis-server runs on a free loopback port with persistence off, in a temporary
directory, and never touches the system's Redis. Every wait has a deadline.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from wampd_proc import WampdError, WampdProcess

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_ping(port, timeout=0.5, password=None):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            if password:
                s.sendall(b"AUTH %s\r\n" % password.encode())
                if not s.recv(16).startswith(b"+OK"):
                    return False
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    def __init__(self, port=None, password=None):
        self.port = port or free_port()
        self.password = password  # requirepass: clients must AUTH
        self.dir = tempfile.mkdtemp(prefix="wampd-redis-")
        self.proc = None

    @property
    def url(self):
        auth = ":%s@" % self.password if self.password else ""
        return "redis://%s127.0.0.1:%d/0" % (auth, self.port)

    def start(self, timeout=10):
        if not os.path.exists(REDIS_SERVER):
            raise WampdError("redis-server is not installed (scripts/deps.sh installs it)")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--protected-mode", "yes",
             "--loglevel", "warning"] + (["--requirepass", self.password] if self.password else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise WampdError("redis-server exited with %s" % self.proc.returncode)
            if redis_ping(self.port, password=self.password):
                return self
            time.sleep(0.05)
        raise WampdError("redis-server did not answer PING within %ss" % timeout)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def pause(self):
        """SIGSTOP: connections stay open but nothing is answered (a network stall)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def restart(self):
        """Kill -9 and start again on the same port, empty."""
        self.kill()
        self.start()

    def command(self, *args):
        """One command on a fresh connection; the raw RESP reply (bytes)."""
        cmd = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
        if self.password:
            cmd = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(self.password),
                                                             self.password.encode()) + cmd
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(cmd)
            return s.recv(65536)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    def __init__(self, n=3, ttl_ms=1500, realm="realm1", extra=None, reuse_port=False,
                 log_level="info"):
        self.n = n
        self.ttl_ms = ttl_ms
        self.realm = realm
        self.extra = extra or {}
        self.reuse_port = reuse_port
        self.log_level = log_level
        self.redis = RedisProcess()
        self.nodes = []

    def config(self, i, port=0):
        cfg = {"listeners": [{"port": port, "reuse_port": self.reuse_port}],
               "realms": [{"name": self.realm}],
               "backplane": {"redis": self.redis.url, "node_id": "node%d" % i,
                             "heartbeat_ttl": self.ttl_ms}}
        for k, v in self.extra.items():
            cfg[k] = v
        return cfg

    def start_node(self, i):
        node = WampdProcess(config=self.config(i), log_level=self.log_level)
        node.start()
        node.node_id = "node%d" % i
        self.wait_joined(node)
        return node

    def wait_joined(self, node, timeout=15, after=0):
        """Wait until node logged its (after-th + 1) "joined the cluster"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.stderr().count("joined the cluster") > after:
                return
            if not node.alive():
                raise WampdError("node died:\n" + node.stderr())
            time.sleep(0.02)
        raise WampdError("node did not join the cluster within %ss:\n%s"
                         % (timeout, node.stderr()))

    def kill_node(self, i):
        self.nodes[i].kill()

    def start(self):
        self.redis.start()
        for i in range(self.n):
            self.nodes.append(self.start_node(i))
        return self

    def stop(self):
        errors = []
        for node in self.nodes:
            if node.alive():
                try:
                    node.stop()
                except WampdError as e:
                    errors.append(str(e))
            else:
                node.kill()
                node.check_sanitizers()
        self.redis.stop()
        if errors:
            raise WampdError("\n".join(errors))

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            for node in self.nodes:
                node.kill()
            self.redis.stop()
            raise

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            for node in self.nodes:
                node.kill()
            self.redis.stop()
        return False
