// Autobahn|JS against wampd: Advanced Profile features (issue #4) seen from the JS client.
//   WAMPD_BIN=... node advanced.js json|msgpack
'use strict';

const h = require('./lib/harness');
const { autobahn, connect, close, expectError, assert, assertEq, signal, deadline } = h;

// Autobahn|JS reports progressive results through a deferred's notify(), which ES6
// promises lack: give it a deferred whose promise has a progress(callback).
function progressDeferred() {
  const d = {}, listeners = [];
  d.promise = new Promise((resolve, reject) => { d.resolve = resolve; d.reject = reject; });
  d.notify = (v) => listeners.forEach((f) => f(v));
  d.promise.progress = (f) => { listeners.push(f); return d.promise; };
  return d;
}

const scenarios = {
  async 'progressive call results'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser, { use_deferred: progressDeferred });
    await callee.session.register('com.js.count', (args, kwargs, details) => {
      for (let i = 0; i < args[0]; i++) details.progress([i]);
      return 'done';
    });
    const chunks = [];
    const r = await caller.session.call('com.js.count', [3], {}, { receive_progress: true })
      .progress((p) => chunks.push(p));
    assertEq(r, 'done', 'final result');
    assertEq(chunks, [0, 1, 2], 'progress chunks');
    await close(caller);
    await close(callee);
  },

  async 'caller and publisher identification'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser);
    await callee.session.register('com.js.who', (a, k, details) => [details.caller || null]);
    assertEq(await caller.session.call('com.js.who', [], {}, { disclose_me: true }),
      [caller.session.id], 'disclosed caller');
    assertEq(await caller.session.call('com.js.who'), [null], 'undisclosed caller');
    const got = signal();
    await callee.session.subscribe('com.js.topic', (a, k, details) => got.resolve(details.publisher));
    await caller.session.publish('com.js.topic', [], {}, { acknowledge: true, disclose_me: true });
    assertEq(await deadline(got, 5000, 'event'), caller.session.id, 'disclosed publisher');
    await close(caller);
    await close(callee);
  },

  async 'pattern subscription and registration details'(url, ser) {
    const a = await connect(url, 'realm1', ser);
    const b = await connect(url, 'realm1', ser);
    await a.session.register('com.js.pre.', (args, kw, details) => details.procedure,
      { match: 'prefix' });
    assertEq(await b.session.call('com.js.pre.x.y'), 'com.js.pre.x.y', 'procedure detail');
    const got = signal();
    await a.session.subscribe('com..status', (args, kw, details) => got.resolve(details.topic),
      { match: 'wildcard' });
    await b.session.publish('com.device1.status', [1], {}, { acknowledge: true });
    assertEq(await deadline(got, 5000, 'wildcard event'), 'com.device1.status', 'topic detail');
    await close(a);
    await close(b);
  },

  async 'call timeout and cancel from the caller'(url, ser) {
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser);
    const invoked = signal();
    await callee.session.register('com.js.hang', () => { invoked.resolve(); return new Promise(() => {}); });
    await callee.session.register('com.js.ok', () => 'ok');
    await expectError(caller.session.call('com.js.hang', [], {}, { timeout: 200 }),
      'wamp.error.timeout');
    // Autobahn|JS forgets a call it cancels with skip/killnowait and then takes the
    // router's ERROR (which the spec requires) for a protocol violation; with "kill" it
    // waits for that ERROR. A JS callee cannot be interrupted, so kill acts as skip.
    const p = caller.session.call('com.js.hang');
    await deadline(invoked, 5000, 'invocation');
    p.cancel({ mode: 'kill' });
    await expectError(p, 'wamp.error.canceled');
    assertEq(await caller.session.call('com.js.ok'), 'ok', 'session still works');
    await close(caller);
    await close(callee);
  },

  async 'shared registration round robin'(url, ser) {
    const callees = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect(url, 'realm1', ser);
      await c.session.register('com.js.rr', () => i, { invoke: 'roundrobin' });
      callees.push(c);
    }
    const caller = await connect(url, 'realm1', ser);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30; i++) counts[await caller.session.call('com.js.rr')]++;
    assertEq(counts, [10, 10, 10], 'fair distribution');
    for (const c of callees) await close(c);
    await close(caller);
  },

  async 'meta events and procedures'(url, ser) {
    const w = await connect(url, 'realm1', ser);
    const joined = signal(), left = signal();
    await w.session.subscribe('wamp.session.on_join', (args) => joined.resolve(args[0]));
    await w.session.subscribe('wamp.session.on_leave', (args) => left.resolve(args[0]));
    const s = await connect(url, 'realm1', ser);
    const info = await deadline(joined, 5000, 'on_join');
    assertEq(info.session, s.session.id, 'on_join session');
    const list = await w.session.call('wamp.session.list');
    assert(list.includes(s.session.id), 'session.list');
    const sub = await s.session.subscribe('com.js.meta', () => 0);
    const subId = await w.session.call('wamp.subscription.lookup', ['com.js.meta']);
    assertEq(subId, sub.id, 'subscription.lookup');
    assertEq(await w.session.call('wamp.subscription.list_subscribers', [sub.id]),
      [s.session.id], 'list_subscribers');
    const sid = s.session.id;
    await close(s);
    assertEq(await deadline(left, 5000, 'on_leave'), sid, 'on_leave session');
    await close(w);
  },

  async 'subscription revocation'(url, ser) {
    const admin = await connect(url, 'realm1', ser);
    const s = await connect(url, 'realm1', ser);
    const sub = await s.session.subscribe('com.js.revoked', () => 0);
    const revoked = signal();
    sub.on_unsubscribe.then((reason) => revoked.resolve(reason || 'revoked'));
    await admin.session.call('wamp.subscription.remove_subscriber', [sub.id, s.session.id],
      { reason: 'com.js.admin' });
    await deadline(revoked, 5000, 'revocation at the subscriber');
    assertEq(await admin.session.call('wamp.subscription.lookup', ['com.js.revoked']), null,
      'subscription gone');
    await close(s);
    await close(admin);
  },
};

h.main(scenarios);
