"""Apply and inspect the SQLite migrations (``sql/migrations/sqlite``).

SQLite's DDL is transactional: :func:`migrate` applies everything pending in one
``BEGIN IMMEDIATE`` transaction, which also serialises processes that start at once
(the second waits for the first, then finds nothing to do). A failed migration leaves
the file as it was.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

from data.migrations import (
    Migration,
    SchemaStatus,
    changed_migrations,
    load_migrations,
    pending_migrations,
    sqlite_statements,
)

logger = logging.getLogger(__name__)

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at TEXT    NOT NULL
)
"""
SELECT_APPLIED = "SELECT version, checksum FROM schema_migrations"
HAS_MIGRATIONS_TABLE = (
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
)
INSERT_APPLIED = (
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
    "VALUES (:version, :name, :checksum, :applied_at)"
)


def applied_versions(connection: sqlite3.Connection) -> dict[int, str]:
    """Version → checksum of what the file records (empty: no ``schema_migrations``)."""
    if connection.execute(HAS_MIGRATIONS_TABLE).fetchone() is None:
        return {}
    return {int(row[0]): str(row[1]) for row in connection.execute(SELECT_APPLIED)}


def schema_status(connection: sqlite3.Connection, *, where: str) -> SchemaStatus:
    """Where the file's schema stands; ``SchemaVersionError`` if it is newer than ours."""
    migrations = load_migrations("sqlite")
    applied = applied_versions(connection)
    pending = pending_migrations(migrations, applied, where=where)
    return SchemaStatus(
        current=max(applied, default=0),
        latest=migrations[-1].version,
        pending=tuple(m.label for m in pending),
    )


def migrate(connection: sqlite3.Connection, *, where: str) -> list[Migration]:
    """Apply the pending migrations in one transaction; return what was applied.

    ``connection`` must be in autocommit mode (``isolation_level=None``) so the
    transaction here is the only one.
    """
    migrations = load_migrations("sqlite")
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(CREATE_MIGRATIONS_TABLE)
        applied = applied_versions(connection)
        for changed in changed_migrations(migrations, applied):
            logger.warning("migration %s changed after it was applied", changed.label)
        pending = pending_migrations(migrations, applied, where=where)
        for migration in pending:
            for statement in sqlite_statements(migration.text):
                connection.execute(statement)
            connection.execute(
                INSERT_APPLIED,
                {
                    "version": migration.version,
                    "name": migration.name,
                    "checksum": migration.checksum,
                    "applied_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                },
            )
            logger.info("applied migration %s to %s", migration.label, where)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return pending
