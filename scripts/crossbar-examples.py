#!/usr/bin/python3
"""Run wampd on every router configuration of a crossbario/crossbar-examples checkout, as a
Crossbar user would, and measure what works (issues #19 and #22). Not part of `make test`:
it needs the checkout, which is not in this repository (and must never be committed into
it).

    scripts/crossbar-examples.py [--wampd build/router/wampd] [--only SUBSTRING]
                                 [--workers-only] [--node-path DIR] [--guest-path DIR]
                                 [--json OUT.json] [--logs DIR] [-v] CHECKOUT

For each node directory named .crossbar holding a config.json or config.yaml with a
worker of type router (sorted by path), one at a time:
  1. every TCP port the configuration's router workers listen on is tried first; a port
     that something else holds is recorded ("skipped: port N in use") and the
     configuration is not started (they all use the same few fixed ports, so they run one
     after the other, each stopped before the next);
  2. `wampd --cbdir DIR` is started from the directory holding DIR (as `crossbar start`
     is), with every ${NAME} / $NAME the file references set to a placeholder when the
     environment lacks it, and waited for until it logs "ready" or exits;
  3. every WebSocket endpoint the Crossbar configuration defines (a websocket transport,
     a web transport's websocket paths, nested path services' too, a universal
     transport's websocket map; one URL counted once, however many router workers define
     it on a shared port) is joined once per realm of its router worker(s), with the
     configuration's own static credentials (anonymous when the endpoint has no auth or
     offers anonymous, else a ticket principal, else a WAMP-CRA user; cryptosign, scram,
     tls, dynamic and function authentication are recorded as not joinable with the
     file's credentials), in the first serializer the endpoint offers of json, msgpack,
     cbor, over a raw WebSocket client (tests/wire/wsraw.py), over TLS when the endpoint
     has tls (certificates not verified);
  4. every other web path (static, nodeinfo, json, redirect, caller, ...) is requested
     with GET; it is served when the answer is neither 404 nor 5xx (a 405 from a POST-only
     service counts as served); a static path answering 404 where Crossbar answers 404 too
     (its directory does not exist in the checkout, or has no index file while directory
     listing is off: see crossbar_404) is counted apart, as answering as Crossbar would;
  5. wampd gets SIGTERM and must exit (a non-zero exit is recorded); every process still in
     wampd's session after that (wampd is started as a session leader; its workers get
     process groups of their own, not sessions), or still running of the processes below
     wampd just before the SIGTERM (one that left the session with setsid), is recorded as
     left running, and killed.
Prints configs started / total, endpoints joined / total, web paths served / total, web
paths answering 404 as Crossbar does and all those answering as Crossbar would / total,
then those 404s by reason and the failures grouped by cause, each with where it happened.

Workers (issue #22). A configuration defines worker processes as wampd runs them (router/
config/crossbar_workers.c): one per `guest` worker, one per `container` worker, one per
router worker with `components`; `wampd check --cbdir` says which it will start and what it
finds wrong with them (a program not in PATH, ...). With wampd ready, between steps 2 and 3:
  a. started: a process is started when wampd logs `started worker=ID`; the script waits
     (woken by each log line) until every listed process has started or been given up on
     (`gave up worker=ID`), at most WORKER_START_TIMEOUT s;
  after steps 3 and 4:
  b. backends: every realm of the router worker(s) (and of the components) is joined once
     as in step 3, and wamp.registration.list / wamp.registration.get list the realm's
     registrations, again at each wamp.registration.on_create event and at least once a
     second, until one not under `wamp.` appears, or BACKEND_TIMEOUT s after the last
     process's first start, or no process runs or will be restarted; then the non-wamp
     subscriptions and the other sessions (wamp.session.list) are noted. When the probe's
     role may not call the meta API, the procedures the example's own .py/.js files
     register (register("uri", ...), register(fn, "uri"), @wamp.register("uri"); at most
     CALLS_TRIED) are called instead, once a second while wampd answers
     wamp.error.no_such_procedure: those are then the calls of d (made before c ends);
  c. running after settle: SETTLE s after the last process's first start (waited on log
     lines: it ends early only when every process has exited), a process is running when it
     has logged no exit since its first start, has not been given up on, and its pid is
     alive (not a zombie) in wampd's session;
  d. answering: then up to CALLS_TRIED of the registrations (exact ones first, sorted; a
     prefix or wildcard one called at a URI it matches) are called with no arguments and no
     options, one after the other, until one is answered. A call is answered when, within
     CALL_TIMEOUT s, it gets a RESULT, or an ERROR whose URI is not one wampd produces
     itself for a call no callee answered (ROUTER_CALL_ERRORS: no_such_procedure,
     not_authorized, canceled, timeout, no_available_callee, ...): an application error,
     wamp.error.invalid_argument or wamp.error.runtime_error from a procedure that wants
     arguments is the backend answering. A configuration's backends answer when one call in
     one of its realms is answered (only its workers register there: the script's sessions
     register nothing).
Workers get PYTHONDONTWRITEBYTECODE=1 (no __pycache__ in the checkout). Node.js guests get
NODE_PATH=--node-path (default: this repository's tests/node_modules, with Autobahn|JS;
nothing is installed into the checkout) and, where the machine's node has no global
WebSocket without it (Node.js 20), NODE_OPTIONS=--experimental-websocket, which
Autobahn|JS 26 needs; --guest-path puts a directory first in PATH (e.g. one with a `python`
that has Autobahn|Python). Then it prints configs with workers, workers defined, started,
running after settle, configs whose backends answer, and, grouped by cause, every process
not running after the settle time ([worker]: a dependency not installed in the checkout (a
Node.js module that `npm install` in the example would bring), a missing Python module, a
program not installed on this machine, the example's program not in the checkout (to be
built first), the example's own crash, error or exit, wampd failing to start it), every
configuration whose backends do not answer ([backend]: no worker running, no realm joinable
with the file's credentials, components that cannot connect (from their output), calls not
answered, ...), and every probe session wampd ended ([probe]).
Exit status 0 (it measures).
"""

import argparse
import base64
import collections
import errno
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "wire"))

import wsraw  # noqa: E402

try:
    import yaml
except ImportError:  # python3-yaml: only for the one config.yaml
    yaml = None

START_TIMEOUT = 15
JOIN_TIMEOUT = 5
HTTP_TIMEOUT = 5
STOP_TIMEOUT = 10
ENV_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


# ---------------------------------------------------------------------- the corpus

def find_configs(root):
    found = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        if os.path.basename(dirpath) != ".crossbar":
            continue
        for name in ("config.json", "config.yaml"):
            if name in files:
                found.append(os.path.join(dirpath, name))
    return sorted(found)


def load_config(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".yaml"):
            if yaml is None:
                raise RuntimeError("python3-yaml is not installed")
            return yaml.safe_load(f)
        return json.load(f)


def routers(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("workers"), list):
        return []
    return [w for w in doc["workers"] if isinstance(w, dict) and w.get("type") == "router"]


