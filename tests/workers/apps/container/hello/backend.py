"""A container component (Crossbar's shape: a Twisted ApplicationSession class): it
registers a procedure whose answer uses the component's `extra` from the configuration."""

from autobahn.twisted.wamp import ApplicationSession
from twisted.internet.defer import inlineCallbacks


class Backend(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        factor = self.config.extra["factor"]

        def mul(x):
            return x * factor

        yield self.register(mul, "com.example.mul")
        print("backend ready: mul by %d" % factor)
