// An Autobahn|JS subscriber on a realm with resumable sessions, for test_client_resume.py:
// it does not ask for resumption, so it must never see an ACK (Autobahn|JS would drop the
// session on an unknown message type) and must get every numbered event once, in order.
//   node resume_js_peer.js WS_URL TOPIC COUNT
// stdout: "ready" once subscribed, "done events=E dups=D gaps=G" at the last event, then
// it leaves and exits 0; a closed session before that exits 1.
'use strict';

const path = require('path');
const NODE_MODULES = path.join(__dirname, '..', 'node_modules');
globalThis.WebSocket = require(path.join(NODE_MODULES, 'ws'));
const autobahn = require(path.join(NODE_MODULES, 'autobahn'));

const [url, topic, count] = [process.argv[2], process.argv[3], Number(process.argv[4])];
let next = 1;
let events = 0;
let dups = 0;
let gaps = 0;
let finished = false;
const conn = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });

conn.onopen = (session) => {
  session.subscribe(topic, (args) => {
    const seq = args[0];
    events += 1;
    if (seq < next) { dups += 1; return; }
    gaps += seq - next;
    next = seq + 1;
    if (seq >= count && !finished) {
      finished = true;
      console.log(`done events=${events} dups=${dups} gaps=${gaps}`);
      conn.close();
    }
  }).then(() => console.log('ready'), (e) => { console.error('subscribe failed', e); process.exit(1); });
};
conn.onclose = (reason, details) => {
  if (!finished) {
    console.error('closed before the last event:', reason, JSON.stringify(details));
    process.exit(1);
  }
  process.exit(0);
  return true;
};
conn.open();
setTimeout(() => { console.error('timeout'); process.exit(1); }, 120000).unref();