def env_refs(obj, out):
    """Every environment variable a string value of the document names."""
    if isinstance(obj, dict):
        for v in obj.values():
            env_refs(v, out)
    elif isinstance(obj, list):
        for v in obj:
            env_refs(v, out)
    elif isinstance(obj, str):
        m = ENV_REF.match(obj)
        if m:
            out.add(m.group(1))
    return out


def resolve(value, env):
    if isinstance(value, str):
        m = ENV_REF.match(value)
        if m:
            return env.get(m.group(1), value)
    return value


Endpoint = collections.namedtuple("Endpoint", "where url host port path tls serializers auth "
                                              "realms")
WebPath = collections.namedtuple("WebPath", "where url host port path tls kind svc")


def connect_host(endpoint):
    iface = endpoint.get("interface") if isinstance(endpoint, dict) else None
    if not iface or iface in ("0.0.0.0", "*"):
        return "127.0.0.1"
    if iface == "::":
        return "::1"
    return iface


def walk_paths(paths, prefix, where, t, host, port, tls, realms, eps, webs, env):
    if not isinstance(paths, dict):
        return
    for name, svc in paths.items():
        if not isinstance(svc, dict):
            continue
        # a nested path service's "/" is its own directory: /parent/
        path = prefix.rstrip("/") + "/" + (name.strip("/") if name != "/" else "")
        kind = svc.get("type")
        w = "%s.paths.%s" % (where, name)
        if kind == "websocket":
            eps.append(endpoint_of(w, host, port, path, tls, svc, realms, env))
        elif kind == "path":
            if "paths" not in svc:
                webs.append(WebPath(w, url_of("http", tls, host, port, path), host, port,
                                    path, tls, kind, svc))
            walk_paths(svc.get("paths"), path, w, t, host, port, tls, realms, eps, webs, env)
        else:
            webs.append(WebPath(w, url_of("http", tls, host, port, path), host, port, path,
                                tls, kind or "?", svc))


def url_of(scheme, tls, host, port, path):
    h = "[%s]" % host if ":" in host else host
    return "%s%s://%s:%s%s" % (scheme, "s" if tls else "", h, port, path)


def endpoint_of(where, host, port, path, tls, ws, realms, env):
    return Endpoint(where, url_of("ws", tls, host, port, path), host, port, path, tls,
                    ws.get("serializers"), ws.get("auth"), realms)


def expected(doc, env):
    """The WebSocket endpoints and web paths the Crossbar configuration serves."""
    eps, webs, ports = [], [], set()
    for wi, w in enumerate(doc.get("workers", [])):
        if not isinstance(w, dict) or w.get("type") != "router":
            continue
        realms = [r.get("name") for r in w.get("realms", []) if isinstance(r, dict)]
        for ti, t in enumerate(w.get("transports", [])):
            if not isinstance(t, dict):
                continue
            where = "workers[%d].transports[%d]" % (wi, ti)
            ep = t.get("endpoint") or {}
            if not isinstance(ep, dict):
                continue
            if ep.get("type", "tcp") == "tcp":
                port = resolve(ep.get("port"), env)
                try:
                    port = int(port)
                except (TypeError, ValueError):
                    port = None
                if port:
                    ports.add((ep.get("interface") or "", port))
            else:
                port = None
            tls = "tls" in ep
            host = connect_host(ep)
            kind = t.get("type")
            if port is None and kind in ("websocket", "web", "universal"):
                # a WebSocket/web service on a non-TCP endpoint: counted, not reachable here
                port = "unix"
            if kind == "websocket":
                eps.append(endpoint_of(where, host, port, "/", tls, t, realms, env))
            elif kind == "web":
                walk_paths(t.get("paths"), "/", where, t, host, port, tls, realms, eps, webs,
                           env)
            elif kind == "universal":
                for name, ws in (t.get("websocket") or {}).items():
                    path = "/" + name.strip("/") if name != "/" else "/"
                    eps.append(endpoint_of("%s.websocket.%s" % (where, name), host, port, path,
                                           tls, ws if isinstance(ws, dict) else {}, realms,
                                           env))
                web = t.get("web")
                if isinstance(web, dict):
                    walk_paths(web.get("paths"), "/", where + ".web", t, host, port, tls,
                               realms, eps, webs, env)
    # one URL is one service, however many workers define it (benchmark/web: 32 router
    # workers share port 8080): the first definition counts, realms merged
    by_url, uniq_webs = collections.OrderedDict(), collections.OrderedDict()
    for ep in eps:
        if ep.url in by_url:
            first = by_url[ep.url]
            by_url[ep.url] = first._replace(realms=first.realms + [r for r in ep.realms
                                                                   if r not in first.realms])
        else:
            by_url[ep.url] = ep
    for wp in webs:
        uniq_webs.setdefault(wp.url, wp)
    return list(by_url.values()), list(uniq_webs.values()), ports


# ---------------------------------------------------------------------- credentials

NO_CREDENTIAL = "not joinable with the file's own credentials"


def credentials(auth, realm, env):
    """(authmethod, authid, secret, role) to join with, or (None, reason)."""
    if not auth:
        return ("anonymous", None, None, "anonymous")
    if not isinstance(auth, dict):
        return (None, "auth is not an object")
    a = auth.get("anonymous")
    if isinstance(a, dict) and a.get("type", "static") == "static":
        return ("anonymous", None, None, a.get("role", "anonymous"))
    t = auth.get("ticket")
    if isinstance(t, dict) and t.get("type") == "static":
        for authid, p in (t.get("principals") or {}).items():
            if isinstance(p, dict) and p.get("realm", realm) == realm and "ticket" in p:
                return ("ticket", authid, resolve(p["ticket"], env), p.get("role"))
    c = auth.get("wampcra")
    if isinstance(c, dict) and c.get("type") == "static":
        for authid, u in (c.get("users") or {}).items():
            if isinstance(u, dict) and u.get("realm", realm) == realm and "secret" in u:
                return ("wampcra", authid, resolve(u["secret"], env), u.get("role"))
    kinds = ", ".join("%s/%s" % (m, v.get("type") if isinstance(v, dict) else "?")
                      for m, v in sorted(auth.items()))
    return (None, "%s: %s (needs an authenticator component, keys or a client "
                  "certificate)" % (NO_CREDENTIAL, kinds))


def realm_lacks_role(doc, realm, role):
    """The realm has roles and none is `role`: Crossbar refuses that login too."""
    for w in routers(doc):
        for r in w.get("realms", []):
            if isinstance(r, dict) and r.get("name") == realm and r.get("roles"):
                return role not in [x.get("name") for x in r["roles"] if isinstance(x, dict)]
    return False


def join(ep, realm, env, doc):
    """None when joined, else why not."""
    why = join_once(ep, realm, env)
    cred = credentials(ep.auth, realm, env)
    if why and cred[0] and cred[3] and realm_lacks_role(doc, realm, cred[3]):
        return "%s: the realm has no role \"%s\" for %s (Crossbar refuses it too)" % (
            NO_CREDENTIAL, cred[3], cred[0])
    return why


def join_once(ep, realm, env):
    ws, _, why = open_session(ep, realm, env)
    if ws is None:
        return why
    goodbye(ws)
    return None


