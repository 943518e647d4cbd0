"""Create and upgrade a MySQL/MariaDB database: ``init-db`` and ``migrate`` on MySQL.

See data/README.md, "Migrations".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import mysql.connector

from core.exceptions import ConfigurationError, DBConnectionError
from core.settings import Settings
from data.migrations import Migration, SchemaStatus, apply_pending, schema_status
from data.mysql.database import connection_args
from data.mysql.dialect import MYSQL, mysql_statements

logger = logging.getLogger(__name__)

# Package data of ``sql`` (a checkout, an editable install and a wheel alike), never a
# path next to this file: a ``Traversable`` (``/``, ``read_text``, ``iterdir``, ``name``).
SQL_DIR: Traversable = files("sql")
DATABASE_SCRIPT = "001_database.sql"
TABLES_SCRIPT = "003_tables.sql"
SCRIPT_DB_NAME = "`pixyproxy`"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
LOCK_TIMEOUT_SECONDS = 60
CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INT          NOT NULL,
    name       VARCHAR(200) NOT NULL,
    checksum   CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    applied_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""


def script_statements(name: str, *, db_name: str, sql_dir: Traversable = SQL_DIR) -> list[str]:
    """The statements of ``sql/<name>`` with the database renamed to ``db_name``."""
    if not _SAFE_NAME.match(db_name):
        raise ConfigurationError("Invalid setting: DB_NAME")
    text = (sql_dir / name).read_text(encoding="utf-8")
    return [s.replace(SCRIPT_DB_NAME, f"`{db_name}`") for s in mysql_statements(text)]


@contextmanager
def _admin_cursor(settings: Settings, database: str | None) -> Iterator[Any]:
    """A plain cursor on an autocommit connection of its own; driver errors translated."""
    with MYSQL.errors():
        args = {**connection_args(settings, database=database), "autocommit": True}
        connection = mysql.connector.connect(**args)
        try:
            cursor = connection.cursor()
            yield cursor
            cursor.close()
        finally:
            connection.close()


def apply_mysql_schema(settings: Settings) -> list[Migration]:
    """Create ``DB_NAME`` if missing, then apply pending migrations; return those applied."""
    db_name = settings.db_name
    statements = script_statements(DATABASE_SCRIPT, db_name=db_name)
    with _admin_cursor(settings, None) as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"USE `{db_name}`")  # db_name is [A-Za-z0-9_] (script_statements)
        applied = _migrate_locked(cursor, db_name)
    logger.info("schema of database %s is at the latest version", db_name)
    return applied


def _migrate_locked(cursor: Any, db_name: str) -> list[Migration]:
    """Under the migration lock: create ``schema_migrations`` and apply what is pending."""
    lock = {"name": f"pixyproxy-migrate:{db_name}"[:64], "timeout": LOCK_TIMEOUT_SECONDS}
    cursor.execute("SELECT GET_LOCK(%(name)s, %(timeout)s)", lock)
    (granted,) = cursor.fetchone()
    if granted != 1:
        raise DBConnectionError("Another migration of this database is still running.")
    try:
        cursor.execute(CREATE_MIGRATIONS_TABLE)
        return apply_pending(cursor, MYSQL, where=f"`{db_name}`")
    finally:
        cursor.execute("SELECT RELEASE_LOCK(%(name)s)", lock)
        cursor.fetchall()


def mysql_schema_status(settings: Settings) -> SchemaStatus:
    """Where the configured MySQL database's schema stands (read only, any DML user)."""
    with _admin_cursor(settings, settings.db_name) as cursor:
        return schema_status(cursor, MYSQL, where=f"`{settings.db_name}`")
