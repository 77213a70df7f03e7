"""libwampc itself stays free of libwebsockets (issue #20: the device path needs none): no
file of client/ but the libwebsockets adapter (lws.c, wampc_lws.h) includes
libwebsockets.h, and the built libwampc.so does not link it (its NEEDED entries), while
libwampc-ws.so does.

    python3 test_client_lws_free.py <source root> <libwampc.so> [<libwampc-ws.so>]
"""

import os
import re
import subprocess
import sys

ADAPTER = {"lws.c", "wampc_lws.h"}


def needed(lib):
    out = subprocess.run(["objdump", "-p", lib], check=True, capture_output=True,
                         text=True).stdout
    return re.findall(r"NEEDED\s+(\S+)", out)


def main():
    root, core = sys.argv[1], sys.argv[2]
    ws = sys.argv[3] if len(sys.argv) > 3 else None
    bad = []
    client = os.path.join(root, "client")
    for dirpath, _, files in os.walk(client):
        for f in files:
            if not f.endswith((".c", ".h")) or f in ADAPTER:
                continue
            with open(os.path.join(dirpath, f), encoding="utf-8", errors="replace") as fh:
                if re.search(r'^\s*#\s*include\s*[<"]libwebsockets', fh.read(), re.M):
                    bad.append("%s includes libwebsockets.h" % os.path.relpath(
                        os.path.join(dirpath, f), root))
    libs = needed(core)
    if not libs:
        bad.append("%s: no NEEDED entries read (objdump)" % core)
    bad += ["%s links %s" % (os.path.basename(core), n) for n in libs if "websockets" in n]
    if ws and not [n for n in needed(ws) if "websockets" in n]:
        bad.append("%s does not link libwebsockets: the check above would prove nothing"
                   % os.path.basename(ws))
    for line in bad:
        print(line)
    print("%d problems" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
