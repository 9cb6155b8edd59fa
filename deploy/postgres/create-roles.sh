#!/usr/bin/env bash
# First start of the postgres service only (docker-entrypoint-initdb.d): one role and one database
# for the hub store, another pair for Dagster's instance storage. Neither role is a superuser.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v hub_password="$HUB_PG_PASSWORD" -v dagster_password="$DAGSTER_PG_PASSWORD" <<'SQL'
CREATE ROLE hub LOGIN PASSWORD :'hub_password';
CREATE DATABASE hub OWNER hub;
CREATE ROLE dagster LOGIN PASSWORD :'dagster_password';
CREATE DATABASE dagster OWNER dagster;
SQL
