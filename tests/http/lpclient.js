// Autobahn|JS over the WAMP HTTP long-poll transport: open a session and wait for it
// (tests/http/longpoll.js and longpoll_tls.js). Node has no XMLHttpRequest: the caller sets
// globalThis.XMLHttpRequest (npm xhr2) first.
'use strict';

const path = require('path');
const H = require(path.join(__dirname, '..', 'interop', 'js', 'lib', 'harness.js'));

// {session, connection, details} of a joined long-poll session at url; extra options
// (authmethods, ...) go to the Connection.
function longpoll(url, extra = {}) {
  const connection = new H.autobahn.Connection({
    transports: [{ type: 'longpoll', url, request_timeout: 5000 }],
    realm: 'realm1', max_retries: 0, retry_if_unreachable: false, ...extra,
  });
  const p = new Promise((resolve, reject) => {
    connection.onopen = (session, details) => resolve({ session, connection, details });
    connection.onclose = (reason, details) => {
      reject(new Error(`long-poll session closed: ${reason} ${JSON.stringify(details)}`));
      return true;
    };
  });
  connection.open();
  return H.deadline(p, 10000, 'long-poll join');
}

module.exports = { longpoll };
