"""`make install` (= cmake --install) into DESTDIR for three prefixes (issue #11):

  prefix       binary            configuration               unit
  /usr/local   /usr/local/sbin   /usr/local/etc/wampd        /usr/local/lib/systemd/system
  /usr         /usr/sbin         /etc/wampd                  /usr/lib/systemd/system
  /opt/wampd   /opt/wampd/sbin   /etc/opt/wampd              /opt/wampd/lib/systemd/system

Each installed unit and man page names the paths of its own prefix, the configuration is
the packaged default, an edited configuration survives a second install, and the installed
wampd runs with the installed configuration.

    WAMPD_BUILD_DIR=... WAMPD_CMAKE=... WAMPD_DEFAULT_CONFIG=... /usr/bin/python3 test_install.py
"""

import filecmp
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from wampd_proc import WampdProcess  # noqa: E402

BUILD = os.environ["WAMPD_BUILD_DIR"]
CMAKE = os.environ.get("WAMPD_CMAKE", "cmake")
DEFAULT_CONFIG = os.environ["WAMPD_DEFAULT_CONFIG"]
TOOLS = [t for t in os.environ.get("WAMPD_TOOLS", "").split(",") if t]

LAYOUTS = [("/usr/local", "/usr/local/etc"), ("/usr", "/etc"), ("/opt/wampd", "/etc/opt/wampd")]


def install(destdir, prefix):
    r = subprocess.run([CMAKE, "--install", BUILD, "--prefix", prefix],
                       env=dict(os.environ, DESTDIR=destdir), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert r.returncode == 0, "cmake --install --prefix %s failed:\n%s" % (prefix, r.stdout)
    return r.stdout


def check_layout(destdir, prefix, etc):
    def at(path):
        return destdir + path

    exe = at(prefix + "/sbin/wampd")
    assert os.access(exe, os.X_OK), exe
    for t in TOOLS:
        assert os.access(at(prefix + "/bin/" + t), os.X_OK), t
        assert os.path.isfile(at(prefix + "/share/man/man1/%s.1.gz" % t)), t
    config = at(etc + "/wampd/config.json")
    assert filecmp.cmp(config, DEFAULT_CONFIG, shallow=False), config
    with open(at(prefix + "/lib/systemd/system/wampd.service")) as fh:
        unit = fh.read()
    expect = "ExecStart=%s/sbin/wampd --config %s/wampd/config.json\n" % (prefix, etc)
    assert expect in unit, "%s not in the unit:\n%s" % (expect, unit)
    assert "@WAMPD_" not in unit, "unfilled template variable:\n" + unit
    with gzip.open(at(prefix + "/share/man/man8/wampd.8.gz"), "rt") as fh:
        page = fh.read()
    assert etc + "/wampd/config.json" in page and prefix + "/lib/systemd/system" in page
    assert "@WAMPD_" not in page, "unfilled template variable in wampd.8"
    assert os.path.isfile(at(prefix + "/share/doc/wampd/README.md"))
    return exe, config


def main():
    tmp = tempfile.mkdtemp(prefix="wampd-install-")
    try:
        for prefix, etc in LAYOUTS:
            destdir = os.path.join(tmp, prefix.strip("/").replace("/", "_"))
            install(destdir, prefix)
            exe, config = check_layout(destdir, prefix, etc)
            # nothing was written outside DESTDIR/PREFIX and DESTDIR/ETC
            tops = {prefix.split("/")[1], etc.split("/")[1]}
            assert set(os.listdir(destdir)) == tops, (os.listdir(destdir), tops)

        # the /usr/local tree: an operator's configuration is kept by the next install,
        # and the installed router runs from it
        destdir = os.path.join(tmp, "usr_local")
        config = destdir + "/usr/local/etc/wampd/config.json"
        with open(config, "a") as fh:
            fh.write("\n")
        edited = open(config).read()
        out = install(destdir, "/usr/local")
        assert "Keeping: " + config in out, out
        assert open(config).read() == edited, "the second install replaced the configuration"
        with WampdProcess(binary=destdir + "/usr/local/sbin/wampd", config=config) as r:
            assert r.url.startswith("ws://127.0.0.1:") and r.url.endswith("/ws"), r.url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
