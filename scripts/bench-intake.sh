#!/usr/bin/env bash
# Benchmarks the webhook intake on this machine (see cmd/bench-intake): a
# fresh database, `parrain serve` on 127.0.0.1:8181, many concurrent signed
# orders/create deliveries, then the raw insert rate of the same Postgres.
# Called by `make bench-intake` with the environment set.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000} C=${C:-64} RATE=${RATE:-0}
base=${TEST_DATABASE_URL%%\?*}; server=${base%/*}; query=${TEST_DATABASE_URL#"$base"}
db=parrain_bench
psql "$server/postgres$query" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$server/$db$query"
export REDIS_URL="${REDIS_URL%/*}/9" LISTEN_ADDR=127.0.0.1:8181 APP_URL=http://127.0.0.1:8181 LOG_LEVEL=warn
redis-cli -u "$REDIS_URL" flushdb >/dev/null
bin/parrain migrate up >/dev/null
bin/parrain serve > .local/bench-serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; redis-cli -u "$REDIS_URL" flushdb >/dev/null' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:8181/readyz 2>/dev/null && break; sleep 0.1; done
echo "bench-intake: $(nproc) cores, Postgres $(psql "$DATABASE_URL" -tAc 'show server_version'), synchronous_commit=$(psql "$DATABASE_URL" -tAc 'show synchronous_commit')"
go run ./cmd/bench-intake -app http://127.0.0.1:8181 -db "$DATABASE_URL" -n "$N" -c "$C" -rate "$RATE" ${PAYLOAD:+-payload "$PAYLOAD"}
curl -fsS http://127.0.0.1:8181/metrics | awk '/^parrain_webhook_insert_batch_size_(sum|count)/ {v[$1]=$2} END {if (v["parrain_webhook_insert_batch_size_count"]>0) printf "group commit: %.1f webhooks per INSERT on average\n", v["parrain_webhook_insert_batch_size_sum"]/v["parrain_webhook_insert_batch_size_count"]}'