def goodbye(ws):
    """Leave the realm (GOODBYE, its answer awaited briefly) and close the connection."""
    try:
        ws.send([6, {}, "wamp.close.close_realm"])
        ws.recv(2)
    except Exception:  # noqa: BLE001 - leaving: whatever the router does now is fine
        pass
    finally:
        ws.close()


def open_session(ep, realm, env):
    """(ws, session id, None) joined to realm on ep with the file's credentials (the caller
    owns ws and closes it), or (None, None, why not)."""
    if ep.port == "unix":
        return None, None, "endpoint is not TCP (not probed)"
    cred = credentials(ep.auth, realm, env)
    if cred[0] is None:
        return None, None, cred[1]
    method, authid, secret, role = cred
    sers = [s for s in ("json", "msgpack", "cbor") if not ep.serializers or s in ep.serializers]
    if not sers:
        return None, None, "no serializer this client speaks (%s)" % ep.serializers
    ctx = None
    if ep.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        ws = wsraw.WS(ep.host, ep.port, ep.path, protocols=["wamp.2." + sers[0]],
                      timeout=JOIN_TIMEOUT, tls=ctx)
    except wsraw.HandshakeRefused as e:
        return None, None, "WebSocket handshake refused: %s" % e.status
    except ConnectionRefusedError:
        return None, None, "connection refused"
    except (OSError, TimeoutError, ssl.SSLError) as e:
        return None, None, "connection failed: %s" % (e.__class__.__name__)
    why = None
    try:
        details = {"roles": {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}},
                   "authmethods": [method]}
        if authid:
            details["authid"] = authid
        msg = ws.hello(realm, details)
        if msg[0] == 4:  # CHALLENGE
            if method == "ticket":
                sig = secret
            else:
                challenge = msg[2].get("challenge", "")
                sig = base64.b64encode(hmac.new(secret.encode(), challenge.encode(),
                                                hashlib.sha256).digest()).decode()
            ws.send([5, sig, {}])
            msg = ws.recv()
        if msg[0] == 2:
            return ws, msg[1], None
        if msg[0] == 3:
            why = "ABORT %s (%s)" % (msg[2], method)
        else:
            why = "unexpected message %s" % msg[0]
    except wsraw.Closed as c:
        why = "closed by the router (code %s)" % c.code
    except (OSError, TimeoutError) as e:
        why = "no answer: %s" % e.__class__.__name__
    except BaseException:
        ws.close()
        raise
    ws.close()
    return None, None, why


def get(wp):
    """None when served (neither 404 nor 5xx), else why not."""
    if wp.port == "unix":
        return "endpoint is not TCP (not probed)"
    try:
        if wp.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection(wp.host, wp.port, timeout=HTTP_TIMEOUT, context=ctx)
        else:
            c = http.client.HTTPConnection(wp.host, wp.port, timeout=HTTP_TIMEOUT)
        c.request("GET", wp.path)
        status = c.getresponse().status
        c.close()
    except ConnectionRefusedError:
        return "connection refused"
    except (OSError, http.client.HTTPException, ssl.SSLError) as e:
        return "request failed: %s" % e.__class__.__name__
    if status == 404 or status >= 500:
        return "HTTP %d" % status
    return None


# Twisted's File.indexNames (twisted/web/static.py, 22.4: "index", "index.html",
# "index.htm", "index.rpy"): what Crossbar's static service serves for a directory
TWISTED_INDEX_NAMES = ("index", "index.html", "index.htm", "index.rpy")


def crossbar_404(wp, cbdir):
    """Why Crossbar's static service answers this static path 404 too, or None.

    crossbario/crossbar, crossbar/webservice/static.py (RouterWebServiceStatic.create):
    the directory is os.path.abspath(os.path.join(cbdir, config["directory"])), served by
    a twisted.web.static.File subclass; without options.enable_directory_listing it is
    StaticResourceNoListing, whose directoryListing() returns self.childNotFound, which is
    Resource404 unless options.default_file is set. Twisted's File (twisted/web/static.py)
    renders childNotFound when its path does not exist (render_GET: `if not
    self.exists()`), and for a directory request (an empty last segment) looks for its
    indexNames and calls directoryListing() when none exists (getChild). So Crossbar
    answers 404 where the directory is missing, or is a directory with no index file while
    listing is off; a path without its trailing "/" first gets Twisted's redirect to it
    (render_GET: `if self.isdir(): return self.redirect(request)`), then that 404.
    """
    if wp.kind != "static" or not isinstance(wp.svc, dict):
        return None
    directory = wp.svc.get("directory")
    opts = wp.svc.get("options") if isinstance(wp.svc.get("options"), dict) else {}
    if not isinstance(directory, str) or opts.get("default_file"):
        return None  # a package/resource, or a default file Crossbar would serve instead
    path = os.path.abspath(os.path.join(cbdir, directory))
    if not os.path.exists(path):
        return "static: its directory does not exist in the checkout"
    if not os.path.isdir(path) or opts.get("enable_directory_listing"):
        return None
    if not any(os.path.exists(os.path.join(path, n)) for n in TWISTED_INDEX_NAMES):
        return "static: a directory without an index file, directory listing off"
    return None


# ---------------------------------------------------------------------- wampd

def port_free(iface, port):
    family = socket.AF_INET6 if ":" in iface else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((iface if iface not in ("", "*") else ("::" if family == socket.AF_INET6
                                                        else "0.0.0.0"), port))
        return True
    except OSError as e:
        return e.errno not in (errno.EADDRINUSE, errno.EACCES)
    finally:
        s.close()


WORKER_EVENT = re.compile(r" worker: (started|exited|stopped|gave up|cannot start|restarting|"
                          r"killing|stopping) worker=([A-Za-z0-9_.-]+)[: ]?(.*)$")
WORKER_OUTPUT = re.compile(r" worker: worker=([A-Za-z0-9_.-]+) (stdout|stderr): (.*)$")
WORKER_PID = re.compile(r"\bpid=(\d+)")
WORKER_STATUS = re.compile(r'\bstatus="([^"]*)"')
OUTPUT_KEPT = 40  # a worker's last output lines kept (a traceback's end)


class WorkerLog:
    """What wampd's log says of one worker process (router/workers/supervise.c's lines)."""

    def __init__(self):
        self.starts = []     # [(monotonic time, pid)]
        self.exits = []      # [(monotonic time, pid, status)] exits wampd did not ask for
        self.cannot = []     # "cannot start" messages (wampd retries)
        self.gave_up = None  # the "gave up" message: final
        self.output = collections.deque(maxlen=OUTPUT_KEPT)
        self.notable = []    # output lines naming a cause (missing module, ...), first 10
        self.connect = []    # the component's first "Connection failed" lines, first 3

    def event(self, kind, rest, now):
        pid = WORKER_PID.search(rest)
        pid = int(pid.group(1)) if pid else None
        if kind == "started":
            self.starts.append((now, pid))
        elif kind == "exited":
            st = WORKER_STATUS.search(rest)
            self.exits.append((now, pid, st.group(1) if st else "?"))
        elif kind == "cannot start":
            self.cannot.append(rest.strip())
        elif kind == "gave up":
            self.gave_up = rest.strip().rsplit("; not restarted", 1)[0]

    def line(self, text):
        self.output.append(text)
        if len(self.notable) < 10 and any(p.search(text) for p, _ in OUTPUT_CAUSES):
            self.notable.append(text)
        if len(self.connect) < 3 and CONNECT_FAILED.search(text):
            self.connect.append(text)


