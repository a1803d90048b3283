#!/usr/bin/env bash
# Runs the switchboard-storage tests against a local PostgreSQL.
# Idempotent: installs PostgreSQL (Debian package) if missing, starts the
# cluster without systemd, creates role `sb` / database `switchboard_test`
# if missing, then runs the tests (each test uses its own schema).
# Must run as root (CI and the dev machines run as root).
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

PGVER=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h | awk -v v="$PGVER" '$1 == v && $2 == "main"' | grep -q .; then
    pg_createcluster "$PGVER" main
fi
pg_ctlcluster "$PGVER" main start 2>/dev/null || true   # already running is fine
for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q" && break
    sleep 1
done

if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'sb'\"" | grep -q 1; then
    su postgres -c "psql -c \"CREATE ROLE sb LOGIN SUPERUSER PASSWORD 'sb'\""
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'switchboard_test'\"" | grep -q 1; then
    su postgres -c "createdb -O sb switchboard_test"
fi

cd "$(dirname "$0")/../../.."
SWITCHBOARD_TEST_POSTGRES_URL=postgres://sb:sb@127.0.0.1/switchboard_test \
    cargo test -p switchboard-storage "$@"
