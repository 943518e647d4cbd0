"""The rate-counter port: event counts per bucket, kept in the database (data/README.md)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timedelta

from core.records import RateCount


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
