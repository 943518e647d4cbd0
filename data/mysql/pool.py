"""A small connection pool for mysql-connector: LIFO, bounded wait, no ping on a hot checkout.

See data/README.md, "MySQL: the pool".
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mysql.connector import errors

from core.exceptions import DBConnectionError
from data.mysql.cursor import UnitCursor, unit_cursor
from data.mysql.dialect import DRIVER_ERRORS, is_disconnect

logger = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 30.0

Connect = Callable[[], Any]  # returns a mysql-connector connection (pure or C extension)


@dataclass(eq=False)
class PooledConnection:
    """One server session, its reusable cursor, and what the pool knows of it."""

    connection: Any
    cursor: UnitCursor
    returned_at: float = field(default_factory=time.monotonic)

    @property
    def connection_id(self) -> int | None:
        """The server's id of this session."""
        connection_id: int | None = self.connection.connection_id
        return connection_id

    def close(self) -> None:
        """Close the session, ignoring a server that is already gone."""
        with contextlib.suppress(*DRIVER_ERRORS):
            self.connection.close()


class ConnectionPool:
    """Up to ``size`` sessions made by ``connect``; see the module docstring."""

    def __init__(
        self,
        connect: Connect,
        *,
        size: int,
        timeout: float,
        idle_check: float = IDLE_CHECK_SECONDS,
    ) -> None:
        """Remember how to connect; nothing is opened until the first checkout."""
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._idle_check = idle_check
        self._cond = threading.Condition(threading.Lock())
        self._idle: list[PooledConnection] = []  # a stack: the last returned is reused first
        self._opened = 0
        self._filled = False

    def checkout(self) -> PooledConnection:
        """A connection for one unit of work; ``DBConnectionError`` when none comes free."""
        if not self._filled:
            self._fill()
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
        try:
            if pooled is None:
                pooled = self._open()
            elif time.monotonic() - pooled.returned_at >= self._idle_check:
                self._revive(pooled)
        except BaseException:
            if pooled is not None:
                pooled.close()
            self._forget(1)
            raise
        return pooled

    def checkin(self, pooled: PooledConnection, *, broken: bool = False) -> None:
        """Give ``pooled`` back; a ``broken`` one is closed and its slot reopened later."""
        if broken or pooled.cursor.unit_broken:
            pooled.close()
            self._forget(1)
            return
        pooled.returned_at = time.monotonic()
        with self._cond:
            self._idle.append(pooled)
            self._cond.notify()

    def close(self) -> None:
        """Close the idle sessions; those in use are closed when they come back."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
            self._filled = False
        for pooled in idle:
            pooled.close()

    def _fill(self) -> None:
        """Open the missing sessions at once (first use, or after ``close``)."""
        with self._cond:
            missing = self._size - self._opened if not self._filled else 0
            self._opened += missing
        made: list[PooledConnection] = []
        try:
            for _ in range(missing):
                made.append(self._open())
        except BaseException:
            for pooled in made:
                pooled.close()
            self._forget(missing)
            raise
        with self._cond:
            self._idle.extend(made)
            self._filled = True
            self._cond.notify(len(made))
        logger.info("mysql pool ready: %d sessions", self._size)

    def _open(self) -> PooledConnection:
        """A new session with its cursor (driver errors become ``DBConnectionError``)."""
        try:
            connection = self._connect()
        except DRIVER_ERRORS as exc:
            raise DBConnectionError() from exc
        return PooledConnection(connection, unit_cursor(connection))

    def _revive(self, pooled: PooledConnection) -> None:
        """Ping a connection that sat idle; reconnect it if the server dropped it."""
        try:
            pooled.connection.ping(reconnect=False)
        except DRIVER_ERRORS as exc:
            if not is_disconnect(exc) and not isinstance(exc, errors.InterfaceError):
                raise DBConnectionError() from exc
            logger.info("idle mysql session %s was gone; reconnecting", pooled.connection_id)
            try:
                pooled.connection.reconnect(attempts=1)
            except DRIVER_ERRORS as again:
                raise DBConnectionError() from again

    def _forget(self, count: int) -> None:
        """``count`` sessions no longer exist (closed or never opened); wake a waiter."""
        with self._cond:
            self._opened -= count
            self._cond.notify(count)
