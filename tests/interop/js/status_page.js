// The admin status page in a real headless Chromium (Debian's /usr/bin/chromium driven by
// puppeteer-core, pinned in tests/package.json; no browser is ever downloaded):
//   - without the admin ticket the page is refused (401);
//   - with it, the page loads with no console errors, no page errors, no failed requests;
//   - a session opened afterwards with Autobahn|JS shows up in the sessions table with its
//     authid, role, transport and serializer; its registration and subscription appear too;
//   - the throughput graph updates: new samples arrive over SSE, the canvas pixels change,
//     and the drawn message rate rises above 0 while the test client publishes;
//   - a resumable session (a raw WebSocket client asking HELLO.Details.resumable) whose
//     link is cut shows up in the detached sessions table (authid, role, window left, its
//     replay log) without its resume token anywhere on the page, and leaves it once resumed.
// Every wait has a deadline (waitForFunction timeouts); nothing sleeps.
//   WAMPD_BIN=... node status_page.js json|msgpack
'use strict';

const h = require('./lib/harness');
const { connect, close, assert, assertEq } = h;

const { withBrowser, watch } = require('./lib/browser');
const WebSocket = require('ws');

const TICKET = 'admin-s3cret';
const WAIT = { timeout: 15000, polling: 100 };

// A raw JSON WebSocket WAMP client: HELLO (details) to realm1, resolves with the WELCOME.
function rawJoin(url, details) {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(url, ['wamp.2.json']);
    const timer = setTimeout(() => reject(new Error('no WELCOME within 15 s')), 15000);
    sock.on('error', reject);
    sock.on('open', () => sock.send(JSON.stringify([1, 'realm1', details])));
    sock.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg[0] === 7) return; // ACK
      clearTimeout(timer);
      if (msg[0] !== 2) reject(new Error('expected WELCOME, got ' + JSON.stringify(msg)));
      else resolve({ sock, welcome: msg });
    });
  });
}

