// A Crossbar guest worker: a Node.js backend wampd starts, supervises and stops. It
// connects back to the router over the Unix socket the configuration names (Autobahn|JS's
// RawSocket transport) and registers its procedures.
'use strict';

const path = require('path');
const autobahn = require(path.join(__dirname, '..', '..', '..', '..', 'node_modules', 'autobahn'));

const connection = new autobahn.Connection({
  transports: [{ type: 'rawsocket', path: process.env.WAMPD_APP_SOCK }],
  realm: 'realm1',
  max_retries: -1,
  initial_retry_delay: 0.2,
  max_retry_delay: 2,
});

connection.onopen = async (session) => {
  await session.register('com.example.add2', (args) => args[0] + args[1]);
  await session.register('com.example.greet',
    (args) => `${process.env.APP_GREETING}, ${args[0]} (${process.argv[2]})`);
  await session.register('com.example.whereami', () => [process.cwd(), process.pid]);
  // stdout and stderr go into wampd's log with this worker's id
  console.log(`backend ready pid=${process.pid}`);
  console.error('a line on stderr');
};

// wampd stops its workers with SIGTERM: leave the realm, then exit
process.on('SIGTERM', () => {
  connection.close();
  process.exit(0);
});

connection.open();
