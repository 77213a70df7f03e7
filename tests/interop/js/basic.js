// Autobahn|JS against wampd: the Basic Profile scenarios of issue #3, and binary payloads
// crossing JSON, MessagePack and CBOR sessions.
//   WAMPD_BIN=... node basic.js json|msgpack|cbor
'use strict';

const h = require('./lib/harness');
const { autobahn, connect, close, expectError, assert, assertEq, signal, deadline } = h;

const other = (ser) => (ser === 'json' ? 'msgpack' : 'json');
const isBinary = (ser) => ser !== 'json'; // msgpack and CBOR carry bytes as bytes

// UNREGISTER/UNSUBSCRIBE for an id Autobahn|JS considers gone (it would refuse to send
// it), sent through its transport and tracked like its own requests.
function rawRequest(session, kind, id) {
  const request = session._new_request_id();
  const d = session._defer();
  if (kind === 'unregister') {
    session._unregister_reqs[request] = [d, { id }];
    session._send_wamp([66, request, id]);
  } else {
    session._unsubscribe_reqs[request] = [d, id];
    session._send_wamp([34, request, id]);
  }
  return d.promise;
}

const scenarios = {
  async 'register and call with args, kwargs and binary'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser);
    await callee.session.register('com.example.echo', (args, kwargs) =>
      new autobahn.Result(args, kwargs));
    const bin = isBinary(ser) ? Buffer.from([0, 1, 254, 255]) : '\u0000AAH+/w==';
    const r = await caller.session.call('com.example.echo', [1, 'two', { three: 3 }, bin],
      { k: [true, null], n: 1.5 });
    assertEq(r.args.slice(0, 3), [1, 'two', { three: 3 }], 'args');
    assertEq(r.kwargs, { k: [true, null], n: 1.5 }, 'kwargs');
    if (isBinary(ser)) assertEq([...r.args[3]], [0, 1, 254, 255], 'binary intact');
    else assertEq(r.args[3], '\u0000AAH+/w==', 'binary (JSON convention) intact');
    // a single return value
    await callee.session.register('com.example.add2', (args) => args[0] + args[1]);
    assertEq(await caller.session.call('com.example.add2', [20, 22]), 42, 'add2');
    await close(caller);
    await close(callee);
  },

  async 'callee error reaches the caller with args and kwargs'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser);
    await callee.session.register('com.example.fail', () => {
      throw new autobahn.Error('com.example.error.bad_input', ['why', 7], { field: 'x' });
    });
    const e = await expectError(caller.session.call('com.example.fail', [1]),
      'com.example.error.bad_input');
    assertEq(e.args, ['why', 7], 'error args');
    assertEq(e.kwargs, { field: 'x' }, 'error kwargs');
    await close(caller);
    await close(callee);
  },

  async 'publish and subscribe with acknowledge, publisher excluded'(url, ser) {
    const sub = await connect(url, 'realm1', ser);
    const pub = await connect(url, 'realm1', ser);
    const got = signal();
    let own = 0;
    await sub.session.subscribe('com.example.topic', (args, kwargs) => got.resolve([args, kwargs]));
    await pub.session.subscribe('com.example.topic', () => { own++; });
    const p = await pub.session.publish('com.example.topic', ['hello'], { n: 1 },
      { acknowledge: true });
    assert(p.id >= 1 && p.id <= 2 ** 53, 'publication id');
    assertEq(await deadline(got, 5000, 'event'), [['hello'], { n: 1 }], 'event payload');
    // a second, acknowledged publication to prove the publisher got nothing of its own
    const p2 = await pub.session.publish('com.example.topic', [2], {}, { acknowledge: true });
    assert(p2.id !== p.id, 'new publication id');
    assertEq(own, 0, 'publisher excluded by default');
    await close(pub);
    await close(sub);
  },

  async 'unsubscribe stops delivery'(url, ser) {
    const s = await connect(url, 'realm1', ser);
    const pub = await connect(url, 'realm1', ser);
    let stale = 0;
    const sentinel = signal();
    const subA = await s.session.subscribe('com.example.a', () => { stale++; });
    await s.session.subscribe('com.example.sentinel', () => sentinel.resolve());
    await s.session.unsubscribe(subA);
    await pub.session.publish('com.example.a', [1], {}, { acknowledge: true });
    await pub.session.publish('com.example.sentinel', [1], {}, { acknowledge: true });
    await deadline(sentinel, 5000, 'sentinel event');
    assertEq(stale, 0, 'no event after unsubscribe');
    await close(pub);
    await close(s);
  },

  async 'error URIs'(url, ser) {
    const a = await connect(url, 'realm1', ser);
    const b = await connect(url, 'realm1', ser);
    await expectError(a.session.call('com.example.nobody'), 'wamp.error.no_such_procedure');
    await a.session.register('com.example.taken', () => 1);
    await expectError(b.session.register('com.example.taken', () => 2),
      'wamp.error.procedure_already_exists');
    await expectError(a.session.call('com.example..bad'), 'wamp.error.invalid_uri');
    await expectError(a.session.subscribe('com.example bad', () => 0), 'wamp.error.invalid_uri');
    await expectError(a.session.publish('wamp.reserved', [], {}, { acknowledge: true }),
      'wamp.error.invalid_uri');
    // unregistering / unsubscribing twice
    const reg = await a.session.register('com.example.once', () => 1);
    await a.session.unregister(reg);
    await expectError(rawRequest(a.session, 'unregister', reg.id), 'wamp.error.no_such_registration');
    const sub = await a.session.subscribe('com.example.once', () => 0);
    await a.session.unsubscribe(sub);
    await expectError(rawRequest(a.session, 'unsubscribe', sub.id), 'wamp.error.no_such_subscription');
    assert(a.session.isOpen, 'the session survives its errors');
    await close(a);
    await close(b);
  },

  async 'cross-serializer call and publication with binary'(url, ser) {
    const x = await connect(url, 'realm1', ser);
    const y = await connect(url, 'realm1', other(ser));
    const json = ser === 'json' ? x : y, mp = ser === 'json' ? y : x;
    // msgpack callee gets real bytes from a JSON caller's "\0"+base64 string
    await mp.session.register('com.example.len', (args) => [Buffer.isBuffer(args[0]) || args[0] instanceof Uint8Array, args[0].length]);
    assertEq(await json.session.call('com.example.len', ['\u0000AAECAw==']), [true, 4], 'bytes to msgpack');
    // JSON callee gets the base64 string from a msgpack caller's bytes
    await json.session.register('com.example.b64', (args) => args[0]);
    const back = await mp.session.call('com.example.b64', [Buffer.from([0, 1, 2, 3])]);
    assertEq([...back], [0, 1, 2, 3], 'bytes through a JSON callee and back');
    const got = signal();
    await json.session.subscribe('com.example.bin', (args) => got.resolve(args[0]));
    await mp.session.publish('com.example.bin', [Buffer.from([9, 8, 7])], {}, { acknowledge: true });
    assertEq(await deadline(got, 5000, 'event'), '\u0000CQgH', 'event bytes as JSON convention');
    await close(x);
    await close(y);
  },

  async 'binary across JSON, MessagePack and CBOR'(url, ser) {
    // one session per serializer; the one under test calls and publishes to the others
    const s = {};
    for (const name of ['json', 'msgpack', 'cbor']) s[name] = await connect(url, 'realm1', name);
    const me = s[ser];
    const raw = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff];
    const mine = isBinary(ser) ? Buffer.from(raw) : `\u0000${Buffer.from(raw).toString('base64')}`;
    const seen = {};
    for (const name of Object.keys(s)) {
      // each callee reports what it got (bytes or the JSON convention) and sends it back
      await s[name].session.register(`com.x.${name}`, (args, kwargs) => {
        const b = args[0];
        seen[name] = Buffer.isBuffer(b) || b instanceof Uint8Array ? ['bytes', [...b]] : ['string', b];
        return new autobahn.Result([b], { nested: { b: kwargs.b } });
      });
    }
    for (const name of Object.keys(s)) {
      const r = await me.session.call(`com.x.${name}`, [mine], { b: mine });
      const expect = isBinary(name) ? ['bytes', raw]
        : ['string', `\u0000${Buffer.from(raw).toString('base64')}`];
      assertEq(seen[name], expect, `${ser} caller -> ${name} callee`);
      for (const back of [r.args[0], r.kwargs.nested.b]) {
        if (isBinary(ser)) assertEq([...back], raw, `${name} -> ${ser}: bytes back`);
        else assertEq(back, mine, `${name} -> ${ser}: JSON convention back`);
      }
    }
    // one publication from the session under test reaches every serializer's subscriber
    const got = {};
    for (const name of Object.keys(s)) {
      got[name] = signal();
      await s[name].session.subscribe('com.x.bin', (args) => got[name].resolve(args[0]));
    }
    await me.session.publish('com.x.bin', [mine], {}, { acknowledge: true, exclude_me: false });
    for (const name of Object.keys(s)) {
      const b = await deadline(got[name], 5000, `event at ${name}`);
      if (isBinary(name)) assertEq([...b], raw, `event bytes at ${name}`);
      else assertEq(b, `\u0000${Buffer.from(raw).toString('base64')}`, `event at ${name}`);
    }
    for (const name of Object.keys(s)) await close(s[name]);
  },

  async 'callee leaving cancels pending calls'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser);
    const invoked = signal();
    await callee.session.register('com.example.never', () => {
      invoked.resolve();
      return new Promise(() => {}); // never answers
    });
    const call = caller.session.call('com.example.never');
    await deadline(invoked, 5000, 'invocation');
    callee.connection.close();
    await expectError(call, 'wamp.error.canceled');
    await close(caller);
  },

  async 'unknown realm is refused'(url, ser) {
    try {
      await connect(url, 'no.such.realm', ser);
    } catch (e) {
      assertEq(e.reason, 'wamp.error.no_such_realm', 'abort reason');
      return;
    }
    throw new Error('joined an unknown realm');
  },
};

h.main(scenarios);
