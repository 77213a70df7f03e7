// Autobahn|JS over WAMP-over-RawSocket in node (its 'rawsocket' transport, JSON only)
// against wampd: TCP on the universal port (shared with WebSocket) and a Unix socket
// listener; RPC with args/kwargs and binary, PubSub both ways, errors, ABORT, the meta API,
// every RawSocket session talking to WebSocket sessions of the serializer under test.
//   WAMPD_BIN=... node rawsocket.js json|msgpack|cbor   (the WebSocket peers' serializer)
'use strict';

const os = require('os');
const path = require('path');
const fs = require('fs');
const h = require('./lib/harness');
const { autobahn, connect, close, expectError, assert, assertEq, signal, deadline } = h;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-js-rs-'));
const SOCK = path.join(dir, 'wampd.sock');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

// the RawSocket URL on the universal port: the WebSocket URL's host and port
const rsUrl = (wsUrl) => wsUrl.replace(/^ws:\/\/([^/]+).*$/, 'rs://$1');
const isBinary = (ser) => ser !== 'json';
const bytes = (b) => [...b];

const scenarios = {
  async 'RPC with args, kwargs and binary: RawSocket callee, WebSocket caller'(url, ser) {
    const callee = await connect(rsUrl(url), 'realm1', 'json');
    const caller = await connect(url, 'realm1', ser);
    assertEq(callee.connection.transport.info.type, 'rawsocket', 'Autobahn|JS transport');
    await callee.session.register('com.rs.echo', (args, kwargs) => new autobahn.Result(args, kwargs));
    // the JSON RawSocket callee sees bytes as "\0"+base64; a binary caller gets bytes back
    const bin = isBinary(ser) ? Buffer.from([0, 1, 254, 255]) : '\u0000AAH+/w==';
    const r = await caller.session.call('com.rs.echo', [1, 'two', { three: [3] }, bin],
      { k: [true, null], n: 1.5 });
    assertEq(r.args.slice(0, 3), [1, 'two', { three: [3] }], 'args');
    assertEq(r.kwargs, { k: [true, null], n: 1.5 }, 'kwargs');
    if (isBinary(ser)) assertEq(bytes(r.args[3]), [0, 1, 254, 255], 'binary intact');
    else assertEq(r.args[3], '\u0000AAH+/w==', 'binary (JSON convention) intact');
    // ... and returns it as such, which reaches a binary caller as bytes again
    await callee.session.register('com.rs.kind', (args) => [typeof args[0], args[0]]);
    const k = await caller.session.call('com.rs.kind', [isBinary(ser) ? Buffer.from([7]) : '\u0000Bw==']);
    assertEq(k[0], 'string', 'the RawSocket JSON callee sees the JSON binary convention');
    if (isBinary(ser)) assertEq(bytes(k[1]), [7], 'bytes back');
    else assertEq(k[1], '\u0000Bw==', 'string back');
    await close(caller);
    await close(callee);
  },

  async 'RPC: WebSocket callee, RawSocket caller'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(rsUrl(url), 'realm1', 'json');
    await callee.session.register('com.ws.add', (args, kwargs) => args[0] + args[1] + (kwargs.c || 0));
    assertEq(await caller.session.call('com.ws.add', [20, 20], { c: 2 }), 42, 'add');
    await callee.session.register('com.ws.len', (args) => [Buffer.isBuffer(args[0]) || args[0] instanceof Uint8Array, args[0].length]);
    const r = await caller.session.call('com.ws.len', ['\u0000AAECAw==']);
    assertEq(r, isBinary(ser) ? [true, 4] : [false, 9], 'bytes from a JSON RawSocket caller');
    await close(caller);
    await close(callee);
  },

  async 'PubSub both ways between RawSocket and WebSocket'(url, ser) {
    const rs = await connect(rsUrl(url), 'realm1', 'json');
    const ws = await connect(url, 'realm1', ser);
    const atRs = signal();
    const atWs = signal();
    await rs.session.subscribe('com.mixed.to_rs', (args, kwargs) => atRs.resolve([args, kwargs]));
    await ws.session.subscribe('com.mixed.to_ws', (args, kwargs) => atWs.resolve([args, kwargs]));
    const p = await ws.session.publish('com.mixed.to_rs', ['hello', 1], { a: 'b' }, { acknowledge: true });
    assert(p.id >= 1 && p.id <= 2 ** 53, 'publication id');
    assertEq(await deadline(atRs, 5000, 'event at the RawSocket subscriber'), [['hello', 1], { a: 'b' }], 'event to rs');
    await rs.session.publish('com.mixed.to_ws', [[1, 2]], { z: null }, { acknowledge: true });
    assertEq(await deadline(atWs, 5000, 'event at the WebSocket subscriber'), [[[1, 2]], { z: null }], 'event to ws');
    // publisher exclusion holds for the RawSocket publisher
    let own = 0;
    await rs.session.subscribe('com.mixed.own', () => { own++; });
    const sentinel = signal();
    await ws.session.subscribe('com.mixed.own', () => sentinel.resolve());
    await rs.session.publish('com.mixed.own', [], {}, { acknowledge: true });
    await deadline(sentinel, 5000, 'sentinel');
    assertEq(own, 0, 'RawSocket publisher excluded');
    await close(ws);
    await close(rs);
  },

  async 'errors over RawSocket'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(rsUrl(url), 'realm1', 'json');
    await callee.session.register('com.ws.fail', () => {
      throw new autobahn.Error('com.ws.error.bad', ['why', 7], { field: 'x' });
    });
    const e = await expectError(caller.session.call('com.ws.fail'), 'com.ws.error.bad');
    assertEq(e.args, ['why', 7], 'error args');
    assertEq(e.kwargs, { field: 'x' }, 'error kwargs');
    await expectError(caller.session.call('com.none'), 'wamp.error.no_such_procedure');
    await expectError(caller.session.register('com.ws.fail', () => 1), 'wamp.error.procedure_already_exists');
    await expectError(caller.session.call('wamp..bad'), 'wamp.error.invalid_uri');
    try {
      await connect(rsUrl(url), 'no.such.realm', 'json');
      throw new Error('joined an unknown realm over RawSocket');
    } catch (err) {
      assertEq(err.reason, 'wamp.error.no_such_realm', 'ABORT reason over RawSocket');
    }
    await close(caller);
    await close(callee);
  },

  async 'Unix socket listener with TCP RawSocket and WebSocket peers'(url, ser) {
    const ux = await connect(`unix:${SOCK}`, 'realm1', 'json');
    const rs = await connect(rsUrl(url), 'realm1', 'json');
    const ws = await connect(url, 'realm1', ser);
    await ux.session.register('com.unix.mul', (args) => args[0] * args[1]);
    assertEq(await rs.session.call('com.unix.mul', [6, 7]), 42, 'TCP RawSocket -> Unix');
    assertEq(await ws.session.call('com.unix.mul', [3, 5]), 15, 'WebSocket -> Unix');
    const info = await ws.session.call('wamp.session.get', [ux.session.id]);
    assertEq(info.transport.type, 'rawsocket', 'meta API: the Unix session is RawSocket');
    assertEq(info.transport.serializer, 'json', 'meta API: its serializer');
    const n = await ux.session.call('wamp.session.count');
    assert(n >= 3, `session count ${n}`);
    const got = signal();
    await ux.session.subscribe('com.unix.news', (args) => got.resolve(args));
    await ws.session.publish('com.unix.news', ['to unix'], {}, { acknowledge: true });
    assertEq(await deadline(got, 5000, 'event over the Unix socket'), ['to unix'], 'event');
    await close(ws);
    await close(rs);
    await close(ux);
  },
};

h.main(scenarios, {
  config: {
    listeners: [{ type: 'universal', port: 0 }, { type: 'rawsocket', unix: SOCK }],
    realms: [{ name: 'realm1' }],
  },
});
