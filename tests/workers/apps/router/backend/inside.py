"""A router component (Crossbar runs it inside the router worker; wampd in a child process
joined over its internal socket): it reports who the router says it is, and what its role
may not do."""

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from twisted.internet.defer import inlineCallbacks


class Inside(ApplicationSession):
    def onConnect(self):
        # as many Crossbar components do: join without naming any authentication
        self.join(self.config.realm)

    @inlineCallbacks
    def onJoin(self, details):
        refused = None
        try:
            yield self.register(lambda: None, "org.other.forbidden")
        except ApplicationError as e:
            refused = e.error

        def whoami():
            return {"authid": details.authid, "authrole": details.authrole,
                    "authmethod": details.authmethod,
                    "realm": details.realm, "extra": self.config.extra,
                    "outside_role": refused}

        yield self.register(whoami, "com.example.whoami")
        print("inside ready as %s/%s" % (details.authid, details.authrole))
