#!/bin/sh
# Sourced by the MySQL image's entrypoint after 001-003 (docker compose only): give the
# least-privilege app user created by 002_app_user.sql the password from .env.
escaped=$(printf '%s' "$PIXY_DB_PASSWORD" | sed "s/'/''/g")
docker_process_sql --database=mysql <<SQL
ALTER USER 'pixyproxy'@'%' IDENTIFIED BY '${escaped}';
SQL
