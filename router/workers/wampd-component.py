#!/usr/bin/python3
"""wampd-component: runs the Autobahn|Python components of one wampd "python" process.

wampd (router/workers/workers.c) starts it as `python3 -u wampd-component` in the
process's working directory, with a JSON description on stdin (a memfd: never in argv or
the environment, since it holds the router components' secrets):

    {"worker": "app", "base_dir": "/srv/app", "pythonpath": ["/srv/app/lib"],
     "components": [
       {"id": "c1", "classname": "pkg.mod.Backend", "realm": "realm1", "extra": {...},
        "transport": {"type": "websocket", "url": "ws://127.0.0.1:8080/ws"}},
       {"id": "c2", "classname": "pkg.mod.Auditor", "realm": "realm1",
        "router": {"path": "/run/wampd-x/router.sock",
                   "authid": "0f6c2a4e-...", "role": "auditor", "secret": "..."}}]}

Like Crossbar's container and router workers: each classname ("module.Class") is imported
with pythonpath and the configuration's directory on sys.path, instantiated with
ComponentConfig(realm, extra) for every session, and connected over its transport
(Crossbar's transport shape: websocket or rawsocket, url or endpoint tcp/unix, a relative
unix path being the configuration directory's), reconnecting when the connection drops.
A router component ("router") connects to wampd's internal Unix socket and joins its realm
as its authid (random, a UUID like Crossbar's) with authmethod "trusted", proving its
secret, whatever its own onConnect asks for: Crossbar attaches router components to their
realm without a handshake, with the configured role; wampd's session details then show
what Crossbar's do (authmethod "trusted", that authid, the role).

Components are Twisted ApplicationSession classes (autobahn.twisted.wamp), as Crossbar runs
them. Output: print() and the components' logs go to stdout, which wampd logs.

Exit status: 0 when every component has left on its own (and on SIGTERM, after each session
said GOODBYE); 1 when a component failed (wampd restarts the process by its policy); 78
(EX_CONFIG) when it cannot run as configured: Autobahn|Python or Twisted missing, an
unusable description, a classname that names no ApplicationSession (wampd gives up at once).
"""

import importlib
import json
import os
import sys
import traceback

EX_CONFIG = 78


def say(text):
    print("wampd-component: " + text, file=sys.stderr, flush=True)


def load_spec():
    try:
        spec = json.load(sys.stdin)
        comps = spec["components"]
        assert isinstance(comps, list) and comps
        for c in comps:
            assert isinstance(c["id"], str) and isinstance(c["classname"], str)
            assert isinstance(c["realm"], str)
        return spec
    except (ValueError, KeyError, TypeError, AssertionError) as e:
        say("unusable description on stdin (%s: %s)" % (type(e).__name__, e))
        return None


def start_logging():
    """Twisted's and txaio's log events as one line each on stdout (wampd adds the time,
    the level and the worker's id)."""
    import txaio
    from twisted.logger import LogLevel, formatEvent, globalLogBeginner

    def observer(event):
        level = event.get("log_level") or LogLevel.info
        if level < LogLevel.info:
            return
        text = formatEvent(event)
        failure = event.get("log_failure")
        if failure is not None:
            text += "\n" + failure.getTraceback()
        for line in text.splitlines():
            print("%s: %s" % (level.name, line), flush=True)

    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False,
                                     discardBuffer=True)
    txaio.set_global_log_level("info")


def component_class(c, ApplicationSession):
    module, _, name = c["classname"].rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as e:
        say("component %s: cannot import %s: %s" % (c["id"], module, e))
        traceback.print_exc()
        return EX_CONFIG
    except AttributeError:
        say("component %s: module %s has no %s" % (c["id"], module, name))
        return EX_CONFIG
    except Exception:
        say("component %s: importing %s failed" % (c["id"], module))
        traceback.print_exc()
        return 1
    if not (isinstance(cls, type) and issubclass(cls, ApplicationSession)):
        say("component %s: %s is not an autobahn.twisted.wamp.ApplicationSession (Crossbar "
            "runs Twisted components)" % (c["id"], c["classname"]))
        return EX_CONFIG
    return cls


def router_class(cls, authid, secret):
    """cls joining wampd's internal listener as authid with authmethod "trusted" and its
    secret, whatever its own onConnect passes to join()."""

    class RouterComponent(cls):
        def join(self, realm, *args, **kwargs):
            return super().join(realm, authmethods=["trusted"], authid=authid)

        def onChallenge(self, challenge):
            if challenge.method == "trusted":
                return secret
            return super().onChallenge(challenge)

    RouterComponent.__name__ = cls.__name__
    RouterComponent.__qualname__ = cls.__qualname__
    RouterComponent.__module__ = cls.__module__
    return RouterComponent


RETRY = {"max_retries": -1, "initial_retry_delay": 0.5, "max_retry_delay": 5.0}


