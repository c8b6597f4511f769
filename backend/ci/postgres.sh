#!/usr/bin/env bash
# Starts a throw-away PostgreSQL on 127.0.0.1 for the backend's test suite.
#
#   source <(bash backend/ci/postgres.sh)        # or: eval "$(bash backend/ci/postgres.sh)"
#   cargo test --workspace                       # the backend suite now also runs on PostgreSQL
#   bash backend/ci/postgres.sh stop             # optional: stop the server again
#
# On success, stdout is exactly one line, `export TEST_POSTGRES_URL=postgres://...`
# (also written to $BACKEND_PG_ENV_FILE when that is set). Everything else goes to stderr.
#
# It never fails the caller: when PostgreSQL cannot be installed or started it says so on
# stderr, prints `unset TEST_POSTGRES_URL` and exits 0, and the suite runs on SQLite alone.
#
# What it does, on Debian 12 as root (as another user it skips the install and runs the
# server as that user):
#   1. installs the `postgresql` package from apt if no PostgreSQL server binaries exist;
#   2. creates a cluster of its own with initdb under $BACKEND_PG_DIR (default
#      /tmp/ssot-backend-pg), owned by the `postgres` user, independent of the Debian
#      `main` cluster and of systemd;
#   3. starts it with pg_ctl, listening on 127.0.0.1:$BACKEND_PG_PORT (default 54329) only;
#   4. (re)creates the role and database `backend_test` (password auth over TCP), so every
#      run starts from an empty database.
#
# Environment: BACKEND_PG_DIR, BACKEND_PG_PORT, BACKEND_PG_ENV_FILE, BACKEND_PG_NO_INSTALL=1.

set -uo pipefail

PG_DIR="${BACKEND_PG_DIR:-/tmp/ssot-backend-pg}"
PG_PORT="${BACKEND_PG_PORT:-54329}"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOG="$PG_DIR/server.log"
DB_NAME="backend_test"
DB_USER="backend_test"
DB_PASSWORD="backend_test"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

unavailable() {
    log "PostgreSQL is unavailable: $*"
    log "the backend suite will run on SQLite only"
    echo "unset TEST_POSTGRES_URL"
    if [ -n "${BACKEND_PG_ENV_FILE:-}" ]; then
        echo "unset TEST_POSTGRES_URL" > "$BACKEND_PG_ENV_FILE" || true
    fi
    exit 0
}

find_bindir() {
    local dir
    # The newest installed major version.
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_server() {
    local bindir
    bindir="$(find_bindir)" || { log "no PostgreSQL binaries; nothing to stop"; exit 0; }
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w stop >&2 || true
    else
        log "no server running in $PG_DATA"
    fi
    exit 0
}

if [ "${1:-}" = "stop" ]; then
    stop_server
fi

# 1. Install.
if ! BINDIR="$(find_bindir)"; then
    if [ "${BACKEND_PG_NO_INSTALL:-0}" = "1" ]; then
        unavailable "not installed (BACKEND_PG_NO_INSTALL=1)"
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        unavailable "not installed, and cannot install it (needs root and apt-get)"
    fi
    log "installing postgresql from apt (this takes a minute)"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 900 apt-get update -qq >&2; then
        unavailable "apt-get update failed"
    fi
    if ! timeout 900 apt-get install -y -qq --no-install-recommends postgresql >&2; then
        unavailable "apt-get install postgresql failed"
    fi
    BINDIR="$(find_bindir)" || unavailable "installed, but no initdb/pg_ctl found"
fi
log "using $BINDIR"

if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir "$PG_DIR" --shell /bin/bash postgres >&2 \
            || unavailable "no postgres user, and cannot create one"
    fi
    OWNER="postgres"
else
    OWNER="$(id -un)"
fi

# 2. The cluster.
mkdir -p "$PG_DIR" "$PG_SOCK" || unavailable "cannot create $PG_DIR"
if [ "$(id -u)" -eq 0 ]; then
    chown "$OWNER" "$PG_DIR" "$PG_SOCK" || unavailable "cannot chown $PG_DIR"
fi
chmod 700 "$PG_DIR"

# 3. Start (or reuse a server this script started earlier).
if as_owner "$BINDIR/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    log "reusing the server already running in $PG_DATA"
else
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        rm -rf "$PG_DATA"
        PWFILE="$PG_DIR/superuser.pw"
        # The superuser only connects through the private socket (trust); TCP needs a password.
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PWFILE"
        [ "$(id -u)" -eq 0 ] && chown "$OWNER" "$PWFILE"
        chmod 600 "$PWFILE"
        INITDB_LOG="$PG_DIR/initdb.log"
        log "initdb $PG_DATA"
        if ! as_owner "$BINDIR/initdb" -D "$PG_DATA" -U postgres --pwfile="$PWFILE" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
            > "$INITDB_LOG" 2>&1; then
            # Images without the C.UTF-8 locale.
            rm -rf "$PG_DATA"
            if ! as_owner "$BINDIR/initdb" -D "$PG_DATA" -U postgres --pwfile="$PWFILE" \
                --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
                > "$INITDB_LOG" 2>&1; then
                tail -n 20 "$INITDB_LOG" >&2
                unavailable "initdb failed (see $INITDB_LOG)"
            fi
        fi
    fi
    # A stale pid file from a killed server prevents the start.
    rm -f "$PG_DATA/postmaster.pid"
    if ! as_owner "$BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCK -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start > /dev/null; then
        tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
        unavailable "the server did not start (see $PG_LOG)"
    fi
fi

PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres)

# 4. A fresh database for this run.
if ! as_owner env PGOPTIONS="-c client_min_messages=warning" "${PSQL[@]}" >&2 <<SQL
DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE);
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
  ELSE
    ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
CREATE DATABASE $DB_NAME OWNER $DB_USER;
SQL
then
    unavailable "cannot create the database $DB_NAME"
fi

URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
# Check what the tests will do: TCP on loopback with the password.
if ! "$BINDIR/psql" -X -q -d "$URL" -c "SELECT 1" >/dev/null 2>&1 \
    && ! as_owner "$BINDIR/psql" -X -q -d "$URL" -c "SELECT 1" >/dev/null 2>&1; then
    unavailable "the server runs but $URL does not answer"
fi

log "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
echo "export TEST_POSTGRES_URL=$URL"
if [ -n "${BACKEND_PG_ENV_FILE:-}" ]; then
    echo "export TEST_POSTGRES_URL=$URL" > "$BACKEND_PG_ENV_FILE" || true
fi
exit 0