class Wampd:
    def __init__(self, binary, cbdir, env):
        self.lines = []
        self.cond = threading.Condition()  # notified for every log line and at EOF
        self.ready = False
        self.eof = False
        self.workers = collections.defaultdict(WorkerLog)
        self.proc = subprocess.Popen(
            [binary, "--cbdir", cbdir], cwd=os.path.dirname(cbdir), env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)  # no terminal: a key with a passphrase cannot prompt
        # its session: every process wampd starts is in it (workers get process groups of
        # their own, not sessions), which is how what is left behind is found
        self.sid = self.proc.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in iter(self.proc.stderr.readline, b""):
            ln = raw.decode(errors="replace").rstrip("\n")
            now = time.monotonic()
            with self.cond:
                self.lines.append(ln)
                if " ready" in ln and "router:" in ln:
                    self.ready = True
                m = WORKER_OUTPUT.search(ln)
                if m:
                    self.workers[m.group(1)].line(m.group(3))
                else:
                    m = WORKER_EVENT.search(ln)
                    if m:
                        self.workers[m.group(2)].event(m.group(1), m.group(3), now)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait(self, predicate, timeout):
        """Wait for predicate() (called under the lock at every log line), wampd's end of
        its log, or the timeout; returns predicate()."""
        with self.cond:
            self.cond.wait_for(lambda: self.eof or predicate(), max(0, timeout))
            return predicate()

    def wait_ready(self):
        if self.wait(lambda: self.ready, START_TIMEOUT):
            return True
        if self.eof:
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.reader.join(2)
                return "did not stop within %ss of SIGTERM" % STOP_TIMEOUT
        self.reader.join(2)
        return None if self.proc.returncode == 0 else "exit status %s" % self.proc.returncode

    def why_not(self):
        err = [ln for ln in self.lines if ln.startswith("wampd: ")]
        if err:
            return err[-1][len("wampd: "):]
        errs = [ln for ln in self.lines if " error " in ln or "cannot" in ln]
        if errs:
            return errs[-1].split(" ", 1)[-1]
        if self.proc.poll() is None:
            return "not ready within %ss" % START_TIMEOUT
        return "exited with %s" % self.proc.returncode


def cause_of_start(msg, cbdir):
    """A start failure's message without what is particular to one configuration."""
    msg = msg.replace(cbdir + "/", "").replace(cbdir, "DIR")
    msg = re.sub(r"^config\.(json|yaml): ", "", msg)
    msg = re.sub(r"\[\d+\]", "[N]", msg)
    msg = re.sub(r"\"[^\"]*\"", "\"...\"", msg)
    msg = re.sub(r"\b\d{2,}\b", "N", msg)
    return msg


# ---------------------------------------------------------------------- workers (#22)

WORKER_START_TIMEOUT = 15  # s after "ready" for each process to be started or given up on
SETTLE = 5                 # s a process must stay up after its first start
BACKEND_TIMEOUT = 10       # s after the last first start for the backends to register
CALL_TIMEOUT = 5           # s for a backend to answer one call
CALLS_TRIED = 3            # procedures called at most, until one answers
# the errors wampd itself answers a CALL with when no backend answered it (common/err.c):
# any other ERROR came from the backend
ROUTER_CALL_ERRORS = {"wamp.error.no_such_procedure", "wamp.error.not_authorized",
                      "wamp.error.canceled", "wamp.error.timeout",
                      "wamp.error.no_available_callee", "wamp.error.limit_exceeded",
                      "wamp.error.internal_error", "wamp.error.protocol_violation",
                      "wamp.error.invalid_uri", "wamp.error.feature_not_supported",
                      "wamp.error.option_not_allowed"}
REGISTER_IN_CODE = re.compile(
    r"""(?:\.register\(\s*|@wamp\.register\(\s*|\.register\(\s*[A-Za-z_][\w.]*\s*,\s*)"""
    r"""u?['"]([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+)['"]""")
DEPENDENCY = ("dependency not installed in the checkout (a Node.js module: `npm install` in "
              "the example)")
# a worker output line that names why it stopped: (pattern, cause); the module is the detail
OUTPUT_CAUSES = [
    (re.compile(r"Cannot find module '([^'./][^']*)'"), DEPENDENCY),
    (re.compile(r"Cannot find module '([./][^']*)'"),
     "the example's own error: a script it names is not in the checkout"),
    (re.compile(r"Autobahn\|Python for Twisted is not installed"),
     "wampd failed to start it: Autobahn|Python missing for the launcher"),
    (re.compile(r"No module named '([^']+)'"), "missing Python module"),
    (re.compile(r"env: [\u2018'\"]?([^\u2019'\"]+)[\u2019'\"]?: No such file or directory"),
     "program not installed on this machine"),
    (re.compile(r"ClassNotFoundException: (\S+)"),
     "the example's program is not in the checkout (to be built first)"),
    (re.compile(r"wampd-component: component \S+: (module \S+ has no \S+)"),
     "the example's own error: its classname names no class"),
    (re.compile(r"wampd-component: component \S+: (\S+) is not an autobahn\.twisted"),
     "the example's own error: its class is not a Twisted ApplicationSession"),
]

# a running component that cannot join (Autobahn|Python's Component logs each attempt):
# why its backend is missing, (pattern on the error, cause)
CONNECT_FAILED = re.compile(r"Connection failed: (.*)$")
CONNECT_CAUSES = [
    (re.compile(r"Invalid key '([^']+)' in 'tls' config"),
     "wampd's launcher: Autobahn|Python refuses a Crossbar transport option it passes"),
    (re.compile(r"Unknown \w+ transport option: ([^=\s]+)"),
     "wampd's launcher: Autobahn|Python refuses a Crossbar transport option it passes"),
    (re.compile(r"ConnectionRefusedError"),
     "the example's own error: its component connects where nothing listens"),
    (re.compile(r"^\w+: "), "the example's own error: its component fails as it connects"),
]


def connect_cause(workers):
    """(cause, detail) from the first "Connection failed" line of the workers, or None."""
    for wl in workers:
        for text in wl.connect:
            err = CONNECT_FAILED.search(text).group(1)
            for pat, cause in CONNECT_CAUSES:
                m = pat.search(err)
                if m:
                    return cause, m.group(1) if m.groups() else err[:160]
            return "a component cannot connect", err[:120]
    return None


