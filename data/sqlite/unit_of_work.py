"""``SQLiteContext``: a unit of work on one SQLite connection (the embedded backend)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3

from data.dialect import Session
from data.repositories import bind_repositories
from data.sqlite.dialect import SQLITE
from data.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


class SQLiteContext(UnitOfWork):
    """One SQLite connection in a transaction, its cursor, and the repositories on it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Take ownership of ``connection`` (closed by ``close()``)."""
        self._connection = connection
        self._closed = False
        self.cursor = connection.cursor()
        bind_repositories(self, Session(self.cursor, SQLITE))

    def begin_transaction(self) -> None:
        """Start a transaction (a no-op when one is already open)."""
        with SQLITE.errors():
            if not self._connection.in_transaction:
                self._connection.execute("BEGIN")

    def commit_transaction(self) -> None:
        """Commit; raise ``DBConnectionError`` / ``ConstraintViolationError`` on failure."""
        with SQLITE.errors():
            self._connection.commit()

    def rollback_transaction(self) -> None:
        """Roll back whatever is uncommitted; a failure is logged, not raised."""
        if self._closed:
            return
        try:
            self._connection.rollback()
        except sqlite3.Error as exc:
            logger.warning("rollback failed: %s", type(exc).__name__)

    def close(self) -> None:
        """Close the connection (rolling back anything uncommitted); idempotent."""
        self._closed = True
        with contextlib.suppress(sqlite3.Error):
            self._connection.close()
