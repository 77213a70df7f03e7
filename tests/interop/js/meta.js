// Autobahn|JS against wampd: the meta API of issue #4 — every meta procedure and every
// meta event with the spec's argument shapes (advanced/session_meta_api.md,
// rpc_registration_meta_api.md, pubsub_subscription_meta_api.md, pubsub_testament.md), and
// "no meta event before the state it announces is visible through the procedures": each
// event handler calls a procedure at once, from inside the handler, and the test asserts
// that call saw the new state.
//   WAMPD_BIN=... node meta.js json|msgpack
'use strict';

const { spawn } = require('child_process');
const path = require('path');
const h = require('./lib/harness');
const { connect, close, expectError, assert, assertEq, signal, deadline } = h;

const config = {
  listeners: [{ auth: {
    anonymous: { type: 'static', role: 'anonymous' },
    ticket: { type: 'static', principals: {
      joe: { ticket: 't', role: 'worker' },
      ann: { ticket: 't', role: 'worker' },
      boss: { ticket: 't', role: 'admin' } } },
  } }],
  realms: [{ name: 'realm1', event_history: [{ uri: 'com.meta.hist.', match: 'prefix', limit: 5 }] }],
};

const ticket = (authid) => ({ authmethods: ['ticket'], authid, onchallenge: () => 't' });

// Resolves with [reason, details] when c's connection closes.
function left(c) {
  const p = signal();
  c.connection.onclose = (reason, details) => { p.resolve([reason, details]); return true; };
  return p;
}

const sorted = (a) => [...a].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

// An error from a call, as a value (for probes that expect one).
const errorOf = (p) => p.then((r) => ({ result: r }), (e) => ({ error: e.error }));

// Subscribes a session to meta topics. Each event runs its probe synchronously inside the
// handler (the probe's calls leave before any later message is processed); the event and
// what the probe saw are queued until the test takes them with take().
class Watcher {
  constructor(c) {
    this.c = c;
    this.queue = []; // {topic, args, seen: Promise}
    this.waiters = [];
  }

  async watch(topic, probe) {
    await this.c.session.subscribe(topic, (args, kwargs, details) => {
      let seen;
      try {
        seen = Promise.resolve(probe ? probe(args) : null);
      } catch (e) {
        seen = Promise.reject(e);
      }
      seen.catch(() => {});
      this.queue.push({ topic, args, details, seen });
      this.waiters.forEach((w) => w());
    });
  }

  // The first queued event on topic for which pred(args) holds (removed from the queue).
  take(topic, pred, what) {
    const find = () => {
      const i = this.queue.findIndex((e) => e.topic === topic && pred(e.args));
      return i < 0 ? null : this.queue.splice(i, 1)[0];
    };
    const got = new Promise((resolve) => {
      const check = () => {
        const e = find();
        if (!e) return;
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(e);
      };
      this.waiters.push(check);
      check();
    });
    return deadline(got, 5000, `meta event ${topic}: ${what}`).then(async (e) => {
      e.seen = await e.seen;
      return e;
    });
  }

  // Topics (in arrival order) of the queued events about session sid.
  about(sid) {
    return this.queue.filter((e) => e.args[0] === sid || (e.args[0] && e.args[0].session === sid))
      .map((e) => e.topic);
  }

  // Every event the router sent before now has arrived (a round trip on the same session).
  async settle() {
    await this.c.session.call('wamp.session.count');
  }

  drop(sid) {
    this.queue = this.queue.filter((e) => !(e.args[0] === sid || (e.args[0] && e.args[0].session === sid)));
  }
}

function assertIsoTime(s, what) {
  assert(typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s), `${what} ISO 8601: ${s}`);
  const age = Date.now() - Date.parse(s);
  assert(age > -60000 && age < 60000, `${what} is recent: ${s}`);
}