def crossbar_processes(doc):
    """The processes a Crossbar configuration defines, as crossbar_workers.c names them: one
    per guest, one per container, one per router worker with components."""
    out = []
    for i, w in enumerate(doc.get("workers") or []):
        if not isinstance(w, dict):
            continue
        kind = w.get("type")
        comps = w.get("components") if isinstance(w.get("components"), list) else []
        if kind in ("guest", "container") or (kind == "router" and comps):
            wid = w["id"] if isinstance(w.get("id"), str) else "worker%03d" % (i + 1)
            out.append({"id": wid, "index": i,
                        "type": "router components" if kind == "router" else kind,
                        "realms": sorted({c["realm"] for c in comps if isinstance(c, dict)
                                          and isinstance(c.get("realm"), str)})})
    return out


def wampd_check(binary, cbdir, env):
    """`wampd check --cbdir`: ({id: {type, command, problems}} of the processes it lists,
    [ignored lines], exit status)."""
    r = subprocess.run([binary, "check", "--cbdir", cbdir], cwd=os.path.dirname(cbdir), env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    procs, ignored, cur = collections.OrderedDict(), [], None
    for ln in r.stdout.decode(errors="replace").splitlines():
        m = re.match(r"^process (\S+) \((\w+)\): (.*)$", ln)
        if m:
            cur = procs[m.group(1)] = {"type": m.group(2), "command": m.group(3),
                                       "problems": []}
        elif cur is not None and ln.startswith("  program "):
            cur["program"] = ln[len("  program "):]
        elif cur is not None and ln.startswith("  PROBLEM: "):
            cur["problems"].append(ln[len("  PROBLEM: "):])
        elif not ln.startswith("  "):
            cur = None
            if ln.startswith("ignored: "):
                ignored.append(ln[len("ignored: "):])
    return procs, ignored, r.returncode


def proc_stat(pid):
    """(state, session, command name, parent, start time) of a process, or None when it is
    gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], int(fields[3]), comm, int(fields[1]), int(fields[19])


def descendants(pid):
    """{pid: (start time, command)} of every live process below pid."""
    children = collections.defaultdict(list)
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] != "Z":
                children[st[3]].append(int(d))
                stats[int(d)] = st
    out, todo = {}, [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out[c] = (stats[c][4], stats[c][2])
                todo.append(c)
    return out


def alive_in(pid, sid):
    st = proc_stat(pid) if pid else None
    return st is not None and st[0] != "Z" and st[1] == sid


def left_behind(sid, tree):
    """[(pid, command)] of every live process still in session sid, or still running of
    tree (descendants() taken before the stop: what left the session with setsid)."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] != "Z" and (st[1] == sid or (int(d) in tree and
                                                          tree[int(d)][0] == st[4])):
                out[int(d)] = st[2]
    return sorted(out.items())


def code_procedures(exdir):
    """The procedure URIs the example's own .py/.js files register (register("uri", ...),
    register(fn, "uri"), @wamp.register("uri")): what to call when the meta API is refused."""
    found = []
    for dirpath, dirs, files in os.walk(exdir):
        dirs[:] = sorted(d for d in dirs if d not in ("node_modules", ".crossbar", ".git"))
        for name in sorted(files):
            if not name.endswith((".py", ".js")) or name.endswith(".min.js"):
                continue
            try:
                with open(os.path.join(dirpath, name), encoding="utf-8",
                          errors="replace") as f:
                    text = f.read(1 << 20)
            except OSError:
                continue
            for uri in REGISTER_IN_CODE.findall(text):
                if uri not in found and not uri.startswith("wamp."):
                    found.append(uri)
    return found


class Probe:
    """The script's own session in one realm: calls and one subscription, the other
    messages read past."""

    def __init__(self, ws, session_id):
        self.ws, self.id, self.req = ws, session_id, 0
        self.events = 0
        self.joined_at = time.monotonic()
        self.lost = None  # why the session ended, if wampd ended it

    def _lost(self, why):
        if self.lost is None:
            self.lost = "%s %.1f s after joining" % (why, time.monotonic() - self.joined_at)
        return "lost", self.lost

    def _request(self, msg, answer, timeout):
        """Send msg (its request id is filled in); ("ok", message) for the answer of type
        answer, ("error", uri), or ("lost", why)."""
        self.req += 1
        msg[1] = self.req
        if self.lost:
            return "lost", self.lost
        try:
            self.ws.send(msg)
        except OSError as e:
            return self._lost("connection lost (%s)" % e.__class__.__name__)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "lost", "no answer within %ss" % timeout
            try:
                m = self.ws.recv(left)
            except TimeoutError:
                return "lost", "no answer within %ss" % timeout
            except wsraw.Closed as c:
                return self._lost("connection closed by wampd (code %s)" % c.code)
            except OSError as e:
                return self._lost("connection lost (%s)" % e.__class__.__name__)
            if m[0] == answer and m[1] == self.req:
                return "ok", m
            if m[0] == 8 and m[1] == msg[0] and m[2] == self.req:
                return "error", m[4]
            if m[0] == 36:
                self.events += 1
            elif m[0] in (3, 6):
                return self._lost("session closed by wampd (%s)" % (m[2],))

    def call(self, procedure, args=None, timeout=CALL_TIMEOUT):
        """("ok", args) for a RESULT, ("error", uri), or ("lost", why)."""
        msg = [48, 0, {}, procedure] + ([args] if args is not None else [])
        kind, m = self._request(msg, 50, timeout)
        if kind == "ok":
            return kind, (m[3] if len(m) > 3 else [])
        return kind, m

    def subscribe(self, topic):
        return self._request([32, 0, {}, topic], 33, JOIN_TIMEOUT)[0] == "ok"

    def wait_event(self, timeout):
        """True when an EVENT came within timeout."""
        seen = self.events
        deadline = time.monotonic() + timeout
        while self.events == seen:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                m = self.ws.recv(left)
            except TimeoutError:
                return False
            except wsraw.Closed as c:
                self._lost("connection closed by wampd (code %s)" % c.code)
                return False
            except OSError as e:
                self._lost("connection lost (%s)" % e.__class__.__name__)
                return False
            if m[0] == 36:
                self.events += 1
            elif m[0] in (3, 6):
                self._lost("session closed by wampd (%s)" % (m[2],))
                return False
        return True

    def meta_list(self, kind):
        """[(uri, match)] of the realm's registrations or subscriptions (kind), or the error
        that refused the meta API."""
        k, res = self.call("wamp.%s.list" % kind)
        if k != "ok":
            return res if k == "error" else "wamp.%s.list: %s" % (kind, res)
        ids = res[0] if res and isinstance(res[0], dict) else {}
        out = []
        for match in ("exact", "prefix", "wildcard"):
            for i in ids.get(match) or []:
                k, d = self.call("wamp.%s.get" % kind, [i])
                if k == "ok" and d and isinstance(d[0], dict) and isinstance(d[0].get("uri"),
                                                                              str):
                    out.append((d[0]["uri"], d[0].get("match", match)))
        return out

    def others(self):
        """The number of other sessions in the realm, or None when refused."""
        k, res = self.call("wamp.session.list")
        if k != "ok" or not res or not isinstance(res[0], list):
            return None
        return len([s for s in res[0] if s != self.id])

    def close(self):
        goodbye(self.ws)


