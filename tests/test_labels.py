"""Every ctest test carries a kind label (how it runs) and at least one area label (the part
of wampd it covers), both from the fixed lists in tests/CMakeLists.txt, so that
`ctest -L <area>` finds every test of an area (README "Testing").

    python3 tests/test_labels.py <ctest> <build dir> <kind,kind,...> <area,area,...>
"""

import json
import subprocess
import sys


def main():
    ctest, build, kinds, areas = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    kinds, areas = set(kinds.split(",")), set(areas.split(","))
    out = subprocess.run([ctest, "--test-dir", build, "--show-only=json-v1"], check=True,
                         capture_output=True, text=True).stdout
    tests = json.loads(out)["tests"]
    bad = []
    for t in tests:
        labels = set()
        for p in t.get("properties", []):
            if p["name"] == "LABELS":
                labels = set(p["value"])
        unknown = labels - kinds - areas - {"nosan"}
        if not labels & kinds:
            bad.append("%s: no kind label (one of %s)" % (t["name"], ", ".join(sorted(kinds))))
        if not labels & areas:
            bad.append("%s: no area label (one of %s)" % (t["name"], ", ".join(sorted(areas))))
        if unknown:
            bad.append("%s: labels in neither list: %s" % (t["name"], ", ".join(sorted(unknown))))
    if len(tests) < 50:
        bad.append("only %d tests listed: not the whole suite" % len(tests))
    for line in bad:
        print(line)
    print("%d tests, %d problems" % (len(tests), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
