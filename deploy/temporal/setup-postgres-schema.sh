#!/bin/sh
# Creates (if missing) and migrates Temporal's two PostgreSQL databases: persistence and visibility.
# Runs in temporalio/admin-tools (Alpine, POSIX sh) as the one-shot `temporal-schema` service, before the
# server starts. Every step is idempotent: create-database ignores an existing database, setup-schema -v 0.0
# only creates the version tables if absent, update-schema applies only the versions not yet applied.
# Same steps as temporalio/samples-server compose/scripts/setup-postgres.sh and the Helm chart's schema job.
#
# temporal-sql-tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the environment.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN is required}"
: "${SQL_HOST:?SQL_HOST is required}"
export SQL_PORT="${SQL_PORT:-5432}"
: "${SQL_USER:?SQL_USER is required}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12
MAX_ATTEMPTS="${MAX_ATTEMPTS:-30}"
SLEEP_SECONDS="${SLEEP_SECONDS:-2}"

echo "Waiting for PostgreSQL at ${SQL_HOST}:${SQL_PORT}..."
attempt=1
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
  if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
    echo "PostgreSQL did not accept connections after $MAX_ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$SLEEP_SECONDS"
done

setup_database() {
  db="$1"
  versioned_dir="$2"
  echo "Setting up database '$db' from $versioned_dir"
  temporal-sql-tool --db "$db" create-database
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$versioned_dir"
}

setup_database "$DBNAME" "$SCHEMA_ROOT/temporal/versioned"
setup_database "$VISIBILITY_DBNAME" "$SCHEMA_ROOT/visibility/versioned"

echo "Temporal PostgreSQL schema is up to date"