def callable_uri(uri, match):
    """A URI a call reaches the registration (uri, match) with."""
    if match == "prefix":
        return uri.rstrip(".") + ".probe"
    if match == "wildcard":
        return ".".join(p or "probe" for p in uri.split("."))
    return uri


def answered(kind, res):
    """None when a backend answered (a RESULT, or an ERROR wampd does not produce itself),
    else why not."""
    if kind == "ok" or (kind == "error" and res not in ROUTER_CALL_ERRORS):
        return None
    return res


class Backends:
    """The script's sessions in a configuration's realms, and what they found there."""

    def __init__(self, eps, realms, env):
        self.sessions, self.found = [], collections.OrderedDict()
        for realm in realms:
            why = "no WebSocket endpoint serves the realm"
            for ep in eps:
                if realm in ep.realms:
                    ws, sid, why = open_session(ep, realm, env)
                    if ws is not None:
                        break
            else:
                ws = None
            if ws is None:
                self.found[realm] = {"joined": False, "why": why}
                continue
            self.sessions.append((realm, Probe(ws, sid)))
            self.found[realm] = {"joined": True, "meta": True, "registrations": [],
                                 "subscriptions": [], "others": None, "calls": []}

    def wait_registrations(self, deadline, hopeless, exdir):
        """In each realm, wait for a non-wamp registration: woken by
        wamp.registration.on_create (listed again at least once a second), until the deadline
        or until hopeless() (no worker runs or will run again). Where the probe's role may not
        call the meta API, the procedures the example's code registers are called instead,
        once a second while wampd answers wamp.error.no_such_procedure (those calls are then
        the calls of step d)."""
        for realm, p in self.sessions:
            f = self.found[realm]
            p.subscribe("wamp.registration.on_create")
            code = None
            while not p.lost:
                regs = p.meta_list("registration")
                if isinstance(regs, list):
                    f["registrations"] = [r for r in regs if not r[0].startswith("wamp.")]
                    if f["registrations"]:
                        break
                elif p.lost:
                    break
                else:
                    f["meta"] = regs  # refused: the example's own code says what to call
                    if code is None:
                        code = code_procedures(exdir)[:CALLS_TRIED]
                        f["from_code"] = len(code)
                    if not code:
                        break
                    f["calls"] = [self._call(p, uri) for uri in code]
                    if any(c["error"] != "wamp.error.no_such_procedure" for c in f["calls"]):
                        break
                if time.monotonic() >= deadline or hopeless():
                    break
                p.wait_event(min(1.0, deadline - time.monotonic()))
            subs = p.meta_list("subscription")
            f["subscriptions"] = [x for x in subs if not x[0].startswith("wamp.")] \
                if isinstance(subs, list) else []
            f["others"] = p.others()

    @staticmethod
    def _call(p, uri):
        kind, res = p.call(uri)
        return {"procedure": uri, "error": answered(kind, res)}

    def call(self):
        """Call up to CALLS_TRIED registered procedures of each realm (exact ones first)
        with no arguments, until one is answered."""
        for realm, p in self.sessions:
            f = self.found[realm]
            targets = [callable_uri(u, m) for u, m in
                       sorted(f["registrations"], key=lambda r: (r[1] != "exact", r[0]))]
            for uri in targets[:CALLS_TRIED]:
                f["calls"].append(self._call(p, uri))
                if f["calls"][-1]["error"] is None:
                    break

    def answering(self):
        return any(c["error"] is None for f in self.found.values() for c in f.get("calls", []))

    def close(self):
        for realm, p in self.sessions:
            self.found[realm]["lost"] = p.lost
            if not p.lost:
                p.close()
            else:
                p.ws.close()
        self.sessions = []

    def why_not(self, running, connect=None):
        """Why no backend answered: (cause, detail) for the configuration; connect: why the
        components cannot connect, from their output (connect_cause)."""
        joined = [f for f in self.found.values() if f["joined"]]
        if not running:
            return "no worker running after the settle time", ""
        if not joined:
            whys = [f["why"] for f in self.found.values()]
            return "not probed: no realm joined", whys[0] if whys else "no realm"
        calls = [c for f in joined for c in f["calls"]]
        lost = [f["lost"] for f in joined if f.get("lost")]
        unjoined = ["realm %s: %s" % (r, f["why"]) for r, f in self.found.items()
                    if not f["joined"]]
        errs = sorted({c["error"] for c in calls})
        if connect and errs in ([], ["wamp.error.no_such_procedure"]):
            return connect
        if calls:
            src = "the procedures the example's code registers" if any(
                f.get("from_code") for f in joined) else "registered procedures"
            return "%s called, none answered" % src, ", ".join(errs)
        if lost:
            return "the script's session was ended by wampd before a registration was seen", \
                lost[0]
        if any(f["meta"] is not True for f in joined):
            return "the meta API is refused to the probe's role and the example's code " \
                   "registers no procedure", ""
        if any(f["subscriptions"] for f in joined):
            return "the backends subscribe only (no procedure to call)", ""
        if any(f["others"] for f in joined):
            return "backend sessions joined, no registration within %ss" % BACKEND_TIMEOUT, \
                "; ".join(unjoined)
        return "no backend session in the probed realm(s) within %ss" % BACKEND_TIMEOUT, \
            "; ".join(unjoined)


def worker_cause(proc, check, wl, config_started):
    """Why a defined process is not running after the settle time: (cause, detail)."""
    if not config_started:
        return "config not started (see [start])", ""
    if check is None:
        return "not run by wampd (its translation leaves it out)", proc.get("ignored", "")
    for problem in check["problems"]:
        m = re.match(r"^(\S+): not found in PATH", problem)
        if m:
            return "program not installed on this machine", m.group(1)
        if "No such file" in problem:
            return "the example's program is not in the checkout (to be built first)", \
                problem.split(":")[0]
        return "wampd failed to start it", problem
    for text in wl.notable:
        for pat, cause in OUTPUT_CAUSES:
            m = pat.search(text)
            if m:
                detail = m.group(1) if m.groups() else ""
                if check["type"] == "guest" and cause == "missing Python module":
                    detail += " (for %s)" % check.get("program", "?")
                return cause, detail
    if not wl.starts:
        if wl.gave_up:
            return "wampd failed to start it", wl.gave_up
        if wl.cannot:
            return "wampd failed to start it", wl.cannot[-1]
        return "wampd failed to start it", "not started within %ss" % WORKER_START_TIMEOUT
    # the error line (a Python or Node.js exception) if any, else the last line
    last = [ln for ln in wl.output if re.match(r"^\s*[\w.]*(Error|Exception)\b", ln)] or \
        [ln for ln in wl.output if ln.strip()]
    detail = last[-1].strip()[:160] if last else "(no output)"
    if wl.exits and wl.exits[0][2] == "exit 0":
        return "the example exited by itself (exit 0) within the settle time", detail
    if wl.exits:
        return "the example's own crash", "%s: %s" % (wl.exits[0][2], detail)
    return "gone without an exit line", detail


# ---------------------------------------------------------------------- main

