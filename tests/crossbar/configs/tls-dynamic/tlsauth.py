"""A dynamic tls authenticator as Crossbar users write them (the shape of crossbar-examples'
authentication/tls/dynamic, written for wampd's tests): it runs as the router worker's
component and decides on the client certificate the router shows it in
details.transport.client_cert.

- a certificate whose SHA-1 fingerprint is one of extra["principals"]: that principal,
  role "backend", its certificate's subject CN in authextra (a dict answer);
- a certificate whose subject CN is one of extra["guests"]: the role "guest" alone (a string
  answer: the router takes the authid from the certificate);
- anything else: ApplicationError com.example.invalid_cert.

com.example.seen tells the test how often it was asked and what it saw last."""

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from twisted.internet.defer import inlineCallbacks


class Authenticator(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        principals = self.config.extra["principals"]
        guests = self.config.extra["guests"]
        seen = {"count": 0, "last": None}

        def authenticate(realm, authid, details):
            seen["count"] += 1
            seen["last"] = {"realm": realm, "authid": authid,
                            "transport": details.get("transport")}
            cert = (details.get("transport") or {}).get("client_cert")
            if not cert:
                raise ApplicationError("com.example.no_cert", "no client certificate")
            if cert["sha1"] in principals:
                return {"authid": principals[cert["sha1"]], "role": "backend",
                        "extra": {"cn": cert["subject"]["cn"]}}
            if cert["subject"].get("cn") in guests:
                return "guest"
            raise ApplicationError("com.example.invalid_cert",
                                   "certificate with SHA1 %s denied" % cert["sha1"])

        yield self.register(authenticate, "com.example.authenticate")
        yield self.register(lambda: seen, "com.example.seen")
        print("tls authenticator registered", flush=True)
