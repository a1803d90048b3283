#!/usr/bin/env bash
# Start a local PostgreSQL for the test suite (Debian, as root, no systemd):
# installs it if missing, starts the cluster, creates role `sb` and database
# `switchboard_test`, then prints the URL to export as SWITCHBOARD_TEST_POSTGRES_URL.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
fi
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h | awk -v v="$PGVER" '$1 == v && $2 == "main"' | grep -q .; then
    pg_createcluster "$PGVER" main >&2
fi
pg_ctlcluster "$PGVER" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q" && break
    sleep 1
done
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'sb'\"" | grep -q 1; then
    su postgres -c "psql -q -c \"CREATE ROLE sb LOGIN SUPERUSER PASSWORD 'sb'\"" >&2
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'switchboard_test'\"" | grep -q 1; then
    su postgres -c "createdb -O sb switchboard_test" >&2
fi
echo "postgres://sb:sb@127.0.0.1/switchboard_test"