def node_websocket_option():
    """"--experimental-websocket" when the machine's node has no global WebSocket without it
    (Node.js 20; 22 has it): Autobahn|JS 26, the one in tests/node_modules, uses the global
    one, where the examples' own (older, `npm install`ed) Autobahn|JS brought `ws`."""
    probe = "process.exit(typeof WebSocket === 'undefined' ? 1 : 0)"
    try:
        if subprocess.run(["node", "-e", probe], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30).returncode == 0:
            return None
        if subprocess.run(["node", "--experimental-websocket", "-e", probe],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=30).returncode == 0:
            return "--experimental-websocket"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return None


def print_grouped(title, groups, areas, verbose):
    print(title)
    for area in areas:
        for (a, cause), where in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            if a != area:
                continue
            print("  [%s] %s: %d" % (area, cause, len(where)))
            for x in where if verbose else where[:3]:
                print("        %s" % x)
            if not verbose and len(where) > 3:
                print("        ... and %d more" % (len(where) - 3))


class WorkerRun:
    """The worker part of one configuration (#22): its processes as the Crossbar file
    defines them and as `wampd check` lists them, then, with wampd running, their start,
    the backends' registrations, the settle time, who still runs, and the calls."""

    def __init__(self, binary, cbdir, env, doc):
        self.procs = crossbar_processes(doc)
        self.check, ignored, _ = wampd_check(binary, cbdir, env) if self.procs else ({}, [],
                                                                                    0)
        for proc in self.procs:
            why = [x for x in ignored if x.startswith("workers[%d]" % proc["index"])
                   and ("not started" in x or "component" in x)]
            proc["ignored"] = why[0] if why else "not listed by wampd check"
        self.ids = [p["id"] for p in self.procs if p["id"] in self.check]
        self.backends = None
        self.running = {}

    def wait_started(self, w):
        """Until every listed process has started or been given up on (or the timeout)."""
        w.wait(lambda: all(w.workers[i].starts or w.workers[i].gave_up for i in self.ids),
               WORKER_START_TIMEOUT)

    def hopeless(self, w):
        with w.cond:
            return all(w.workers[i].gave_up or (w.workers[i].starts and
                                                len(w.workers[i].exits) >=
                                                len(w.workers[i].starts) and
                                                w.workers[i].exits[-1][2] == "exit 0")
                       for i in self.ids)

    def probe(self, w, eps, env, exdir):
        """After wait_started: the backends, the settle time, who runs, then the calls."""
        with w.cond:
            firsts = [w.workers[i].starts[0][0] for i in self.ids if w.workers[i].starts]
        last = max(firsts) if firsts else time.monotonic()
        realms = []
        for ep in eps:
            realms += [r for r in ep.realms if r not in realms]
        for p in self.procs:
            realms += [r for r in p["realms"] if r not in realms]
        self.backends = Backends(eps, realms, env)
        try:
            self.backends.wait_registrations(last + BACKEND_TIMEOUT, lambda: self.hopeless(w),
                                             exdir)
            # the settle time: ends early only when every process has exited already
            w.wait(lambda: all(w.workers[i].exits or w.workers[i].gave_up for i in self.ids),
                   last + SETTLE - time.monotonic())
            with w.cond:
                for i in self.ids:
                    wl = w.workers[i]
                    self.running[i] = bool(wl.starts) and not wl.exits and not wl.gave_up \
                        and alive_in(wl.starts[-1][1], w.sid)
            self.backends.call()
        finally:
            self.backends.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("checkout")
    ap.add_argument("--wampd", default=os.path.join(HERE, "..", "build", "router", "wampd"))
    ap.add_argument("--only", help="only configurations whose path contains this")
    ap.add_argument("--workers-only", action="store_true",
                    help="only configurations that define worker processes")
    ap.add_argument("--node-path", default=os.path.join(HERE, "..", "tests", "node_modules"),
                    help="NODE_PATH for Node.js guests (default: this repository's "
                         "tests/node_modules, where Autobahn|JS is; \"\" for none)")
    ap.add_argument("--guest-path", default="",
                    help="a directory put first in PATH for wampd and its guests")
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("--logs", help="write each wampd's log to this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.wampd)
    began = time.monotonic()
    root = os.path.abspath(args.checkout)

    totals = collections.Counter()
    failures = collections.defaultdict(list)   # (area, cause) -> [where]
    as_crossbar = collections.defaultdict(list)  # why Crossbar answers 404 too -> [where]
    wfail = collections.defaultdict(list)      # (worker|backend, cause) -> [where]
    results = []
    node_options = node_websocket_option() if args.node_path else None
    for path in find_configs(root):
        rel = os.path.relpath(path, root)
        if args.only and args.only not in rel:
            continue
        try:
            doc = load_config(path)
        except Exception as e:  # noqa: BLE001 - a file Crossbar could not read either
            if args.verbose:
                print("unreadable: %s: %s" % (rel, e))
            continue
        if not routers(doc):
            continue
        if args.workers_only and not crossbar_processes(doc):
            continue
        cbdir = os.path.dirname(path)
        env = dict(os.environ)
        for name in sorted(env_refs(doc, set())):
            env.setdefault(name, "wampd-examples-" + name.lower())
        # Python workers must not write __pycache__ into the checkout
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if args.node_path:
            env["NODE_PATH"] = os.path.abspath(args.node_path)
            if node_options:
                env["NODE_OPTIONS"] = (env.get("NODE_OPTIONS", "") + " " + node_options).strip()
        if args.guest_path:
            env["PATH"] = os.path.abspath(args.guest_path) + os.pathsep + env.get("PATH", "")
        eps, webs, ports = expected(doc, env)
        pairs = [(ep, realm) for ep in eps for realm in ep.realms]
        totals["configs"] += 1
        totals["endpoints"] += len(pairs)
        totals["web"] += len(webs)
        res = {"config": rel, "started": False, "endpoints": [], "web": []}
        results.append(res)
        wr = WorkerRun(binary, cbdir, env, doc)
        if wr.procs:
            totals["w_configs"] += 1
            totals["w_defined"] += len(wr.procs)
            totals["w_listed"] += len(wr.ids)

        def fail_all(cause):
            for ep, realm in pairs:
                failures[("join", cause)].append("%s %s realm %s" % (rel, ep.url, realm))
            for wp in webs:
                failures[("web", cause)].append("%s %s (%s)" % (rel, wp.url, wp.kind))

        busy = sorted(p for iface, p in ports if not port_free(iface, p))
        w = None
        if busy:
            cause = "skipped: port %s in use by another process" % ",".join(map(str, busy))
            failures[("start", "skipped: a port is in use by another process")].append(
                "%s (%s)" % (rel, cause))
            res["skipped"] = cause
            fail_all("config not started")
        else:
            w = Wampd(binary, cbdir, env)
        try:
            if w is None:
                pass
            elif not w.wait_ready():
                why = w.why_not()
                failures[("start", cause_of_start(why, cbdir))].append(
                    "%s: %s" % (rel, why.replace(path + ": ", "")))
                res["error"] = why
                fail_all("config not started")
            else:
                res["started"] = True
                totals["started"] += 1
                if wr.ids:
                    wr.wait_started(w)
                probe_routes(rel, eps, pairs, webs, env, doc, cbdir, res, totals, failures,
                             as_crossbar)
                if wr.ids:
                    wr.probe(w, eps, env, os.path.dirname(cbdir))
        finally:
            if w is not None:
                tree = descendants(w.proc.pid)
                stopped = w.stop()
                if stopped and res["started"]:
                    failures[("stop", stopped)].append(rel)
                    res["stop"] = stopped
                left = left_behind(w.sid, tree)
                for pid, comm in left:  # what wampd left behind: ours to end
                    failures[("stop", "a process of wampd's left running after it exited")
                             ].append("%s: pid %d (%s)" % (rel, pid, comm))
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                res["left_running"] = [c for _, c in left]
        if wr.procs:
            worker_results(rel, wr, w, res, totals, wfail, root)
        if args.logs and w is not None:
            os.makedirs(args.logs, exist_ok=True)
            name = os.path.dirname(os.path.dirname(rel)).replace(os.sep, "_") or "top"
            with open(os.path.join(args.logs, name + ".log"), "w") as f:
                f.write("\n".join(w.lines) + "\n")
        if args.verbose:
            print("%-70s %s" % (rel, "started" if res["started"] else res.get("error")))

    print("configs started:   %d / %d" % (totals["started"], totals["configs"]))
    print("endpoints joined:  %d / %d   (WebSocket endpoint x realm; %d of the others are %s)"
          % (totals["joined"], totals["endpoints"], totals["no_credential"], NO_CREDENTIAL))
    print("web paths served:  %d / %d   (GET: neither 404 nor 5xx)" % (totals["served"],
                                                                      totals["web"]))
    print("web paths 404 as Crossbar answers: %d   (static, see crossbar_404)"
          % totals["as_crossbar_404"])
    print("web paths answering as Crossbar would: %d / %d   (served, or 404 as Crossbar)"
          % (totals["served"] + totals["as_crossbar_404"], totals["web"]))
    print("configs with workers: %d   (guest, container, router components)"
          % totals["w_configs"])
    print("  workers defined:  %d   (processes: one per guest, container, router worker with "
          "components; %d listed by wampd check)" % (totals["w_defined"], totals["w_listed"]))
    print("  workers started:  %d / %d" % (totals["w_started"], totals["w_defined"]))
    print("  running after settle: %d / %d   (no exit within %ss of the first start, alive)"
          % (totals["w_running"], totals["w_defined"], SETTLE))
    print("  configs with every worker running: %d / %d" % (totals["w_all_running"],
                                                            totals["w_configs"]))
    print("  configs with a backend session: %d, with a backend registration: %d   (where "
          "the probe may call the meta API)" % (totals["b_session"], totals["b_registered"]))
    print("  configs whose backends answer: %d / %d   (a call answered by a backend, see "
          "the docstring)" % (totals["b_answering"], totals["w_configs"]))
    print("(%s; %.0f s)" % (binary, time.monotonic() - began))
    print()
    print("answered 404 as Crossbar answers (not failures):")
    for why, where in sorted(as_crossbar.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print("  [web] HTTP 404 as Crossbar answers: %s: %d" % (why, len(where)))
        for x in where if args.verbose else where[:3]:
            print("        %s" % x)
        if not args.verbose and len(where) > 3:
            print("        ... and %d more" % (len(where) - 3))
    print()
    print_grouped("failures by cause:", failures, ("start", "join", "web", "stop"),
                  args.verbose)
    print()
    print_grouped("workers not running after the settle time, and configs whose backends do "
                  "not answer, by cause:", wfail, ("worker", "backend", "probe"), args.verbose)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"totals": totals, "results": results}, f, indent=1)
    return 0


