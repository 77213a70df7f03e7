"""The second component of the container: its procedure calls the other component's."""

import os

from autobahn.twisted.wamp import ApplicationSession
from twisted.internet.defer import inlineCallbacks, returnValue


class Frontend(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        @inlineCallbacks
        def mul_plus(x, y):
            product = yield self.call("com.example.mul", x)
            returnValue({"result": product + y, "by": self.config.extra["name"],
                         "suffix": os.environ.get("HELLO_SUFFIX"), "cwd": os.getcwd()})

        yield self.register(mul_plus, "com.example.mul_plus")
        print("frontend ready")
