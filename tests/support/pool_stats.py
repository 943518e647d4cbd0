"""Counters of the MySQL pool that only tests read: ``pool_stats(database)``.

The pool itself counts nothing it does not need. Under test, every ``MySQLDatabase``
gets a :class:`CountingPool` instead (installed for the whole session by
``counting_pools``, a fixture of this plugin), which counts checkouts, the sessions it
opened and the distinct server sessions it hands out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import data.mysql.database
from data.mysql.database import MySQLDatabase
from data.mysql.pool import ConnectionPool, PooledConnection


@dataclass(frozen=True)
class PoolStats:
    """One pool's counters at one moment."""

    size: int
    in_use: int
    checkouts: int
    opened: int  # sessions the pool opened (a reconnect of a lost one is not counted)
    sessions_seen: int  # distinct server connection ids handed out so far


class CountingPool(ConnectionPool):
    """A ``ConnectionPool`` that also counts what tests assert on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start every counter at zero."""
        self._counts = threading.Lock()
        self.checkouts = 0
        self.opened = 0
        self.sessions: set[int] = set()
        super().__init__(*args, **kwargs)

    def _open(self) -> PooledConnection:
        """Open a session as the pool does, then count it."""
        pooled = super()._open()
        with self._counts:
            self.opened += 1
        return pooled

    def checkout(self) -> PooledConnection:
        """Check out as the pool does, then count it and its session."""
        pooled = super().checkout()
        with self._counts:
            self.checkouts += 1
            self.sessions.add(pooled.connection.connection_id or 0)
        return pooled


def pool_stats(database: object) -> PoolStats:
    """The counters of ``database``'s pool (a ``MySQLDatabase`` on a ``CountingPool``)."""
    assert isinstance(database, MySQLDatabase)
    pool = database._pool
    assert isinstance(pool, CountingPool), "MySQLDatabase built outside the test session"
    with pool._cond:
        return PoolStats(
            size=pool._size,
            in_use=pool._opened - len(pool._idle),
            checkouts=pool.checkouts,
            opened=pool.opened,
            sessions_seen=len(pool.sessions),
        )


@pytest.fixture(scope="session", autouse=True)
def counting_pools() -> Iterator[None]:
    """Build every ``MySQLDatabase`` of the session on a ``CountingPool``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data.mysql.database, "ConnectionPool", CountingPool)
        yield
