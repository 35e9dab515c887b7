#!/usr/bin/env bash
# Makes Postgres and Redis available for `make dev` and `make test`.
#
#   scripts/stack.sh up     use the servers named by DATABASE_URL / REDIS_URL when
#                           they answer; otherwise install (apt) and start
#                           project-local ones. Idempotent: a second `up` reuses.
#   scripts/stack.sh down   stop the project-local servers (never a system one).
#
# Input (environment, all optional):
#   DATABASE_URL       default postgres://postgres@127.0.0.1:5432/parrain?sslmode=disable
#   TEST_DATABASE_URL  default: the DATABASE_URL server, database parrain_test
#   REDIS_URL          default redis://127.0.0.1:6379/0
#   STACK_PG_PORT      port of the project-local Postgres (default 55432)
#   STACK_REDIS_PORT   port of the project-local Redis    (default 56379)
#
# Output: .local/stack.env with DATABASE_URL, TEST_DATABASE_URL and REDIS_URL
# as actually usable, one NAME=value per line, no quotes and no `export`, so
# that both `source` (bash) and `include` (make) read it; and one line per
# service on stdout saying what was used.
#
# Project-local servers:
#   Postgres  data in .local/postgres/data, log .local/postgres/log, listening
#             on 127.0.0.1 only, trust auth, superuser "postgres".
#             initdb and pg_ctl refuse to run as root, so as root they run as
#             the `postgres` OS user, which must be able to reach the data dir.
#             If it cannot traverse the checkout (e.g. it lives under /root,
#             mode 700), the data goes to ~postgres/parrain-<hash of repo path>
#             (/var/lib/postgresql/... on Debian; /var/tmp if that home is
#             unusable) and .local/postgres is a symlink to it. That directory
#             outlives `rm -rf .local`; the next `up` from the same path reuses it.
#   Redis     data dir, pid file and log in .local/redis, 127.0.0.1 only, no
#             persistence (save "" and appendonly no): it only holds queues
#             and caches for development and tests.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
LOCAL=$ROOT/.local

PG_PORT=${STACK_PG_PORT:-55432}
REDIS_PORT=${STACK_REDIS_PORT:-56379}

# ---------------------------------------------------------------- helpers

die() { echo "stack.sh: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Hosts for which starting a server of our own is a reasonable substitute.
# A remote host that does not answer is a configuration error: silently
# testing against some other server would hide it.
is_local_host() {
  case $1 in '' | localhost | 127.* | '[::1]' | ::1) return 0 ;; esac
  return 1
}

# Is something (anything) accepting TCP connections on host $1 port $2?
# bash's /dev/tcp, in a child so that `timeout` can bound it.
port_taken_at() {
  local h=${1#[}
  h=${h%]}
  # shellcheck disable=SC2016 # expanded by the child bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$h" "$2" 2>/dev/null
}
port_taken() { port_taken_at 127.0.0.1 "$1"; }

# The values are written unquoted into a file read by both bash and make, so
# only characters that mean nothing to either are allowed (no & $ # ~ quotes
# or spaces). Percent-encode anything else in passwords.
check_url_chars() { # name value
  local re='^[][A-Za-z0-9._:/?=@%+,-]+$'
  [[ $2 =~ $re ]] ||
    die "$1='$2' has characters that cannot go unquoted into .local/stack.env (allowed: letters digits . _ : / ? = @ % + , [ ] -; at most one query parameter): percent-encode or simplify it"
}

APT_UPDATED=
# apt_install PKG...: installs Debian packages, as root or through sudo
# (non-interactive `sudo -n` without a terminal, so CI never hangs on a
# password prompt). Output goes to .local/apt.log.
apt_install() {
  command -v apt-get >/dev/null ||
    die "$* missing and no apt-get (not Debian/Ubuntu): install $* yourself and rerun"
  local -a sudo=()
  if ! is_root; then
    command -v sudo >/dev/null ||
      die "$* missing, and you are not root and have no sudo: run 'apt-get install -y $*' as root and rerun"
    if [ -t 0 ]; then sudo=(sudo); else sudo=(sudo -n); fi
  fi
  echo "stack.sh: installing $* (log: .local/apt.log)" >&2
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
  {
    if [ -z "$APT_UPDATED" ]; then "${apt[@]}" update && APT_UPDATED=1; fi &&
      "${apt[@]}" install --no-install-recommends "$@"
  } >>"$LOCAL/apt.log" 2>&1 </dev/null ||
    die "could not install $* (see .local/apt.log): run 'sudo apt-get install -y $*' yourself and rerun"
}

