// libwampc against the real wampd with Autobahn|JS on the other side.
//
// The C peer (tests/client/interop_peer.c, a program on the library) joins wampd over
// RawSocket (the POSIX adapter) and then over WebSocket (the libwebsockets adapter,
// libwampc-ws), in the serializer under test; an Autobahn|JS session in the same
// serializer drives it through WAMP itself with the peer's command protocol (commands
// published to com.c.cmd; the peer reports on com.c.reply, com.c.ack, com.c.event,
// com.c.raw, com.c.hello). Both directions, each with every payload type the serializer
// has (integers up to 2^53 - 1 and negative ones, floats, strings in several scripts, bytes
// - binary in MessagePack and CBOR, WAMP's "\0"+base64 string in JSON -, booleans, null,
// nested arrays and maps), which must come back unchanged:
//   - JS calls C: the payload echoed as its bytes, progressive results, an error with
//     args, a pattern registration with the procedure and the caller in the details;
//   - C calls JS: the payload through the C peer's values both ways, progressive results,
//     an error with args and kwargs, no such procedure;
//   - JS publishes to C's exact and prefix subscriptions (the payload decoded into values
//     and forwarded as its bytes), and what matches neither is not delivered;
//   - C publishes to JS's exact and prefix subscriptions (the topic in the details), and
//     what matches neither is not delivered.
// Every wait has a deadline; nothing sleeps. The peer must leave (GOODBYE) and exit 0 with
// no sanitizer report, and wampd too.
//   WAMPD_BIN=... WAMPC_PEER=... node interop_js.js json|msgpack|cbor
'use strict';

const path = require('path');
const { spawn } = require('child_process');
const h = require(path.join(__dirname, '..', 'interop', 'js', 'lib', 'harness'));
const { autobahn, Router, connect, close, expectError, assert, assertEq, deadline,
  progressDeferred } = h;

const SER = process.argv[2] || 'json';
const PEER = process.env.WAMPC_PEER;
const SANITIZER = /ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:/;
const WAIT = 10000;

// ------------------------------------------------------------------------ payloads

// bytes as the serializer carries them: binary, or WAMP's JSON convention
const bytes = (arr) => (SER === 'json' ? `\u0000${Buffer.from(arr).toString('base64')}`
                                       : Buffer.from(arr));
const ARGS = [0, 1, -1, 255, 65536, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 7, 2 ** 53 - 1,
  -(2 ** 53 - 1), 1.5, -0.25, 0.1, 3.141592653589793, 1e300, -2.5e-300, '', 'plain',
  'héllo ✓ 日本語 𝄞', 'a "quote" and \\ and \n', true, false, null,
  bytes([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]), bytes([]), [], [1, [2, [3, []]]],
  { a: { b: [1, { c: 'd' }] }, e: {} }];
const KWARGS = { n: 42, f: -1.125, s: 'ключ', bin: bytes([9, 8, 7]), list: [null, true, 'x'],
  'ключ': { 'ネスト': { deep: [1.75, { z: null }] } }, empty: {} };

// A comparable form: bytes (Buffer, Uint8Array) as {$bytes: hex}, map keys sorted, and
// the kind of every number kept apart from strings. JSON's bytes convention stays a string.
function norm(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = norm(v[k]);
    return o;
  }
  if (typeof v === 'bigint') return { $bigint: v.toString() }; // would differ from a number
  return v;
}

function same(got, want, what) {
  assertEq(norm(got), norm(want), what);
}

// ---------------------------------------------------------------------- the C peer

