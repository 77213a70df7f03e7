#!/usr/bin/env bash
# Install whatever wampd needs that this Debian 12 machine lacks, and nothing else.
#   scripts/deps.sh            C libraries + test clients (make run / make test)
#   scripts/deps.sh bench      ... plus what `make bench` needs
#   scripts/deps.sh fuzz       ... plus clang/libFuzzer for `make fuzz`
# apt for C libraries and Python clients, npm (the machine's own node) for the JS clients.
# Never installs Debian's nodejs/npm packages: they conflict with the shipped node.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  pkg-config cmake make gcc
  libwebsockets-dev libjansson-dev libmsgpack-dev libsodium-dev libcmocka-dev uthash-dev
  libssl-dev libcbor-dev libhiredis-dev libyaml-dev redis-server
  liblmdb-dev  # the lmdb event store (router/store/store_lmdb.c)
  libzip-dev   # the archive web service (router/http/archive_svc.c)
  python3 python3-autobahn python3-twisted python3-msgpack python3-cbor2
  python3-argon2 python3-passlib python3-nacl  # nacl: the security tests sign cryptosign challenges
  dpkg-dev file systemd groff-base
  curl  # tests/http/test_curl.py drives the HTTP bridge with the real curl
  chromium  # the status page test (tests/interop/js/status_page.js, puppeteer-core)
)
# dpkg-dev, file: cpack's Debian package (dpkg-shlibdeps); systemd: systemctl and
# systemd-analyze for the package test (nothing is started); groff-base: man page checks
for extra in "$@"; do
  case "$extra" in
    bench) pkgs+=(python3-matplotlib) ;;
    fuzz)  pkgs+=(clang libclang-rt-14-dev) ;;
    soak)  ;;
    *) echo "deps.sh: unknown group '$extra'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# JS test clients, pinned by tests/package-lock.json. Re-run only when the lock changed.
if command -v npm >/dev/null; then
  stamp=tests/node_modules/.wampd-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/package-lock.json "$stamp"; then
    echo "deps: npm install (tests/, versions pinned by package-lock.json)"
    # `npm ci` refuses this lock: the registry here omits the optional platform binaries
    # of cbor-extract/msgpackr-extract, so the lock has no entries for them. `install
    # --no-save` installs exactly the locked versions and leaves the lock untouched.
    (cd tests && npm install --no-save --no-audit --no-fund --loglevel=error >/dev/null)
    cp tests/package-lock.json "$stamp"
  fi
else
  echo "deps: npm not found; JS interop tests will fail" >&2
fi
