"""``MySQLDatabase``: a lazily opened pool, and migrations (data/README.md, "MySQL: the pool")."""

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
from data.database import Database
from data.migrations import Migration, SchemaStatus, apply_pending, schema_status
from data.mysql.dialect import MYSQL, mysql_statements
from data.mysql.pool import ConnectionPool
from data.mysql.unit_of_work import DatabaseContext

logger = logging.getLogger(__name__)

# Package data of ``sql`` (a checkout, an editable install and a wheel alike), never a
# path next to this file: a ``Traversable`` (``/``, ``read_text``, ``iterdir``, ``name``).
SQL_DIR: Traversable = files("sql")
DATABASE_SCRIPT = "001_database.sql"
TABLES_SCRIPT = "003_tables.sql"
SCRIPT_DB_NAME = "`pixyproxy`"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
LOCK_TIMEOUT_SECONDS = 60


def connection_args(settings: Settings, *, database: str | None) -> dict[str, Any]:
    """Connector arguments from ``settings`` (``database=None``: connect to no schema)."""
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    args: dict[str, Any] = {
        "host": settings.db_host or "127.0.0.1",
        "port": settings.db_port,
        "user": settings.db_user or "",
        "password": password,
        "connection_timeout": settings.db_connect_timeout,
        "charset": "utf8mb4",
        "collation": "utf8mb4_unicode_ci",
        "autocommit": True,  # plain reads need no transaction; the first write starts one
        "time_zone": "+00:00",
        "sql_mode": "TRADITIONAL",  # strict on MariaDB 10.11 and MySQL 8 alike
        # A read by guid folds its tags in with GROUP_CONCAT (20 tags of 64 characters
        # need 1,299 bytes; MySQL's default limit is 1,024).
        "init_command": "SET SESSION group_concat_max_len = 65536",
    }
    if database is not None:
        args["database"] = database
    return args


def uses_c_extension(settings: Settings) -> bool:
    """True when sessions for ``settings`` run on mysql-connector's C extension."""
    return bool(mysql.connector.HAVE_CEXT) and not settings.db_use_pure


def connector_description(settings: Settings) -> str:
    """``mysql-connector-python 9.5.0 (C extension)`` or ``(pure Python: why)``."""
    version = mysql.connector.__version__
    if uses_c_extension(settings):
        return f"mysql-connector-python {version} (C extension)"
    why = "DB_USE_PURE" if settings.db_use_pure else "C extension unavailable"
    return f"mysql-connector-python {version} (pure Python: {why})"


class MySQLDatabase(Database):
    """The MySQL/MariaDB backend: a source of ``DatabaseContext`` units of work."""

    backend = "mysql"

    def __init__(self, settings: Settings) -> None:
        """Remember the settings; no connection is opened until first use."""
        self._settings = settings
        args = connection_args(settings, database=settings.db_name)
        args["use_pure"] = not uses_c_extension(settings)
        self._pool = ConnectionPool(
            lambda: mysql.connector.connect(**args),
            size=settings.db_pool_size,
            timeout=settings.db_pool_timeout,
        )
        expected = mysql.connector.HAVE_CEXT or settings.db_use_pure  # else: Python parses
        level = logging.INFO if expected else logging.WARNING
        logger.log(level, "mysql driver: %s", connector_description(settings))

    def context(self) -> DatabaseContext:
        """Open a unit of work on a pooled connection (``DBConnectionError`` if none)."""
        return DatabaseContext(self._pool)

    def ping(self) -> None:
        """Run ``SELECT 1`` on a pooled connection; raise ``DBConnectionError`` if it fails."""
        with self.context() as db, MYSQL.errors():
            db.cursor.execute("SELECT 1")
            db.cursor.fetchall()

    def migrate(self) -> list[Migration]:
        """Create ``DB_NAME`` if missing and apply pending migrations (admin credentials)."""
        return apply_mysql_schema(self._settings)

    def schema_status(self) -> SchemaStatus:
        """Where ``DB_NAME``'s schema stands (read only, on a connection of its own)."""
        return mysql_schema_status(self._settings)

    def close(self) -> None:
        """Close the idle pooled connections; the next use opens new ones."""
        self._pool.close()


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
        # Several replicas may migrate at once: the named lock lets one apply what is pending.
        lock = {"name": f"pixyproxy-migrate:{db_name}"[:64], "timeout": LOCK_TIMEOUT_SECONDS}
        cursor.execute("SELECT GET_LOCK(%(name)s, %(timeout)s)", lock)
        if cursor.fetchone() != (1,):
            raise DBConnectionError("Another migration of this database is still running.")
        try:
            applied = apply_pending(cursor, MYSQL, where=f"`{db_name}`")
        finally:
            cursor.execute("SELECT RELEASE_LOCK(%(name)s)", lock)
            cursor.fetchall()
    logger.info("schema of database %s is at the latest version", db_name)
    return applied


def mysql_schema_status(settings: Settings) -> SchemaStatus:
    """Where the configured MySQL database's schema stands (read only, any DML user)."""
    with _admin_cursor(settings, settings.db_name) as cursor:
        return schema_status(cursor, MYSQL, where=f"`{settings.db_name}`")
