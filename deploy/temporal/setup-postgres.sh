#!/bin/sh
# One-shot Temporal schema setup (compose service `temporal-schema`, image temporalio/admin-tools).
# Creates the databases `temporal` and `temporal_visibility` when missing and brings both schemas to the version
# this admin-tools image ships. Safe to run again: `create` ignores an existing database, `setup-schema -v 0.0`
# only creates the schema_version bookkeeping, and `update-schema` applies only the versions not yet applied,
# which is also how a Temporal upgrade migrates the schema (bump the image tags, `docker compose up -d`).
# Env: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool).
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must name the PostgreSQL host}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set (the password of POSTGRES_USER)}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

echo "Waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}..."
tries=0
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT} did not accept connections within 2 minutes; check the postgresql service logs." >&2
    exit 1
  fi
  sleep 2
done

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}"
  dir="${pair#*:}"
  echo "Setting up database ${db}..."
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "${SCHEMA_ROOT}/${dir}/versioned"
done

echo "Temporal schema setup complete."
