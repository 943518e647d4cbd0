"""The seed's ``DatabaseContext``, mended (data/README.md, "MySQL: the unit of work …")."""

from __future__ import annotations

import logging
from typing import cast

from mysql.connector.cursor import MySQLCursorBufferedDict

from data.dialect import Session
from data.mysql.dialect import DRIVER_ERRORS, MYSQL, is_disconnect
from data.mysql.pool import ConnectionPool
from data.repositories import bind_repositories
from data.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


class DatabaseContext(UnitOfWork):
    """One pooled connection, its dictionary cursor, and the repositories bound to it."""

    def __init__(self, pool: ConnectionPool) -> None:
        """Check a connection out of ``pool`` (``DBConnectionError`` if none comes free)."""
        self._pool = pool
        self._pooled = pool.checkout()
        self._connection = self._pooled.connection
        self._unit = self._pooled.cursor
        self.cursor = cast(MySQLCursorBufferedDict, self._unit)  # the seed's: rows as dicts
        self._closed = False
        bind_repositories(self, Session(self.cursor, MYSQL))

    @property
    def connection_id(self) -> int | None:
        """The server's id of this session (``CONNECTION_ID()``), for diagnostics."""
        connection_id: int | None = self._connection.connection_id
        return connection_id

    def begin_transaction(self) -> None:
        """Start a transaction: nothing is sent; the unit's first write starts it."""
        # Sessions run with autocommit on: plain reads before any write need no transaction
        # (nor a COMMIT); the cursor (data/mysql/pool.py) sends START TRANSACTION first.

    def commit_transaction(self) -> None:
        """Commit what was written (nothing is sent for a read-only unit); errors translated."""
        if self._unit.unit_in_transaction:
            try:
                with MYSQL.errors():
                    self._connection.commit()
            except BaseException as exc:
                self._unit.unit_broken |= is_disconnect(exc.__cause__ or exc)  # never retried
                raise
        self._unit.end_unit()

    def rollback_transaction(self) -> None:
        """Roll back what is uncommitted; a rollback that cannot reach the server is logged."""
        if self._closed or (self._unit.unit_in_transaction and self._unit.unit_broken):
            return  # the session is gone, and the server dropped its transaction with it
        if self._unit.unit_in_transaction:
            try:
                self._connection.rollback()
            except DRIVER_ERRORS as exc:
                self._unit.unit_broken = True
                errno = getattr(exc, "errno", None)
                logger.warning("rollback failed: %s (errno=%s)", type(exc).__name__, errno)
                return
        self._unit.end_unit()

    def close(self) -> None:
        """Return the connection to the pool; safe to call more than once."""
        if self._closed:
            return
        # An unfinished transaction (close() without __exit__) must not reach the next
        # unit of work: roll it back, or drop the session if that fails.
        self.rollback_transaction()
        self._closed = True
        self._pool.checkin(self._pooled, broken=self._unit.unit_in_transaction)
