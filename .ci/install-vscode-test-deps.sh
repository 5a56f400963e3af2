#!/usr/bin/env bash
# Installs what the extension-host tests need (test/vscode/): Debian's chromium (driven headless by
# playwright-core) and ripgrep (its rg replaces the one code-server would fetch from GitHub), then
# code-server itself into a cache dir outside the repo (scripts/install-code-server.mjs).
# Quiet and idempotent: apt only runs, with a single `apt-get update`, when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/rg ] || missing+=(ripgrep)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-vscode-test-deps: installing ${missing[*]}"
  # apt's chatter (debconf notices included) is kept back unless a step fails.
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-vscode-test-deps: apt-get failed for ${missing[*]}" >&2
    exit 1
  fi
fi

node scripts/install-code-server.mjs
