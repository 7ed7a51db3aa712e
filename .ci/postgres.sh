#!/usr/bin/env bash
# Start a local PostgreSQL for the tests that check agentkit on PostgreSQL, and print its URL.
# Prints nothing (and the PostgreSQL tests skip) when no server can be installed or started.
set -uo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) \
        >/dev/null 2>&1 || exit 0
fi
version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
[ -n "$version" ] || exit 0
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$version main"; then
    pg_createcluster "$version" main >/dev/null 2>&1 || exit 0
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
    su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
done
su postgres -c "psql -qtAc \"DROP DATABASE IF EXISTS agentkit_test\"" >/dev/null 2>&1
su postgres -c "psql -qtAc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentkit') THEN CREATE ROLE agentkit LOGIN PASSWORD 'agentkit'; END IF; END \\\$\\\$\"" >/dev/null 2>&1 || exit 0
su postgres -c "createdb -O agentkit agentkit_test" >/dev/null 2>&1 || exit 0
echo "postgresql://agentkit:agentkit@localhost:5432/agentkit_test"
