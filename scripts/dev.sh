#!/usr/bin/env bash
# Runs the Shopify simulator and Parrain (serve + work in one process), then
# installs the demo shop through the real OAuth flow and prints where to look.
# Called by `make dev` with the environment already set; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local
DEMO_SHOP=${DEMO_SHOP:-parrain-demo.myshopify.com}
SIM_ADDR=${SHOPIFY_API_ORIGIN#http://}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() { # url what
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "dev: $2 did not come up; see .local/*.log" >&2; exit 1
}

# The SMTP server on loopback Parrain sends every email to (SMTP_URL, set by
# the Makefile): it keeps and shows what it receives.
MAIL_INBOX=${MAIL_INBOX:-http://127.0.0.1:8025}
bin/mail-sim -smtp 127.0.0.1:1025 -http "${MAIL_INBOX#http://}" > .local/mail-sim.log 2>&1 &
pids+=($!)
SHOPIFY_SIM_ADDR=$SIM_ADDR bin/shopify-sim -shop "$DEMO_SHOP" -auto-approve > .local/shopify-sim.log 2>&1 &
pids+=($!)
bin/parrain all > .local/parrain.log 2>&1 &
pids+=($!)
wait_for "$MAIL_INBOX/" "the mail simulator"
wait_for "$SHOPIFY_API_ORIGIN/_sim/" "the Shopify simulator"
wait_for "$APP_URL/readyz" "Parrain"

# The merchant's click on "Install" in the admin, played by curl: the
# simulator signs the install link, Parrain checks it and redirects to the
# (auto-approving) consent screen, which redirects back to the callback.
install_url=$(curl -fsS "$SHOPIFY_API_ORIGIN/_sim/install-url?shop=$DEMO_SHOP")
if curl -fsSL -c .local/cookies -b .local/cookies "$install_url" | grep -q "Parrain is installed"; then
  installed="installed through OAuth"
else
  installed="INSTALL FAILED: see .local/parrain.log"
fi

# Demo program: no holding period, so a referral is rewarded within a minute
# (the approval job runs every minute). Set through the admin API, with a
# session token the simulator mints as Shopify's admin would.
if [ "$installed" = "installed through OAuth" ]; then
  for _ in $(seq 1 50); do  # the program needs the shop's currency, recorded by the sync job
    token=$(curl -fsS "$SHOPIFY_API_ORIGIN/_sim/session-token?shop=$DEMO_SHOP")
    curl -fsS -o /dev/null -X PUT "$APP_URL/api/admin/program" -H "Authorization: Bearer $token" -d '{"holding_days":0}' 2>/dev/null && break
    sleep 0.2
  done
fi

# A console owner for the demo (the first owner is always made on the
# command line); already there on the second run.
PARRAIN_STAFF_PASSWORD=parrain-dev-password bin/parrain staff add --email owner@parrain.dev --role owner >/dev/null 2>&1 || true

# A first order from Marie, so the demo order-received page has a popup to
# show: it appears once the order's webhook is processed (the widget retries).
demo_page="(no demo order: install failed)"
if [ "$installed" = "installed through OAuth" ]; then
  order=$(curl -fsS -X POST "$SHOPIFY_API_ORIGIN/_sim/shops/$DEMO_SHOP/orders" -H 'Content-Type: application/json' \
    -d '{"email":"marie@example.com","first_name":"Marie","total":"120.00","accepts_marketing":true}' | grep -o 'gid://shopify/Order/[0-9]*' | head -1)
  demo_page="$SHOPIFY_API_ORIGIN/thank-you/${order##*/}?shop=$DEMO_SHOP"
fi
cat <<MSG

  Parrain is running.
    App             $APP_URL            (health: $APP_URL/healthz, readiness: $APP_URL/readyz, metrics: $APP_URL/metrics with Authorization: Bearer $METRICS_TOKEN)
    Shopify sim     $SHOPIFY_API_ORIGIN/_sim/   (shops, install link, deliveries, place an order)
    Console         $APP_URL/console/  (owner@parrain.dev / parrain-dev-password)
    Mail inbox      $MAIL_INBOX/   (every email Parrain sends, over SMTP to 127.0.0.1:1025)
    Demo shop       $DEMO_SHOP — $installed
    Demo order page $demo_page
                    (Marie's order-received page with the referral popup; add &lang=fr for French,
                     &css=hostile for a theme with aggressive CSS)
    Logs            .local/parrain.log, .local/shopify-sim.log, .local/mail-sim.log
    Database        $DATABASE_URL
  Try the loop:     1. open the demo order page: Marie is an advocate, the popup shows her link and code
                       (or place another order on $SHOPIFY_API_ORIGIN/_sim/);
                    2. open her link, buy as a friend on the simulated storefront (the capture script
                       writes the ref to the cart; checkout shows the friend's own order page);
                    3. within a minute (demo holding period 0) Marie's THANKS- reward code appears,
                       and her "reward earned" email in the mail inbox.
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
echo "dev: a process exited; see .local/*.log" >&2
