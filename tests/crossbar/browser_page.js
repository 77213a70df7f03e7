// A Crossbar web transport as a browser uses it: one port serving a static directory at "/"
// and the WAMP WebSocket at "/ws" (the shape of crossbar-examples' hello world), loaded in a
// real headless Chromium (tests/interop/js/lib/browser.js).
//   - the page and its script come from the static service (right MIME types, no errors);
//   - the page's script opens a WebSocket to ws://<same host:port>/ws (WAMP over JSON, written
//     by hand in the page: no bundler), joins realm1 and calls a procedure that Autobahn|JS
//     registered over the same endpoint; the result is shown in the page;
//   - a path outside the directory (traversal) is refused, the page keeps working;
//   - the router sees the browser's session (WebSocket, anonymous), and the session ends
//     when the page goes away (wamp.session.on_leave).
// Every wait has a deadline (waitForFunction timeouts); nothing sleeps.
//   WAMPD_BIN=... node browser_page.js json|msgpack   (the Autobahn|JS callee's serializer)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const h = require('../interop/js/lib/harness');
const { withBrowser, watch } = require('../interop/js/lib/browser');

const { connect, close, assert, assertEq } = h;
const WAIT = { timeout: 15000, polling: 100 };

const web = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-web-'));
fs.writeFileSync(path.join(web, 'index.html'), `<!doctype html>
<html><head><meta charset="utf-8"><title>wampd browser test</title><link rel="icon" href="data:,">
<script src="app.js"></script></head>
<body><p id="state">loading</p><p id="result"></p></body></html>
`);
// WAMP by hand: HELLO, WELCOME, CALL, RESULT (message codes of the basic profile)
fs.writeFileSync(path.join(web, 'app.js'), `'use strict';
window.addEventListener('load', () => {
  const state = document.getElementById('state');
  const ws = new WebSocket('ws://' + location.host + '/ws', ['wamp.2.json']);
  ws.onopen = () => {
    state.textContent = 'open';
    ws.send(JSON.stringify([1, 'realm1', {roles: {caller: {}}}]));
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m[0] === 2) {
      state.textContent = 'joined ' + m[1];
      window.wampSession = m[1];
      ws.send(JSON.stringify([48, 1, {}, 'com.example.add2', [2, 3]]));
    } else if (m[0] === 50) {
      document.getElementById('result').textContent = String(m[3][0]);
    } else {
      state.textContent = 'unexpected ' + e.data;
    }
  };
  ws.onclose = (e) => { state.textContent += ' closed ' + e.code; };
});
`);
fs.writeFileSync(path.join(os.tmpdir(), `wampd-outside-${process.pid}.txt`), 'outside\n');

const config = {
  version: 2,
  workers: [{
    type: 'router',
    realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [
      { uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }] }],
    transports: [{
      type: 'web',
      endpoint: { type: 'tcp', port: 8080 },
      paths: {
        '/': { type: 'static', directory: web },
        ws: { type: 'websocket', serializers: ['json', 'msgpack'] },
      },
    }],
  }],
};

function get(url, raw) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: raw || u.pathname, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const scenarios = {
  async 'static page on the WebSocket port calls a procedure'(url, ser) {
    const base = url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    // the static files, as curl would see them
    const index = await get(`${base}/`);
    assertEq(index.status, 200, 'index.html status');
    assertEq(index.type, 'text/html; charset=utf-8', 'index.html type');
    const js = await get(`${base}/app.js`);
    assertEq(js.status, 200, 'app.js status');
    assert(/javascript/.test(js.type), `app.js type ${js.type}`);
    const out = await get(`${base}/`, `/../wampd-outside-${process.pid}.txt`);
    assert(out.status === 403 || out.status === 404, `traversal refused (${out.status})`);
    assert(!out.body.includes('outside'), 'nothing outside the directory is served');

    const callee = await connect(url, 'realm1', ser);
    await callee.session.register('com.example.add2', (args) => args[0] + args[1]);
    try {
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const problems = watch(page);
        const res = await page.goto(`${base}/`, { waitUntil: 'load', timeout: 15000 });
        assertEq(res.status(), 200, 'page status');
        await page.waitForFunction(() => document.getElementById('result').textContent === '5', WAIT);
        const sid = await page.evaluate(() => window.wampSession);
        assert(Number.isInteger(sid) && sid > 0, `the page joined (${sid})`);
        // the router knows the browser's session
        const info = await callee.session.call('wamp.session.get', [sid]);
        assertEq(info.transport.type, 'websocket', 'browser session transport');
        assertEq(info.authrole, 'anonymous', 'browser session role');
        assertEq(problems, [], 'no console errors, page errors or failed requests');
        // the page goes away: so does its session (wamp.session.on_leave names it)
        const left = h.signal();
        const sub = await callee.session.subscribe('wamp.session.on_leave', (args) => {
          if (args[0] === sid) left.resolve();
        });
        await page.close();
        await h.deadline(left, 15000, 'the browser session to leave');
        await callee.session.unsubscribe(sub);
      });
    } finally {
      await close(callee);
    }
  },
};

process.on('exit', () => {
  fs.rmSync(web, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), `wampd-outside-${process.pid}.txt`), { force: true });
});

// a browser start on a loaded 2-core machine under ASan can take a while
h.main(scenarios, { config, timeout: 120000 });
