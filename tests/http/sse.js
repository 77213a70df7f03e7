// Server-Sent Events with a real EventSource client (npm eventsource): events published by
// Autobahn|JS arrive with id = publication id and data = {topic, args, kwargs}; a second
// EventSource resumes with Last-Event-ID from the realm's event history and then gets live
// events; ticket authentication through the Authorization header; refusals with status.
'use strict';

const path = require('path');
const H = require(path.join(__dirname, '..', 'interop', 'js', 'lib', 'harness.js'));
const { EventSource } = require(path.join(__dirname, '..', 'node_modules', 'eventsource'));

const CONFIG = {
  listeners: [{
    port: 0, path: '/ws',
    auth: {
      anonymous: { type: 'static', role: 'anonymous' },
      ticket: { type: 'static', principals: { joe: { ticket: 's3cret', role: 'reader' } } },
    },
    http: { '/sse': { type: 'sse', realm: 'realm1', heartbeat: 1 } },
  }],
  realms: [{
    name: 'realm1',
    event_history: [{ uri: 'com.sse.log', match: 'exact', limit: 100 }],
    roles: [
      { name: 'anonymous', permissions: [{ uri: '', match: 'prefix',
        allow: { call: true, register: true, publish: true, subscribe: true } }] },
      { name: 'reader', permissions: [{ uri: 'com.sse.', match: 'prefix',
        allow: { subscribe: true } }] },
    ],
  }],
};

// An EventSource that records events; `headers` are added to its requests.
function stream(url, headers = {}) {
  const events = [];
  const waiters = [];
  const es = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
  });
  const opened = new Promise((resolve, reject) => {
    es.onopen = resolve;
    es.onerror = (e) => reject(Object.assign(new Error(`EventSource error ${e.code} ${e.message}`),
      { code: e.code }));
  });
  es.onmessage = (m) => {
    events.push({ id: m.lastEventId, data: JSON.parse(m.data) });
    waiters.splice(0).forEach((w) => w());
  };
  const until = (n, what) => H.deadline(new Promise((resolve) => {
    const check = () => (events.length >= n ? resolve(events) : waiters.push(check));
    check();
  }), 5000, what);
  return { es, events, opened: H.deadline(opened, 5000, 'EventSource open'), until };
}

async function pub(session, topic, args, kwargs) {
  const p = await session.publish(topic, args, kwargs, { acknowledge: true });
  return String(p.id);
}

H.main({
  async 'live events and Last-Event-ID resume'(url, ser) {
    const base = url.replace('ws://', 'http://').replace(/\/ws$/, '');
    const { session, connection } = await H.connect(url, 'realm1', ser);
    const a = stream(`${base}/sse?topic=com.sse.log`);
    await a.opened;
    const id1 = await pub(session, 'com.sse.log', ['one'], { n: 1 });
    const id2 = await pub(session, 'com.sse.log', ['two'], { n: 2 });
    await a.until(2, 'two live events');
    H.assertEq(a.events, [
      { id: id1, data: { topic: 'com.sse.log', args: ['one'], kwargs: { n: 1 } } },
      { id: id2, data: { topic: 'com.sse.log', args: ['two'], kwargs: { n: 2 } } },
    ], 'live events');
    a.es.close();

    // missed while disconnected, kept by the event history
    const id3 = await pub(session, 'com.sse.log', ['three']);
    const id4 = await pub(session, 'com.sse.log', ['four']);
    const b = stream(`${base}/sse?topic=com.sse.log`, { 'Last-Event-ID': id2 });
    await b.opened;
    await b.until(2, 'replayed events');
    const id5 = await pub(session, 'com.sse.log', ['five']);
    await b.until(3, 'live event after the replay');
    H.assertEq(b.events.map((e) => [e.id, e.data.args[0]]),
      [[id3, 'three'], [id4, 'four'], [id5, 'five']], 'resumed stream');
    b.es.close();
    await H.close({ connection });
  },

  async 'prefix match, several topics, one event per publication'(url, ser) {
    const base = url.replace('ws://', 'http://').replace(/\/ws$/, '');
    const { session, connection } = await H.connect(url, 'realm1', ser);
    const s = stream(`${base}/sse?topic=com.sse.&topic=com.sse.a&match=prefix`);
    await s.opened;
    const id = await pub(session, 'com.sse.a', [1]);
    const id2 = await pub(session, 'com.other', [2]);
    const id3 = await pub(session, 'com.sse.b.c', [3]);
    await s.until(2, 'matching events');
    H.assertEq(s.events.map((e) => [e.id, e.data.topic]),
      [[id, 'com.sse.a'], [id3, 'com.sse.b.c']], 'prefix events, no duplicate');
    H.assert(id2 !== id, 'distinct publications');
    s.es.close();
    await H.close({ connection });
  },

  async 'ticket authentication and refusals'(url, ser) {
    const base = url.replace('ws://', 'http://').replace(/\/ws$/, '');
    const { session, connection } = await H.connect(url, 'realm1', ser);
    const basic = 'Basic ' + Buffer.from('joe:s3cret').toString('base64');
    const ok = stream(`${base}/sse?topic=com.sse.t`, { Authorization: basic });
    await ok.opened;
    const id = await pub(session, 'com.sse.t', ['for joe']);
    await ok.until(1, 'event for the ticket reader');
    H.assertEq(ok.events[0].id, id, 'ticket stream');
    ok.es.close();

    const bad = stream(`${base}/sse?topic=com.sse.t`,
      { Authorization: 'Basic ' + Buffer.from('joe:wrong').toString('base64') });
    const e1 = await bad.opened.then(() => null, (e) => e);
    H.assertEq(e1 && e1.code, 401, 'wrong ticket refused');
    bad.es.close();
    // joe's role may subscribe to com.sse. only
    const denied = stream(`${base}/sse?topic=com.secret`, { Authorization: basic });
    const e2 = await denied.opened.then(() => null, (e) => e);
    H.assertEq(e2 && e2.code, 403, 'not authorized topic refused');
    denied.es.close();
    const none = stream(`${base}/sse`);
    const e3 = await none.opened.then(() => null, (e) => e);
    H.assertEq(e3 && e3.code, 400, 'no topic refused');
    none.es.close();
    await H.close({ connection });
  },
}, { config: CONFIG });
