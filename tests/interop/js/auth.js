// Autobahn|JS against wampd: ticket, WAMP-CRA (plain and salted, with the library's own
// derive_key/sign) and WAMP-Cryptosign (tweetnacl keys), successes and failures, and a
// denied action under static role permissions (issue #5).
//   WAMPD_BIN=... node auth.js json|msgpack
'use strict';

const h = require('./lib/harness');
const { autobahn, connect, close, expectError, assertEq } = h;

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

function onchallenge(secret, key) {
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

async function join(url, ser, authmethods, authid, secret, key) {
  const extra = { authmethods, authid, onchallenge: onchallenge(secret, key) };
  if (key) extra.authextra = { pubkey: autobahn.auth_cryptosign.public_key(key) };
  return connect(url, 'realm1', ser, extra);
}

async function refused(promise, reason) {
  try {
    const c = await promise;
    await close(c);
  } catch (e) {
    assertEq(e.reason, reason, 'abort reason');
    return;
  }
  throw new Error(`admitted; expected ${reason}`);
}

const scenarios = {
  async 'ticket'(url, ser) {
    const c = await join(url, ser, ['ticket'], 'joe', 't-joe');
    assertEq([c.details.authid, c.details.authrole, c.details.authmethod], ['joe', 'user', 'ticket'],
      'welcome');
    await close(c);
    await refused(join(url, ser, ['ticket'], 'joe', 'nope'), 'wamp.error.authentication_failed');
  },
  async 'wampcra plain and salted'(url, ser) {
    for (const [id, secret] of [['peter', 's3cret'], ['salty', 'pw']]) {
      const c = await join(url, ser, ['wampcra'], id, secret);
      assertEq(c.details.authmethod, 'wampcra', 'method');
      await close(c);
    }
    await refused(join(url, ser, ['wampcra'], 'salty', 'px'), 'wamp.error.authentication_failed');
  },
  async 'cryptosign'(url, ser) {
    const c = await join(url, ser, ['cryptosign'], 'alice', null, alice);
    assertEq([c.details.authid, c.details.authmethod], ['alice', 'cryptosign'], 'welcome');
    await close(c);
    const mallory = autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(32));
    await refused(join(url, ser, ['cryptosign'], 'alice', null, mallory),
      'wamp.error.authentication_failed');
  },
  async 'permissions'(url, ser) {
    const c = await join(url, ser, ['ticket'], 'joe', 't-joe');
    await c.session.register('com.app.ok', () => 1);
    await expectError(c.session.register('org.nope', () => 1), 'wamp.error.not_authorized');
    await expectError(c.session.publish('com.app.x', [], {}, { acknowledge: true }),
      'wamp.error.not_authorized');
    await close(c);
    await refused(connect(url, 'realm1', ser), 'wamp.error.no_matching_auth_method');
  },
};

h.main(scenarios, { config });
