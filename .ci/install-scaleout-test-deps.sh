#!/usr/bin/env bash
# Installs what the scale-out deployment tests need (test/deploy/): Debian's nginx (a real load
# balancer in front of real relays), prometheus (for promtool), docker-compose (1.29: it parses
# docker/docker-compose.realtime.yml without a Docker engine), openssl (a throwaway TLS cert) and
# redis-server (the `relay deploy` local cluster); python3-yaml (comes with docker-compose) lets the
# tests read YAML.
# Quiet and idempotent: apt only runs, with a single `apt-get update`, when something is missing.
# The tests start their own nginx and Redis on free loopback ports; the services Debian's packages
# would start on install (nginx on :80, prometheus on :9090) are kept from starting.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-scaleout-test-deps: installing ${missing[*]}"
  # apt's chatter (debconf notices included) is kept back unless a step fails.
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  # policy-rc.d 101: packages must not start their services (prometheus on :9090, nginx on :80)
  # on this shared machine; a file we created is removed again.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ] && [ -w "$(dirname "$policy")" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  status=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 || status=$?
  [ "$created_policy" = 1 ] && rm -f "$policy"
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    echo "install-scaleout-test-deps: apt-get failed for ${missing[*]}" >&2
    exit 1
  fi
fi
