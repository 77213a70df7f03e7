// Test harness for the JS interop tests: starts the real wampd on a free port, opens
// Autobahn|JS sessions, runs named scenarios with a deadline each, then stops wampd with
// SIGTERM and checks it exits 0 with no sanitizer report. Every wait has a deadline.
'use strict';

const { spawn } = require('child_process');
const path = require('path');
const fs = require('fs');

const NODE_MODULES = path.join(__dirname, '..', '..', '..', 'node_modules');
const WS = require(path.join(NODE_MODULES, 'ws'));
globalThis.WebSocket = WS; // node 20 has no global WebSocket; Autobahn|JS wants one
const autobahn = require(path.join(NODE_MODULES, 'autobahn'));

const SANITIZER = /ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:/;

function deadline(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

class Router {
  constructor(opts = {}) {
    this.bin = process.env.WAMPD_BIN;
    if (!this.bin) throw new Error('WAMPD_BIN is not set');
    this.opts = opts;
    this.stderr = '';
  }

  // opts: config (an object, written to a temporary file) or configFile (a file used as it
  // is: its directory is the configuration's, e.g. an application directory; wantAdmin: it
  // has an admin listener), env (added to wampd's environment), args (more arguments)
  start() {
    const args = ['--port', '0', '--log-level', 'info'];
    if (this.opts.configFile) args.push('--config', this.opts.configFile);
    if (this.opts.args) args.push(...this.opts.args);
    if (this.opts.config) {
      const file = path.join(require('os').tmpdir(), `wampd-js-${process.pid}-${Date.now()}.json`);
      fs.writeFileSync(file, JSON.stringify(this.opts.config));
      this.configFile = file;
      args.push('--config', file);
    }
    this.proc = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'],
      env: Object.assign({}, process.env, this.opts.env || {}) });
    this.proc.stderr.on('data', (d) => { this.stderr += d.toString(); });
    let out = '';
    const ready = new Promise((resolve, reject) => {
      // with an admin listener configured, wait for its line too ("listening admin http://...")
      const wantAdmin = !!((this.opts.config && this.opts.config.admin) || this.opts.wantAdmin);
      this.proc.stdout.on('data', (d) => {
        out += d.toString();
        const m = out.match(/listening (wss?:\/\/\S+)/);
        // every listener's line (ws, wss, rs, rss, unix) in order, for urlOf()
        this.urls = [...out.matchAll(/listening (\S+)/g)].map((x) => x[1])
          .filter((u) => u !== 'admin').map((u) => u.replace('0.0.0.0', '127.0.0.1'));
        const a = out.match(/listening admin (http:\/\/\S+)/);
        if (a) this.adminUrl = a[1].replace('0.0.0.0', '127.0.0.1').replace(/\/$/, '');
        if (m && (!wantAdmin || a)) resolve(m[1].replace('0.0.0.0', '127.0.0.1'));
      });
      this.proc.on('exit', (code) => reject(new Error(`wampd exited ${code}:\n${this.stderr}`)));
    });
    return deadline(ready, 15000, 'wampd to listen').then((url) => { this.url = url; return this; });
  }

  // The n-th listening URL of a scheme: 'ws', 'wss', 'rs', 'rss' or 'unix'.
  urlOf(scheme, n = 0) {
    const all = this.urls.filter((u) => u.split(':')[0] === scheme);
    if (n >= all.length) throw new Error(`no ${scheme} listener among ${this.urls}`);
    return all[n];
  }

  async stop() {
    const exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve([code, sig])));
    this.proc.kill('SIGTERM');
    const [code, sig] = await deadline(exited, 15000, 'wampd to exit after SIGTERM');
    if (this.configFile) fs.unlinkSync(this.configFile);
    if (SANITIZER.test(this.stderr)) throw new Error(`sanitizer report:\n${this.stderr}`);
    if (code !== 0) throw new Error(`wampd exited with ${code} (${sig}):\n${this.stderr}`);
  }
}

