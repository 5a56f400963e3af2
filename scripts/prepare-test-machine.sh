#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine (Node 20+) for the whole test suite, then returns; `npm run
# test:all` runs it before `npm test`. Idempotent and quiet: each step checks first, so a second
# run installs nothing and takes seconds.
#   1. Debian packages the tests drive for real: chromium + ripgrep (a real VS Code, code-server,
#      in headless Chromium), nginx, prometheus (promtool), prometheus-alertmanager (amtool), docker-compose (parses the compose
#      file without an engine), openssl, redis-server, python3-websockets and python3-yaml.
#      Installed with apt-get when run as root or through sudo; otherwise printed in one block.
#   2. The project's npm dependencies (`npm ci`, Electron's binary skipped) when node_modules is missing or older than the lock.
#   3. code-server from the npm registry, cached in ~/.cache/tandem (scripts/install-code-server.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "prepare-test-machine: $*"; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/rg ] || missing+=(ripgrep)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# The Python test client runs on Debian's python3 (a pyenv python3 on the PATH lacks Debian's modules).
/usr/bin/python3 -c 'import websockets' 2>/dev/null || missing+=(python3-websockets)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)

if [ "${#missing[@]}" -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
      as_root=(sudo)
    else
      cat >&2 <<EOF
prepare-test-machine: these Debian packages are missing and this is neither root nor sudo, so
they are not installed. The tests that need them will fail, each saying which. Install them with:

    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}

EOF
    fi
  fi
  if [ "$(id -u)" -eq 0 ] || [ "${#as_root[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    # policy-rc.d exit 101: the packages must not start their services (nginx on :80, prometheus
    # on :9090) on this machine; the tests start their own on free loopback ports. A policy file
    # created here is removed again.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
      "${as_root[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy" && created_policy=1
    fi
    status=0
    {
      "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    } >"$log" 2>&1 || status=$?
    [ "$created_policy" = 1 ] && "${as_root[@]}" rm -f "$policy"
    if [ "$status" -ne 0 ]; then
      cat "$log" >&2
      say "apt-get failed for ${missing[*]}" >&2
      exit 1
    fi
  fi
fi

# npm writes node_modules/.package-lock.json on every install: older than the lock means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  # Electron is optional: its install step downloads the binary from GitHub, which some machines
  # cannot reach. The tests need only its types (the dashboard's main process); `npm run
  # test:electron` and `npm run dashboard` want the binary: run `npm ci` without this where GitHub is reachable.
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

if [ -x /usr/bin/rg ]; then
  node scripts/install-code-server.mjs
else
  say "code-server is not installed: it needs ripgrep (above); the extension-host tests will say so" >&2
fi
