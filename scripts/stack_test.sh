#!/usr/bin/env bash
# Self-check for scripts/stack.sh, run by hand (not part of `make test`):
#
#   scripts/stack_test.sh
#
# 1. The "nothing reachable" path, without stopping the machine's services:
#    stack.sh is pointed at ports where nothing listens (Postgres 5439, Redis
#    6390), so it must start project-local servers. This runs on a copy of
#    stack.sh in a scratch checkout, so the real .local/ (and whoever is
#    running `make test` from it right now) never sees the test servers.
#    Checked: both servers start, .local/stack.env points at them and they
#    answer with those URLs (databases created), a second `up` from another
#    cwd reuses them, `down` stops them, a second `down` is a no-op.
#    Layouts covered:
#      - checkout the postgres OS user can reach (data in .local/postgres);
#      - as root, a checkout it cannot reach (data under ~postgres, symlink);
#      - as root, also the non-root path, run as `nobody`.
# 2. Bad configuration fails with one line on stderr and exit 1.
# 3. The default path in the real checkout: with DATABASE_URL/REDIS_URL
#    unset, the system servers on 5432/6379 are used (skipped if none answer).
#    This also leaves the real .local/stack.env pointing at them.
#
# Uses ports 55432/56379 (or STACK_PG_PORT/STACK_REDIS_PORT): a project-local
# stack already running on them makes the test fail, it is never touched.
# shellcheck disable=SC2016,SC2001 # single-quoted `bash -c` scripts get $1... as arguments
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PG_PORT=${STACK_PG_PORT:-55432}
REDIS_PORT=${STACK_REDIS_PORT:-56379}
unset DATABASE_URL TEST_DATABASE_URL REDIS_URL
export CI=true # stack.sh must never prompt

DEAD_PG='postgres://postgres@127.0.0.1:5439/parrain?sslmode=disable'
DEAD_PG_TEST='postgres://postgres@127.0.0.1:5439/parrain_test?sslmode=disable'
DEAD_REDIS='redis://127.0.0.1:6390/0'

