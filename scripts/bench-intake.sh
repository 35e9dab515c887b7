#!/usr/bin/env bash
# Benchmarks the webhook pipeline on this machine (see cmd/bench-intake): a
# fresh database, the Shopify simulator with a shop installed through OAuth,
# `parrain serve` on 127.0.0.1:8181 and `parrain work`, many concurrent signed
# orders/create deliveries processed to the end, then the raw insert rate of
# the same Postgres.
# Called by `make bench-intake` with the environment set.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000} C=${C:-64} RATE=${RATE:-0}
base=${TEST_DATABASE_URL%%\?*}; server=${base%/*}; query=${TEST_DATABASE_URL#"$base"}
db=parrain_bench
psql "$server/postgres$query" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$server/$db$query"
export REDIS_URL="${REDIS_URL%/*}/9" LISTEN_ADDR=127.0.0.1:8181 APP_URL=http://127.0.0.1:8181 LOG_LEVEL=warn
export SHOPIFY_API_ORIGIN=http://127.0.0.1:8191
shop=bench.myshopify.com
redis-cli -u "$REDIS_URL" flushdb >/dev/null
bin/parrain migrate up >/dev/null
# The real pipeline: the simulator plays the store, the shop is installed
# through OAuth and synced, `parrain work` processes what `serve` stores.
# serve and work run as separate processes so each one's CPU can be read.
SHOPIFY_SIM_ADDR=127.0.0.1:8191 bin/shopify-sim -shop "$shop" -auto-approve -duplicate-rate 0 > .local/bench-sim.log 2>&1 &
pids=($!)
# PROFILE=1: 30 s CPU profiles of serve and work from the start of the
# measured deliveries, in .local/bench-{serve,work}.pprof (go tool pprof).
prof=()
if [[ -n ${PROFILE:-} ]]; then prof=(-serve-pprof 127.0.0.1:6181 -work-pprof 127.0.0.1:6182 -profile-dir .local); fi
PPROF_ADDR=${PROFILE:+127.0.0.1:6181} bin/parrain serve > .local/bench-serve.log 2>&1 &
serve=$!; pids+=($serve)
PPROF_ADDR=${PROFILE:+127.0.0.1:6182} bin/parrain work > .local/bench-work.log 2>&1 &
work=$!; pids+=($work)
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null; redis-cli -u "$REDIS_URL" flushdb >/dev/null' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:8181/readyz 2>/dev/null && curl -fsS -o /dev/null "$SHOPIFY_API_ORIGIN/_sim/" 2>/dev/null && break; sleep 0.1; done
curl -fsSL -c .local/bench-cookies -b .local/bench-cookies "$(curl -fsS "$SHOPIFY_API_ORIGIN/_sim/install-url?shop=$shop")" | grep -q "Parrain is installed" \
  || { echo "bench-intake: install failed, see .local/bench-*.log" >&2; exit 1; }
for _ in $(seq 1 100); do
  [[ -n $(psql "$DATABASE_URL" -tAc "SELECT currency FROM shops WHERE domain = '$shop' AND currency <> ''") ]] && break; sleep 0.1
done
echo "bench-intake: $(nproc) cores, Postgres $(psql "$DATABASE_URL" -tAc 'show server_version'), synchronous_commit=$(psql "$DATABASE_URL" -tAc 'show synchronous_commit')"
go run ./cmd/bench-intake -app http://127.0.0.1:8181 -db "$DATABASE_URL" -shop "$shop" -serve-pid "$serve" -work-pid "$work" \
  -n "$N" -c "$C" -rate "$RATE" -customers "${CUSTOMERS:-0}" ${PAYLOAD:+-payload "$PAYLOAD"} "${prof[@]}" | tee .local/bench-intake.out
curl -fsS http://127.0.0.1:8181/metrics ${METRICS_TOKEN:+-H "Authorization: Bearer $METRICS_TOKEN"} | awk '/^parrain_webhook_insert_batch_size_(sum|count)/ {v[$1]=$2} END {if (v["parrain_webhook_insert_batch_size_count"]>0) printf "group commit: %.1f webhooks per INSERT on average\n", v["parrain_webhook_insert_batch_size_sum"]/v["parrain_webhook_insert_batch_size_count"]}'
if grep -q '"job failed"' .local/bench-work.log; then
  echo "bench-intake: the worker logged failures (.local/bench-work.log): $(grep -c '"job failed"' .local/bench-work.log)"
fi
# The yardstick: pgbench (the C client that ships with Postgres, prepared
# statements, $C connections, 2 threads) inserting the same body into a copy
# of webhook_events with the intake's statement shape (one row, ON CONFLICT
# DO NOTHING RETURNING id), one row per transaction: what Postgres alone
# does on this machine when every webhook pays its own commit. Then the
# same with an 8-byte body: the commit rate alone. The app is stopped first
# so nothing else of ours competes for the CPU.
kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; pids=()
payload=${PAYLOAD:-integrations/shopify/shopifysim/fixtures/order.json}
cat > .local/bench-yardstick.sql <<'SQL'
\set e random(1, 1000000000000)
INSERT INTO bench_yardstick (shop_id, topic, event_id, webhook_id, api_version, payload) VALUES (1, 'orders/create', :e, '', '2026-07', :body::jsonb) ON CONFLICT (shop_id, event_id) DO NOTHING RETURNING id;
SQL
yardstick() {
  psql "$DATABASE_URL" -q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bench_yardstick" -c "CREATE TABLE bench_yardstick (LIKE webhook_events INCLUDING ALL)" >/dev/null
  pgbench -n -M prepared -c "$C" -j 2 -t $(( (N + C - 1) / C )) -D body="$1" -f .local/bench-yardstick.sql "$DATABASE_URL" 2>/dev/null \
    | awk '/^latency average/ {lat=$4} /^tps/ {tps=$3} END {printf "%.0f %.2f\n", tps, lat}'
}
read -r ytps ylat < <(yardstick "$(cat "$payload")")
read -r stps slat < <(yardstick '{"id":1}')
psql "$DATABASE_URL" -q -c "DROP TABLE IF EXISTS bench_yardstick" >/dev/null
printf 'pgbench yardstick: %8.0f inserts/s   latency avg %6.2f ms   (pgbench -M prepared -c %d -j 2: one INSERT ... ON CONFLICT DO NOTHING of the same %d-byte body per transaction, autocommit, into a copy of webhook_events)\n' \
  "$ytps" "$ylat" "$C" "$(wc -c < "$payload")"
printf '                   %8.0f inserts/s   latency avg %6.2f ms   (the same with an 8-byte body: the commit rate alone)\n' "$stps" "$slat"
if [[ $RATE == 0 ]]; then
  awk -v y="$ytps" '/^intake:/ {printf "intake / pgbench yardstick: %.2f (throughput ratio, both saturated; the intake also verifies, validates and queues each webhook, and its senders, worker and simulator share the machine)\n", $2 / y}' .local/bench-intake.out
fi
