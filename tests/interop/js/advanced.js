// Autobahn|JS against wampd: Advanced Profile features (issue #4) seen from the JS client.
//   WAMPD_BIN=... node advanced.js json|msgpack
'use strict';

const h = require('./lib/harness');
const { autobahn, connect, close, expectError, assert, assertEq, signal, deadline,
  progressDeferred } = h;

// Autobahn|JS 26 cannot make or take progressive call invocations itself: it does not
// announce progressive_call_invocations, and call() sends one CALL. This shim adds the
// feature to HELLO.Details.roles.{caller,callee} of one connection; the chunks are sent as
// raw CALLs through the client's transport, tracked as one of its calls. The callee side
// is the client's own code: it runs the endpoint once per INVOCATION of the request (it
// does not tell chunks apart), so the endpoint answers only the final chunk.
const origJoin = autobahn.Session.prototype.join;
let patchHello = false;
autobahn.Session.prototype.join = function (...args) {
  if (patchHello) {
    const send = this._send_wamp;
    this._send_wamp = (msg) => {
      if (msg[0] === 1) { // HELLO
        const roles = JSON.parse(JSON.stringify(msg[2].roles));
        roles.caller.features.progressive_call_invocations = true;
        roles.callee.features.progressive_call_invocations = true;
        msg = [msg[0], msg[1], Object.assign({}, msg[2], { roles })];
      }
      this._send_wamp = send;
      return send(msg);
    };
  }
  return origJoin.apply(this, args);
};

async function connectProgressive(url, ser, extra) {
  patchHello = true;
  try {
    return await connect(url, 'realm1', ser, extra);
  } finally {
    patchHello = false;
  }
}

