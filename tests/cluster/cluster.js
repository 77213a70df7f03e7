// Autobahn|JS against three wampd nodes sharing a private Redis (issue #9).
//   WAMPD_BIN=... node cluster.js json|msgpack
// PubSub (order, publisher disclosure, black/white lists, patterns), RPC (results,
// errors, progressive results, caller disclosure, cancel, timeout, shared registrations),
// the meta API for the whole cluster, then node C is SIGKILLed (the call pending on it
// gets wamp.error.canceled, its procedure vanishes) and Redis is restarted (a remote call
// works again once the nodes are back). Every wait has a deadline.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const h = require('../interop/js/lib/harness');

const { Router, connect, close, expectError, assert, assertEq, signal, deadline,
  progressDeferred } = h;
const TTL_MS = 1500;

// A loopback port free at this instant: redis-server cannot take any free port and say
// which (port 0 turns TCP off), so it gets one a probe socket was just given. Someone else
// (another test, any process binding port 0 or connecting out) may take it before
// redis-server binds it: Redis.start checks, see there.
function probePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The process id of the Redis server answering on port (INFO server), or null.
function redisPid(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (v) => { c.destroy(); resolve(v); };
    c.setTimeout(500, () => done(null));
    c.on('connect', () => c.write('INFO server\r\n'));
    c.on('data', (d) => {
      data += d.toString();
      const m = /\r\nprocess_id:(\d+)\r\n/.exec(data);
      if (m) done(Number(m[1]));
    });
    c.on('error', () => done(null));
    c.on('end', () => done(null));
  });
}

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timeout after ${ms} ms: ${what}`);
}

// A private redis-server. The first start() probes for a port and is ready only when the
// server on it answers INFO with this redis-server's own process id (another test's Redis
// never counts); one that exits first (its port was taken) is started again on another
// probed port, until the deadline. Later starts need the same port back (the nodes know
// the URL), or fail saying why.
class Redis {
  constructor() { this.port = null; this.starts = 0; this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-redis-js-')); }
  get url() { return `redis://127.0.0.1:${this.port}/0`; }
  async start(ms = 15000) {
    const end = Date.now() + ms;
    const fixed = this.port !== null;
    const taken = [];
    for (;;) {
      const port = fixed ? this.port : await probePort();
      const log = path.join(this.dir, `redis-${++this.starts}.log`);
      this.proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--dir', this.dir, '--loglevel', 'warning',
        '--logfile', log], { stdio: 'ignore' });
      let exited = false;
      this.exited = new Promise((r) => this.proc.on('exit', () => { exited = true; r(); }));
      while (!exited) {
        if (await redisPid(port) === this.proc.pid) { this.port = port; return; }
        if (Date.now() >= end) throw new Error(`timeout after ${ms} ms: redis-server to answer on port ${port}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const why = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim() : '(no log)';
      if (fixed || Date.now() >= end) {
        throw new Error(`redis-server on port ${port} exited (ports found taken before it: ${taken}): ${why}`);
      }
      taken.push(port);
    }
  }
  async kill() { this.proc.kill('SIGKILL'); await deadline(this.exited, 5000, 'redis to exit'); }
  stop() { if (this.proc.exitCode === null) this.proc.kill('SIGKILL'); fs.rmSync(this.dir, { recursive: true, force: true }); }
}

function joins(node) { return (node.stderr.match(/joined the cluster/g) || []).length; }

async function startNode(redis, i) {
  const node = new Router({ config: {
    listeners: [{ port: 0 }], realms: [{ name: 'realm1' }],
    backplane: { redis: redis.url, node_id: `js${i}`, heartbeat_ttl: TTL_MS },
  } });
  await node.start();
  await until(() => joins(node) > 0, 15000, `node ${i} to join the cluster`);
  return node;
}

const ser = process.argv[2] || 'json';
const other = ser === 'json' ? 'msgpack' : 'json';

const scenarios = {
  async 'events across nodes in order, disclosed, listed, by pattern'([A, B, C]) {
    const pub = await connect(A, 'realm1', ser);
    const b = await connect(B, 'realm1', ser);
    const c = await connect(C, 'realm1', other);
    const onB = [], onC = [], wild = [];
    let publisher = null;
    const gotB = signal(), gotC = signal(), gotWild = signal();
    await b.session.subscribe('com.jsc.t', (args, kw, d) => {
      onB.push(args[0]); publisher = d.publisher; if (onB.length === 42) gotB.resolve();
    });
    await c.session.subscribe('com.jsc.t', (args) => { onC.push(args[0]); if (args[0] === 'end') gotC.resolve(); });
    await c.session.subscribe('com.jsc..w', (args, kw, d) => { wild.push(d.topic); gotWild.resolve(); },
      { match: 'wildcard' });
    for (let i = 0; i < 40; i++) pub.session.publish('com.jsc.t', [i]);
    await pub.session.publish('com.jsc.t', ['b-only'], {}, { acknowledge: true, eligible: [b.session.id] });
    await pub.session.publish('com.jsc.t', ['end'], {}, { acknowledge: true, disclose_me: true,
      exclude: [] });
    await pub.session.publish('com.jsc.x.w', [], {}, { acknowledge: true });
    await deadline(gotB, 5000, 'events on B');
    await deadline(gotC, 5000, 'events on C');
    await deadline(gotWild, 5000, 'wildcard event on C');
    const seq = [...Array(40).keys()];
    assertEq(onB, [...seq, 'b-only', 'end'], 'events on B');
    assertEq(publisher, pub.session.id, 'publisher disclosed across nodes');
    assertEq(onC, [...seq, 'end'], 'events on C (b-only not eligible)');
    assertEq(wild, ['com.jsc.x.w'], 'wildcard topic');
    await close(pub); await close(b); await close(c);
  },

  async 'calls across nodes'([A, B, C]) {
    const caller = await connect(A, 'realm1', ser, { use_deferred: progressDeferred });
    const cb = await connect(B, 'realm1', ser);
    const cc = await connect(C, 'realm1', other);
    await cb.session.register('com.jsc.add', (args) => args[0] + args[1]);
    await cb.session.register('com.jsc.who', (a, k, d) => [d.caller || null]);
    await cc.session.register('com.jsc.count', (args, kw, d) => {
      for (let i = 0; i < args[0]; i++) d.progress([i]);
      return 'done';
    });
    await cc.session.register('com.jsc.fail', () => { throw new h.autobahn.Error('com.jsc.oops', [1], { why: 'x' }); });
    assertEq(await caller.session.call('com.jsc.add', [2, 3]), 5, 'result');
    assertEq(await caller.session.call('com.jsc.who', [], {}, { disclose_me: true }),
      [caller.session.id], 'disclosed caller across nodes');
    const chunks = [];
    const r = await caller.session.call('com.jsc.count', [3], {}, { receive_progress: true })
      .progress((p) => chunks.push(p));
    assertEq([r, chunks], ['done', [0, 1, 2]], 'progressive results across nodes');
    const e = await expectError(caller.session.call('com.jsc.fail'), 'com.jsc.oops');
    assertEq([e.args, e.kwargs], [[1], { why: 'x' }], 'error payload');
    // shared registration across nodes, and timeout of a remote call
    await cb.session.register('com.jsc.rr', () => 'b', { invoke: 'roundrobin' });
    await cc.session.register('com.jsc.rr', () => 'c', { invoke: 'roundrobin' });
    const got = [];
    for (let i = 0; i < 8; i++) got.push(await caller.session.call('com.jsc.rr'));
    // node A may see the second callee a moment after its REGISTERED: then they alternate
    assert(got.filter((x) => x === 'b').length >= 3 && got.filter((x) => x === 'c').length >= 3,
      `roundrobin over two nodes: ${got}`);
    await cc.session.register('com.jsc.hang', () => new Promise(() => {}));
    await expectError(caller.session.call('com.jsc.hang', [], {}, { timeout: 200 }), 'wamp.error.timeout');
    await expectError(cc.session.register('com.jsc.add', () => 0), 'wamp.error.procedure_already_exists');
    await close(caller); await close(cb); await close(cc);
  },

  async 'meta API for the cluster'([A, B, C]) {
    const a = await connect(A, 'realm1', ser);
    const b = await connect(B, 'realm1', ser);
    const c = await connect(C, 'realm1', other);
    const ids = await b.session.call('wamp.session.list');
    for (const s of [a, b, c]) assert(ids.includes(s.session.id), `session ${s.session.id} listed`);
    assertEq(await b.session.call('wamp.session.count'), ids.length, 'count agrees with list');
    await c.session.subscribe('com.jsc.m', () => {});
    await a.session.subscribe('com.jsc.m', () => {});
    const sub = await b.session.call('wamp.subscription.lookup', ['com.jsc.m']);
    assert(sub, 'subscription found');
    assertEq(await b.session.call('wamp.subscription.count_subscribers', [sub]), 2, 'subscribers');
    const info = await a.session.call('wamp.session.get', [c.session.id]);
    assertEq(info.session, c.session.id, 'session.get of a remote session');
    await close(a); await close(b); await close(c);
  },
};

async function nodeKilled(nodes) {
  const caller = await connect(nodes[0].url, 'realm1', ser);
  const callee = await connect(nodes[2].url, 'realm1', other);
  callee.connection.onclose = () => true; // its node dies under it
  const invoked = signal();
  await callee.session.register('com.jsc.doomed', () => { invoked.resolve(); return new Promise(() => {}); });
  const pending = caller.session.call('com.jsc.doomed');
  await deadline(invoked, 5000, 'invocation on node C');
  nodes[2].proc.kill('SIGKILL');
  await deadline(expectError(pending, 'wamp.error.canceled'), TTL_MS + 6000, 'canceled call');
  await expectError(caller.session.call('com.jsc.doomed'), 'wamp.error.no_such_procedure');
  await close(caller);
}

async function redisRestarted(nodes, redis) {
  const [A, B] = nodes;
  const a = await connect(A.url, 'realm1', ser);
  const b = await connect(B.url, 'realm1', other);
  await b.session.register('com.jsc.back', () => 'back');
  assertEq(await a.session.call('com.jsc.back'), 'back', 'before the restart');
  const before = [joins(A), joins(B)];
  await redis.kill();
  await until(() => /lost the cluster/.test(A.stderr) && /lost the cluster/.test(B.stderr), 10000, 'nodes to notice');
  await redis.start();
  await until(() => joins(A) > before[0] && joins(B) > before[1], 15000, 'nodes to rejoin');
  let r = null;
  await until(async () => {
    try { r = await a.session.call('com.jsc.back'); return true; } catch (e) {
      if (e.error !== 'wamp.error.no_such_procedure') throw e;
      return false;
    }
  }, 10000, 'the re-announced remote callee');
  assertEq(r, 'back', 'after the restart');
  await close(a); await close(b);
}

async function main() {
  const redis = new Redis();
  let failed = 0;
  const nodes = [];
  await redis.start();
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startNode(redis, i));
    const urls = nodes.map((n) => n.url);
    const run = async (name, fn) => {
      try {
        await deadline(fn(), 40000, name);
        console.log(`ok   ${name} (${ser})`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name} (${ser}): ${e.stack || e}`);
      }
    };
    for (const [name, fn] of Object.entries(scenarios)) await run(name, () => fn(urls));
    await run('node killed', () => nodeKilled(nodes));
    await run('redis restarted', () => redisRestarted(nodes, redis));
    for (const n of nodes.slice(0, 2)) {
      try { await n.stop(); } catch (e) { failed++; console.log(`FAIL node shutdown: ${e.message}`); }
    }
  } finally {
    for (const n of nodes) if (n.proc && n.proc.exitCode === null) n.proc.kill('SIGKILL');
    redis.stop();
  }
  if (failed) for (const n of nodes) console.log(`--- node stderr ---\n${n.stderr.split('\n').slice(-30).join('\n')}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL ${e.stack || e}`); process.exit(1); });
