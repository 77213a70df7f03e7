// Worker processes (issue #22): application directories written for these tests
// (tests/workers/apps/), each started as `wampd --config <its config.json>` with its
// backends, called by Autobahn|JS, then wampd stopped with SIGTERM: it must exit 0 and leave
// no process it started running (checked by PID and by process group in /proc).
//   guest        a Crossbar guest worker: a Node.js backend registering procedures
//   container    a Crossbar container: two Python components, one calling the other
//   router       a Crossbar router worker's component with a role (the internal socket)
//   supervision  a crashing guest restarted, a crash-looping one given up on, a clean exit
//                left alone, one ignoring SIGTERM killed; the admin status page's workers
//   noautobahn   Python components on a Python without Autobahn: said at start, the router
//                and the other processes go on
//   WAMPD_BIN=... node workers.js <scenario>
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const h = require('../interop/js/lib/harness');
const { Router, connect, close, assert, assertEq, signal, deadline } = h;

const APPS = path.join(__dirname, 'apps');
let current = null; // the scenario's router, for its log when it fails
const WAIT = 30000; // Python components start in about a second; ASan and load: more

// ---------------------------------------------------------------------------- helpers

// A process's state letter ('R', 'S', 'Z', ...) and process group, or null when it is gone.
function proc(pid) {
  let s;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    return null;
  }
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { state: f[0], pgrp: Number(f[2]) };
}

// Every live process in one of these process groups.
function inGroups(pgrps) {
  const left = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = proc(d);
    if (p && pgrps.has(p.pgrp)) left.push(`${d} (group ${p.pgrp}, state ${p.state})`);
  }
  return left;
}

// Wait (on wampd's stderr, no polling) for a log line matching re; returns the match.
function waitLog(router, re, ms = WAIT) {
  const m = router.stderr.match(re);
  if (m) return Promise.resolve(m);
  return deadline(new Promise((resolve) => {
    const on = () => {
      const mm = router.stderr.match(re);
      if (mm) {
        router.proc.stderr.off('data', on);
        resolve(mm);
      }
    };
    router.proc.stderr.on('data', on);
  }), ms, `log line ${re}`);
}

// The pids wampd started for a worker, from its "started worker=ID pid=N" lines.
function pidsOf(router, id) {
  return [...router.stderr.matchAll(new RegExp(`started worker=${id} pid=(\\d+)`, 'g'))]
    .map((m) => Number(m[1]));
}

// Wait until procedure uri is registered: the meta event, or a lookup that finds it.
async function waitRegistered(session, uri, ms = WAIT) {
  const created = signal();
  const sub = await session.subscribe('wamp.registration.on_create', (args) => {
    if (args[1] && args[1].uri === uri) created.resolve();
  });
  const id = await session.call('wamp.registration.lookup', [uri]);
  if (id === null || id === undefined) await deadline(created, ms, `registration of ${uri}`);
  await session.unsubscribe(sub);
}

function getJson(url) {
  return deadline(new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (e) { reject(e); }
      });
    }).on('error', reject);
  }), 10000, url);
}

async function startApp(config, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-workers-'));
  const router = new Router({
    configFile: path.join(APPS, config),
    // the app's Unix socket (its config reads ${WAMPD_APP_SOCK}); no __pycache__ in the
    // source tree
    env: Object.assign({ WAMPD_APP_SOCK: path.join(dir, 'app.sock'),
      PYTHONDONTWRITEBYTECODE: '1' }, env),
  });
  router.tmp = dir;
  router.opts.wantAdmin = /"admin"/.test(fs.readFileSync(path.join(APPS, config), 'utf8'));
  current = router;
  await router.start();
  return router;
}

