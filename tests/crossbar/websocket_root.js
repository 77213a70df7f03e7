// Autobahn|JS against wampd on a Crossbar websocket transport (configs/root-websocket.json,
// shaped like the Autobahn|JS suite's own test router: ws://127.0.0.1:8090, CBOR first):
// Crossbar serves it at "/" (and any path); Autobahn|JS connects with the URL as given.
//   WAMPD_BIN=... node websocket_root.js cbor|json|msgpack
'use strict';

const path = require('path');
const fs = require('fs');
const h = require(path.join(__dirname, '..', 'interop', 'js', 'lib', 'harness'));
const { autobahn, connect, close, assertEq, signal, deadline } = h;

const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs', 'root-websocket.json')));
// the router's URL without its path: what the suite's tests use (ws://127.0.0.1:8090)
const root = (url) => url.replace(/\/$/, '');

const scenarios = {
  async 'join at "/" without a path, call and publish'(url, ser) {
    assertEq(new URL(url).pathname, '/', 'the URL printed for a websocket transport');
    const a = await connect(root(url), 'realm1', ser);
    const b = await connect(root(url) + '/', 'realm1', ser);
    assertEq(a.details.authrole, 'anonymous', 'role');
    await a.session.register('com.example.mul', (args) => args[0] * args[1]);
    assertEq(await b.session.call('com.example.mul', [6, 7]), 42, 'call');
    const got = signal();
    await a.session.subscribe('com.example.tick', (args) => got.resolve(args));
    await b.session.publish('com.example.tick', [1, 'two'], {}, { acknowledge: true });
    assertEq(await deadline(got, 5000, 'event'), [1, 'two'], 'event');
    if (ser !== 'json') { // binary payloads stay bytes
      await a.session.register('com.example.echo', (args) => args[0]);
      const r = await b.session.call('com.example.echo', [Buffer.from([0, 1, 255])]);
      assertEq([...r], [0, 1, 255], 'bytes');
    }
    await close(a);
    await close(b);
  },

  async 'any path is the transport\'s'(url, ser) {
    const c = await connect(root(url) + '/some/path?x=1', 'realm1', ser);
    assertEq(c.details.authmethod, 'anonymous', 'method');
    await close(c);
  },
};

h.main(scenarios, { config });