def probe_routes(rel, eps, pairs, webs, env, doc, cbdir, res, totals, failures, as_crossbar):
    """Steps 3 and 4: every endpoint x realm joined, every web path requested."""
    for ep, realm in pairs:
        why = join(ep, realm, env, doc)
        res["endpoints"].append({"url": ep.url, "realm": realm, "error": why})
        if why is None:
            totals["joined"] += 1
        else:
            totals["no_credential"] += why.startswith(NO_CREDENTIAL)
            failures[("join", re.sub(r"\(.*\)$", "", why).strip() if "ABORT" in why
                      else why)].append("%s %s realm %s (%s)" % (rel, ep.url, realm, ep.where))
    for wp in webs:
        why = get(wp)
        as_cb = crossbar_404(wp, cbdir) if why == "HTTP 404" else None
        res["web"].append({"url": wp.url, "type": wp.kind, "error": why,
                           "as_crossbar": as_cb})
        if why is None:
            totals["served"] += 1
        elif as_cb:
            totals["as_crossbar_404"] += 1
            as_crossbar[as_cb].append("%s %s" % (rel, wp.url))
        else:
            failures[("web", "%s (type %s)" % (why, wp.kind))].append("%s %s" % (rel, wp.url))


def worker_results(rel, wr, w, res, totals, wfail, root):
    """The figures and causes of one configuration's workers and backends."""
    out = res["workers"] = []
    for proc in wr.procs:
        wl = w.workers.get(proc["id"]) if w is not None else None
        wl = wl or WorkerLog()
        started, running = bool(wl.starts), wr.running.get(proc["id"], False)
        totals["w_started"] += started
        totals["w_running"] += running
        entry = {"id": proc["id"], "type": proc["type"], "started": started,
                 "running": running, "exits": [x[2] for x in wl.exits],
                 "gave_up": wl.gave_up}
        if not running:
            cause, detail = worker_cause(proc, wr.check.get(proc["id"]), wl,
                                         res["started"])
            detail = detail.replace(root + os.sep, "")
            entry["cause"] = [cause, detail]
            wfail[("worker", cause)].append("%s %s (%s)%s" % (rel, proc["id"], proc["type"],
                                                             ": " + detail if detail else ""))
        out.append(entry)
    if wr.procs and all(e["running"] for e in out):
        totals["w_all_running"] += 1
    b = wr.backends
    if b is None:
        if res["started"]:
            why = "no worker listed by wampd check"
        else:
            why = "config not started (see [start])"
        wfail[("backend", why)].append(rel)
        return
    res["backends"] = b.found
    joined = [f for f in b.found.values() if f["joined"]]
    totals["b_session"] += any(f["others"] for f in joined)
    totals["b_registered"] += any(f["registrations"] for f in joined)
    for realm, f in b.found.items():
        if f.get("lost"):
            wfail[("probe", "the script's session was ended by wampd")].append(
                "%s realm %s: %s" % (rel, realm, f["lost"]))
    if b.answering():
        totals["b_answering"] += 1
        res["backends_answer"] = True
    else:
        why, detail = b.why_not(any(wr.running.values()),
                                connect_cause([w.workers[i] for i in wr.ids]))
        res["backends_answer"] = [why, detail]
        wfail[("backend", why)].append("%s%s" % (rel, ": " + detail if detail else ""))


if __name__ == "__main__":
    sys.exit(main())
