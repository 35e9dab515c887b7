#!/usr/bin/env bash
# Type-checks the Shopify checkout UI extension and validates the theme app
# extension (widget/shopify). They deploy with `shopify app deploy`; here
# they must at least type-check. npm ci runs again only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/../widget/shopify"
stamp=node_modules/.parrain-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "extensions: npm ci (widget/shopify)…"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi
npm run --silent check
echo "extensions: checkout UI extension type-checks, theme app extension valid"