// SIGTERM, exit 0, and nothing it started left: no pid alive (nor a zombie), nothing in
// their process groups.
async function stopApp(router, ids) {
  const pids = ids.flatMap((id) => pidsOf(router, id));
  assert(pids.length >= ids.length, `every worker was started: ${ids} -> ${pids}`);
  await router.stop();
  for (const pid of pids) {
    const p = proc(pid);
    assert(p === null, `worker pid ${pid} left behind after wampd stopped: ${JSON.stringify(p)}`);
  }
  const left = inGroups(new Set(pids));
  assertEq(left, [], 'processes left in the workers\' process groups');
  fs.rmSync(router.tmp, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------- scenarios

const scenarios = {
  async guest() {
    const router = await startApp('guest/.crossbar/config.json');
    await waitLog(router, /ignored: workers\[1\]\.options\.watch: restarting on file changes is not supported/);
    const c = await connect(router.url, 'realm1', 'json');
    await waitRegistered(c.session, 'com.example.whereami');
    assertEq(await c.session.call('com.example.add2', [2, 3]), 5, 'add2');
    // options.env.vars and the arguments reach the guest
    assertEq(await c.session.call('com.example.greet', ['world']),
      'hello, world (--greeting-from-argv)', 'greet');
    // options.workdir is relative to the configuration's directory
    const [cwd, pid] = await c.session.call('com.example.whereami');
    assertEq(cwd, fs.realpathSync(path.join(APPS, 'guest', 'node')), 'workdir');
    assertEq(pidsOf(router, 'backend'), [pid], 'the pid wampd logged is the backend\'s');
    // its stdout and stderr in wampd's log, with the worker's id
    await waitLog(router, new RegExp(`notice worker: worker=backend stdout: backend ready pid=${pid}`));
    await waitLog(router, /worker=backend stderr: a line on stderr/);
    await close(c);
    await stopApp(router, ['backend']);
    assert(/stopping worker=backend pid=\d+ \(SIGTERM\)/.test(router.stderr), 'SIGTERM logged');
    assert(/stopped worker=backend pid=\d+ status="exit 0"/.test(router.stderr),
      'the backend left on SIGTERM');
  },

  async container() {
    const router = await startApp('container/.crossbar/config.json');
    const c = await connect(router.url, 'realm1', 'json');
    await waitRegistered(c.session, 'com.example.mul');
    await waitRegistered(c.session, 'com.example.mul_plus');
    // one component calls the other; extra comes from each component's configuration
    const r = await c.session.call('com.example.mul_plus', [4, 2]);
    assertEq(r, { result: 42, by: 'frontend', suffix: '!',
      cwd: fs.realpathSync(path.join(APPS, 'container', '.crossbar')) }, 'mul_plus');
    assertEq(await c.session.call('com.example.mul', [7]), 70, 'mul');
    // both components run in the container's one process
    assertEq(pidsOf(router, 'hello').length, 1, 'one process for the container');
    await waitLog(router, /worker=hello stdout: backend ready: mul by 10/);
    await waitLog(router, /worker=hello stdout: frontend ready/);
    await close(c);
    await stopApp(router, ['hello']);
  },

  async router() {
    const router = await startApp('router/.crossbar/config.json');
    const c = await connect(router.url, 'realm1', 'json');
    await waitRegistered(c.session, 'com.example.whoami');
    // joined as Crossbar's router components do: a random UUID as authid (uuid4), the
    // configured role, authmethod "trusted" (proven with its secret: auth/trusted.c), into
    // the component's realm, with its extra; its role's permissions apply to it like to any
    // session
    const me = await c.session.call('com.example.whoami');
    assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(me.authid),
      `a uuid4 authid: ${me.authid}`);
    assertEq(me, {
      authid: me.authid, authrole: 'backend', authmethod: 'trusted', realm: 'realm1',
      extra: { motto: 'in the router' }, outside_role: 'wamp.error.not_authorized',
    }, 'whoami');
    await waitLog(router, new RegExp(`router component worker=worker001 component=inside joins as authid=${me.authid} authrole=backend realm=realm1`));
    await waitLog(router, new RegExp(`join session=\\d+ realm=realm1 authid=${me.authid} authrole=backend authmethod=trusted transport=rawsocket`));
    // ... and what another session sees of it (the meta API)
    const ids = await c.session.call('wamp.session.list');
    const infos = await Promise.all(ids.map((id) => c.session.call('wamp.session.get', [id])));
    const mine = infos.filter((i) => i.authrole === 'backend');
    assertEq(mine.length, 1, `one backend session: ${JSON.stringify(infos)}`);
    assertEq([mine[0].authid, mine[0].authrole, mine[0].authmethod],
      [me.authid, 'backend', 'trusted'], 'wamp.session.get of the component');
    assertEq(infos.filter((i) => i.authrole !== 'backend').map((i) => i.authmethod),
      ['anonymous'], 'this client: anonymous');
    // the internal socket sits in a private directory
    const sock = router.urls.find((u) => u.startsWith('unix:')).slice(5);
    const dir = path.dirname(sock);
    assertEq(fs.statSync(dir).mode & 0o777, 0o700, 'the internal socket\'s directory mode');
    await close(c);
    await stopApp(router, ['worker001']);
    assert(!fs.existsSync(dir), `${dir} removed at exit`);
  },

  async supervision() {
    const router = await startApp('supervision/config.json');
    const c = await connect(router.url, 'realm1', 'json');
    await waitRegistered(c.session, 'com.example.crash');
    const pid1 = await c.session.call('com.example.pid');
    assertEq(pidsOf(router, 'crashy'), [pid1], 'crashy\'s pid');

    // a crash: reaped (no zombie), restarted after its backoff, its procedures back
    const back = signal();
    await c.session.subscribe('wamp.registration.on_create', (args) => {
      if (args[1] && args[1].uri === 'com.example.pid') back.resolve();
    });
    try {
      await c.session.call('com.example.crash');
    } catch (e) {
      /* the callee died with the call */
    }
    await waitLog(router, new RegExp(`exited worker=crashy pid=${pid1} status="exit 3"`));
    await waitLog(router, /restarting worker=crashy in_ms=200 fast_exits=1/);
    await deadline(back, WAIT, 'crashy registered again');
    const pid2 = await c.session.call('com.example.pid');
    assert(pid2 !== pid1, 'a new process answers');
    assertEq(proc(pid1), null, 'the crashed process is reaped, not a zombie');
    assertEq(pidsOf(router, 'crashy'), [pid1, pid2], 'started twice');
    await waitLog(router, /worker=crashy stderr: crashing on request/);

    // a crash loop: given up on after give_up_after fast exits, with an error line
    await waitLog(router, /error worker: gave up worker=crashloop: 3 exits in a row within min_uptime=10000ms of starting; not restarted/);
    assertEq(router.stderr.match(/worker=crashloop stdout: crash-looping/g).length, 3,
      'three runs');
    for (const pid of pidsOf(router, 'crashloop')) assertEq(proc(pid), null, 'reaped');
    // a clean exit under "on-failure": left alone
    await waitLog(router, /exited worker=oneshot pid=\d+ status="exit 0"/);
    await waitLog(router, /worker=stubborn stdout: stubborn ready/);

    // the admin status page's processes
    const st = await getJson(`${router.adminUrl}/status.json`);
    const byId = Object.fromEntries(st.workers.map((w) => [w.id, w]));
    assertEq([byId.crashy.state, byId.crashy.pid, byId.crashy.restarts, byId.crashy.last_exit],
      ['running', pid2, 1, 'exit 3'], 'crashy\'s status');
    assertEq([byId.crashloop.state, byId.crashloop.pid, byId.crashloop.restarts],
      ['failed', null, 2], 'crashloop\'s status');
    assert(/3 exits in a row/.test(byId.crashloop.error), 'crashloop\'s error');
    assertEq([byId.oneshot.state, byId.oneshot.last_exit], ['exited', 'exit 0'], 'oneshot');
    assertEq(byId.stubborn.state, 'running', 'stubborn');
    assert(!/restarting worker=oneshot/.test(router.stderr), 'a clean exit is not restarted');
    await close(c);

    // SIGTERM ignored: SIGKILL after its stop_timeout, the whole group with it
    await stopApp(router, ['crashy', 'crashloop', 'oneshot', 'stubborn']);
    assert(/killing worker=stubborn pid=\d+: still running 500ms after SIGTERM \(SIGKILL\)/
      .test(router.stderr), 'SIGKILL logged');
    assert(/stopped worker=stubborn pid=\d+ status="signal 9/.test(router.stderr),
      'stubborn killed');
    // the router stopped taking sessions before the workers were told to stop
    const order = router.stderr.indexOf('shutting down');
    assert(order >= 0 && order < router.stderr.indexOf('stopping worker=crashy'),
      'the router stops admitting sessions first');
  },

  async noautobahn() {
    const router = await startApp('noautobahn/config.json');
    await waitLog(router, /worker=components stderr: wampd-component: Autobahn\|Python for Twisted is not installed/);
    await waitLog(router, /error worker: gave up worker=components: exit 78: its components cannot run as configured/);
    // routing goes on, and so does the other process
    const a = await connect(router.url, 'realm1', 'json');
    const b = await connect(router.url, 'realm1', 'json');
    await a.session.register('com.test.echo', (args) => args);
    assertEq(await b.session.call('com.test.echo', ['x', 1]), ['x', 1], 'echo');
    await waitLog(router, /worker=other stdout: still here/);
    await close(a);
    await close(b);
    await stopApp(router, ['components', 'other']);
  },
};

(async () => {
  const name = process.argv[2];
  if (!scenarios[name]) {
    console.log(`usage: node workers.js ${Object.keys(scenarios).join('|')}`);
    process.exit(2);
  }
  try {
    await deadline(scenarios[name](), 150000, name);
    console.log(`ok   ${name}`);
    process.exit(0);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.stack || e}`);
    if (current) {
      console.log(`--- wampd stderr ---\n${current.stderr.split('\n').slice(-60).join('\n')}`);
      if (current.proc.exitCode === null) current.proc.kill('SIGKILL');
    }
    process.exit(1);
  }
})();
