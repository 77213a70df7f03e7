// Autobahn|JS over the WAMP HTTP long-poll transport (transports: [{type: 'longpoll'}])
// against wampd: RPC and PubSub in both directions with an Autobahn|JS WebSocket session,
// empty receives after poll_timeout, and a clean close. Autobahn|JS's long-poll transport
// speaks JSON only (its factory offers wamp.2.json); MessagePack and batched long-poll are
// covered by test_longpoll_wire.py. Node has no XMLHttpRequest: npm xhr2 provides it.
'use strict';

const path = require('path');
const H = require(path.join(__dirname, '..', 'interop', 'js', 'lib', 'harness.js'));
globalThis.XMLHttpRequest = require(path.join(__dirname, '..', 'node_modules', 'xhr2'));

const CONFIG = {
  listeners: [{ port: 0, path: '/ws', http: { '/lp': { type: 'longpoll', poll_timeout: 1 } } }],
  realms: [{ name: 'realm1' }],
};

const { longpoll } = require(path.join(__dirname, 'lpclient.js'));

H.main({
  async 'rpc and pubsub over long-poll'(url, ser) {
    const lpUrl = url.replace('ws://', 'http://').replace(/\/ws$/, '/lp');
    const lp = await longpoll(lpUrl);
    H.assertEq(lp.session._socket.info.type, 'longpoll', 'transport type');
    const ws = await H.connect(url, 'realm1', ser);

    await lp.session.register('com.lp.add', ([a, b]) => a + b);
    H.assertEq(await ws.session.call('com.lp.add', [2, 3]), 5, 'ws -> lp call');
    await ws.session.register('com.ws.mul', ([a, b]) => a * b);
    H.assertEq(await lp.session.call('com.ws.mul', [4, 5]), 20, 'lp -> ws call');
    await H.expectError(lp.session.call('com.nobody'), 'wamp.error.no_such_procedure');

    const got = H.signal();
    await lp.session.subscribe('com.lp.news', (args, kwargs) => got.resolve([args, kwargs]));
    await ws.session.publish('com.lp.news', ['hi'], { k: 1 }, { acknowledge: true });
    H.assertEq(await H.deadline(got, 5000, 'event over long-poll'), [['hi'], { k: 1 }],
      'ws -> lp event');

    // idle longer than poll_timeout: empty receives, the session stays
    await new Promise((r) => setTimeout(r, 1500));
    const back = H.signal();
    await ws.session.subscribe('com.ws.news', (args) => back.resolve(args));
    await lp.session.publish('com.ws.news', ['from lp'], {}, { acknowledge: true });
    H.assertEq(await H.deadline(back, 5000, 'event from long-poll'), ['from lp'], 'lp -> ws event');

    const closed = new Promise((resolve) => {
      lp.connection.onclose = (reason) => { resolve(reason); return true; };
    });
    lp.connection.close();
    H.assertEq(await H.deadline(closed, 5000, 'long-poll close'), 'closed', 'clean close');
    await H.close(ws);
  },
}, { config: CONFIG });
