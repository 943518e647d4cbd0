"""``MySQLDatabase``: one lazily opened connection pool with a bounded wait.

See data/README.md, "MySQL: the pool".
"""

from __future__ import annotations

import logging
from typing import Any

import mysql.connector

from core.settings import Settings
from data.database import Database
from data.migrations import Migration, SchemaStatus
from data.mysql.dialect import MYSQL
from data.mysql.pool import ConnectionPool
from data.mysql.unit_of_work import DatabaseContext

logger = logging.getLogger(__name__)


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
        if mysql.connector.HAVE_CEXT or settings.db_use_pure:
            logger.info("mysql driver: %s", connector_description(settings))
        else:
            logger.warning(
                "mysql driver: %s; every packet is parsed in Python",
                connector_description(settings),
            )

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
        from data.mysql.migrate import apply_mysql_schema  # noqa: PLC0415 - it imports us

        return apply_mysql_schema(self._settings)

    def schema_status(self) -> SchemaStatus:
        """Where ``DB_NAME``'s schema stands (read only, on a connection of its own)."""
        from data.mysql.migrate import mysql_schema_status  # noqa: PLC0415 - it imports us

        return mysql_schema_status(self._settings)

    def close(self) -> None:
        """Close the idle pooled connections; the next use opens new ones."""
        self._pool.close()
