"""In-memory twin of the rate-counter table, used by ``tests/fakes/database.py``.

A unit of work stages its events; commit replays them on the committed rows under a
lock, so concurrent units of work never lose a hit (as the databases' atomic upserts
guarantee). Rollback discards them. It passes the same contract suite as the SQLite
and MySQL repositories.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.records import RateCount
from data.rate_counter_repository import RateCounterRepository


@dataclass(frozen=True)
class RateChange:
    """One staged write: a hit (``window`` set) or the purge of an expired row."""

    bucket: str
    now: datetime
    window: timedelta | None = None


def _apply(rows: dict[str, RateCount], change: RateChange) -> None:
    """Apply one change to ``rows`` in place, as the databases' statements do."""
    old = rows.get(change.bucket)
    if change.window is None:
        if old is not None and old.expires_at < change.now:
            del rows[change.bucket]
        return
    if old is None or old.expires_at <= change.now:
        rows[change.bucket] = RateCount(
            change.bucket, 1, window_start=change.now, expires_at=change.now + change.window
        )
    else:
        rows[change.bucket] = dataclasses.replace(old, hits=old.hits + 1)


class InMemoryRateTable:
    """The committed rate counters of one ``InMemoryDatabase``."""

    def __init__(self) -> None:
        self.rows: dict[str, RateCount] = {}
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, RateCount]:
        """A copy of the committed rows."""
        with self._lock:
            return dict(self.rows)

    def apply(self, changes: Sequence[RateChange]) -> None:
        """Replay staged changes on the committed rows, atomically."""
        if not changes:
            return
        with self._lock:
            for change in changes:
                _apply(self.rows, change)


class InMemoryRateCounterRepository(RateCounterRepository):
    """The rate-counter port over a rate table, with staged changes."""

    def __init__(self, table: InMemoryRateTable) -> None:
        self._table = table
        self._view: dict[str, RateCount] | None = None
        self._changes: list[RateChange] = []

    def take_changes(self) -> list[RateChange]:
        """Hand the staged changes to the commit and forget them."""
        changes = self._changes
        self.discard()
        return changes

    def discard(self) -> None:
        """Forget the view and the staged changes (rollback)."""
        self._view = None
        self._changes = []

    def _rows(self) -> dict[str, RateCount]:
        if self._view is None:
            self._view = self._table.snapshot()
        return self._view

    def _stage(self, change: RateChange) -> None:
        _apply(self._rows(), change)
        self._changes.append(change)

    def hit(self, bucket: str, *, now: datetime, window: timedelta) -> RateCount:
        """Stage one event and return the window as this unit of work sees it."""
        self._stage(RateChange(bucket, now, window))
        return self._rows()[bucket]

    def current(self, bucket: str, *, now: datetime) -> RateCount | None:
        """The bucket's unexpired window, or ``None``."""
        found = self._rows().get(bucket)
        return found if found is not None and found.expires_at > now else None

    def purge_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Stage the delete of up to ``limit`` expired rows."""
        expired = sorted(
            (row for row in self._rows().values() if row.expires_at < now),
            key=lambda row: row.expires_at,
        )[:limit]
        for row in expired:
            self._stage(RateChange(row.bucket, now))
        return len(expired)
