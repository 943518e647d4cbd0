"""Apply and inspect the MySQL migrations (``sql/migrations/mysql``).

:func:`migrate` runs on an autocommit admin connection whose default database is
``DB_NAME``. Several replicas may start ``pixyproxy migrate`` at once: each takes the
named lock ``GET_LOCK('pixyproxy-migrate:<db>')`` first, so one applies what is pending
and the others then find nothing to do. MySQL commits each DDL statement by itself, so
a migration that fails half way is not rolled back; migrations keep to statements
that are safe to re-run where MySQL allows it (``IF NOT EXISTS``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from core.exceptions import DBConnectionError
from data.migrations import (
    Migration,
    SchemaStatus,
    changed_migrations,
    load_migrations,
    mysql_statements,
    pending_migrations,
)

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 60
ER_NO_SUCH_TABLE = 1146

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INT          NOT NULL,
    name       VARCHAR(200) NOT NULL,
    checksum   CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    applied_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""
SELECT_APPLIED = "SELECT version, checksum FROM schema_migrations"
INSERT_APPLIED = (
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
    "VALUES (%(version)s, %(name)s, %(checksum)s, %(applied_at)s)"
)
GET_LOCK = "SELECT GET_LOCK(%(name)s, %(timeout)s)"
RELEASE_LOCK = "SELECT RELEASE_LOCK(%(name)s)"


def applied_versions(cursor: Any) -> dict[int, str]:
    """Version → checksum of what the database records (empty: no ``schema_migrations``)."""
    import mysql.connector  # noqa: PLC0415 - the driver stays out of module import

    try:
        cursor.execute(SELECT_APPLIED)
    except mysql.connector.errors.ProgrammingError as exc:
        if exc.errno == ER_NO_SUCH_TABLE:
            return {}
        raise
    return {int(version): str(checksum) for version, checksum in cursor.fetchall()}


def schema_status(connection: Any, *, db_name: str) -> SchemaStatus:
    """Where ``db_name``'s schema stands; ``SchemaVersionError`` if it is newer than ours."""
    migrations = load_migrations("mysql")
    cursor = connection.cursor()
    try:
        applied = applied_versions(cursor)
    finally:
        cursor.close()
    pending = pending_migrations(migrations, applied, where=f"`{db_name}`")
    return SchemaStatus(
        current=max(applied, default=0),
        latest=migrations[-1].version,
        pending=tuple(m.label for m in pending),
    )


def migrate(connection: Any, *, db_name: str) -> list[Migration]:
    """Apply the pending migrations under the migration lock; return what was applied."""
    lock = f"pixyproxy-migrate:{db_name}"[:64]
    cursor = connection.cursor()
    try:
        cursor.execute(GET_LOCK, {"name": lock, "timeout": LOCK_TIMEOUT_SECONDS})
        (granted,) = cursor.fetchone()
        if granted != 1:
            raise DBConnectionError("Another migration of this database is still running.")
        try:
            return _apply_pending(cursor, db_name=db_name)
        finally:
            cursor.execute(RELEASE_LOCK, {"name": lock})
            cursor.fetchall()
    finally:
        cursor.close()


def _apply_pending(cursor: Any, *, db_name: str) -> list[Migration]:
    """Create ``schema_migrations`` if missing and apply what it does not record."""
    migrations = load_migrations("mysql")
    cursor.execute(CREATE_MIGRATIONS_TABLE)
    applied = applied_versions(cursor)
    for changed in changed_migrations(migrations, applied):
        logger.warning("migration %s changed after it was applied", changed.label)
    pending = pending_migrations(migrations, applied, where=f"`{db_name}`")
    for migration in pending:
        for statement in mysql_statements(migration.text):
            cursor.execute(statement)
        cursor.execute(
            INSERT_APPLIED,
            {
                "version": migration.version,
                "name": migration.name,
                "checksum": migration.checksum,
                "applied_at": datetime.now(UTC).replace(tzinfo=None),
            },
        )
        logger.info("applied migration %s to %s", migration.label, db_name)
    return pending
