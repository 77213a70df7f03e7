"""`make install` (= cmake --install) into DESTDIR for three prefixes (issue #11):

  prefix       binary            configuration               unit
  /usr/local   /usr/local/sbin   /usr/local/etc/wampd        /usr/local/lib/systemd/system
  /usr         /usr/sbin         /etc/wampd                  /usr/lib/systemd/system
  /opt/wampd   /opt/wampd/sbin   /etc/opt/wampd              /opt/wampd/lib/systemd/system

Each installed unit and man page names the paths of its own prefix, the configuration is
the packaged default, an edited configuration survives a second install, and the installed
wampd runs with the installed configuration. With the client library built (issue #20),
libwampc's archive, shared library, header and pkg-config file are installed too, and a
program compiles and runs against the installed copy through pkg-config, linked with the
shared library and with the static archive.

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
WAMPC_LIBDIR = os.environ.get("WAMPC_LIBDIR")  # set when libwampc is built
WAMPC_INCLUDEDIR = os.environ.get("WAMPC_INCLUDEDIR", "include")
CC = os.environ.get("WAMPD_CC", "cc")
WAMPC_APP = r'''
#include <stdio.h>
#include <stdlib.h>
#include <wampc.h>

int main(void)
{
	struct wampc_config cfg = {.realm = "realm1", .url = "rs://127.0.0.1:1"};
	enum wampd_err err;
	wampc *c = wampc_new(&cfg, &err);
	wampc_value *v = wampc_value_from_json("[1, {\"a\": true}]");
	char *t = wampc_value_to_json(v);

	printf("%s %s %s\n", c ? "ok" : wampd_err_str(err), t,
	       wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST));
	free(t);
	wampc_value_free(v);
	wampc_free(c);
	return !c;
}
'''

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
    # the Python component launcher, where wampd looks for it (relative to itself)
    assert os.access(at(prefix + "/libexec/wampd/wampd-component"), os.X_OK)
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
    if WAMPC_LIBDIR:
        lib = at(prefix + "/" + WAMPC_LIBDIR)
        for f in ("libwampc.a", "libwampc.so", "libwampc.so.0", "pkgconfig/libwampc.pc"):
            assert os.path.exists(os.path.join(lib, f)), f
        inc = at(prefix + "/" + WAMPC_INCLUDEDIR + "/wampc")
        for f in ("wampc.h", "common/err.h"):
            assert os.path.isfile(os.path.join(inc, f)), f
    return exe, config


def wampc_app(destdir, prefix, tmp):
    """A program built against the installed libwampc through pkg-config (the .pc file is
    relocatable, so it finds the DESTDIR copy), shared and static."""
    lib = destdir + prefix + "/" + WAMPC_LIBDIR
    env = dict(os.environ, PKG_CONFIG_PATH=lib + "/pkgconfig")

    def pc(*args):
        return subprocess.run(["pkg-config"] + list(args) + ["libwampc"], env=env, check=True,
                              stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    src = os.path.join(tmp, "app.c")
    with open(src, "w") as fh:
        fh.write(WAMPC_APP)
    builds = {"shared": pc("--cflags", "--libs"),
              "static": pc("--cflags") + ["-Wl,-Bstatic", "-lwampc", "-Wl,-Bdynamic"] +
              pc("--libs", "--static")}
    for kind, flags in builds.items():
        exe = os.path.join(tmp, "app-" + kind)
        subprocess.run([CC, "-std=c11", "-Wall", "-Werror", src, "-o", exe] + flags, check=True)
        r = subprocess.run([exe], env=dict(os.environ, LD_LIBRARY_PATH=lib),
                           stdout=subprocess.PIPE, universal_newlines=True, timeout=30)
        assert (r.returncode, r.stdout) == (0, 'ok [1,{"a":true}] wamp.close.transport_lost\n'), \
            (kind, r.returncode, r.stdout)


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
        # ... and finds its Python component launcher, relative to itself
        app = os.path.join(tmp, "app")
        os.mkdir(app)
        with open(os.path.join(app, "config.json"), "w") as fh:
            fh.write('{"realms": [{"name": "realm1"}], "processes": [{"id": "py", "type": '
                     '"python", "components": [{"classname": "nosuch.Component", '
                     '"realm": "realm1"}]}]}')
        with WampdProcess(binary=destdir + "/usr/local/sbin/wampd",
                          config=os.path.join(app, "config.json")) as r:
            r.wait_log(r"worker=py stderr: wampd-component: component py\.1: cannot import "
                       r"nosuch", timeout=60)
            r.wait_log(r"gave up worker=py: exit 78")
            assert "not installed next to wampd" not in r.stderr(), r.stderr()
        if WAMPC_LIBDIR:
            wampc_app(destdir, "/usr/local", tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