// Send a progressive call: chunks[0..n-2] with progress: true, the last without.
function progressiveCall(session, procedure, chunks, options = {}) {
  const request = session._new_request_id();
  const d = session._defer();
  session._call_reqs[request] = [d, options];
  chunks.forEach((args, i) => {
    const opts = Object.assign(i === 0 ? options : {}, i < chunks.length - 1 ? { progress: true } : {});
    session._send_wamp([48, request, opts, procedure, args]);
  });
  return d.promise;
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

  async 'progressive call invocations (HELLO shim)'(url, ser, router) {
    const callee = await connectProgressive(url, ser);
    const caller = await connectProgressive(url, ser);
    const plain = await connect(url, 'realm1', ser);
    const seen = [];
    await callee.session.register('com.js.upload', (args, kwargs, details) => {
      seen.push([args[0], args[1]]);
      if (args[1] !== 'last') return new Promise(() => {}); // a chunk: no answer of its own
      return seen.map((x) => x[0]).join('');
    });
    const r = await progressiveCall(caller.session, 'com.js.upload',
      [['a', 'more'], ['b', 'more'], ['c', 'last']]);
    assertEq(r, 'abc', 'one result for all chunks');
    assertEq(seen, [['a', 'more'], ['b', 'more'], ['c', 'last']], 'chunks in order, to one callee');
    // the same request id for every chunk's INVOCATION: the callee answered only once
    assertEq(await caller.session.call('com.js.upload', ['x', 'last']), 'abcx', 'a plain call still works');
    // a caller that did not announce the feature may not send progress: ABORT (which
    // Autobahn|JS does not report once joined: the router's log says it)
    const closed = signal();
    plain.connection.onclose = () => { closed.resolve(); return true; };
    const plainId = plain.session.id;
    progressiveCall(plain.session, 'com.js.upload', [['p', 'more'], ['q', 'last']]).catch(() => {});
    await deadline(closed, 5000, 'the session to be closed');
    const logged = new RegExp(`abort session=${plainId} .*reason=wamp\\.error\\.protocol_violation`);
    await deadline((async () => {
      while (!logged.test(router.stderr)) await new Promise((r) => setTimeout(r, 20));
    })(), 5000, 'the ABORT in the router log');
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
    // the other pattern of each: a wildcard registration, a prefix subscription; an exact
    // registration wins over both patterns and its INVOCATION carries no procedure
    await a.session.register('com..get', (args, kw, details) => ['wildcard', details.procedure],
      { match: 'wildcard' });
    await a.session.register('com.js.pre.exact', (args, kw, details) => ['exact', details.procedure]);
    assertEq(await b.session.call('com.users.get'), ['wildcard', 'com.users.get'], 'wildcard procedure');
    assertEq(await b.session.call('com.js.pre.exact'), ['exact', 'com.js.pre.exact'],
      'exact wins (Autobahn|JS fills in its own URI)');
    await expectError(b.session.call('com.users.put'), 'wamp.error.no_such_procedure');
    const pre = signal();
    await a.session.subscribe('com.js.pfx.', (args, kw, details) => pre.resolve([args[0], details.topic]),
      { match: 'prefix' });
    await b.session.publish('com.js.pfx.a.b', ['p'], {}, { acknowledge: true });
    assertEq(await deadline(pre, 5000, 'prefix event'), ['p', 'com.js.pfx.a.b'], 'prefix topic detail');
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

  async 'cancel modes and late answers dropped'(url, ser) {
    // Autobahn|JS's own p.cancel() forgets skip/killnowait calls at once and then takes the
    // router's ERROR (which the spec requires) for a protocol violation, so the CANCEL is
    // sent through the client's transport with the call kept pending. An Autobahn|JS callee
    // does not announce call_canceling: the router treats every mode as skip for it (no
    // INTERRUPT; the callee's late answer is dropped). INTERRUPT is in test_advanced.py.
    const callee = await connect(url, 'realm1', ser);
    const caller = await connect(url, 'realm1', ser);
    let pending = null;
    await callee.session.register('com.js.cancelme', () => new Promise((resolve) => {
      pending.resolve(resolve);
    }));
    await callee.session.register('com.js.alive', () => 'alive');
    for (const mode of ['skip', 'killnowait', 'kill']) {
      pending = signal();
      const before = new Set(Object.keys(caller.session._call_reqs));
      const p = caller.session.call('com.js.cancelme', [mode]);
      const request = Object.keys(caller.session._call_reqs).find((k) => !before.has(k));
      const answer = await deadline(pending, 5000, `invocation (${mode})`);
      caller.session._send_wamp([49, Number(request), { mode }]);
      await expectError(deadline(p, 5000, `ERROR (${mode})`), 'wamp.error.canceled');
      answer('late'); // the YIELD after the cancel must not reach the caller
      assertEq(await caller.session.call('com.js.alive'), 'alive', `caller still fine (${mode})`);
      assertEq(await callee.session.call('com.js.alive'), 'alive', `callee still fine (${mode})`);
    }
    assert(caller.session.isOpen && callee.session.isOpen, 'no protocol violation seen');
    await close(caller);
    await close(callee);
  },

  async 'shared registration: each invocation policy over 3 callees'(url, ser) {
    const caller = await connect(url, 'realm1', ser);
    for (const policy of ['single', 'first', 'last', 'roundrobin', 'random']) {
      const uri = `com.js.policy.${policy}`;
      const callees = [];
      for (let i = 0; i < 3; i++) {
        const c = await connect(url, 'realm1', ser);
        if (policy === 'single' && i > 0) {
          await expectError(c.session.register(uri, () => 9, { invoke: policy }),
            'wamp.error.procedure_already_exists');
        } else {
          await c.session.register(uri, () => i, { invoke: policy });
        }
        callees.push(c);
      }
      await expectError(callees[0].session.register(uri, () => 9,
        { invoke: policy === 'roundrobin' ? 'last' : 'roundrobin' }), 'wamp.error.procedure_already_exists');
      const counts = [0, 0, 0];
      const n = policy === 'random' ? 60 : 30;
      for (let i = 0; i < n; i++) counts[await caller.session.call(uri)]++;
      const expected = { single: [30, 0, 0], first: [30, 0, 0], last: [0, 0, 30], roundrobin: [10, 10, 10] }[policy];
      if (expected) assertEq(counts, expected, `${policy} distribution`);
      else assert(counts.every((c) => c > 0), `random reaches every callee: ${counts}`); // p(fail) ~ 1e-10
      if (policy === 'first' || policy === 'last') {
        const gone = policy === 'first' ? 0 : 2;
        await close(callees[gone]);
        callees[gone] = null;
        assertEq(await caller.session.call(uri), 1, `${policy} after its callee left`);
      }
      for (const c of callees) if (c) await close(c);
      await expectError(caller.session.call(uri), 'wamp.error.no_such_procedure');
    }
    await close(caller);
  },

  async 'black and white listing, publisher exclusion'(url, ser) {
    const pub = await connect(url, 'realm1', ser);
    const subs = [];
    for (let i = 0; i < 3; i++) subs.push(await connect(url, 'realm1', ser));
    const got = subs.map(() => []);
    for (const [i, s] of subs.entries()) await s.session.subscribe('com.js.bw', (args) => got[i].push(args[0]));
    const own = [];
    await pub.session.subscribe('com.js.bw', (args) => own.push(args[0]));
    const sid = subs.map((s) => s.session.id), aid = subs.map((s) => s.details.authid);
    assertEq(new Set(aid).size, 3, 'anonymous sessions have authids of their own');
    const cases = [
      ['exclude', { exclude: [sid[0]] }, [0, 1, 1]],
      ['eligible', { eligible: [sid[1], sid[2]], exclude: [sid[2]] }, [0, 1, 0]],
      ['exclude_authid', { exclude_authid: [aid[1]] }, [1, 0, 1]],
      ['eligible_authid', { eligible_authid: [aid[2], 'nobody'] }, [0, 0, 1]],
      ['exclude_authrole', { exclude_authrole: ['anonymous'] }, [0, 0, 0]],
      ['eligible_authrole', { eligible_authrole: ['anonymous'], exclude_authid: [aid[0]] }, [0, 1, 1]],
      ['eligible_authrole none', { eligible_authrole: ['admin'] }, [0, 0, 0]],
      ['exclude_me false', { exclude_me: false, eligible: [pub.session.id] }, [0, 0, 0]],
    ];
    for (const [tag, opts] of cases) {
      await pub.session.publish('com.js.bw', [tag], {}, Object.assign({ acknowledge: true }, opts));
    }
    const ends = subs.map(() => signal());
    for (const [i, s] of subs.entries()) await s.session.subscribe('com.js.bw.end', () => ends[i].resolve());
    await pub.session.publish('com.js.bw.end', [], {}, { acknowledge: true });
    for (const e of ends) await deadline(e, 5000, 'sentinel');
    for (let i = 0; i < 3; i++) {
      assertEq(got[i], cases.filter((c) => c[2][i]).map((c) => c[0]), `events of subscriber ${i}`);
    }
    assertEq(own, ['exclude_me false'], 'the publisher gets its own event only with exclude_me: false');
    for (const s of subs) await close(s);
    await close(pub);
  },

  async 'retained event on late subscribe'(url, ser) {
    const pub = await connect(url, 'realm1', ser);
    await pub.session.publish('com.js.state', [21], {}, { acknowledge: true, retain: true });
    await pub.session.publish('com.js.state', [22], { unit: 'C' }, { acknowledge: true, retain: true });
    await pub.session.publish('com.js.state', [23], {}, { acknowledge: true }); // not retained
    const late = await connect(url, 'realm1', ser);
    const got = signal();
    await late.session.subscribe('com.js.state', (args, kwargs, details) =>
      got.resolve([args, kwargs, details.retained]), { get_retained: true });
    assertEq(await deadline(got, 5000, 'retained event'), [[22], { unit: 'C' }, true],
      'the last retained event, marked retained');
    // without get_retained: nothing until the next publication
    const plain = await connect(url, 'realm1', ser);
    const seen = [];
    const next = signal();
    await plain.session.subscribe('com.js.state', (args, kwargs, details) => {
      seen.push([args[0], details.retained]);
      next.resolve();
    });
    await pub.session.publish('com.js.state', [24], {}, { acknowledge: true });
    await deadline(next, 5000, 'live event');
    assertEq(seen, [[24, false]], 'no retained event without get_retained');
    await close(plain);
    await close(late);
    await close(pub);
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
