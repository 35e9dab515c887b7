#!/usr/bin/env bash
# Lints the WooCommerce companion plugin with `php -l` (installing Debian's
# php-cli when missing, like the browser tests' chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v php >/dev/null; then
  echo "plugin-check: installing php-cli (apt-get)…"
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "plugin-check: php missing and no sudo: install php-cli" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || true
  $sudo apt-get install -y -qq --no-install-recommends php-cli >/dev/null
fi
status=0
while IFS= read -r f; do
  php -l "$f" >/dev/null || { php -l "$f"; status=1; }
done < <(find widget/woocommerce -name '*.php')
[[ $status == 0 ]] && echo "plugin-check: widget/woocommerce passes php -l"
exit $status
