#!/bin/sh
# Runs once, when the postgres image initialises an empty data volume (/docker-entrypoint-initdb.d).
# Creates floe's shared state backend: a login role `floe` that owns the database `floe_state`. The workers
# connect as `floe` (MELTANO_STATE_BACKEND_URI), never as the superuser Temporal uses, and floe creates its
# tables (floe_state, floe_run_lease) there on first use.
# To add it to an existing volume: docker compose exec -e FLOE_STATE_PASSWORD postgresql sh /docker-entrypoint-initdb.d/10-floe-state.sh
set -eu
: "${FLOE_STATE_PASSWORD:?FLOE_STATE_PASSWORD must be set for the postgresql service}"

# The password goes in as a psql variable quoted with %L, so any character is safe.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v floe_password="$FLOE_STATE_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE floe LOGIN PASSWORD %L', :'floe_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'floe')\gexec
SELECT 'CREATE DATABASE floe_state OWNER floe'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'floe_state')\gexec
REVOKE ALL ON DATABASE floe_state FROM PUBLIC;
SQL
echo "floe state backend: role floe, database floe_state."