# need_cmd CMD PKG: makes sure CMD is on PATH, installing PKG if not.
need_cmd() {
  command -v "$1" >/dev/null && return 0
  apt_install "$2"
  command -v "$1" >/dev/null || die "installed $2 but still no $1 on PATH: fix PATH and rerun"
}

# ---------------------------------------------------------------- URLs

# parse_pg_url URL: sets PG_USERINFO PG_HOST PG_PORT_OF PG_DB PG_QUERY (query
# without '?'). Only the URL form is supported, not "host=... dbname=...".
parse_pg_url() {
  local re='^postgres(ql)?://(([^@/]*)@)?([^/?]*)(/([^?]*))?(\?(.*))?$'
  [[ $1 =~ $re ]] || die "'$1' is not a postgres:// URL: set DATABASE_URL/TEST_DATABASE_URL like postgres://user@host:5432/db?sslmode=disable"
  PG_USERINFO=${BASH_REMATCH[3]}
  local hostport=${BASH_REMATCH[4]}
  PG_DB=${BASH_REMATCH[6]}
  PG_QUERY=${BASH_REMATCH[8]}
  if [[ $hostport =~ ^(\[[^]]*\])(:([0-9]+))?$ || $hostport =~ ^([^:]*)(:([0-9]+))?$ ]]; then
    PG_HOST=${BASH_REMATCH[1]} PG_PORT_OF=${BASH_REMATCH[3]:-5432}
  else
    die "cannot read host:port in '$1'"
  fi
}

# The server's `postgres` maintenance database, same credentials and options.
pg_maint_url() {
  parse_pg_url "$1"
  echo "postgres://${PG_USERINFO:+$PG_USERINFO@}${PG_HOST}:${PG_PORT_OF}/postgres${PG_QUERY:+?$PG_QUERY}"
}

# Same database on the project-local server. Other query options are dropped
# (only sslmode=disable makes sense there: it has no TLS).
pg_local_url() {
  parse_pg_url "$1"
  echo "postgres://postgres@127.0.0.1:${PG_PORT}/${PG_DB}?sslmode=disable"
}

# psql with no ~/.psqlrc, unaligned tuples-only output, a bounded connect
# time (a filtered port must not hang CI), and stdin never the terminal.
pg_sql() { # url sql [psql -v args...]
  local url=$1 sql=$2
  shift 2
  PGCONNECT_TIMEOUT=5 timeout 20 psql "$url" -X -A -t -q -v ON_ERROR_STOP=1 "$@" <<<"$sql"
}

# ---------------------------------------------------------------- Postgres

# Where the project-local data lives (sets PG_BASE, PG_DATA, PG_SHOWN) and who
# runs the server binaries (PG_OS_USER: empty = us, else `postgres` as root).
pg_local_paths() {
  local link=$LOCAL/postgres
  PG_OS_USER=
  if is_root; then
    PG_OS_USER=postgres
    getent passwd postgres >/dev/null ||
      die "running as root needs the 'postgres' OS user to run initdb/pg_ctl: apt-get install -y postgresql, or rerun as a normal user"
  fi
  if [ -L "$link" ]; then
    PG_BASE=$(readlink "$link")
  elif [ -d "$link" ] || [ -z "$PG_OS_USER" ] || pg_can_reach "$LOCAL"; then
    PG_BASE=$link
  else
    local home
    home=$(getent passwd postgres | cut -d: -f6)
    [ -n "$home" ] && [ -d "$home" ] && [ "$(stat -c %U "$home")" = postgres ] || home=/var/tmp
    PG_BASE=$home/parrain-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)
  fi
  PG_DATA=$PG_BASE/data
  PG_SHOWN=.local/postgres
  [ "$PG_BASE" = "$link" ] || PG_SHOWN=".local/postgres -> $PG_BASE"
}

# Can the postgres OS user enter directory $1 (every parent must be x for it)?
pg_can_reach() {
  if command -v runuser >/dev/null; then
    runuser -u postgres -- test -x "$1" 2>/dev/null
  else
    su postgres -s /bin/sh -c "test -x $(printf %q "$1")" 2>/dev/null
  fi
}

# Runs a server binary as the data dir's owner, from a directory that owner
# can enter (initdb and postgres fail when they cannot read their cwd), and
# without the lock's fd 9: a server inheriting it would hold the lock forever.
as_pg_owner() {
  if [ -z "$PG_OS_USER" ]; then
    (cd "$PG_BASE" && "$@") 9>&-
  elif command -v runuser >/dev/null; then
    (cd "$PG_BASE" && runuser -u "$PG_OS_USER" -- "$@") 9>&-
  else
    (cd "$PG_BASE" && su "$PG_OS_USER" -s /bin/sh -c "$(printf '%q ' "$@")") 9>&-
  fi
}