class Peer {
  constructor(args) {
    this.lines = new Queue();
    this.stderr = '';
    let buf = '';
    this.proc = spawn(PEER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.put(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    this.proc.stderr.on('data', (d) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve([code, sig])));
  }

  async lineStarting(prefix) {
    for (;;) {
      const line = await this.lines.get(`a line '${prefix}' from the peer`);
      if (line.startsWith(prefix)) return line;
    }
  }

  async exitOk() {
    const [code, sig] = await deadline(this.exited, WAIT, 'the peer to exit');
    assert(code === 0, `the peer exited with ${code} (${sig}):\n${this.stderr}`);
    assert(!SANITIZER.test(this.stderr), `sanitizer report:\n${this.stderr}`);
  }

  kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

// Items in arrival order; get() waits (with a deadline) for the next one.
class Queue {
  constructor() { this.items = []; this.waiters = []; }

  put(x) {
    const w = this.waiters.shift();
    if (w) w(x); else this.items.push(x);
  }

  get(what) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return deadline(new Promise((resolve) => this.waiters.push(resolve)), WAIT, what);
  }
}

// The topics the peer reports on (and the JS subscriptions' events), one queue each.
class Inbox {
  constructor() { this.queues = {}; }

  queue(name) { return this.queues[name] || (this.queues[name] = new Queue()); }

  handler(name) {
    return (args, kwargs, details) => this.queue(name).put({ args, kwargs, details });
  }

  get(name) { return this.queue(name).get(`an event on ${name}`); }

