"""Start and stop a real wampd for tests.

    with WampdProcess() as r:          # binary from $WAMPD_BIN
        r.url                          # "ws://127.0.0.1:PORT/ws"
        ...
    # on exit: SIGTERM, wait for exit 0, and fail on sanitizer reports in its stderr

The router is started with --port 0 so the kernel picks a free port (tests run in
parallel); the port is read from the "listening ws://..." line wampd prints on stdout
(every listener's line is kept: ws, wss, rs, rss, unix, and http/https for an http
listener, which serves HTTP services only; see url_of).
Every wait has a deadline; nothing sleeps for synchronisation.
"""

import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ERROR: UndefinedBehaviorSanitizer")


class WampdError(AssertionError):
    pass


def cpu_seconds(pid):
    """CPU seconds (user + system) process pid has used (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    """Resident set size of process pid in bytes (/proc/PID/status VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


class WampdProcess:
    def __init__(self, binary=None, config=None, args=(), log_level="info", start_timeout=15,
                 env=None, wrapper=()):
        self.binary = binary or os.environ.get("WAMPD_BIN")
        self.wrapper = list(wrapper)    # e.g. setpriv ... --: what execs wampd
        if not self.binary:
            raise WampdError("WAMPD_BIN is not set (ctest sets it to the built wampd)")
        self.config = config
        self.args = list(args)
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.env = env
        self.proc = None
        self.urls = []
        self.admin_url = None    # "http://127.0.0.1:PORT" when the config has "admin"
        self._stderr_lines = []
        self._stderr_thread = None
        self._config_file = None

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        argv = self.wrapper + [self.binary, "--port", "0", "--log-level", self.log_level]
        if self.config is not None:
            if isinstance(self.config, str) and os.path.exists(self.config):
                path = self.config
            else:
                import json
                fd, path = tempfile.mkstemp(prefix="wampd-test-", suffix=".json")
                with os.fdopen(fd, "w") as f:
                    f.write(self.config if isinstance(self.config, str)
                            else json.dumps(self.config))
                self._config_file = path
            argv += ["--config", path]
        argv += self.args
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env)
        self._stderr_listening = threading.Event()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        deadline = time.monotonic() + self.start_timeout
        buf = b""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._stderr_to_the_end()
                raise WampdError("wampd exited with %s before listening:\n%s"
                                 % (self.proc.returncode, self.stderr()))
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if not r:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            buf += chunk
            for line in buf.decode(errors="replace").splitlines():
                m = re.match(r"listening ((?:wss?|rss?|https?)://\S+|unix:\S+)", line)
                if m and m.group(1) not in self.urls:
                    self.urls.append(m.group(1))
                m = re.match(r"listening admin (http://\S+?)/?$", line)
                if m:
                    self.admin_url = m.group(1).replace("0.0.0.0", "127.0.0.1")
            if self.urls and (self.admin_url or not self._wants_admin()):
                # stderr is read by a thread: wait until it has read as far as the log's
                # own "listening" line, so that what wampd logged at start (the config
                # report, warnings) is in stderr() when start() returns (a test that looked
                # at once found it empty on a loaded machine)
                if self.log_level in ("debug", "info", "notice"):
                    self._stderr_listening.wait(max(0.0, deadline - time.monotonic()))
                return self
        self.kill()
        self._stderr_to_the_end()
        raise WampdError("wampd did not report a listening port within %ss:\n%s"
                         % (self.start_timeout, self.stderr()))

    def _wants_admin(self):
        if isinstance(self.config, dict):
            return "admin" in self.config
        return '"admin"' in (self.config or "") if not os.path.exists(self.config or "") else False

    def _drain_stderr(self):
        for line in iter(self.proc.stderr.readline, b""):
            self._stderr_lines.append(line.decode(errors="replace"))
            if b" listening " in line:
                self._stderr_listening.set()
        self._stderr_listening.set()

    def _stderr_to_the_end(self, timeout=5):
        """wampd has exited: wait until the drain thread has read its stderr to the end
        (on a loaded machine it may not even have started reading when the exit is seen,
        and an error message quoting stderr() would come out empty)."""
        if self._stderr_thread:
            self._stderr_thread.join(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=10, expect_code=0):
        """Signal wampd and wait for it; assert its exit code and a clean stderr."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._stderr_to_the_end()
                raise WampdError("wampd did not exit within %ss of signal %s:\n%s"
                                 % (timeout, sig, self.stderr()))
        self._stderr_to_the_end()
        code = self.proc.returncode
        self._cleanup()
        self.check_sanitizers()
        if expect_code is not None and code != expect_code:
            raise WampdError("wampd exited with %s (expected %s):\n%s"
                             % (code, expect_code, self.stderr()))
        return code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self._stderr_to_the_end()  # check_sanitizers() after a kill sees all of it
        self._cleanup()

    def _cleanup(self):
        if self._config_file:
            try:
                os.unlink(self._config_file)
            except OSError:
                pass
            self._config_file = None

    # ------------------------------------------------------------------ inspection
    @property
    def url(self):
        """The first WebSocket listener's URL (ws:// or wss://), else the first URL."""
        return next((u for u in self.urls if u.startswith("ws")), self.urls[0])

    def url_of(self, scheme, n=0):
        """The n-th listening URL of a scheme ("ws", "wss", "rs", "rss", "unix", "http",
        "https")."""
        return [u for u in self.urls if u.split(":", 1)[0] == scheme][n]

    @property
    def port(self):
        return int(re.search(r":(\d+)/", self.url).group(1))

    @property
    def host(self):
        return re.match(r"(?:wss?|https?)://([^:/]+)", self.url).group(1)

    @property
    def path(self):
        return "/" + self.url.split("/", 3)[3]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        return "".join(self._stderr_lines)

    def wait_log(self, pattern, timeout=5):
        """Wait until a stderr line matches the regex; return the match or raise."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self._stderr_lines):
                m = rx.search(line)
                if m:
                    return m
            time.sleep(0.02)
        raise WampdError("no log line matching %r within %ss:\n%s"
                         % (pattern, timeout, self.stderr()))

    def check_sanitizers(self):
        text = self.stderr()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise WampdError("sanitizer report in wampd's stderr:\n" + text)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    # ------------------------------------------------------------------ context manager
    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            self.kill()
        return False
