// Autobahn|JS against wampd: ticket, WAMP-CRA (plain and salted, with the library's own
// derive_key/sign) and WAMP-Cryptosign (tweetnacl keys), successes and failures, and a
// denied action under static role permissions (issue #5).
//   WAMPD_BIN=... node auth.js json|msgpack
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('./lib/harness');
const { autobahn, connect, close, expectError, assert, assertEq } = h;

const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
const alice = autobahn.nacl.sign.keyPair.fromSeed(seed);

const config = {
  listeners: [{ auth: {
    ticket: { type: 'static', principals: { joe: { ticket: 't-joe', role: 'user' } } },
    wampcra: { type: 'static', users: {
      peter: { secret: 's3cret', role: 'user' },
      salty: { password: 'pw', salt: 'pepper', iterations: 50, keylen: 32, role: 'user' } } },
    cryptosign: { type: 'static', principals: {
      alice: { authorized_keys: [autobahn.auth_cryptosign.public_key(alice)], role: 'user' } } },
  } }],
  realms: [{ name: 'realm1', roles: [
    { name: 'user', permissions: [{ uri: 'com.app.', match: 'prefix', trustlevel: 1,
      allow: { call: true, register: true, subscribe: true } }] }] }],
};

function onchallenge(secret, key, delay) {
  if (delay) {
    const answer = onchallenge(secret, key);
    return (session, method, extra) => new Promise((resolve) =>
      setTimeout(() => resolve(answer(session, method, extra)), delay));
  }
  return (session, method, extra) => {
    if (method === 'ticket') return secret;
    if (method === 'wampcra') {
      const k = extra.salt
        ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen) : secret;
      return autobahn.auth_cra.sign(k, extra.challenge);
    }
    if (method === 'cryptosign') return autobahn.auth_cryptosign.sign_challenge(key, extra);
    throw new Error(`unexpected challenge ${method}`);
  };
}

async function join(url, ser, authmethods, authid, secret, key, delay) {
  const extra = { authmethods, authid, onchallenge: onchallenge(secret, key, delay) };
  if (key) extra.authextra = { pubkey: autobahn.auth_cryptosign.public_key(key) };
  return connect(url, 'realm1', ser, extra);
}

// promise (a join) must fail: with ABORT `reason`, or (anyReason) in any way.
async function refused(promise, reason, anyReason = false) {
  try {
    const c = await promise;
    await close(c);
  } catch (e) {
    if (!anyReason) assertEq(e.reason, reason, 'abort reason');
    return;
  }
  throw new Error(`admitted; expected ${reason || 'a refusal'}`);
}

