#!/bin/sh
# docker compose only. The MySQL image's entrypoint SOURCES this file (it is not
# executable on purpose) after 001-003 from /docker-entrypoint-initdb.d, so
# docker_process_sql, its function that runs the mysql client as root over the socket,
# is at hand. It gives the least-privilege app user created by 002_app_user.sql the
# password from .env (DB_PASSWORD, passed in as PIXY_DB_PASSWORD).
if ! command -v docker_process_sql >/dev/null 2>&1; then
  echo "004_app_user_password.sh must be sourced by the mysql entrypoint: chmod -x it" >&2
  exit 1
fi
# A MySQL string literal: double each backslash, then each single quote.
escaped=$(printf '%s' "$PIXY_DB_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")
docker_process_sql --database=mysql <<SQL
ALTER USER 'pixyproxy'@'%' IDENTIFIED BY '${escaped}';
SQL