failures=0
ok() { echo "  ok   $*"; }
fail() { echo "  FAIL $*"; failures=$((failures + 1)); }
check() { # description command...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
contains() { [[ $1 == *"$2"* ]]; }

SCRATCH=$(mktemp -d)
chmod 755 "$SCRATCH"
CHECKOUTS=()

# Stops whatever the scratch checkouts started and removes their data, also
# the out-of-tree Postgres data a root run puts under ~postgres.
cleanup() {
  local repo data
  for repo in "${CHECKOUTS[@]}"; do
    [ -x "$repo/scripts/stack.sh" ] || continue
    if [ "$(stat -c %U "$repo")" = "$(id -un)" ]; then
      "$repo/scripts/stack.sh" down >/dev/null 2>&1 || true
    else
      runuser -u "$(stat -c %U "$repo")" -- "$repo/scripts/stack.sh" down >/dev/null 2>&1 || true
    fi
    if [ -L "$repo/.local/postgres" ]; then
      data=$(readlink "$repo/.local/postgres")
      case $data in */parrain-[0-9]*) rm -rf "$data" ;; esac
    fi
  done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# new_checkout DIR [OWNER]: a scratch "repository" holding a copy of stack.sh.
new_checkout() {
  mkdir -p "$1/scripts"
  cp "$ROOT/scripts/stack.sh" "$1/scripts/"
  [ -z "${2:-}" ] || chown -R "$2:" "$1"
  CHECKOUTS+=("$1")
}

# run_stack USER COMMAND...: runs COMMAND (as USER unless empty) from /, with
# no stdin; sets OUT (stdout), ERR (stderr) and RC, and shows the output.
run_stack() {
  local user=$1
  shift
  local -a cmd=("$@")
  [ -z "$user" ] || cmd=(runuser -u "$user" -- "${cmd[@]}")
  RC=0
  (cd / && "${cmd[@]}") </dev/null >"$SCRATCH/out" 2>"$SCRATCH/err" || RC=$?
  OUT=$(cat "$SCRATCH/out")
  ERR=$(cat "$SCRATCH/err")
  if [ -n "$OUT" ]; then sed 's/^/       | /' <<<"$OUT"; fi
  if [ -n "$ERR" ]; then sed 's/^/       ! /' <<<"$ERR"; fi
}

env_of() { # repo name: value of name in repo/.local/stack.env
  sed -n "s/^$2=//p" "$1/.local/stack.env"
}

# Which of the default system services answer: "pg redis", "pg", ...
system_services() {
  local up=()
  pg_answers postgres://postgres@127.0.0.1:5432/postgres postgres && up+=(pg)
  redis_answers redis://127.0.0.1:6379/0 && up+=(redis)
  echo "${up[*]}"
}

pg_answers() { [ "$(PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'select current_database()' </dev/null 2>/dev/null)" = "$2" ]; }
redis_answers() { [ "$(timeout 5 redis-cli -u "$1" ping 2>/dev/null </dev/null)" = PONG ]; }

# local_scenario NAME REPO [USER]: the whole up/up/down/down cycle.
local_scenario() {
  local name=$1 repo=$2 user=${3:-}
  echo "== nothing reachable: $name ($repo${user:+, as $user})"
  local pg_local=postgres://postgres@127.0.0.1:$PG_PORT
  local redis_local=redis://127.0.0.1:$REDIS_PORT/0

  echo "   up"
  run_stack "$user" env DATABASE_URL="$DEAD_PG" TEST_DATABASE_URL="$DEAD_PG_TEST" REDIS_URL="$DEAD_REDIS" \
    "$repo/scripts/stack.sh" up
  check "up exits 0" test "$RC" = 0
  check "postgres line says started on 127.0.0.1:$PG_PORT" \
    contains "$OUT" "postgres: started project-local server in .local/postgres"
  check "redis line says started on 127.0.0.1:$REDIS_PORT" \
    contains "$OUT" "redis: started project-local server in .local/redis on 127.0.0.1:$REDIS_PORT"
  check "stack.env DATABASE_URL is the local server" \
    test "$(env_of "$repo" DATABASE_URL)" = "$pg_local/parrain?sslmode=disable"
  check "stack.env TEST_DATABASE_URL is the local server" \
    test "$(env_of "$repo" TEST_DATABASE_URL)" = "$pg_local/parrain_test?sslmode=disable"
  check "stack.env REDIS_URL is the local server" test "$(env_of "$repo" REDIS_URL)" = "$redis_local"
  check "stack.env sources in bash and gives answering URLs" bash -c '
    set -e; source "$1"
    [ "$(psql "$DATABASE_URL" -XAtqc "select current_database()")" = parrain ]
    [ "$(psql "$TEST_DATABASE_URL" -XAtqc "select current_database()")" = parrain_test ]
    [ "$(redis-cli -u "$REDIS_URL" ping)" = PONG ]' _ "$repo/.local/stack.env"
  check "stack.env is readable by make" bash -c \
    'printf "include %s\nall:\n\t@echo \$(DATABASE_URL) \$(REDIS_URL)\n" "$1" | make -s -f - | grep -qx "$2 $3"' \
    _ "$repo/.local/stack.env" "$pg_local/parrain?sslmode=disable" "$redis_local"
  check "local postgres listens on 127.0.0.1 only" pg_answers "$pg_local/postgres?sslmode=disable" postgres
  check "the system services are as they were" test "$(system_services)" = "$SYSTEM_BEFORE"
  if [ -n "${EXPECT_SYMLINK:-}" ]; then
    check ".local/postgres is a symlink to a dir under ~postgres" \
      bash -c '[ -L "$1" ] && [ "$(stat -c %U "$(readlink "$1")")" = postgres ]' _ "$repo/.local/postgres"
  else
    check ".local/postgres is a real directory" bash -c '[ -d "$1" ] && [ ! -L "$1" ]' _ "$repo/.local/postgres"
  fi

  echo "   up again, from another cwd"
  local before
  before=$(cat "$repo/.local/stack.env")
  run_stack "$user" env DATABASE_URL="$DEAD_PG" TEST_DATABASE_URL="$DEAD_PG_TEST" REDIS_URL="$DEAD_REDIS" \
    "$repo/scripts/stack.sh" up
  check "second up exits 0" test "$RC" = 0
  check "postgres reused" contains "$OUT" "postgres: reusing project-local server"
  check "redis reused" contains "$OUT" "redis: reusing project-local server"
  check "no database created the second time" bash -c '! grep -q created <<<"$1"' _ "$OUT"
  check "stack.env unchanged" test "$before" = "$(cat "$repo/.local/stack.env")"

  echo "   down"
  run_stack "$user" "$repo/scripts/stack.sh" down
  check "down exits 0" test "$RC" = 0
  check "postgres stopped" contains "$OUT" "postgres: stopped project-local server"
  check "redis stopped" contains "$OUT" "redis: stopped project-local server"
  check "local postgres no longer answers" bash -c '! pg_isready -q -h 127.0.0.1 -p "$1" -t 2' _ "$PG_PORT"
  check "local redis no longer answers" bash -c '! redis-cli -p "$1" ping' _ "$REDIS_PORT"

  echo "   down again"
  run_stack "$user" "$repo/scripts/stack.sh" down
  check "second down is a no-op, exit 0" test "$RC" = 0
  check "says postgres is not running" contains "$OUT" "postgres: project-local server in .local/postgres"
  check "says redis is not running" contains "$OUT" "redis: no project-local server running"
}

# --------------------------------------------------------------- 1

for port in "$PG_PORT" "$REDIS_PORT"; do
  if timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null; then
    echo "stack_test: 127.0.0.1:$port is in use (a project-local stack? 'scripts/stack.sh down' stops it): free it or set STACK_PG_PORT/STACK_REDIS_PORT" >&2
    exit 1
  fi
done

SYSTEM_BEFORE=$(system_services)
new_checkout "$SCRATCH/open/parrain"
local_scenario "reachable checkout" "$SCRATCH/open/parrain"

if [ "$(id -u)" -eq 0 ]; then
  mkdir -m 700 "$SCRATCH/private"
  new_checkout "$SCRATCH/private/parrain"
  EXPECT_SYMLINK=1 local_scenario "checkout the postgres user cannot reach" "$SCRATCH/private/parrain"

  if id nobody >/dev/null 2>&1; then
    new_checkout "$SCRATCH/open/parrain-nobody" nobody
    local_scenario "non-root user" "$SCRATCH/open/parrain-nobody" nobody
  fi
else
  echo "== (not root: the root-only layouts are skipped)"
fi

# --------------------------------------------------------------- 2

echo "== bad configuration fails with one clear line"
one_line_failure() { # description env...
  local what=$1
  shift
  run_stack "" env "$@" "$SCRATCH/open/parrain/scripts/stack.sh" up
  check "$what: exit 1, one line on stderr" \
    bash -c '[ "$1" = 1 ] && [ "$(wc -l <<<"$2")" = 1 ] && [[ $2 == stack.sh:* ]]' _ "$RC" "$ERR"
}
one_line_failure "URL with &" 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/parrain?sslmode=disable&x=1'
one_line_failure "not a URL" 'DATABASE_URL=host=127.0.0.1 dbname=parrain'
one_line_failure "remote host that does not answer" DATABASE_URL=postgres://postgres@db.example.invalid:5432/parrain
run_stack "" "$SCRATCH/open/parrain/scripts/stack.sh" sideways
check "unknown command: exit 1, usage line" bash -c '[ "$1" = 1 ] && [[ $2 == *usage* ]]' _ "$RC" "$ERR"

# --------------------------------------------------------------- 3

echo "== default URLs, real checkout ($ROOT)"
if [ "$SYSTEM_BEFORE" = "pg redis" ]; then
  run_stack "" "$ROOT/scripts/stack.sh" up
  check "up exits 0" test "$RC" = 0
  check "postgres line" contains "$OUT" "postgres: using existing server at 127.0.0.1:5432"
  check "redis line" contains "$OUT" "redis: using existing server at 127.0.0.1:6379"
  check "stack.env DATABASE_URL" test "$(env_of "$ROOT" DATABASE_URL)" = "postgres://postgres@127.0.0.1:5432/parrain?sslmode=disable"
  check "stack.env TEST_DATABASE_URL" test "$(env_of "$ROOT" TEST_DATABASE_URL)" = "postgres://postgres@127.0.0.1:5432/parrain_test?sslmode=disable"
  check "stack.env REDIS_URL" test "$(env_of "$ROOT" REDIS_URL)" = "redis://127.0.0.1:6379/0"
  check "databases exist on the system server" pg_answers "postgres://postgres@127.0.0.1:5432/parrain_test?sslmode=disable" parrain_test
else
  echo "  SKIP no trust-auth Postgres on 127.0.0.1:5432 and Redis on 6379 here"
fi

echo
if [ "$failures" -eq 0 ]; then echo "stack_test: all checks passed"; else echo "stack_test: $failures check(s) FAILED"; exit 1; fi
