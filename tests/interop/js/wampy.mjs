// Wampy (npm wampy 8) against wampd, JSON, MessagePack or CBOR: RPC with args/kwargs, callee
// errors, PubSub with acknowledge, unsubscribe, error URIs, and a Wampy publisher/caller
// talking to an Autobahn|JS subscriber/callee on the same router.
//   WAMPD_BIN=... node wampy.mjs json|msgpack|cbor
import { createRequire } from 'module';
import { Wampy } from 'wampy';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import { CborSerializer } from 'wampy/CborSerializer.js';

const require = createRequire(import.meta.url);
const h = require('./lib/harness.js');
const WS = require('ws');
const { assert, assertEq, connect, close, deadline, signal } = h;

async function wampy(url, ser, extra = {}) {
  const w = new Wampy(url, Object.assign({
    realm: 'realm1', ws: WS, autoReconnect: false,
    serializer: { msgpack: () => new MsgpackSerializer(), cbor: () => new CborSerializer(),
                  json: () => new JsonSerializer() }[ser](),
  }, extra));
  await deadline(w.connect(), 10000, 'wampy connect');
  return w;
}

async function expectWampyError(promise, uri) {
  try {
    await promise;
  } catch (e) {
    const got = e.error || (e.errorUri) || e.message;
    if (got !== uri && !String(got).includes(uri)) throw new Error(`expected ${uri}, got ${got}`);
    return e;
  }
  throw new Error(`expected ${uri}, got a result`);
}

// A request Wampy itself would refuse to send (it checks URIs and ids locally), sent raw
// through its transport and tracked like its own: msg is [TYPE, ...rest] without the id.
function wampyRaw(w, msg) {
  const reqId = w._getReqId();
  let resolve, reject;
  const promise = new Promise((a, b) => { resolve = a; reject = b; });
  w._requests[reqId] = { topic: 'raw', callbacks: { promise, onSuccess: resolve, onError: reject } };
  w._send([msg[0], reqId, ...msg.slice(1)]);
  return promise;
}

const other = (ser) => (ser === 'json' ? 'msgpack' : 'json');

