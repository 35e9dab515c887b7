#!/usr/bin/env bash
# Installs what the browser tests need, when missing: Debian's chromium
# (apt), playwright-core and axe-core (npm ci in widget/test). `make test` runs it;
# `npx playwright install` cannot work here, the browser comes from apt.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then
  echo "browser-deps: installing Debian's chromium (apt-get)…"
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "browser-deps: $chromium missing and no sudo: install the chromium package" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || true
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

command -v node >/dev/null || { echo "browser-deps: node is missing: install nodejs and npm" >&2; exit 1; }
# npm ci again only when the lock file changed since the last install.
stamp=widget/test/node_modules/.parrain-lock
if [[ ! -f $stamp ]] || ! cmp -s widget/test/package-lock.json "$stamp"; then
  echo "browser-deps: npm ci (widget/test: playwright-core, axe-core)…"
  (cd widget/test && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp widget/test/package-lock.json "$stamp"
fi
