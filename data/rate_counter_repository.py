"""The rate-counter port: event counts per bucket, kept in the database.

Counters live in the database (not in one process's memory) so every worker and
replica behind a load balancer sees the same numbers. One row per bucket
(``login-ip:203.0.113.7``, ``login-pair:203.0.113.7:<digest>``, ``create-ip:…``) holds a
fixed window that starts at the bucket's first event: ``window_start``, ``expires_at``
and ``hits``.
An event after ``expires_at`` starts a new window with one hit.

``hit`` is one atomic upsert (``INSERT … ON DUPLICATE KEY UPDATE`` on MySQL,
``INSERT … ON CONFLICT DO UPDATE`` on SQLite), so concurrent events are never lost;
the row stays locked until the unit of work commits, so the count ``hit`` returns is
exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RateCount:
    """One bucket's current window (datetimes aware UTC)."""

    bucket: str
    hits: int
    window_start: datetime
    expires_at: datetime


class RateCounterRepository(ABC):
    """Rate counters. Never commits: the service's unit of work does."""

    @abstractmethod
    def hit(self, bucket: str, *, now: datetime, window: timedelta) -> RateCount:
        """Count one event in ``bucket`` at ``now`` and return the window it fell in.

        If the bucket has no row, or its window expired at or before ``now``, a new
        window ``[now, now + window)`` starts with one hit; otherwise ``hits`` grows by one.
        """

    @abstractmethod
    def current(self, bucket: str, *, now: datetime) -> RateCount | None:
        """The bucket's window if it has not expired at ``now``, else ``None``."""

    @abstractmethod
    def purge_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Delete up to ``limit`` rows whose window expired before ``now``; return how many."""
