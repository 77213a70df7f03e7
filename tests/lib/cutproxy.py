"""A TCP proxy for WAMP over RawSocket or WebSocket that cuts connections at chosen points.

    p = CutProxy(router_port)                 # listens on 127.0.0.1:p.port (RawSocket)
    p = CutProxy(router_port, framing=WEBSOCKET)  # the same for WebSocket: p.url_like(ws)
    p = CutProxy(router_port, tls=server_ctx) # clients connect with TLS (rss://, p.url):
                                              # the proxy ends it and reads the messages
    p.cut_at("down", EVENT, nth=100, mid=True)  # the 100th EVENT to the client: half of its
                                                # frame goes through, then both sides are reset
    p.cut_at("up", YIELD)                     # the next YIELD from the client is dropped with
                                              # the connection
    p.cut()                                   # reset every connection now
    p.refuse = True                           # new connections are reset at once
    p.close()

Each accepted connection gets its own connection to the router and two pump threads.
After the handshake of each direction (RawSocket: 4 octets; WebSocket: the HTTP upgrade
request or response, up to its blank line) the streams are parsed as frames of the
framing (RawSocket: 4-octet prefix, type and length; WebSocket: RFC 6455 frames, the
client's masked) and the WAMP message type of each message is read from its first bytes
(JSON, MessagePack or CBOR), so that a rule can pick a message: "down" is router to
client, "up" client to router. The framing is a table (handshake end, frame split), one
per transport. A WebSocket continuation frame has no type of its own (a rule never picks
it); lws and wampd send messages unfragmented. With tls (a server ssl.SSLContext), the
client's side is TLS ended here (the router's side stays plain), so that a rule can pick
a message of a client on TLS too; a cut resets the TCP connection under the TLS, without a
close_notify. A rule fires once; a cut resets both sockets (SO_LINGER 0),
as a dropped link looks to both ends. Counters: frames[direction][wamp type] (wait for one
with wait_count), cuts.
Nothing here sleeps; every socket operation blocks in its own thread, and close() joins
them.
"""

import socket
import struct
import threading

FRAME_MSG = 0

EVENT, CALL, RESULT, INVOCATION, YIELD, ACK, PUBLISH, WELCOME = 36, 48, 50, 68, 70, 7, 16, 2


def wamp_type(payload):
    """The message type of a WAMP message in any of the three serializers, or None."""
    if not payload:
        return None
    b = payload[0]
    if b == 0x5B:  # JSON '['
        digits = payload[1:12].lstrip(b" \t\r\n")
        n = 0
        for d in digits:
            if 0x30 <= d <= 0x39:
                n = n * 10 + d - 0x30
            else:
                break
        return n
    if 0x90 <= b <= 0x9F and len(payload) > 1:  # MessagePack fixarray, positive fixint
        return payload[1] if payload[1] < 0x80 else (payload[2] if payload[1] == 0xCC else None)
    if 0x80 <= b <= 0x97 and len(payload) > 1:  # CBOR array, unsigned integer
        t = payload[1]
        return t if t <= 0x17 else (payload[2] if t == 0x18 else None)
    return None


def _rawsocket_handshake(buf):
    return 4 if len(buf) >= 4 else None


def _rawsocket_frame(buf):
    """(frame length, header length, WAMP type or None) of the first frame, or None while
    it is incomplete."""
    if len(buf) < 4:
        return None
    length = int.from_bytes(buf[1:4], "big")
    if len(buf) < 4 + length:
        return None
    return 4 + length, 4, wamp_type(buf[4:4 + min(length, 12)]) if buf[0] & 0x07 == FRAME_MSG else None


def _websocket_handshake(buf):
    end = buf.find(b"\r\n\r\n")
    return end + 4 if end >= 0 else None


def _websocket_frame(buf):
    if len(buf) < 2:
        return None
    opcode, masked, n, pos = buf[0] & 0x0F, buf[1] & 0x80, buf[1] & 0x7F, 2
    if n >= 126:
        pos += 2 if n == 126 else 8
        if len(buf) < pos:
            return None
        n = int.from_bytes(buf[2:pos], "big")
    if masked:
        pos += 4
    if len(buf) < pos + n:
        return None
    wtype = None
    if opcode in (1, 2):  # the first frame of a text or binary message
        head = buf[pos:pos + min(n, 12)]
        if masked:
            key = buf[pos - 4:pos]
            head = bytes(b ^ key[i % 4] for i, b in enumerate(head))
        wtype = wamp_type(head)
    return pos + n, pos, wtype


class Framing:
    def __init__(self, scheme, handshake, frame):
        self.scheme, self.handshake, self.frame = scheme, handshake, frame


