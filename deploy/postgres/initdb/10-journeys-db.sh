#!/usr/bin/env bash
# Creates the application's own login role and database next to Temporal's.
#
# The official postgres image runs /docker-entrypoint-initdb.d/* once, when the data volume is empty, as
# POSTGRES_USER over the local socket. The statements are idempotent anyway. The image may source this file
# instead of executing it, so it sets no shell options and never calls `exit`.
#
# Variables (from docker-compose.yml): JOURNEYS_DB_NAME, JOURNEYS_DB_USER, JOURNEYS_DB_PASSWORD.

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  --set=app_db="${JOURNEYS_DB_NAME:-journeys}" \
  --set=app_user="${JOURNEYS_DB_USER:-journeys}" \
  --set=app_password="${JOURNEYS_DB_PASSWORD:-journeys}" <<-'EOSQL'
	SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')
	WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'app_user') \gexec

	SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
	WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'app_db') \gexec
EOSQL
