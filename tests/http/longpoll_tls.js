// Autobahn|JS over the WAMP HTTP long-poll transport on a TLS listener (https:// on the
// wss:// port): RPC and PubSub with an Autobahn|JS wss session, anonymous without a client
// certificate and the tls method with one. Certificates are made by the test with the
// openssl CLI; xhr2 (Node has no XMLHttpRequest) takes the CA and the client certificate
// through an https.Agent (XMLHttpRequest.nodejsSet).
'use strict';

const fs = require('fs');
const https = require('https');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const H = require(path.join(__dirname, '..', 'interop', 'js', 'lib', 'harness.js'));
const XHR = require(path.join(__dirname, '..', 'node_modules', 'xhr2'));

globalThis.XMLHttpRequest = XHR;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-js-lp-tls-'));
const file = (f) => path.join(dir, f);
(function makeCerts() {
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wampd js CA');
  fs.writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', 'device-9']]) {
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.ext');
  }
}());
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const CA = fs.readFileSync(file('ca.pem'));
const CONFIG = {
  listeners: [{ port: 0, path: '/ws',
    tls: { certificate: file('server.pem'), key: file('server.key'), ca_certificates: file('ca.pem') },
    auth: { tls: { type: 'static', principals: { 'device-9': { role: 'device' } } },
      anonymous: { type: 'static', role: 'anonymous' } },
    http: { '/lp': { type: 'longpoll', poll_timeout: 1 } } }],
  realms: [{ name: 'realm1', roles: ['anonymous', 'device'].map((name) => ({ name,
    permissions: [{ uri: '', match: 'prefix',
      allow: { call: true, register: true, publish: true, subscribe: true } }] })) }],
};

// Autobahn|JS opens `new WebSocket(url, protocols)`: give it ws with the CA
const PlainWS = globalThis.WebSocket;
globalThis.WebSocket = class extends PlainWS {
  constructor(u, protocols) {
    super(u, protocols, { ca: CA });
    this.on('error', () => {});
  }
};

const { longpoll: open } = require(path.join(__dirname, 'lpclient.js'));

function longpoll(url, agent) {
  XHR.nodejsSet({ httpsAgent: agent });
  return open(url, { authmethods: ['tls', 'anonymous'] });
}

async function leave(lp) {
  const closed = new Promise((resolve) => {
    lp.connection.onclose = (reason) => { resolve(reason); return true; };
  });
  lp.connection.close();
  H.assertEq(await H.deadline(closed, 5000, 'long-poll close'), 'closed', 'clean close');
}

H.main({
  async 'rpc and pubsub over https long-poll'(url, ser) {
    H.assert(url.startsWith('wss://'), `wss listener: ${url}`);
    const lpUrl = url.replace('wss://', 'https://').replace(/\/ws$/, '/lp');
    const lp = await longpoll(lpUrl, new https.Agent({ ca: CA }));
    H.assertEq(lp.session._socket.info.type, 'longpoll', 'transport type');
    H.assertEq(lp.details.authmethod, 'anonymous', 'no client certificate');
    const ws = await H.connect(url, 'realm1', ser);

    await lp.session.register('com.lp.add', ([a, b]) => a + b);
    H.assertEq(await ws.session.call('com.lp.add', [2, 3]), 5, 'wss -> https long-poll call');
    await ws.session.register('com.ws.mul', ([a, b]) => a * b);
    H.assertEq(await lp.session.call('com.ws.mul', [4, 5]), 20, 'https long-poll -> wss call');

    const got = H.signal();
    await lp.session.subscribe('com.lp.news', (args, kwargs) => got.resolve([args, kwargs]));
    await ws.session.publish('com.lp.news', ['hi'], { k: 1 }, { acknowledge: true });
    H.assertEq(await H.deadline(got, 5000, 'event over long-poll'), [['hi'], { k: 1 }],
      'wss -> long-poll event');
    await leave(lp);
    await H.close(ws);
  },

  async 'client certificate: the tls method over https long-poll'(url) {
    const lpUrl = url.replace('wss://', 'https://').replace(/\/ws$/, '/lp');
    const lp = await longpoll(lpUrl, new https.Agent({ ca: CA,
      cert: fs.readFileSync(file('client.pem')), key: fs.readFileSync(file('client.key')) }));
    H.assertEq([lp.details.authmethod, lp.details.authid, lp.details.authrole],
      ['tls', 'device-9', 'device'], 'client certificate');
    H.assert(await lp.session.call('wamp.session.count') >= 1, 'the session works');
    await leave(lp);
  },
}, { config: CONFIG });