def tls_of(tls, host, base_dir):
    """Crossbar's client "tls" block ({hostname, ca_certificates, certificate, key}: files
    relative to the node directory) as Twisted client TLS options; Autobahn's Component
    takes only its own {hostname, trust_root} keys or such options."""
    if not isinstance(tls, dict) or not ({"key", "certificate", "ca_certificates"} & set(tls)):
        return tls
    from twisted.internet import ssl

    def read(name):
        with open(os.path.join(base_dir, name), "rb") as f:
            return f.read()

    cas = tls.get("ca_certificates") or []
    trust = (ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(read(c)) for c in cas])
             if cas else None)
    client = None
    if tls.get("certificate") and tls.get("key"):
        client = ssl.PrivateCertificate.loadPEM(read(tls["key"]) + b"\n" +
                                                read(tls["certificate"]))
    return ssl.optionsForClientTLS(tls.get("hostname") or host or "localhost",
                                   trustRoot=trust, clientCertificate=client)


def endpoint_of(e, base_dir):
    keep = ("type", "host", "port", "path", "tls", "timeout", "version")
    e = {k: v for k, v in e.items() if k in keep}
    if e.get("type") == "unix" and isinstance(e.get("path"), str):
        e["path"] = os.path.join(base_dir, e["path"])
    if "tls" in e:
        e["tls"] = tls_of(e["tls"], e.get("host"), base_dir)
    return e


def transport_of(c, base_dir, serializer):
    """The component's transport in Autobahn|Python's Component shape."""
    if "router" in c:
        return dict(RETRY, type="rawsocket", serializer=serializer,
                    endpoint={"type": "unix", "path": c["router"]["path"]})
    t = c["transport"]
    kind = t.get("type", "websocket")
    out = dict(RETRY, type=kind)
    for k in ("url", "options", "max_retries", "initial_retry_delay", "max_retry_delay",
              "retry_delay_growth", "retry_delay_jitter"):
        if k in t:
            out[k] = t[k]
    if isinstance(t.get("endpoint"), dict):
        out["endpoint"] = endpoint_of(t["endpoint"], base_dir)
    sers = t.get("serializers")
    if kind == "websocket" and sers:
        out["serializers"] = sers
    elif kind == "rawsocket":
        out["serializer"] = t.get("serializer") or (sers[0] if sers else serializer)
        out["options"] = rawsocket_options(out.get("options"))
    return out


def rawsocket_options(opts):
    """Crossbar's RawSocket client options in Autobahn's names: max_message_size is
    Autobahn's max_message_payload_size (512 .. 2^24, the RawSocket limit); what Autobahn's
    RawSocket factory has no setting for would stop the component, so it is dropped (and
    said once)."""
    out = {}
    for k, v in (opts or {}).items():
        if k == "max_message_size" and isinstance(v, int):
            out["max_message_payload_size"] = max(512, min(v, 1 << 24))
        else:
            say("transport option %s does not apply to Autobahn's RawSocket client: ignored" % k)
    return out


def main():
    spec = load_spec()
    if spec is None:
        return EX_CONFIG
    try:
        import txaio
        txaio.use_twisted()
        from twisted.internet import defer, reactor
        from autobahn.twisted.component import Component
        from autobahn.twisted.wamp import ApplicationSession
        import autobahn.wamp.serializer as sermod
    except ImportError as e:
        say("Autobahn|Python for Twisted is not installed (%s): install python3-autobahn; "
            "the components of process %s are not started" % (e, spec.get("worker")))
        return EX_CONFIG

    base_dir = spec.get("base_dir") or os.getcwd()
    sys.path[0:0] = list(spec.get("pythonpath") or []) + [base_dir]
    start_logging()
    serializer = "msgpack" if hasattr(sermod, "MsgPackSerializer") else "json"

    comps = []
    for c in spec["components"]:
        cls = component_class(c, ApplicationSession)
        if isinstance(cls, int):
            return cls
        if "router" in c:
            cls = router_class(cls, c["router"]["authid"], c["router"]["secret"])
        try:
            comps.append((c["id"], Component(session_factory=cls,
                                             transports=[transport_of(c, base_dir,
                                                                      serializer)],
                                             realm=c["realm"], extra=c.get("extra"))))
        except ValueError as e:
            say("component %s: %s" % (c["id"], e))
            return EX_CONFIG
    del spec  # the secrets: only the components keep theirs

    status = [0]
    left = [len(comps)]
    stopping = [False]

    def finished(_, cid):
        left[0] -= 1
        if left[0] == 0 and reactor.running and not stopping[0]:
            reactor.stop()

    def failed(f, cid):
        say("component %s failed: %s" % (cid, f.getErrorMessage()))
        status[0] = 1
        if reactor.running and not stopping[0]:
            reactor.stop()

    def start():
        for cid, comp in comps:
            d = comp.start(reactor)
            d.addCallbacks(finished, failed, callbackArgs=(cid,), errbackArgs=(cid,))

    def leave_all():
        """SIGTERM (Twisted's handler stops the reactor): every session says GOODBYE
        first, for at most 2 s."""
        stopping[0] = True
        waits = []
        for _, comp in comps:
            try:
                waits.append(defer.maybeDeferred(comp.stop))
            except Exception:
                pass
        done = defer.Deferred()
        timer = reactor.callLater(2.0, lambda: done.called or done.callback(None))

        def all_left(_):
            if timer.active():
                timer.cancel()
            if not done.called:
                done.callback(None)
        defer.DeferredList(waits, consumeErrors=True).addBoth(all_left)
        return done

    reactor.addSystemEventTrigger("before", "shutdown", leave_all)
    reactor.callWhenRunning(start)
    reactor.run()
    return status[0]


if __name__ == "__main__":
    sys.exit(main())
