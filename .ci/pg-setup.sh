#!/usr/bin/env bash
# Bring up the local PostgreSQL 15 cluster for the store tests and print the test URL.
# Idempotent; run as root. Usage: export OVERSIGHT_TEST_PG_URL="$(.ci/pg-setup.sh | tail -n1)"
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_HOST=127.0.0.1
PG_PORT="${PG_PORT:-5432}"
ROLE=oversight
PASSWORD=oversight
DATABASE=oversight_test

as_postgres() {
    if command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
    fi
}

psql_admin() {
    as_postgres psql --no-psqlrc -v ON_ERROR_STOP=1 -p "$PG_PORT" -tAq "$@"
}

if ! pg_lsclusters --no-header | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" \
        '$1 == v && $2 == c && $4 == "online" { found = 1 } END { exit !found }'; then
    echo "starting PostgreSQL cluster $PG_VERSION/$PG_CLUSTER" >&2
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
        break
    fi
    sleep 0.5
done
if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    echo "PostgreSQL did not become ready on $PG_HOST:$PG_PORT within 30s" >&2
    exit 1
fi

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
    psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEROLE PASSWORD '$PASSWORD'"
else
    psql_admin -c "ALTER ROLE $ROLE LOGIN CREATEROLE PASSWORD '$PASSWORD'"
fi

if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE ENCODING 'UTF8' TEMPLATE template0"
fi

echo "postgresql+psycopg://$ROLE:$PASSWORD@$PG_HOST:$PG_PORT/$DATABASE"