const scenarios = {
  async 'session meta events and procedures'(url, ser) {
    const w = await connect(url, 'realm1', ser);
    const m = new Watcher(w);
    const call = (p, a, k) => w.session.call(p, a, k);
    await m.watch('wamp.session.on_join', (args) =>
      Promise.all([call('wamp.session.get', [args[0].session]), call('wamp.session.list')]));
    await m.watch('wamp.session.on_leave', (args) =>
      Promise.all([errorOf(call('wamp.session.get', [args[0]])), call('wamp.session.list')]));

    const s = await connect(url, 'realm1', ser, ticket('joe'));
    const sid = s.session.id;
    const join = await m.take('wamp.session.on_join', (a) => a[0].session === sid, 'joe joined');
    assertEq(join.args.length, 1, 'on_join has one positional argument');
    const d = join.args[0];
    assertEq([d.session, d.authid, d.authrole, d.authmethod], [sid, 'joe', 'worker', 'ticket'],
      'on_join details');
    assertEq(d.authprovider, s.details.authprovider, 'on_join authprovider as in WELCOME');
    assert(typeof d.authprovider === 'string', 'authprovider is a string');
    assert(d.transport === undefined || typeof d.transport === 'object', 'transport is a dict');
    // visible through the procedures when the event was sent
    const [got, list] = join.seen;
    assertEq([got.session, got.authid, got.authrole, got.authmethod], [sid, 'joe', 'worker', 'ticket'],
      'session.get from inside on_join');
    assert(list.includes(sid), 'session.list from inside on_join has the new session');

    // count and list, with and without the authrole filter
    const all = await call('wamp.session.list');
    assertEq(sorted(all), sorted([w.session.id, sid]), 'session.list');
    assertEq(await call('wamp.session.count'), 2, 'session.count');
    assertEq(await call('wamp.session.count', [['worker']]), 1, 'count filtered by authrole');
    assertEq(await call('wamp.session.count', [['nobody', 'anonymous']]), 1, 'count, two roles');
    assertEq(await call('wamp.session.list', [['worker']]), [sid], 'list filtered by authrole');
    assertEq(await call('wamp.session.list', [['nobody']]), [], 'list, no such role');
    await expectError(call('wamp.session.get', [4242]), 'wamp.error.no_such_session');
    await expectError(call('wamp.session.get', ['x']), 'wamp.error.invalid_argument');

    // leaving: on_leave(session, authid, authrole) once the session is gone
    await close(s);
    const leave = await m.take('wamp.session.on_leave', (a) => a[0] === sid, 'joe left');
    assertEq(leave.args, [sid, 'joe', 'worker'], 'on_leave arguments');
    assertEq(leave.seen[0].error, 'wamp.error.no_such_session', 'session.get inside on_leave');
    assert(!leave.seen[1].includes(sid), 'session.list inside on_leave has it no more');
    await m.settle();
    assertEq(m.about(sid), [], 'one on_join and one on_leave, nothing else');
    await close(w);
  },

  async 'session kill, kill_by_authid, kill_by_authrole, kill_all'(url, ser) {
    const boss = await connect(url, 'realm1', ser, ticket('boss'));
    const m = new Watcher(boss);
    await m.watch('wamp.session.on_leave', (args) => errorOf(boss.session.call('wamp.session.get', [args[0]])));
    const call = (p, a, k) => boss.session.call(p, a, k);

    // kill one session: GOODBYE with the reason and message given
    const v = await connect(url, 'realm1', ser);
    const vid = v.session.id; // Autobahn|JS forgets its id on GOODBYE
    const vLeft = left(v);
    await expectError(call('wamp.session.kill', [boss.session.id]), 'wamp.error.no_such_session');
    await expectError(call('wamp.session.kill', [v.session.id], { reason: 'not a uri' }),
      'wamp.error.invalid_uri');
    await expectError(call('wamp.session.kill', [4242]), 'wamp.error.no_such_session');
    await call('wamp.session.kill', [v.session.id], { reason: 'com.meta.bye', message: 'go' });
    const [, vd] = await deadline(vLeft, 5000, 'the killed session to close');
    assertEq([vd.reason, vd.message], ['com.meta.bye', 'go'], 'GOODBYE reason and message');
    const vl = await m.take('wamp.session.on_leave', (a) => a[0] === vid, 'killed one');
    assertEq(vl.seen.error, 'wamp.error.no_such_session', 'killed session gone inside on_leave');

    // by authid: every joe but the caller's own session (a joe kills the other joes)
    const joes = [await connect(url, 'realm1', ser, ticket('joe')),
      await connect(url, 'realm1', ser, ticket('joe')), await connect(url, 'realm1', ser, ticket('joe'))];
    const ann = await connect(url, 'realm1', ser, ticket('ann'));
    const joeIds = joes.map((j) => j.session.id), annId = ann.session.id;
    const joesLeft = joes.slice(1).map(left);
    const killed = await joes[0].session.call('wamp.session.kill_by_authid', ['joe'],
      { reason: 'com.meta.joes', message: 'all joes' });
    // Crossbar's shape (the killed session ids); the spec text says a count — see the report
    assertEq(sorted(killed), sorted(joeIds.slice(1)),
      'kill_by_authid: the other joes, not the caller');
    for (const p of joesLeft) {
      const [, d] = await deadline(p, 5000, 'a joe to be killed');
      assertEq(d.reason, 'com.meta.joes', 'kill_by_authid reason');
    }
    assertEq(await call('wamp.session.list', [['worker']]).then(sorted),
      sorted([joeIds[0], annId]), 'joe (the caller) and ann still there');
    assertEq(await call('wamp.session.kill_by_authid', ['nobody']), [], 'kill_by_authid, none');

    // by authrole: a count; the caller's own session is spared
    const annLeft = left(ann), joeLeft = left(joes[0]);
    assertEq(await call('wamp.session.kill_by_authrole', ['worker'], { reason: 'com.meta.role' }), 2,
      'kill_by_authrole count');
    for (const p of [annLeft, joeLeft]) {
      const [, d] = await deadline(p, 5000, 'a worker to be killed');
      assertEq(d.reason, 'com.meta.role', 'kill_by_authrole reason');
    }
    assertEq(await call('wamp.session.kill_by_authrole', ['worker']), 0, 'no worker left');
    await expectError(call('wamp.session.kill_by_authrole', ['admin'], { reason: 'bad uri!' }),
      'wamp.error.invalid_uri');

    // kill_all: everyone but the caller
    const rest = [await connect(url, 'realm1', ser), await connect(url, 'realm1', ser, ticket('boss'))];
    const restLeft = rest.map(left);
    assertEq(await call('wamp.session.kill_all', [], { reason: 'com.meta.all' }), 2, 'kill_all count');
    for (const p of restLeft) {
      const [, d] = await deadline(p, 5000, 'kill_all');
      assertEq(d.reason, 'com.meta.all', 'kill_all reason');
    }
    assertEq(await call('wamp.session.list'), [boss.session.id], 'only the caller is left');
    await close(boss);
  },

  async 'testaments: published once on abrupt disconnect, detached before destroyed'(url, ser) {
    const heir = await connect(url, 'realm1', ser);
    const wills = [];
    const two = signal();
    await heir.session.subscribe('com.meta.will', (args, kwargs) => {
      wills.push([args, kwargs]);
      if (wills.length === 2) two.resolve();
    });
    // argument checks on the caller's own testaments
    await expectError(heir.session.call('wamp.session.add_testament', ['com.meta.will', [], {}],
      { scope: 'forever' }), 'wamp.error.invalid_argument');
    await expectError(heir.session.call('wamp.session.add_testament', ['bad uri!', [], {}]),
      'wamp.error.invalid_uri');
    // flushed ones are never published: the heir's own testament, flushed, then it leaves
    const other = await connect(url, 'realm1', ser);
    await other.session.call('wamp.session.add_testament', ['com.meta.will', ['flushed'], {}]);
    await other.session.call('wamp.session.flush_testaments');

    // a separate node process sets two testaments, then is killed (no GOODBYE, no close)
    const script = `
      const h = require(${JSON.stringify(path.join(__dirname, 'lib', 'harness.js'))});
      h.connect(${JSON.stringify(url)}, 'realm1', ${JSON.stringify(ser)}).then(async (c) => {
        await c.session.call('wamp.session.add_testament', ['com.meta.will', ['destroyed', c.session.id], { k: 1 }]);
        await c.session.call('wamp.session.add_testament', ['com.meta.will', ['detached'], {}], { scope: 'detached' });
        await c.session.call('wamp.session.add_testament', ['com.meta.will', ['flushed-detached'], {}], { scope: 'detached' });
        await c.session.call('wamp.session.flush_testaments', [], { scope: 'detached' });
        await c.session.call('wamp.session.add_testament', ['com.meta.will', ['detached'], {}], { scope: 'detached' });
        console.log('ready ' + c.session.id);
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const mm = out.match(/ready (\d+)/);
        if (mm) resolve(Number(mm[1]));
      });
      child.on('exit', (code) => reject(new Error(`testator exited ${code}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const childId = await deadline(ready, 10000, 'the testator to set its testaments');
    child.kill('SIGKILL');
    await deadline(exited, 5000, 'the testator to die');
    await deadline(two, 5000, 'both testaments');
    await close(other);
    // a sentinel after both: nothing more (once each, the flushed ones never)
    const sentinel = signal();
    await heir.session.subscribe('com.meta.sentinel', () => sentinel.resolve());
    const pub = await connect(url, 'realm1', ser);
    await pub.session.publish('com.meta.sentinel', [], {}, { acknowledge: true });
    await deadline(sentinel, 5000, 'sentinel');
    assertEq(wills.map((x) => x[0]), [['detached'], ['destroyed', childId]],
      'detached then destroyed, once each, flushed ones never');
    assertEq(wills[1][1], { k: 1 }, 'testament kwargs');
    await close(pub);
    await close(heir);
  },

  async 'registration meta events and procedures'(url, ser) {
    const w = await connect(url, 'realm1', ser);
    const m = new Watcher(w);
    const call = (p, a, k) => w.session.call(p, a, k);
    await m.watch('wamp.registration.on_create', (args) => Promise.all([
      call('wamp.registration.get', [args[1].id]),
      call('wamp.registration.lookup', [args[1].uri, { match: args[1].match }])]));
    await m.watch('wamp.registration.on_register', (args) => Promise.all([
      call('wamp.registration.list_callees', [args[1]]), call('wamp.registration.count_callees', [args[1]])]));
    await m.watch('wamp.registration.on_unregister', (args) =>
      errorOf(call('wamp.registration.list_callees', [args[1]])));
    await m.watch('wamp.registration.on_delete', (args) => Promise.all([
      errorOf(call('wamp.registration.get', [args[1]])), call('wamp.registration.list')]));

    const a = await connect(url, 'realm1', ser);
    const b = await connect(url, 'realm1', ser);
    const A = a.session.id, B = b.session.id;
    const reg = await a.session.register('com.meta.proc', () => 'a', { invoke: 'roundrobin' });
    const created = await m.take('wamp.registration.on_create', (x) => x[0] === A, 'a creates');
    assertEq(created.args.length, 2, 'on_create(session, RegistrationDetails)');
    const rd = created.args[1];
    assertEq([rd.id, rd.uri, rd.match, rd.invoke], [reg.id, 'com.meta.proc', 'exact', 'roundrobin'],
      'RegistrationDetails');
    assertIsoTime(rd.created, 'RegistrationDetails.created');
    assertEq(created.seen[0], rd, 'registration.get from inside on_create');
    assertEq(created.seen[1], reg.id, 'registration.lookup from inside on_create');
    const regA = await m.take('wamp.registration.on_register', (x) => x[0] === A, 'a registers');
    assertEq(regA.args, [A, reg.id], 'on_register(session, registration)');
    assertEq(regA.seen, [[A], 1], 'list_callees/count_callees from inside on_register');

    // a second callee joins the registration: on_register only
    await b.session.register('com.meta.proc', () => 'b', { invoke: 'roundrobin' });
    const regB = await m.take('wamp.registration.on_register', (x) => x[0] === B, 'b registers');
    assertEq(regB.args, [B, reg.id], 'on_register for the second callee');
    assertEq(sorted(regB.seen[0]), sorted([A, B]), 'both callees listed inside on_register');
    assertEq(regB.seen[1], 2, 'count_callees inside on_register');
    await m.settle();
    assertEq(m.about(B), [], 'no on_create for the second callee');

    // the procedures
    const pre = await a.session.register('com.meta.pre.', () => 'p', { match: 'prefix' });
    const wild = await a.session.register('com..meta', () => 'w', { match: 'wildcard' });
    const lists = await call('wamp.registration.list');
    assertEq(Object.keys(lists).sort(), ['exact', 'prefix', 'wildcard'], 'RegistrationLists keys');
    assertEq([lists.exact, lists.prefix, lists.wildcard], [[reg.id], [pre.id], [wild.id]],
      'registration.list per match policy (no built-in procedures)');
    assertEq(await call('wamp.registration.lookup', ['com.meta.proc']), reg.id, 'lookup exact');
    assertEq(await call('wamp.registration.lookup', ['com.meta.pre.', { match: 'prefix' }]), pre.id,
      'lookup prefix');
    assertEq(await call('wamp.registration.lookup', ['com..meta', { match: 'wildcard' }]), wild.id,
      'lookup wildcard');
    assertEq(await call('wamp.registration.lookup', ['com.meta.pre.']), null, 'lookup: wrong policy');
    assertEq(await call('wamp.registration.match', ['com.meta.proc']), reg.id, 'match: exact wins');
    assertEq(await call('wamp.registration.match', ['com.meta.pre.x']), pre.id, 'match: prefix');
    assertEq(await call('wamp.registration.match', ['com.x.meta']), wild.id, 'match: wildcard');
    assertEq(await call('wamp.registration.match', ['org.none']), null, 'match: none');
    const g = await call('wamp.registration.get', [pre.id]);
    assertEq([g.id, g.uri, g.match, g.invoke], [pre.id, 'com.meta.pre.', 'prefix', 'single'], 'get');
    await expectError(call('wamp.registration.get', [4242]), 'wamp.error.no_such_registration');
    await expectError(call('wamp.registration.list_callees', [4242]), 'wamp.error.no_such_registration');
    await expectError(call('wamp.registration.count_callees', [4242]), 'wamp.error.no_such_registration');
    assertEq(await call('wamp.registration.lookup', ['wamp.session.count']), null,
      'built-in procedures are not user registrations');

    // a leaves the shared registration: on_unregister, not on_delete
    await a.session.unregister(reg);
    const unA = await m.take('wamp.registration.on_unregister', (x) => x[0] === A && x[1] === reg.id, 'a unregisters');
    assertEq(unA.args, [A, reg.id], 'on_unregister(session, registration)');
    assertEq(unA.seen.result, [B], 'list_callees from inside on_unregister lacks a');
    await m.settle();
    assertEq(m.about(A).filter((t) => t === 'wamp.registration.on_delete'), [], 'no on_delete yet');

    // revocation by the meta API: b is told (UNREGISTERED with a reason), then on_unregister
    // and on_delete (the last callee)
    const revoked = signal();
    const regOfB = Object.values(b.session._registrations).find((r) => r.id === reg.id);
    regOfB.on_unregister.then((reason) => revoked.resolve(reason));
    await call('wamp.registration.remove_callee', [reg.id, B], { reason: 'com.meta.moved' });
    assertEq(await deadline(revoked, 5000, 'revocation at the callee'), 'com.meta.moved',
      'UNREGISTERED.Details.reason');
    const unB = await m.take('wamp.registration.on_unregister', (x) => x[0] === B, 'b removed');
    assertEq(unB.args, [B, reg.id], 'on_unregister for the removed callee');
    const del = await m.take('wamp.registration.on_delete', (x) => x[1] === reg.id, 'deleted');
    assertEq(del.args, [B, reg.id], 'on_delete(last session, registration)');
    assertEq(del.seen[0].error, 'wamp.error.no_such_registration', 'get from inside on_delete');
    assert(!del.seen[1].exact.includes(reg.id), 'list from inside on_delete');
    assertEq(m.queue.filter((e) => e.topic === 'wamp.registration.on_delete' && e.args[1] === reg.id)
      .length, 0, 'one on_delete');
    await expectError(b.session.call('com.meta.proc'), 'wamp.error.no_such_procedure');
    await expectError(call('wamp.registration.remove_callee', [4242, B]), 'wamp.error.no_such_registration');

    // a callee leaving its registrations: on_unregister then on_delete for each
    await close(a);
    for (const r of [pre, wild]) {
      const u = await m.take('wamp.registration.on_unregister', (x) => x[1] === r.id, 'a left (unregister)');
      const dl = await m.take('wamp.registration.on_delete', (x) => x[1] === r.id, 'a left (delete)');
      assertEq([u.args, dl.args], [[A, r.id], [A, r.id]], 'events when the callee leaves');
      assert(m.queue.indexOf(u) < 0 && dl.seen[0].error === 'wamp.error.no_such_registration',
        'deleted when on_delete arrives');
    }
    await close(b);
    await close(w);
  },

  async 'subscription meta events and procedures'(url, ser) {
    const w = await connect(url, 'realm1', ser);
    const m = new Watcher(w);
    const call = (p, a, k) => w.session.call(p, a, k);
    await m.watch('wamp.subscription.on_create', (args) => Promise.all([
      call('wamp.subscription.get', [args[1].id]),
      call('wamp.subscription.lookup', [args[1].uri, { match: args[1].match }])]));
    await m.watch('wamp.subscription.on_subscribe', (args) => Promise.all([
      call('wamp.subscription.list_subscribers', [args[1]]),
      call('wamp.subscription.count_subscribers', [args[1]])]));
    await m.watch('wamp.subscription.on_unsubscribe', (args) =>
      errorOf(call('wamp.subscription.list_subscribers', [args[1]])));
    await m.watch('wamp.subscription.on_delete', (args) => Promise.all([
      errorOf(call('wamp.subscription.get', [args[1]])), call('wamp.subscription.list')]));

    const a = await connect(url, 'realm1', ser);
    const b = await connect(url, 'realm1', ser);
    const A = a.session.id, B = b.session.id;
    const sub = await a.session.subscribe('com.meta.topic', () => 0);
    const created = await m.take('wamp.subscription.on_create', (x) => x[0] === A, 'a creates');
    assertEq(created.args.length, 2, 'on_create(session, SubscriptionDetails)');
    const sd = created.args[1];
    assertEq([sd.id, sd.uri, sd.match], [sub.id, 'com.meta.topic', 'exact'], 'SubscriptionDetails');
    assertIsoTime(sd.created, 'SubscriptionDetails.created');
    assertEq(created.seen[0], sd, 'subscription.get from inside on_create');
    assertEq(created.seen[1], sub.id, 'subscription.lookup from inside on_create');
    const subA = await m.take('wamp.subscription.on_subscribe', (x) => x[0] === A, 'a subscribes');
    assertEq(subA.args, [A, sub.id], 'on_subscribe(session, subscription)');
    assertEq(subA.seen, [[A], 1], 'list/count_subscribers from inside on_subscribe');

    const subB = await b.session.subscribe('com.meta.topic', () => 0);
    assertEq(subB.id, sub.id, 'one subscription per topic');
    const sb = await m.take('wamp.subscription.on_subscribe', (x) => x[0] === B, 'b subscribes');
    assertEq(sorted(sb.seen[0]), sorted([A, B]), 'both subscribers inside on_subscribe');
    assertEq(sb.seen[1], 2, 'count_subscribers inside on_subscribe');
    await m.settle();
    assertEq(m.about(B), [], 'no on_create for the second subscriber');

    // the procedures
    const pre = await a.session.subscribe('com.meta.hist.', () => 0, { match: 'prefix' });
    const wild = await a.session.subscribe('com..topic', () => 0, { match: 'wildcard' });
    const lists = await call('wamp.subscription.list');
    assertEq(Object.keys(lists).sort(), ['exact', 'prefix', 'wildcard'], 'SubscriptionLists keys');
    assert(lists.exact.includes(sub.id) && !lists.exact.includes(pre.id), 'list exact');
    assertEq([lists.prefix, lists.wildcard], [[pre.id], [wild.id]], 'list prefix, wildcard');
    assertEq(await call('wamp.subscription.lookup', ['com.meta.topic']), sub.id, 'lookup exact');
    assertEq(await call('wamp.subscription.lookup', ['com.meta.hist.', { match: 'prefix' }]), pre.id,
      'lookup prefix');
    assertEq(await call('wamp.subscription.lookup', ['com..topic', { match: 'wildcard' }]), wild.id,
      'lookup wildcard');
    assertEq(await call('wamp.subscription.lookup', ['com.meta.nothing']), null, 'lookup none');
    // match: every subscription matching, whatever its policy
    assertEq(sorted(await call('wamp.subscription.match', ['com.meta.topic'])), sorted([sub.id, wild.id]),
      'match exact + wildcard');
    assertEq(await call('wamp.subscription.match', ['com.meta.hist.x']), [pre.id], 'match prefix');
    assertEq(await call('wamp.subscription.match', ['org.none']), null, 'match none is null');
    const g = await call('wamp.subscription.get', [wild.id]);
    assertEq([g.id, g.uri, g.match], [wild.id, 'com..topic', 'wildcard'], 'get');
    await expectError(call('wamp.subscription.get', [4242]), 'wamp.error.no_such_subscription');
    await expectError(call('wamp.subscription.list_subscribers', [4242]), 'wamp.error.no_such_subscription');
    await expectError(call('wamp.subscription.count_subscribers', [4242]), 'wamp.error.no_such_subscription');

    // event history of the prefix subscription (configured: the last 5)
    for (let i = 0; i < 7; i++) {
      await b.session.publish(i % 2 ? 'com.meta.hist.odd' : 'com.meta.hist.even', [i], { n: i },
        { acknowledge: true });
    }
    const evs = await call('wamp.subscription.get_events', [pre.id], { limit: 3 });
    assertEq(evs.map((e) => e.args[0]), [4, 5, 6], 'get_events: the newest 3, oldest first');
    for (const e of evs) {
      assertEq(e.subscription, pre.id, 'stored event subscription');
      assert(e.publication >= 1 && e.publication <= 2 ** 53, 'stored event publication id');
      assertIsoTime(e.timestamp, 'stored event timestamp');
      assertEq(e.kwargs, { n: e.args[0] }, 'stored event kwargs');
    }
    assertEq((await call('wamp.subscription.get_events', [pre.id])).map((e) => e.args[0]),
      [2, 3, 4, 5, 6], 'bounded at 5');
    assertEq((await call('wamp.subscription.get_events', [pre.id], { limit: 2, reverse: true }))
      .map((e) => e.args[0]), [6, 5], 'reverse');
    assertEq((await call('wamp.subscription.get_events', [pre.id], { topic: 'com.meta.hist.odd' }))
      .map((e) => e.args[0]), [3, 5], 'filtered by topic');
    await expectError(call('wamp.subscription.get_events', [4242]), 'wamp.error.no_such_subscription');

    // a unsubscribes: on_unsubscribe, no on_delete while b is there
    await a.session.unsubscribe(sub);
    const unA = await m.take('wamp.subscription.on_unsubscribe', (x) => x[0] === A && x[1] === sub.id, 'a unsubscribes');
    assertEq(unA.args, [A, sub.id], 'on_unsubscribe(session, subscription)');
    assertEq(unA.seen.result, [B], 'list_subscribers from inside on_unsubscribe lacks a');
    await m.settle();
    assertEq(m.about(A).filter((t) => t === 'wamp.subscription.on_delete'), [], 'no on_delete yet');

    // revocation by the meta API, then on_unsubscribe and on_delete (the last subscriber)
    const revoked = signal();
    subB.on_unsubscribe.then((reason) => revoked.resolve(reason));
    await call('wamp.subscription.remove_subscriber', [sub.id, B], { reason: 'com.meta.out' });
    assertEq(await deadline(revoked, 5000, 'revocation at the subscriber'), 'com.meta.out',
      'UNSUBSCRIBED.Details.reason');
    const unB = await m.take('wamp.subscription.on_unsubscribe', (x) => x[0] === B, 'b removed');
    assertEq(unB.args, [B, sub.id], 'on_unsubscribe for the removed subscriber');
    const del = await m.take('wamp.subscription.on_delete', (x) => x[1] === sub.id, 'deleted');
    assertEq(del.args, [B, sub.id], 'on_delete(last session, subscription)');
    assertEq(del.seen[0].error, 'wamp.error.no_such_subscription', 'get from inside on_delete');
    assert(!del.seen[1].exact.includes(sub.id), 'list from inside on_delete');
    await expectError(call('wamp.subscription.remove_subscriber', [4242, B]), 'wamp.error.no_such_subscription');

    // a subscriber leaving: on_unsubscribe then on_delete for each of its subscriptions,
    // except the one with a configured event history, which outlives its subscribers
    // (and existed before its first one: no on_create either)
    await close(a);
    const u = await m.take('wamp.subscription.on_unsubscribe', (x) => x[1] === wild.id, 'a left (unsubscribe)');
    const dl = await m.take('wamp.subscription.on_delete', (x) => x[1] === wild.id, 'a left (delete)');
    assertEq([u.args, dl.args], [[A, wild.id], [A, wild.id]], 'events when the subscriber leaves');
    assertEq(dl.seen[0].error, 'wamp.error.no_such_subscription', 'deleted when on_delete arrives');
    const uh = await m.take('wamp.subscription.on_unsubscribe', (x) => x[1] === pre.id, 'a left (history)');
    assertEq(uh.args, [A, pre.id], 'on_unsubscribe of the history subscription');
    await m.settle();
    assertEq(m.queue.filter((e) => e.args[1] === pre.id || (e.args[1] && e.args[1].id === pre.id))
      .map((e) => e.topic), ['wamp.subscription.on_subscribe'], 'history subscription: never created nor deleted');
    assertEq(await call('wamp.subscription.count_subscribers', [pre.id]), 0, 'history subscription kept');
    assertEq((await call('wamp.subscription.get_events', [pre.id], { limit: 1 })).map((e) => e.args[0]),
      [6], 'its history kept');
    await close(b);
    await close(w);
  },
};

h.main(scenarios, { config });