# Sets PG_BIN to the server binaries matching the data dir, or the newest
# installed version for a new one; installs `postgresql` when there are none.
pg_find_bin() {
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    local v
    v=$(cat "$PG_DATA/PG_VERSION")
    PG_BIN=/usr/lib/postgresql/$v/bin
    [ -x "$PG_BIN/pg_ctl" ] ||
      die "$PG_SHOWN was made by PostgreSQL $v, whose server binaries are not installed: apt-get install -y postgresql-$v, or 'scripts/stack.sh down && rm -rf $PG_BASE' to start afresh"
    return
  fi
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    apt_install postgresql
  fi
  PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  PG_BIN=${PG_BIN%/initdb}
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: apt-get install -y postgresql"
}

pg_local_running() {
  [ -f "$PG_DATA/postmaster.pid" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 5; }

# Starts (or finds running) the project-local server. Sets PG_ACTION.
pg_start_local() {
  pg_local_paths
  mkdir -p "$PG_BASE"
  if [ -n "$PG_OS_USER" ]; then
    # Refuse a directory someone else planted (it may be under /var/tmp).
    local owner
    owner=$(stat -c %U "$PG_BASE")
    [ "$owner" = "$PG_OS_USER" ] || [ "$owner" = root ] ||
      die "$PG_BASE belongs to $owner, not $PG_OS_USER: remove it and rerun"
    chown "$PG_OS_USER:" "$PG_BASE"
    [ "$PG_BASE" = "$LOCAL/postgres" ] || [ -L "$LOCAL/postgres" ] || ln -s "$PG_BASE" "$LOCAL/postgres"
  fi
  [ -d "$PG_DATA" ] && [ "$(stat -c %U "$PG_DATA")" != "${PG_OS_USER:-$(id -un)}" ] &&
    die "$PG_SHOWN/data belongs to $(stat -c %U "$PG_DATA"), so pg_ctl cannot run it as ${PG_OS_USER:-$(id -un)}: rerun as that user (or as root), or remove $PG_BASE"
  pg_find_bin

  if pg_local_running; then
    pg_ready || die "project-local postgres in $PG_SHOWN runs but does not answer on 127.0.0.1:$PG_PORT (started with another STACK_PG_PORT?): run 'scripts/stack.sh down' and rerun"
    PG_ACTION=reusing
    return
  fi
  port_taken "$PG_PORT" &&
    die "127.0.0.1:$PG_PORT is taken by another process (another checkout's stack?): stop it or set STACK_PG_PORT to a free port"

  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    # C.UTF-8 like Debian's default cluster, without needing generated locales.
    local locale=(--no-locale)
    locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' && locale=(--locale=C.UTF-8)
    as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 "${locale[@]}" \
      >"$PG_BASE/initdb.log" 2>&1 </dev/null ||
      die "initdb failed (see $PG_SHOWN/initdb.log): fix the cause, remove $PG_BASE/data and rerun"
  fi

  # The socket goes next to the data rather than the system's
  # /var/run/postgresql (not writable by normal users); unix socket paths are
  # limited to ~107 bytes, so a deep checkout gets TCP only.
  local sock="-k '$PG_BASE'"
  [ $((${#PG_BASE} + 20)) -lt 107 ] || sock="-c unix_socket_directories="
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_BASE/log" -w -t 60 \
    -o "-p $PG_PORT $sock -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 </dev/null ||
    die "postgres did not start (see $PG_SHOWN/log): fix the cause, then rerun"
  pg_ready || die "postgres started but does not answer on 127.0.0.1:$PG_PORT (see $PG_SHOWN/log)"
  PG_ACTION=started
}

# ensure_db NAME URL: creates the URL's database on its server if missing.
# Tolerates a concurrent `up` creating it first.
ensure_db() {
  local name=$1 url=$2 maint db
  maint=$(pg_maint_url "$url")
  parse_pg_url "$url"
  db=$PG_DB
  { [ -n "$db" ] && [ "$db" != postgres ]; } || die "$name='$url' names no database of its own: add one, e.g. .../parrain?sslmode=disable"
  pg_works "$url" || die "cannot connect to $maint (from $name): fix $name and rerun"
  local q="SELECT 1 FROM pg_database WHERE datname = :'db'"
  [ "$(pg_sql "$maint" "$q" -v db="$db" 2>/dev/null)" = 1 ] && return 0
  pg_sql "$maint" 'CREATE DATABASE :"db"' -v db="$db" >/dev/null 2>&1 ||
    [ "$(pg_sql "$maint" "$q" -v db="$db" 2>/dev/null)" = 1 ] ||
    die "could not create database $db via $maint: check that this role may CREATE DATABASE"
  CREATED_DBS+=("$db")
}

# Exit 0 if URL's server accepts a connection to its maintenance database.
pg_works() { [ "$(pg_sql "$(pg_maint_url "$1")" 'select 1' 2>/dev/null)" = 1 ]; }

postgres_up() {
  need_cmd psql postgresql-client
  need_cmd pg_isready postgresql-client

  local line
  parse_pg_url "$DATABASE_URL"
  local host=$PG_HOST port=$PG_PORT_OF
  if pg_works "$DATABASE_URL"; then
    line="postgres: using existing server at $host:$port"
  else
    local why="nothing answered at $host:$port"
    local h=${host#[}
    h=${h%]}
    pg_isready -q -h "${h:-127.0.0.1}" -p "$port" -t 3 2>/dev/null && why="the server at $host:$port refused DATABASE_URL"
    is_local_host "$host" ||
      die "postgres: $why; fix DATABASE_URL (or unset it to use a local server) and rerun"
    pg_start_local
    DATABASE_URL=$(pg_local_url "$DATABASE_URL")
    TEST_DATABASE_URL=$(pg_local_url "$TEST_DATABASE_URL")
    line="postgres: $PG_ACTION project-local server in $PG_SHOWN on 127.0.0.1:$PG_PORT ($why)"
  fi

  CREATED_DBS=()
  ensure_db DATABASE_URL "$DATABASE_URL"
  ensure_db TEST_DATABASE_URL "$TEST_DATABASE_URL"
  if [ ${#CREATED_DBS[@]} -gt 0 ]; then
    local IFS=,
    line+="; created database(s) ${CREATED_DBS[*]}"
  fi
  echo "$line"
}

postgres_down() {
  if [ ! -e "$LOCAL/postgres" ]; then
    echo "postgres: no project-local server in .local/postgres"
    return
  fi
  pg_local_paths
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    echo "postgres: no project-local server in .local/postgres"
    return
  fi
  pg_find_bin
  if ! pg_local_running; then
    echo "postgres: project-local server in $PG_SHOWN is not running"
    return
  fi
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60 >/dev/null 2>&1 </dev/null ||
    die "could not stop postgres in $PG_SHOWN (see $PG_SHOWN/log): try '$PG_BIN/pg_ctl -D $PG_DATA stop -m immediate'"
  echo "postgres: stopped project-local server in $PG_SHOWN"
}

# ---------------------------------------------------------------- Redis

REDIS_DIR=$LOCAL/redis
REDIS_PIDFILE=$REDIS_DIR/redis.pid

# parse_redis_url URL: sets R_HOST R_PORT R_DB.
parse_redis_url() {
  local re='^rediss?://([^@/]*@)?([^/?]*)(/([0-9]*))?(\?.*)?$'
  [[ $1 =~ $re ]] || die "REDIS_URL='$1' is not a redis:// URL: set it like redis://127.0.0.1:6379/0"
  local hostport=${BASH_REMATCH[2]}
  R_DB=${BASH_REMATCH[4]:-0}
  if [[ $hostport =~ ^(\[[^]]*\])(:([0-9]+))?$ || $hostport =~ ^([^:]*)(:([0-9]+))?$ ]]; then
    R_HOST=${BASH_REMATCH[1]:-127.0.0.1} R_PORT=${BASH_REMATCH[3]:-6379}
  else
    die "cannot read host:port in REDIS_URL='$1'"
  fi
}

redis_ping() { # redis-cli args...
  [ "$(timeout 5 redis-cli "$@" ping 2>/dev/null </dev/null)" = PONG ]
}

# PID of our redis-server if it runs (checked against /proc so a recycled PID
# of some other process is never taken for it, nor killed by `down`).
redis_local_pid() {
  local pid
  [ -f "$REDIS_PIDFILE" ] || return 1
  pid=$(cat "$REDIS_PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q redis-server || return 1
  echo "$pid"
}

redis_start_local() {
  if redis_local_pid >/dev/null; then
    redis_ping -h 127.0.0.1 -p "$REDIS_PORT" ||
      die "project-local redis (pid $(cat "$REDIS_PIDFILE")) does not answer on 127.0.0.1:$REDIS_PORT (started with another STACK_REDIS_PORT?): run 'scripts/stack.sh down' and rerun"
    R_ACTION=reusing
    return
  fi
  port_taken "$REDIS_PORT" &&
    die "127.0.0.1:$REDIS_PORT is taken by another process (another checkout's stack?): stop it or set STACK_REDIS_PORT to a free port"
  mkdir -p "$REDIS_DIR"
  redis-server --daemonize yes --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
    --save "" --appendonly no --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_DIR/redis.log" \
    >/dev/null 2>&1 </dev/null 9>&- ||
    die "redis-server did not start (see .local/redis/redis.log): fix the cause, then rerun"
  local _
  for _ in $(seq 1 100); do
    redis_ping -h 127.0.0.1 -p "$REDIS_PORT" && { R_ACTION=started; return; }
    sleep 0.1
  done
  die "redis-server started but does not answer on 127.0.0.1:$REDIS_PORT (see .local/redis/redis.log)"
}

redis_up() {
  need_cmd redis-cli redis-tools
  parse_redis_url "$REDIS_URL"
  if redis_ping -u "$REDIS_URL"; then
    echo "redis: using existing server at $R_HOST:$R_PORT"
    return
  fi
  local why="nothing answered at $R_HOST:$R_PORT"
  port_taken_at "$R_HOST" "$R_PORT" && why="the server at $R_HOST:$R_PORT did not answer PONG to REDIS_URL"
  is_local_host "$R_HOST" ||
    die "redis: $why; fix REDIS_URL (or unset it to use a local server) and rerun"
  if ! command -v redis-server >/dev/null; then
    need_cmd redis-server redis-server
    # Installing redis-server on Debian starts the system service: use it if
    # it is the one REDIS_URL names.
    if redis_ping -u "$REDIS_URL"; then
      echo "redis: using existing server at $R_HOST:$R_PORT (just installed)"
      return
    fi
  fi
  redis_start_local
  REDIS_URL=redis://127.0.0.1:$REDIS_PORT/$R_DB
  echo "redis: $R_ACTION project-local server in .local/redis on 127.0.0.1:$REDIS_PORT ($why)"
}

redis_down() {
  local pid _
  if ! pid=$(redis_local_pid); then
    echo "redis: no project-local server running in .local/redis"
    return
  fi
  kill "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { echo "redis: stopped project-local server in .local/redis"; return; }
    sleep 0.1
  done
  die "redis-server (pid $pid) did not stop within 10s: kill -9 $pid"
}

# ---------------------------------------------------------------- main

# Two `up`s at once (make dev and make test in two terminals) must not both
# run initdb or start a server on the same port.
lock() {
  command -v flock >/dev/null || return 0
  { exec 9>>"$LOCAL/stack.lock"; } 2>/dev/null || return 0
  flock -w 120 9 || die "another scripts/stack.sh has held .local/stack.lock for 2 minutes: wait for it or remove the lock"
}

write_env() {
  local tmp=$LOCAL/stack.env.$$
  {
    echo "# Written by scripts/stack.sh up: the Postgres and Redis this checkout uses."
    echo "DATABASE_URL=$DATABASE_URL"
    echo "TEST_DATABASE_URL=$TEST_DATABASE_URL"
    echo "REDIS_URL=$REDIS_URL"
  } >"$tmp"
  mv -f "$tmp" "$LOCAL/stack.env"
}

up() {
  DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/parrain?sslmode=disable}
  if [ -z "${TEST_DATABASE_URL:-}" ]; then
    # Same server and options as DATABASE_URL, database parrain_test.
    parse_pg_url "$DATABASE_URL"
    TEST_DATABASE_URL="postgres://${PG_USERINFO:+$PG_USERINFO@}${PG_HOST}:${PG_PORT_OF}/parrain_test${PG_QUERY:+?$PG_QUERY}"
  fi
  REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
  check_url_chars DATABASE_URL "$DATABASE_URL"
  check_url_chars TEST_DATABASE_URL "$TEST_DATABASE_URL"
  check_url_chars REDIS_URL "$REDIS_URL"

  postgres_up
  redis_up
  # dev.sh and bench-intake.sh talk to the app and the simulator with curl.
  need_cmd curl curl
  write_env
}

down() {
  postgres_down
  redis_down
}

mkdir -p "$LOCAL"
case ${1:-} in
  up) lock && up ;;
  down) lock && down ;;
  *) die "usage: scripts/stack.sh up|down" ;;
esac