  // the next report on topic (its args), for the tag of this command
  async report(topic, tag) {
    const { args } = await this.get(topic);
    assertEq(args[0], tag, `the tag of the next ${topic}`);
    return args;
  }
}

// ---------------------------------------------------------------------- scenarios

async function jsCallsC(js, inbox, cmd) {
  for (const [tag, proc, mode, kw] of [['echo', 'com.c.echo', 'echo', {}],
    ['prog', 'com.c.progress', 'progress', {}], ['fail', 'com.c.fail', 'fail', {}],
    ['pat', 'com.c.pat.', 'proc', { match: 'prefix' }]]) {
    await cmd(['register', tag, proc, mode], kw);
    const ack = await inbox.report('com.c.ack', tag);
    assert(ack[1] === null && ack[2] > 0, `registered ${proc}: ${JSON.stringify(ack)}`);
  }
  // the payload echoed by the C callee as the bytes it arrived in
  const r = await js.session.call('com.c.echo', ARGS, KWARGS);
  assert(r instanceof autobahn.Result, `a Result: ${JSON.stringify(r)}`);
  same(r.args, ARGS, 'args echoed by the C callee');
  same(r.kwargs, KWARGS, 'kwargs echoed by the C callee');
  // progressive results
  const chunks = [];
  const done = await js.session.call('com.c.progress', [3], {}, { receive_progress: true })
    .progress((p) => chunks.push(p));
  assertEq([chunks, done], [[1, 2, 3], 'done'], 'progressive results from the C callee');
  // an error with args
  const e = await expectError(js.session.call('com.c.fail', [1]), 'com.c.error.nope');
  assertEq(e.args, ['no'], 'the C callee\'s error args');
  // a pattern registration: the procedure called and the (disclosed) caller
  const p = await js.session.call('com.c.pat.x.y');
  assertEq(p.args, ['com.c.pat.x.y', js.session.id], 'procedure and caller in the details');
}

async function cCallsJs(js, inbox, cmd) {
  const seen = [];
  await js.session.register('com.js.echo', (args, kwargs) => {
    seen.push([args, kwargs]);
    return new autobahn.Result(args, kwargs);
  });
  await js.session.register('com.js.countdown', (args, kwargs, details) => {
    assert(details.progress, 'the C caller asked for progressive results');
    for (let i = args[0]; i > 0; i--) details.progress([i]);
    return 'liftoff';
  });
  await js.session.register('com.js.fail', () => {
    throw new autobahn.Error('com.js.error.bad', ['why', 7, bytes([1, 2])], { field: 'x', n: 0.5 });
  });

  await cmd(['call', 'echo', 'com.js.echo', ARGS, KWARGS]);
  let rep = await inbox.report('com.c.reply', 'echo');
  assertEq(rep.slice(0, 3), ['echo', null, false], 'the echo\'s result');
  same(rep[3], ARGS, 'args through the C caller and back');
  same(rep[4], KWARGS, 'kwargs through the C caller and back');
  assertEq(seen.length, 1, 'one invocation');
  same(seen[0][0], ARGS, 'args the JS callee got from the C caller');
  same(seen[0][1], KWARGS, 'kwargs the JS callee got from the C caller');

  await cmd(['call', 'cd', 'com.js.countdown', [3], {}], { receive_progress: true });
  for (const i of [3, 2, 1]) {
    assertEq(await inbox.report('com.c.reply', 'cd'), ['cd', null, true, [i], null], 'a progressive result');
  }
  assertEq(await inbox.report('com.c.reply', 'cd'), ['cd', null, false, ['liftoff'], null], 'the final result');

  await cmd(['call', 'fail', 'com.js.fail', [], {}]);
  rep = await inbox.report('com.c.reply', 'fail');
  assertEq(rep.slice(0, 3), ['fail', 'com.js.error.bad', false], 'the JS callee\'s error');
  same(rep[3], ['why', 7, bytes([1, 2])], 'error args');
  same(rep[4], { field: 'x', n: 0.5 }, 'error kwargs');

  await cmd(['call', 'miss', 'com.js.missing', [], {}]);
  rep = await inbox.report('com.c.reply', 'miss');
  assertEq(rep.slice(0, 2), ['miss', 'wamp.error.no_such_procedure'], 'no such procedure');
}

async function jsPublishesToC(js, inbox, cmd) {
  const ack = { acknowledge: true };
  for (const [tag, topic, kw] of [['news', 'com.js.news', {}], ['pre', 'com.js.pre', { match: 'prefix' }]]) {
    await cmd(['subscribe', tag, topic], kw);
    assertEq((await inbox.report('com.c.ack', tag)).slice(0, 2), [tag, null], `subscribed ${topic}`);
  }
  // the exact subscription: the payload decoded by the C peer, and forwarded as its bytes
  await js.session.publish('com.js.news', ARGS, KWARGS, ack);
  const ev = await inbox.report('com.c.event', 'news');
  assertEq(ev.slice(0, 4), ['news', 'com.js.news', false, 0], 'the event at the C subscriber');
  same(ev[4], ARGS, 'event args at the C subscriber');
  same(ev[5], KWARGS, 'event kwargs at the C subscriber');
  const raw = await inbox.get('com.c.raw');
  same(raw.args, ARGS, 'event args forwarded by the C subscriber as bytes');
  same(raw.kwargs, KWARGS, 'event kwargs forwarded by the C subscriber as bytes');
  // the prefix subscription, with the publication's topic
  await js.session.publish('com.js.pre.a.b', [bytes([5])], { k: 1.25 }, ack);
  const pe = await inbox.report('com.c.event', 'pre');
  assertEq(pe.slice(0, 3), ['pre', 'com.js.pre.a.b', false], 'the topic of a prefix match');
  same(pe.slice(4), [[bytes([5])], { k: 1.25 }], 'the payload of a prefix match');
  await inbox.get('com.c.raw');
  // neither matches these; the next event the C peer reports is the last publication
  await js.session.publish('com.js.news.sub', [1], {}, ack);
  await js.session.publish('com.js.newsy', [2], {}, ack);
  await js.session.publish('com.js.prx', [3], {}, ack);
  await js.session.publish('com.js.pre.last', [4], {}, ack);
  const last = await inbox.report('com.c.event', 'pre');
  assertEq(last.slice(0, 5), ['pre', 'com.js.pre.last', false, 0, [4]], 'nothing that matches neither');
  await inbox.get('com.c.raw');
}

async function cPublishesToJs(js, inbox, cmd) {
  await js.session.subscribe('com.c.out', inbox.handler('exact'));
  await js.session.subscribe('com.c.pfx', inbox.handler('prefix'), { match: 'prefix' });
  const published = async (tag) => {
    const r = await inbox.report('com.c.reply', tag);
    assert(r[1] === null && r[2] > 0, `publication ${tag} acknowledged: ${JSON.stringify(r)}`);
  };
  await cmd(['publish', 'p1', 'com.c.out', ARGS, KWARGS], { acknowledge: true });
  await published('p1');
  let ev = await inbox.get('exact');
  same(ev.args, ARGS, 'event args from the C publisher');
  same(ev.kwargs, KWARGS, 'event kwargs from the C publisher');
  assertEq(ev.details.topic, 'com.c.out', 'the exact topic');
  await cmd(['publish', 'p2', 'com.c.pfx.a.b', [7], { k: 'v' }], { acknowledge: true });
  await published('p2');
  ev = await inbox.get('prefix');
  assertEq([ev.args, ev.kwargs, ev.details.topic], [[7], { k: 'v' }, 'com.c.pfx.a.b'], 'a prefix match');
  // neither matches these; the last one is the next event at the prefix subscription, and
  // the exact one has had nothing since (the router delivers one publisher's in order)
  for (const [tag, topic] of [['p3', 'com.c.out.sub'], ['p4', 'com.c.outer'], ['p5', 'com.c.pf'],
    ['p6', 'com.c.pfx.end']]) {
    await cmd(['publish', tag, topic, [tag], {}], { acknowledge: true });
    await published(tag);
  }
  ev = await inbox.get('prefix');
  assertEq([ev.args, ev.details.topic], [['p6'], 'com.c.pfx.end'], 'nothing that matches neither');
  assertEq(inbox.queue('exact').items.length, 0, 'no stray event at the exact subscription');
}

// One C peer on one transport through all scenarios, then it leaves.
async function withPeer(router, js, inbox, cmd, transport, url) {
  const peer = new Peer(['--url', url, '--serializer', SER]);
  try {
    const hello = await inbox.get('com.c.hello');
    const joined = await peer.lineStarting('joined');
    assertEq(joined.split(' ')[1], String(hello.args[0]), 'the peer\'s session');
    const info = await js.session.call('wamp.session.get', [hello.args[0]]);
    assertEq(info.transport.type, transport, 'the peer\'s transport');
    for (const [name, fn] of [['JS calls C', jsCallsC], ['C calls JS', cCallsJs],
      ['JS publishes to C', jsPublishesToC], ['C publishes to JS', cPublishesToJs]]) {
      try {
        await fn(js, inbox, cmd);
      } catch (e) {
        e.message = `${name}: ${e.message}`;
        throw e;
      }
    }
    await cmd(['leave']);
    await peer.lineStarting('left wamp.close.close_realm');
    await peer.lineStarting('exit');
    await peer.exitOk();
  } finally {
    peer.kill();
  }
}

async function main() {
  if (!PEER) throw new Error('WAMPC_PEER is not set (ctest sets it to the built interop_peer)');
  const router = await new Router({ config: { realms: [{ name: 'realm1' }] } }).start();
  let failed = 0;
  for (const transport of ['rawsocket', 'websocket']) {
    let js;
    try {
      js = await connect(router.url, 'realm1', SER, { use_deferred: progressDeferred,
        // the error com.js.fail raises on purpose is not worth a log line
        on_user_error: (err, what) => (err instanceof autobahn.Error &&
          err.error === 'com.js.error.bad' ? undefined : console.error(what, err)) });
      const inbox = new Inbox();
      for (const t of ['com.c.reply', 'com.c.ack', 'com.c.event', 'com.c.raw', 'com.c.hello']) {
        await js.session.subscribe(t, inbox.handler(t));
      }
      const cmd = (args, kwargs = {}) =>
        js.session.publish('com.c.cmd', args, kwargs, { acknowledge: true });
      const url = transport === 'rawsocket' ? router.urlOf('rs') : router.url;
      await deadline(withPeer(router, js, inbox, cmd, transport, url), 60000, transport);
      await close(js);
      console.log(`ok   C peer over ${transport} (${SER})`);
    } catch (e) {
      failed++;
      // an Error, or what Autobahn|JS rejects with (an autobahn.Error: error, args, kwargs)
      console.log(`FAIL C peer over ${transport} (${SER}): ${e.stack || JSON.stringify(e)}`);
      if (js && js.session.isOpen) js.connection.close();
    }
  }
  try {
    await router.stop();
  } catch (e) {
    failed++;
    console.log(`FAIL router shutdown: ${e.message}`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL ${e.stack || e}`);
  process.exit(1);
});