function serializer(name) {
  if (name === 'cbor') {
    if (!autobahn.serializer.CBORSerializer) throw new Error('Autobahn|JS has no CBOR serializer');
    return new autobahn.serializer.CBORSerializer();
  }
  return name === 'msgpack' ? new autobahn.serializer.MsgpackSerializer()
                            : new autobahn.serializer.JSONSerializer();
}

// The Autobahn|JS transport for a URL: ws:// or wss:// (WebSocket); rs://host:port
// (RawSocket over TCP) or unix:/path (RawSocket over a Unix socket), JSON only in
// Autobahn|JS's rawsocket transport.
function transportOf(url) {
  const u = url.match(/^rs:\/\/([^:/]+):(\d+)/);
  if (u) return { type: 'rawsocket', host: u[1], port: Number(u[2]) };
  if (url.startsWith('unix:')) return { type: 'rawsocket', path: url.slice(5) };
  return { type: 'websocket', url };
}

// Open a session; resolves with {session, connection, details} or rejects with the
// ABORT reason as error.reason. url: see transportOf.
function connect(url, realm, ser, extra = {}) {
  const transport = transportOf(url);
  if (transport.type === 'rawsocket' && ser !== 'json') {
    throw new Error(`Autobahn|JS speaks RawSocket with JSON only, not ${ser}`);
  }
  const connection = new autobahn.Connection(Object.assign({
    transports: [transport], realm, serializers: [serializer(ser)], max_retries: 0,
    retry_if_unreachable: false,
  }, extra));
  const p = new Promise((resolve, reject) => {
    connection.onopen = (session, details) => resolve({ session, connection, details });
    connection.onclose = (reason, details) => {
      const e = new Error(`session closed: ${reason} ${details && details.reason}`);
      e.reason = details && details.reason;
      reject(e);
      return true; // no reconnect
    };
  });
  connection.open();
  return deadline(p, 10000, `join ${realm}`);
}

async function close(c) {
  const closed = new Promise((resolve) => { c.connection.onclose = () => { resolve(); return true; }; });
  c.connection.close();
  await deadline(closed, 5000, 'close');
}

async function expectError(promise, uri) {
  try {
    const r = await promise;
    throw new Error(`expected ${uri}, got result ${JSON.stringify(r)}`);
  } catch (e) {
    const got = e.error || e.reason || e.message;
    if (got !== uri) throw new Error(`expected ${uri}, got ${got}`);
    return e;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function assertEq(a, b, msg) {
  const sa = JSON.stringify(a), sb = JSON.stringify(b);
  if (sa !== sb) throw new Error(`assertion failed: ${msg}: ${sa} !== ${sb}`);
}

// A promise with its resolver, for events.
function signal() {
  let resolve;
  const p = new Promise((r) => { resolve = r; });
  p.resolve = resolve;
  return p;
}

// Autobahn|JS reports progressive results through a deferred's notify(), which ES6
// promises lack: give it (connect option use_deferred) a deferred whose promise has a
// progress(callback).
function progressDeferred() {
  const d = {}, listeners = [];
  d.promise = new Promise((resolve, reject) => { d.resolve = resolve; d.reject = reject; });
  d.notify = (v) => listeners.forEach((f) => f(v));
  d.promise.progress = (f) => { listeners.push(f); return d.promise; };
  return d;
}

// Run scenarios against one router; exit code 0 only if all pass.
async function main(scenarios, opts = {}) {
  const ser = process.argv[2] || 'json';
  const router = await new Router(opts).start();
  let failed = 0;
  for (const [name, fn] of Object.entries(scenarios)) {
    try {
      await deadline(fn(router.url, ser, router), opts.timeout || 30000, name);
      console.log(`ok   ${name} (${ser})`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name} (${ser}): ${e.stack || e}`);
    }
  }
  try {
    await router.stop();
  } catch (e) {
    failed++;
    console.log(`FAIL router shutdown: ${e.message}`);
  }
  if (failed) {
    console.log(`--- wampd stderr ---\n${router.stderr.split('\n').slice(-40).join('\n')}`);
  }
  process.exit(failed ? 1 : 0);
}

module.exports = { autobahn, Router, connect, close, expectError, assert, assertEq, signal,
  deadline, main, serializer, transportOf, progressDeferred };