const scenarios = {
  async 'status page: ticket, sessions, registrations, live graph'(url, ser, router) {
    const admin = router.adminUrl;
    assert(admin, 'the admin URL was printed');
    await withBrowser(async (browser) => {
      // no ticket: refused
      const denied = await browser.newPage();
      const r401 = await denied.goto(`${admin}/status`, { waitUntil: 'load', timeout: 15000 });
      assertEq(r401.status(), 401, 'status page without the ticket');
      await denied.close();

      const page = await browser.newPage();
      // the event stream is cut when the page is closed at the end: not a failure of the page
      const problems = watch(page, (u) => u.includes('/status/events'));
      const res = await page.goto(`${admin}/status?ticket=${TICKET}`, { waitUntil: 'load', timeout: 15000 });
      assertEq(res.status(), 200, 'status page with the ticket');
      assertEq(res.headers()['content-type'], 'text/html; charset=utf-8', 'content type');
      // the stream is live and the first table render happened
      await page.waitForFunction(() => document.getElementById('stream-state').textContent === 'live', WAIT);
      await page.waitForFunction(() => document.querySelector('#realms tr[data-realm="realm1"]'), WAIT);

      // a session opened now appears, with what the router knows of it
      const c = await connect(url, 'realm1', ser);
      const sid = c.session.id;
      await c.session.register('com.status.proc', () => 1);
      await c.session.subscribe('com.status.topic', () => {});
      await page.waitForFunction((id) => document.querySelector(`#sessions tr[data-session="${id}"]`), WAIT, sid);
      const cells = await page.$$eval(`#sessions tr[data-session="${sid}"] td`, (tds) => tds.map((td) => td.textContent));
      assertEq(cells[0], 'realm1', 'realm cell');
      assertEq(cells[1], String(sid), 'session id cell');
      assertEq(cells[2], c.details.authid, 'authid cell');
      assertEq(cells[3], c.details.authrole, 'role cell');
      assertEq(cells[5], 'websocket', 'transport cell');
      assertEq(cells[6], ser, 'serializer cell');
      assert(/^127\.0\.0\.1:\d+$/.test(cells[7]), `peer cell ${cells[7]}`);
      await page.waitForFunction(() => [...document.querySelectorAll('#registrations td')]
        .some((td) => td.textContent === 'com.status.proc'), WAIT);
      await page.waitForFunction(() => [...document.querySelectorAll('#subscriptions td')]
        .some((td) => td.textContent === 'com.status.topic'), WAIT);

      // the graph: new samples change the canvas, and traffic shows as a rate above 0
      const before = await page.evaluate(() => ({
        samples: Number(document.getElementById('samples').textContent),
        png: document.getElementById('throughput').toDataURL(),
      }));
      let publishing = true;
      const traffic = (async () => {
        while (publishing) {
          await c.session.publish('com.status.topic', [1], {}, { acknowledge: true });
        }
      })();
      try {
        await page.waitForFunction((n) => Number(document.getElementById('samples').textContent) >= n + 2,
          WAIT, before.samples);
        await page.waitForFunction(() => {
          const cv = document.getElementById('throughput');
          return Number(cv.dataset.points) >= 2 && Number(document.getElementById('rate-in').textContent.replace(/[kM]$/, '')) > 0;
        }, WAIT);
      } finally {
        publishing = false;
        await traffic;
      }
      const after = await page.evaluate(() => document.getElementById('throughput').toDataURL());
      assert(after !== before.png, 'the canvas was redrawn with new data');

      // the session leaves: its row goes away
      await close(c);
      await page.waitForFunction((id) => !document.querySelector(`#sessions tr[data-session="${id}"]`), WAIT, sid);

      // a resumable session whose link is cut: listed as detached, without its token
      const roles = { subscriber: {}, caller: {} };
      const a = await rawJoin(url, { roles, resumable: true });
      const rid = a.welcome[1], token = a.welcome[2]['resume-token'];
      assert(token, 'the realm offers resumption');
      a.sock.terminate(); // the TCP connection drops: no GOODBYE, no close frame
      await page.waitForFunction((id) => document.querySelector(`#detached tr[data-session="${id}"]`), WAIT, rid);
      const dcells = await page.$$eval(`#detached tr[data-session="${rid}"] td`, (tds) => tds.map((td) => td.textContent));
      assertEq(dcells[0], 'realm1', 'detached: realm cell');
      assertEq(dcells[1], String(rid), 'detached: session id cell');
      assertEq(dcells[2], a.welcome[2].authid, 'detached: authid cell');
      assertEq(dcells[3], a.welcome[2].authrole, 'detached: role cell');
      assert(/^127\.0\.0\.1:\d+$/.test(dcells[4]), `detached: last peer cell ${dcells[4]}`);
      assert(/ min /.test(dcells[6]), `detached: window left cell ${dcells[6]}`);
      assertEq(dcells[7], '0 messages', 'detached: replay log cell');
      assertEq(dcells[8], '0 B of 64.0 KiB', 'detached: log bytes cell');
      assertEq(dcells[9], '0', 'detached: waiting calls cell');
      const html = await page.content();
      assert(!html.includes(token), 'the resume token is not on the page');
      // resumed: no longer detached
      const b = await rawJoin(url, { roles, resumable: true, resume: { session: rid, token, received: 0 } });
      assertEq(b.welcome[1], rid, 'the same session resumed');
      assertEq(b.welcome[2].resumed, true, 'resumed');
      await page.waitForFunction((id) => !document.querySelector(`#detached tr[data-session="${id}"]`), WAIT, rid);
      b.sock.send(JSON.stringify([6, {}, 'wamp.close.close_realm']));
      b.sock.close();
      assertEq(problems, [], 'no console errors, page errors or failed requests');
      await page.close();
    });
  },
};

// a browser start on a loaded 2-core machine under ASan can take a while: 120 s for the scenario
h.main(scenarios, { config: { admin: { port: 0, ticket: TICKET },
  realms: [{ name: 'realm1', resume: { window_s: 600, max_bytes: 65536 } }] },
  timeout: 120000 });
