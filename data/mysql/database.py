"""``MySQLDatabase``: one lazily built connection pool with a bounded wait.

The seed's pool was commented out and every ``DatabaseContext`` opened a fresh
connection. Here one ``MySQLConnectionPool`` is built on first use (never at import
time, and a server that is down at startup does not stop the service: every use raises
``DBConnectionError`` until it comes back). The connector's pool raises ``PoolError`` at
once when exhausted, so a ``BoundedSemaphore`` sized like the pool makes callers wait
up to ``DB_POOL_TIMEOUT`` seconds for a free connection, then ``DBConnectionError``.

Dead pooled connections (killed by the server, or a restart) are found by the pool's
own ``is_connected()`` check at checkout and reconnected.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from mysql.connector.pooling import MySQLConnectionPool, PooledMySQLConnection

from core.exceptions import DBConnectionError
from core.settings import Settings
from data.context import Database
from data.mysql.context import DatabaseContext
from data.mysql.errors import DRIVER_ERRORS, mysql_errors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolStats:
    """Counters of one ``MySQLDatabase``, cheap enough to read in tests and health checks."""

    size: int
    in_use: int
    checkouts: int
    pool_builds: int
    sessions_seen: int  # distinct server connection ids handed out so far


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
        "autocommit": False,  # every unit of work is a transaction; exit rolls back
        "time_zone": "+00:00",
        "sql_mode": "TRADITIONAL",  # strict on MariaDB 10.11 and MySQL 8 alike
    }
    if database is not None:
        args["database"] = database
    return args


class MySQLDatabase(Database):
    """The MySQL/MariaDB backend: a source of ``DatabaseContext`` units of work."""

    backend = "mysql"

    def __init__(self, settings: Settings) -> None:
        """Remember the settings; no connection is opened until first use."""
        self._settings = settings
        self._size = settings.db_pool_size
        self._timeout = settings.db_pool_timeout
        self._semaphore = threading.BoundedSemaphore(self._size)
        self._lock = threading.Lock()
        self._pool: MySQLConnectionPool | None = None
        self._in_use = 0
        self._checkouts = 0
        self._pool_builds = 0
        self._sessions: set[int] = set()

    def describe(self) -> str:
        """A one-line description for the startup log, without the password."""
        s = self._settings
        return f"mysql://{s.db_user or ''}@{s.db_host}:{s.db_port}/{s.db_name} (pool {self._size})"

    def context(self) -> DatabaseContext:
        """Open a unit of work on a pooled connection (``DBConnectionError`` if none)."""
        return DatabaseContext(self)

    def ping(self) -> None:
        """Run ``SELECT 1`` on a pooled connection; raise ``DBConnectionError`` if it fails."""
        with self.context() as db, mysql_errors():
            db.cursor.execute("SELECT 1")
            db.cursor.fetchall()

    def close(self) -> None:
        """Close the idle pooled connections; the next use builds a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*DRIVER_ERRORS):
                pool._remove_connections()  # the connector's own "close all idle" helper

    @property
    def stats(self) -> PoolStats:
        """Current counters (see ``PoolStats``)."""
        with self._lock:
            return PoolStats(
                size=self._size,
                in_use=self._in_use,
                checkouts=self._checkouts,
                pool_builds=self._pool_builds,
                sessions_seen=len(self._sessions),
            )

    def acquire(self) -> PooledMySQLConnection:
        """Check a connection out, waiting at most ``DB_POOL_TIMEOUT`` seconds.

        For ``DatabaseContext``; every successful call must be paired with ``release``.
        """
        if not self._semaphore.acquire(timeout=self._timeout):
            raise DBConnectionError(
                f"Database connection pool exhausted: no connection came free "
                f"within {self._timeout:g} seconds."
            )
        try:
            with mysql_errors():
                connection = self._get_pool().get_connection()
        except BaseException:
            self._semaphore.release()
            raise
        with self._lock:
            self._in_use += 1
            self._checkouts += 1
            self._sessions.add(connection.connection_id or 0)
        return connection

    def release(self, connection: PooledMySQLConnection) -> None:
        """Give ``connection`` back to the pool (rolling back anything left open)."""
        try:
            with contextlib.suppress(*DRIVER_ERRORS):
                if connection.in_transaction:
                    connection.rollback()
            with contextlib.suppress(*DRIVER_ERRORS):
                connection.close()  # a pooled connection's close() returns it to the pool
        finally:
            with self._lock:
                self._in_use -= 1
            self._semaphore.release()

    def _get_pool(self) -> MySQLConnectionPool:
        """Return the pool, building it on first use (raises driver errors when down)."""
        with self._lock:
            if self._pool is None:
                self._pool = self._build_pool()
                self._pool_builds += 1
            return self._pool

    def _build_pool(self) -> MySQLConnectionPool:
        """Connect ``pool_size`` sessions; on failure close the ones already made."""
        pool = MySQLConnectionPool(
            pool_name=f"pixyproxy-{id(self):x}",
            pool_size=self._size,
            # We roll back before returning a connection and change no session state,
            # so the per-checkout COM_RESET_CONNECTION (which would also drop our
            # sql_mode/time_zone/autocommit settings) is not needed.
            pool_reset_session=False,
        )
        pool.set_config(**connection_args(self._settings, database=self._settings.db_name))
        try:
            for _ in range(self._size):
                pool.add_connection()
        except BaseException:
            with contextlib.suppress(*DRIVER_ERRORS):
                pool._remove_connections()
            raise
        logger.info("mysql pool ready: %s", self.describe())
        return pool
