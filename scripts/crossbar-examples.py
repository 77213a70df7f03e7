#!/usr/bin/python3
"""Run wampd on every router configuration of a crossbario/crossbar-examples checkout, as a
Crossbar user would, and measure what works (issue #19). Not part of `make test`: it needs
the checkout, which is not in this repository (and must never be committed into it).

    scripts/crossbar-examples.py [--wampd build/router/wampd] [--only SUBSTRING]
                                 [--json OUT.json] [-v] CHECKOUT

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
  5. wampd gets SIGTERM and must exit (a non-zero exit is recorded).
Prints configs started / total, endpoints joined / total, web paths served / total, web
paths answering 404 as Crossbar does and all those answering as Crossbar would / total,
then those 404s by reason and the failures grouped by cause, each with where it happened.
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
    if ep.port == "unix":
        return "endpoint is not TCP (not probed)"
    cred = credentials(ep.auth, realm, env)
    if cred[0] is None:
        return cred[1]
    method, authid, secret, role = cred
    sers = [s for s in ("json", "msgpack", "cbor") if not ep.serializers or s in ep.serializers]
    if not sers:
        return "no serializer this client speaks (%s)" % ep.serializers
    ctx = None
    if ep.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        ws = wsraw.WS(ep.host, ep.port, ep.path, protocols=["wamp.2." + sers[0]],
                      timeout=JOIN_TIMEOUT, tls=ctx)
    except wsraw.HandshakeRefused as e:
        return "WebSocket handshake refused: %s" % e.status
    except ConnectionRefusedError:
        return "connection refused"
    except (OSError, TimeoutError, ssl.SSLError) as e:
        return "connection failed: %s" % (e.__class__.__name__)
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
            ws.send([6, {}, "wamp.close.close_realm"])
            try:
                ws.recv(2)
            except Exception:
                pass
            return None
        if msg[0] == 3:
            return "ABORT %s (%s)" % (msg[2], method)
        return "unexpected message %s" % msg[0]
    except wsraw.Closed as c:
        return "closed by the router (code %s)" % c.code
    except (OSError, TimeoutError) as e:
        return "no answer: %s" % e.__class__.__name__
    finally:
        ws.close()


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


class Wampd:
    def __init__(self, binary, cbdir, env):
        self.lines = []
        self.proc = subprocess.Popen(
            [binary, "--cbdir", cbdir], cwd=os.path.dirname(cbdir), env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)  # no terminal: a key with a passphrase cannot prompt
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in iter(self.proc.stderr.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if any(" ready" in ln and "router:" in ln for ln in self.lines):
                return True
            if self.proc.poll() is not None:
                self.reader.join(2)
                return False
            time.sleep(0.05)  # polling a log with a deadline, not synchronisation
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


# ---------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkout")
    ap.add_argument("--wampd", default=os.path.join(HERE, "..", "build", "router", "wampd"))
    ap.add_argument("--only", help="only configurations whose path contains this")
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.wampd)
    began = time.monotonic()
    root = os.path.abspath(args.checkout)

    totals = collections.Counter()
    failures = collections.defaultdict(list)   # (area, cause) -> [where]
    as_crossbar = collections.defaultdict(list)  # why Crossbar answers 404 too -> [where]
    results = []
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
        cbdir = os.path.dirname(path)
        env = dict(os.environ)
        for name in sorted(env_refs(doc, set())):
            env.setdefault(name, "wampd-examples-" + name.lower())
        eps, webs, ports = expected(doc, env)
        pairs = [(ep, realm) for ep in eps for realm in ep.realms]
        totals["configs"] += 1
        totals["endpoints"] += len(pairs)
        totals["web"] += len(webs)
        res = {"config": rel, "started": False, "endpoints": [], "web": []}
        results.append(res)

        def fail_all(cause):
            for ep, realm in pairs:
                failures[("join", cause)].append("%s %s realm %s" % (rel, ep.url, realm))
            for wp in webs:
                failures[("web", cause)].append("%s %s (%s)" % (rel, wp.url, wp.kind))

        busy = sorted(p for iface, p in ports if not port_free(iface, p))
        if busy:
            cause = "skipped: port %s in use by another process" % ",".join(map(str, busy))
            failures[("start", "skipped: a port is in use by another process")].append(
                "%s (%s)" % (rel, cause))
            res["skipped"] = cause
            fail_all("config not started")
            continue
        w = Wampd(binary, cbdir, env)
        try:
            if not w.wait_ready():
                why = w.why_not()
                failures[("start", cause_of_start(why, cbdir))].append(
                    "%s: %s" % (rel, why.replace(path + ": ", "")))
                res["error"] = why
                fail_all("config not started")
                continue
            res["started"] = True
            totals["started"] += 1
            for ep, realm in pairs:
                why = join(ep, realm, env, doc)
                res["endpoints"].append({"url": ep.url, "realm": realm, "error": why})
                if why is None:
                    totals["joined"] += 1
                else:
                    totals["no_credential"] += why.startswith(NO_CREDENTIAL)
                    failures[("join", re.sub(r"\(.*\)$", "", why).strip() if "ABORT" in why
                              else why)].append("%s %s realm %s (%s)" % (rel, ep.url, realm,
                                                                        ep.where))
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
                    failures[("web", "%s (type %s)" % (why, wp.kind))].append(
                        "%s %s" % (rel, wp.url))
        finally:
            stopped = w.stop()
            if stopped and res["started"]:
                failures[("stop", stopped)].append(rel)
                res["stop"] = stopped
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
    print("failures by cause:")
    for area in ("start", "join", "web", "stop"):
        for (a, cause), where in sorted(failures.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            if a != area:
                continue
            print("  [%s] %s: %d" % (area, cause, len(where)))
            for x in where if args.verbose else where[:3]:
                print("        %s" % x)
            if not args.verbose and len(where) > 3:
                print("        ... and %d more" % (len(where) - 3))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"totals": totals, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
