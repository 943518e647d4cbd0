"""The MySQL pool and each session's one cursor (data/README.md, "MySQL: the pool")."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mysql.connector
from mysql.connector.connection import MySQLConnection
from mysql.connector.cursor import MySQLCursorBufferedDict

from core.exceptions import DBConnectionError
from data.mysql.dialect import DRIVER_ERRORS, is_disconnect

logger = logging.getLogger(__name__)

START_TRANSACTION = "START TRANSACTION"


@functools.lru_cache(maxsize=1024)
def is_plain_read(operation: Any) -> bool:
    """True for a ``SELECT`` that locks nothing (decided once per distinct statement)."""
    text = str(operation).lstrip()  # the pure cursor's executemany passes bytes: never a read
    return text[:6].upper() == "SELECT" and "FOR UPDATE" not in text.upper()


class UnitCursor:
    """Mixin over a driver cursor class: the unit of work's state, lazy transaction, retry."""

    unit_fresh = True  # no statement since the unit began (or its transaction ended)
    unit_in_transaction = False  # START TRANSACTION was sent and not yet ended
    unit_broken = False
    _connection: Any

    def execute(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a statement; the first write (or locking read) starts the transaction."""
        if not self.unit_in_transaction and not is_plain_read(operation):
            self._retrying_execute(START_TRANSACTION)
            self.unit_in_transaction = True
        return self._retrying_execute(operation, *args, **kwargs)

    def _retrying_execute(self, *args: Any, **kwargs: Any) -> Any:
        """Run a statement; the first of a unit is retried once on a lost session."""
        first, self.unit_fresh = self.unit_fresh, False
        while True:
            try:
                return super().execute(*args, **kwargs)  # type: ignore[misc]
            except DRIVER_ERRORS as exc:
                self.unit_broken = is_disconnect(exc) and not first
                if not is_disconnect(exc) or self.unit_broken:
                    raise
            first = False  # one retry, on a new session
            try:
                self._connection.reconnect(attempts=1)
            except DRIVER_ERRORS:
                self.unit_broken = True
                raise

    def end_unit(self) -> None:
        """Note that the unit's work ended (committed, rolled back, or read only)."""
        self.unit_fresh = True
        self.unit_in_transaction = False


class PureUnitCursor(UnitCursor, MySQLCursorBufferedDict):
    """The cursor on the pure-Python protocol (``use_pure``)."""


if mysql.connector.HAVE_CEXT:
    from mysql.connector.cursor_cext import CMySQLCursorBufferedDict

    class CUnitCursor(UnitCursor, CMySQLCursorBufferedDict):
        """The cursor on the C extension."""

        def fetchall(self) -> list[dict[str, Any]]:  # type: ignore[override]
            """All rows as dictionaries (the column names computed once, not per row)."""
            rows = super(CMySQLCursorBufferedDict, self).fetchall()
            names = self.column_names
            return [dict(zip(names, row, strict=True)) for row in rows]


def unit_cursor(connection: Any) -> UnitCursor:
    """The reusable cursor for ``connection`` (pure Python or C extension)."""
    if isinstance(connection, MySQLConnection):
        return PureUnitCursor(connection)
    return CUnitCursor(connection)


Connect = Callable[[], Any]  # returns a mysql-connector connection (pure or C extension)


@dataclass(eq=False)
class PooledConnection:
    """One server session, its reusable cursor, and what the pool knows of it."""

    connection: Any
    cursor: UnitCursor

    def close(self) -> None:
        """Close the session, ignoring a server that is already gone."""
        with contextlib.suppress(*DRIVER_ERRORS):
            self.connection.close()


class ConnectionPool:
    """Up to ``size`` sessions made by ``connect``; see the module docstring."""

    def __init__(self, connect: Connect, *, size: int, timeout: float) -> None:
        """Remember how to connect; nothing is opened until the first checkout."""
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._cond = threading.Condition(threading.Lock())
        self._idle: list[PooledConnection] = []  # a stack: the last returned is reused first
        self._opened = 0

    def checkout(self) -> PooledConnection:
        """A connection for one unit of work; ``DBConnectionError`` when none comes free."""
        deadline: float | None = None
        with self._cond:
            while True:
                if self._idle:
                    pooled: PooledConnection | None = self._idle.pop()
                    break
                if self._opened < self._size:
                    self._opened += 1
                    pooled = None
                    break
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self._timeout
                if now >= deadline or not self._cond.wait(deadline - now):
                    if self._idle or self._opened < self._size:
                        continue  # came free exactly at the deadline
                    raise DBConnectionError(
                        f"Database connection pool exhausted: no connection came free "
                        f"within {self._timeout:g} seconds."
                    )
        if pooled is None:
            try:
                pooled = self._open()
            except BaseException:
                self._forget(1)
                raise
        return pooled

    def checkin(self, pooled: PooledConnection, *, broken: bool = False) -> None:
        """Give ``pooled`` back; a ``broken`` one is closed and its slot reopened later."""
        if broken or pooled.cursor.unit_broken:
            pooled.close()
            self._forget(1)
            return
        with self._cond:
            self._idle.append(pooled)
            self._cond.notify()

    def close(self) -> None:
        """Close the idle sessions; those in use are closed when they come back."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
        for pooled in idle:
            pooled.close()

    def _open(self) -> PooledConnection:
        """A new session with its cursor (driver errors become ``DBConnectionError``)."""
        try:
            connection = self._connect()
        except DRIVER_ERRORS as exc:
            raise DBConnectionError() from exc
        # The connector propagates OpenTelemetry trace context when opentelemetry-api is
        # importable (FastAPI brings it): a span lookup on every statement, for spans this
        # service never records. Off, as FastAPI's own telemetry is (web/app.py).
        connection.otel_context_propagation = False
        return PooledConnection(connection, unit_cursor(connection))

    def _forget(self, count: int) -> None:
        """``count`` sessions no longer exist (closed or never opened); wake a waiter."""
        with self._cond:
            self._opened -= count
            self._cond.notify(count)