const scenarios = {
  async 'ticket'(url, ser) {
    const c = await join(url, ser, ['ticket'], 'joe', 't-joe');
    assertEq([c.details.authid, c.details.authrole, c.details.authmethod], ['joe', 'user', 'ticket'],
      'welcome');
    await close(c);
    await refused(join(url, ser, ['ticket'], 'joe', 'nope'), 'wamp.error.authentication_failed');
    await refused(join(url, ser, ['ticket'], 'nobody', 't-joe'), 'wamp.error.authentication_failed');
  },
  async 'wampcra plain and salted'(url, ser) {
    for (const [id, secret] of [['peter', 's3cret'], ['salty', 'pw']]) {
      const c = await join(url, ser, ['wampcra'], id, secret);
      assertEq(c.details.authmethod, 'wampcra', 'method');
      await close(c);
    }
    await refused(join(url, ser, ['wampcra'], 'salty', 'px'), 'wamp.error.authentication_failed');
    await refused(join(url, ser, ['wampcra'], 'peter', 'wrong'), 'wamp.error.authentication_failed');
    await refused(join(url, ser, ['wampcra'], 'nobody', 's3cret'), 'wamp.error.authentication_failed');
  },
  async 'cryptosign'(url, ser) {
    const c = await join(url, ser, ['cryptosign'], 'alice', null, alice);
    assertEq([c.details.authid, c.details.authmethod], ['alice', 'cryptosign'], 'welcome');
    await close(c);
    const mallory = autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(32));
    await refused(join(url, ser, ['cryptosign'], 'alice', null, mallory),
      'wamp.error.authentication_failed');
    await refused(join(url, ser, ['cryptosign'], 'nobody', null, alice),
      'wamp.error.authentication_failed');
  },
  async 'permissions'(url, ser) {
    const c = await join(url, ser, ['ticket'], 'joe', 't-joe');
    await c.session.register('com.app.ok', () => 1);
    await expectError(c.session.register('org.nope', () => 1), 'wamp.error.not_authorized');
    await expectError(c.session.publish('com.app.x', [], {}, { acknowledge: true }),
      'wamp.error.not_authorized');
    await expectError(c.session.subscribe('org.nope', () => 0), 'wamp.error.not_authorized');
    await expectError(c.session.call('org.nope'), 'wamp.error.not_authorized');
    // the meta procedures take the same authorization path as user procedures
    await expectError(c.session.call('wamp.session.list'), 'wamp.error.not_authorized');
    await c.session.subscribe('com.app.news', () => 0);
    assertEq(await c.session.call('com.app.ok'), 1, 'an allowed call');
    await close(c);
    await refused(connect(url, 'realm1', ser), 'wamp.error.no_matching_auth_method');
  },

  async 'expired challenge'(url, ser) {
    // the deadline is limits.hello_timeout (1 s here): a late answer is not admitted
    const r = await new h.Router({ config: { limits: { hello_timeout: 1 }, listeners: config.listeners,
      realms: config.realms } }).start();
    try {
      const t0 = Date.now();
      await refused(join(r.url, ser, ['ticket'], 'joe', 't-joe', null, 2500), undefined, true);
      const took = Date.now() - t0;
      assert(took > 900 && took < 2400, `closed after ${took} ms, not at the 1 s deadline`);
      const c = await join(r.url, ser, ['ticket'], 'joe', 't-joe', null, 200);
      await close(c);
    } finally {
      await r.stop();
    }
  },

  async 'dynamic authenticator and authorizer with its cache'(url, ser) {
    const r = await new h.Router({ config: {
      listeners: [{ auth: {
        ticket: { type: 'dynamic', authenticator: 'com.auth.authenticate' },
        anonymous: { type: 'static', role: 'backend' } } }],
      realms: [{ name: 'realm1', authorizer_cache_ttl: 60000, roles: [
        { name: 'backend', permissions: [{ uri: '', match: 'prefix',
          allow: { call: true, register: true, publish: true, subscribe: true } }] },
        { name: 'dyn', authorizer: 'com.auth.authorize' }] }] } }).start();
    try {
      await refused(join(r.url, ser, ['ticket'], 'joe', 't-joe'), 'wamp.error.authentication_failed');
      const svc = await connect(r.url, 'realm1', ser);
      const authenticated = [], asked = [];
      await svc.session.register('com.auth.authenticate', ([realm, authid, details]) => {
        authenticated.push([realm, authid, details.authmethod, details.ticket]);
        if (details.ticket === `t-${authid}`) return { role: 'dyn', extra: { hi: authid } };
        throw new autobahn.Error('com.auth.unknown', ['no such user']);
      });
      await svc.session.register('com.auth.authorize', ([session, uri, action]) => {
        asked.push([session.authid, uri, action]);
        return { allow: uri.startsWith('com.ok.'), cache: true };
      });
      await svc.session.register('com.ok.proc', () => 'fine');
      await svc.session.register('com.no.proc', () => 'secret');
      const joe = await join(r.url, ser, ['ticket'], 'joe', 't-joe');
      assertEq([joe.details.authid, joe.details.authrole, joe.details.authprovider],
        ['joe', 'dyn', 'dynamic'], 'WELCOME from the authenticator');
      assertEq(joe.details.authextra, { hi: 'joe' }, 'authextra from the authenticator');
      assertEq(authenticated, [['realm1', 'joe', 'ticket', 't-joe']], 'authenticator arguments');
      await refused(join(r.url, ser, ['ticket'], 'joe', 'wrong'), 'wamp.error.authentication_failed');
      await refused(join(r.url, ser, ['ticket'], 'nobody', 't-joe'), 'wamp.error.authentication_failed');
      for (let i = 0; i < 3; i++) assertEq(await joe.session.call('com.ok.proc'), 'fine', 'allowed');
      for (let i = 0; i < 2; i++) {
        await expectError(joe.session.call('com.no.proc'), 'wamp.error.not_authorized');
      }
      await expectError(joe.session.subscribe('com.no.topic', () => 0), 'wamp.error.not_authorized');
      await joe.session.subscribe('com.ok.topic', () => 0);
      // the cache: one question per (uri, action), not one per call
      const count = (uri, action) => asked.filter((a) => a[1] === uri && a[2] === action).length;
      assertEq([count('com.ok.proc', 'call'), count('com.no.proc', 'call')], [1, 1], 'cache hits');
      assertEq(asked[0][0], 'joe', 'authorizer gets the session details');
      // a new session of the same user asks again: the cache is per session
      await close(joe);
      const again = await join(r.url, ser, ['ticket'], 'joe', 't-joe');
      assertEq(await again.session.call('com.ok.proc'), 'fine', 'allowed again');
      assertEq(count('com.ok.proc', 'call'), 2, 'a new session is asked about again');
      await close(again);
      await close(svc);
    } finally {
      await r.stop();
    }
  },

  async 'wss with a self-signed certificate made by the test, and a client certificate'(url, ser) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-js-tls-'));
    const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wampd js CA');
    fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    for (const [name, cn] of [['server', 'localhost'], ['client', 'device-9']]) {
      ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
        '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.ext');
    }
    const file = (f) => path.join(dir, f);
    const r = await new h.Router({ config: {
      listeners: [{ tls: { certificate: file('server.pem'), key: file('server.key'),
        ca_certificates: file('ca.pem') },
      auth: { tls: { type: 'static', principals: { 'device-9': { role: 'device' } } },
        anonymous: { type: 'static', role: 'public' } } }],
      realms: [{ name: 'realm1' }] } }).start();
    const plain = globalThis.WebSocket;
    try {
      assert(r.url.startsWith('wss://'), `wss listener: ${r.url}`);
      // Autobahn|JS opens `new WebSocket(url, protocols)`: give it ws with the TLS options
      const withTls = (tls) => class extends plain {
        constructor(u, protocols) {
          super(u, protocols, tls);
          this.on('error', () => {}); // Autobahn|JS listens for close only
        }
      };
      const ca = fs.readFileSync(file('ca.pem'));
      globalThis.WebSocket = withTls({ ca });
      const anon = await connect(r.url, 'realm1', ser);
      assertEq([anon.details.authmethod, anon.details.authrole], ['anonymous', 'public'], 'no client cert');
      await close(anon);
      globalThis.WebSocket = withTls({ ca, cert: fs.readFileSync(file('client.pem')),
        key: fs.readFileSync(file('client.key')) });
      const dev = await connect(r.url, 'realm1', ser);
      assertEq([dev.details.authmethod, dev.details.authid, dev.details.authrole],
        ['tls', 'device-9', 'device'], 'client certificate: the tls method');
      await close(dev);
      // a client that does not trust the router's certificate does not connect
      globalThis.WebSocket = withTls({});
      await refused(connect(r.url, 'realm1', ser), undefined, true);
    } finally {
      globalThis.WebSocket = plain;
      await r.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

h.main(scenarios, { config });