const scenarios = {
  async 'rpc with args and kwargs'(url, ser) {
    const callee = await wampy(url, ser);
    const caller = await wampy(url, ser);
    await callee.register('com.wampy.echo', ({ argsList, argsDict }) =>
      ({ argsList: argsList.concat(['!']), argsDict }));
    const r = await caller.call('com.wampy.echo', { argsList: [1, 'a'], argsDict: { k: 2 } });
    assertEq(r.argsList, [1, 'a', '!'], 'args');
    assertEq(r.argsDict, { k: 2 }, 'kwargs');
    await caller.disconnect();
    await callee.disconnect();
  },

  async 'callee error and no_such_procedure'(url, ser) {
    const callee = await wampy(url, ser);
    const caller = await wampy(url, ser);
    await callee.register('com.wampy.fail', () => {
      const e = new Error('bad');
      e.error = 'com.wampy.error.bad';
      e.argsList = ['why'];
      e.argsDict = { f: 1 };
      throw e;
    });
    const e = await expectWampyError(caller.call('com.wampy.fail'), 'com.wampy.error.bad');
    assertEq(e.argsList, ['why'], 'error args');
    await expectWampyError(caller.call('com.wampy.nobody'), 'wamp.error.no_such_procedure');
    await caller.disconnect();
    await callee.disconnect();
  },

  async 'pubsub with acknowledge and unsubscribe'(url, ser) {
    const sub = await wampy(url, ser);
    const pub = await wampy(url, ser);
    const got = signal();
    let after = 0;
    const s = await sub.subscribe('com.wampy.topic', ({ argsList, argsDict }) => {
      if (!got.done) { got.done = true; got.resolve([argsList, argsDict]); } else after++;
    });
    const p = await pub.publish('com.wampy.topic', { argsList: [1], argsDict: { a: 'b' } },
      { acknowledge: true });
    assert(p.publicationId >= 1, 'publication id');
    assertEq(await deadline(got, 5000, 'event'), [[1], { a: 'b' }], 'event');
    await sub.unsubscribe(s.subscriptionId);
    const sentinel = signal();
    await sub.subscribe('com.wampy.sentinel', () => sentinel.resolve());
    await pub.publish('com.wampy.topic', { argsList: [2] }, { acknowledge: true });
    await pub.publish('com.wampy.sentinel', { argsList: [3] }, { acknowledge: true });
    await deadline(sentinel, 5000, 'sentinel');
    assertEq(after, 0, 'no event after unsubscribe');
    await pub.disconnect();
    await sub.disconnect();
  },

  async 'error URIs'(url, ser) {
    const a = await wampy(url, ser);
    const b = await wampy(url, ser);
    await a.register('com.wampy.taken', () => ({ argsList: [1] }));
    await expectWampyError(b.register('com.wampy.taken', () => ({ argsList: [2] })),
      'wamp.error.procedure_already_exists');
    // Wampy checks URIs and ids itself; the router's own answers, sent raw
    await expectWampyError(wampyRaw(a, [64, {}, 'wamp.reserved']), 'wamp.error.invalid_uri');
    await expectWampyError(wampyRaw(a, [32, {}, 'com..bad']), 'wamp.error.invalid_uri');
    await expectWampyError(wampyRaw(a, [16, { acknowledge: true }, 'wamp.reserved']),
      'wamp.error.invalid_uri');
    await expectWampyError(wampyRaw(a, [66, 4242]), 'wamp.error.no_such_registration');
    await expectWampyError(wampyRaw(a, [34, 4242]), 'wamp.error.no_such_subscription');
    // and the session is still fine
    const r = await b.call('com.wampy.taken');
    assertEq(r.argsList, [1], 'still served');
    await b.disconnect();
    await a.disconnect();
  },

  async 'binary payloads across JSON and MessagePack Wampy clients'(url, ser) {
    const mine = await wampy(url, ser);
    const theirs = await wampy(url, other(ser));
    const json = ser === 'json' ? mine : theirs, mp = ser === 'json' ? theirs : mine;
    // a msgpack callee gets real bytes from a JSON caller's "\0"+base64 string
    await mp.register('com.wampy.len', ({ argsList }) => ({
      argsList: [argsList[0] instanceof Uint8Array, argsList[0].length, [...argsList[0]]] }));
    const r1 = await json.call('com.wampy.len', { argsList: ['\u0000AAH+/w=='] });
    assertEq(r1.argsList, [true, 4, [0, 1, 254, 255]], 'bytes to the msgpack callee');
    // a JSON callee gets the base64 string from a msgpack caller's bytes, and back
    await json.register('com.wampy.echo', ({ argsList }) => ({ argsList }));
    const r2 = await mp.call('com.wampy.echo', { argsList: [new Uint8Array([0, 1, 2, 3])] });
    assert(r2.argsList[0] instanceof Uint8Array, 'bytes back to the msgpack caller');
    assertEq([...r2.argsList[0]], [0, 1, 2, 3], 'bytes intact through a JSON callee');
    const got = signal();
    await json.subscribe('com.wampy.bin', ({ argsList }) => got.resolve(argsList[0]));
    await mp.publish('com.wampy.bin', { argsList: [new Uint8Array([9, 8, 7])] }, { acknowledge: true });
    assertEq(await deadline(got, 5000, 'event'), '\u0000CQgH', 'event bytes as the JSON convention');
    await theirs.disconnect();
    await mine.disconnect();
  },

  async 'wampy and autobahn together'(url, ser) {
    const ab = await connect(url, 'realm1', ser === 'json' ? 'msgpack' : 'json');
    const w = await wampy(url, ser);
    await ab.session.register('com.mixed.add', (args) => args[0] + args[1]);
    const r = await w.call('com.mixed.add', { argsList: [40, 2] });
    assertEq(r.argsList, [42], 'wampy calls autobahn');
    const got = signal();
    await ab.session.subscribe('com.mixed.topic', (args) => got.resolve(args));
    await w.publish('com.mixed.topic', { argsList: ['x'] }, { acknowledge: true });
    assertEq(await deadline(got, 5000, 'event'), ['x'], 'autobahn receives wampy event');
    await w.disconnect();
    await close(ab);
  },
};

h.main(scenarios);
