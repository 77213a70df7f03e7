"""Helpers of tests/client: a C program on libwampc as a Twisted child process (Peer), the
topics it reports on as queues (Inbox), and a TCP proxy that cuts and refuses connections
(Cutter). Every wait has a deadline (wampclient.wait_for).
"""

import os
import sys

from twisted.internet import defer, protocol, reactor
from twisted.protocols import portforward

from wampclient import wait_for


class Peer(protocol.ProcessProtocol):
    """The C peer: its stdout line by line, its exit code, its stderr kept."""

    def __init__(self):
        self.lines = defer.DeferredQueue()
        self.ended = defer.Deferred()
        self.buf = b""
        self.err = b""

    def outReceived(self, data):
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.put(line.decode(errors="replace"))

    def errReceived(self, data):
        self.err += data
        sys.stderr.write(data.decode(errors="replace"))

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)

    @classmethod
    def spawn(cls, binary, *args, env=None):
        p = cls()
        e = dict(os.environ)
        e.update(env or {})
        reactor.spawnProcess(p, binary, [binary] + list(args), env=e)
        return p

    def kill(self):
        if not self.ended.called:
            self.transport.signalProcess("KILL")

    def next_line(self, what, timeout=10):
        return wait_for(self.lines.get(), timeout, what)

    @defer.inlineCallbacks
    def line_starting(self, prefix, timeout=10):
        """Skip lines until one starts with prefix."""
        while True:
            line = yield self.next_line("a line %r" % prefix, timeout)
            if line.startswith(prefix):
                return line

    @defer.inlineCallbacks
    def exit_ok(self, timeout=10):
        code = yield wait_for(self.ended, timeout, "the peer to exit")
        assert code == 0, "peer exited with %s:\n%s" % (code, self.err.decode(errors="replace"))
        assert b"Sanitizer" not in self.err and b"runtime error" not in self.err, self.err


class Inbox:
    """Everything published to the topics the peer reports on, one queue per topic."""

    def __init__(self):
        self.queues = {}

    def queue(self, topic):
        return self.queues.setdefault(topic, defer.DeferredQueue())

    def handler(self, topic):
        return lambda *a, **kw: self.queue(topic).put((list(a), kw))

    def get(self, topic, timeout=10):
        return wait_for(self.queue(topic).get(), timeout, "a publication on " + topic)


class Cutter:
    """A TCP proxy in front of wampd whose connections the test cuts, and which can refuse
    new ones for a while (each is closed as soon as it is accepted)."""

    def __init__(self, port):
        outer = self
        self.conns = []
        self.refuse = False
        self.refused = defer.DeferredQueue()

        class Server(portforward.ProxyServer):
            def connectionMade(self):
                if outer.refuse:
                    outer.refused.put(True)
                    self.transport.abortConnection()
                    return
                outer.conns.append(self)
                portforward.ProxyServer.connectionMade(self)

        factory = portforward.ProxyFactory("127.0.0.1", port)
        factory.protocol = Server
        self.listener = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.port = self.listener.getHost().port

    def cut(self):
        for c in self.conns:
            c.transport.abortConnection()
            if c.peer is not None:
                c.peer.transport.abortConnection()
        self.conns = []


class Tap:
    """A TCP proxy in front of wampd that keeps a copy of what passes each way on each
    connection, to read the WAMP messages a RawSocket client and the router exchanged.
    conns: one Deferred per connection, fired with (client_bytes, router_bytes) when it has
    closed (both directions complete then)."""

    def __init__(self, port):
        outer = self
        self.conns = []

        class Client(portforward.ProxyClient):
            def dataReceived(self, data):
                self.peer.to_client += data
                portforward.ProxyClient.dataReceived(self, data)

        class ClientFactory(portforward.ProxyClientFactory):
            protocol = Client

        class Server(portforward.ProxyServer):
            clientProtocolFactory = ClientFactory

            def connectionMade(self):
                self.to_router, self.to_client = b"", b""
                self.closed = defer.Deferred()
                outer.conns.append(self.closed)
                portforward.ProxyServer.connectionMade(self)

            def dataReceived(self, data):
                self.to_router += data
                portforward.ProxyServer.dataReceived(self, data)

            def connectionLost(self, reason):
                portforward.ProxyServer.connectionLost(self, reason)
                self.closed.callback((self.to_router, self.to_client))

        factory = portforward.ProxyFactory("127.0.0.1", port)
        factory.protocol = Server
        self.listener = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.port = self.listener.getHost().port


def rawsocket_messages(stream, decode):
    """The WAMP messages of one direction of a RawSocket connection (after its 4-octet
    handshake), each decoded with decode(bytes); PING/PONG frames are skipped. A truncated
    last frame is an error."""
    out, i = [], 4
    while i < len(stream):
        assert i + 4 <= len(stream), "a truncated frame header"
        kind, n = stream[i] & 7, int.from_bytes(stream[i + 1:i + 4], "big")
        assert i + 4 + n <= len(stream), "a truncated frame"
        if kind == 0:
            out.append(decode(stream[i + 4:i + 4 + n]))
        i += 4 + n
    return out
