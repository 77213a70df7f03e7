// A guest that crashes on request (com.example.crash exits with status 3), so that the test
// sees wampd restart it; com.example.pid tells which process answers.
'use strict';

const path = require('path');
const autobahn = require(path.join(__dirname, '..', '..', '..', 'node_modules', 'autobahn'));

const connection = new autobahn.Connection({
  transports: [{ type: 'rawsocket', path: process.env.WAMPD_APP_SOCK }],
  realm: 'realm1', max_retries: -1, initial_retry_delay: 0.2, max_retry_delay: 2,
});

connection.onopen = async (session) => {
  await session.register('com.example.pid', () => process.pid);
  await session.register('com.example.crash', () => {
    console.error(`crashing on request pid=${process.pid}`);
    process.exit(3);
  });
  console.log(`crashy ready pid=${process.pid}`);
};
connection.open();