RAWSOCKET = Framing("rs", _rawsocket_handshake, _rawsocket_frame)
WEBSOCKET = Framing("ws", _websocket_handshake, _websocket_frame)


class Rule:
    def __init__(self, direction, wtype, nth, mid, before):
        self.direction, self.wtype, self.nth, self.mid, self.before = (direction, wtype, nth,
                                                                      mid, before)
        self.seen = 0
        self.fired = threading.Event()


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class Link:
    def __init__(self, proxy, client, server):
        self.proxy, self.client, self.server = proxy, client, server
        self.closed = False
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.pump, args=(client, server, "up"),
                                         daemon=True),
                        threading.Thread(target=self.pump, args=(server, client, "down"),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def reset(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            _reset(s)

    def pump(self, src, dst, direction):
        framing = self.proxy.framing
        buf = b""
        hs = True
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                if hs:
                    n = framing.handshake(buf)
                    if n is None:
                        continue
                    dst.sendall(buf[:n])
                    buf, hs = buf[n:], False
                out = []
                while True:
                    f = framing.frame(buf)
                    if f is None:
                        break
                    length, head, wtype = f
                    frame, buf = buf[:length], buf[length:]
                    cut = self.proxy._decide(direction, wtype)
                    if cut is None:
                        out.append(frame)
                        continue
                    if cut.mid:
                        out.append(frame[:head + (length - head) // 2])
                    elif not cut.before:
                        out.append(frame)
                    try:
                        if out:
                            dst.sendall(b"".join(out))
                    finally:
                        self.reset()
                    return
                if out:
                    dst.sendall(b"".join(out))
        except OSError:
            pass
        self.reset()


class CutProxy:
    def __init__(self, upstream_port, upstream_host="127.0.0.1", framing=RAWSOCKET, tls=None):
        self.upstream = (upstream_host, upstream_port)
        self.framing = framing
        self.tls = tls
        self.refuse = False
        self.cuts = 0
        self.accepted = 0
        self.frames = {"up": {}, "down": {}}
        self.rules = []
        self.links = []
        self.lock = threading.Lock()
        self.counted = threading.Condition(self.lock)  # notified at every frame counted
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "%s%s://127.0.0.1:%d" % (framing.scheme, "s" if tls else "", self.port)
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------ control
    def cut_at(self, direction, wtype, nth=1, mid=False, before=True):
        """Cut at the nth frame of WAMP type wtype going `direction` (from now on): mid:
        half of it goes through; before: none of it; else all of it, then the cut. Returns
        the rule; rule.fired is a threading.Event."""
        r = Rule(direction, wtype, nth, mid, before)
        with self.lock:
            self.rules.append(r)
        return r

    def url_like(self, url):
        """url (the router's, e.g. its ws:// one with its path) through this proxy."""
        scheme, rest = url.split("://", 1)
        path = rest.split("/", 1)[1] if "/" in rest else ""
        return "%s://127.0.0.1:%d/%s" % (scheme, self.port, path)

    def cut(self):
        with self.lock:
            links, self.links = self.links, []
            self.cuts += 1
        for link in links:
            link.reset()

    def count(self, direction, wtype):
        with self.lock:
            return self.frames[direction].get(wtype, 0)

    def wait_count(self, direction, wtype, n, timeout):
        """Wait until n frames of wtype went `direction` (the pump threads may lag behind
        what the ends wrote); returns the count."""
        with self.counted:
            self.counted.wait_for(lambda: self.frames[direction].get(wtype, 0) >= n, timeout)
            return self.frames[direction].get(wtype, 0)

    def close(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.cut()
        self.thread.join(5)

    # ------------------------------------------------------------------ inside
    def _decide(self, direction, wtype):
        with self.lock:
            if wtype is not None:
                d = self.frames[direction]
                d[wtype] = d.get(wtype, 0) + 1
                self.counted.notify_all()
            for r in self.rules:
                if r.direction == direction and r.wtype == wtype:
                    r.seen += 1
                    if r.seen == r.nth:
                        # fired here: the link may already be going (the other direction's
                        # rule), and this frame is then lost with it all the same
                        self.rules.remove(r)
                        self.cuts += 1
                        r.fired.set()
                        return r
            return None

    def _accept(self):
        while self.running:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.refuse:
                _reset(client)
                continue
            if self.tls:
                try:
                    client.settimeout(5)
                    client = self.tls.wrap_socket(client, server_side=True)
                    client.settimeout(None)
                except OSError:  # ssl.SSLError included
                    _reset(client)
                    continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.accepted += 1
                self.links.append(Link(self, client, server))
