"""``SQLiteRateCounterRepository``: the embedded twin of ``MySQLRateCounterRepository``.

``hit`` is one ``INSERT … ON CONFLICT (bucket) DO UPDATE``: atomic, and the writer
lock it takes lasts until commit, so the ``SELECT`` after it reads this transaction's
own count. In SQLite's ``DO UPDATE SET`` every column name means the old row's value.
Datetimes are fixed-width UTC text, so text comparison is time comparison.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from data.rate_counter_repository import RateCount, RateCounterRepository
from data.sqlite.errors import translated
from data.sqlite.repository import TIME_FORMAT, time_text

HIT_COUNTER = (
    "INSERT INTO rate_counters (bucket, window_start, expires_at, hits)"
    " VALUES (:bucket, :now, :expires_at, 1)"
    " ON CONFLICT (bucket) DO UPDATE SET"
    " hits = CASE WHEN expires_at <= :now THEN 1 ELSE hits + 1 END,"
    " window_start = CASE WHEN expires_at <= :now THEN :now ELSE window_start END,"
    " expires_at = CASE WHEN expires_at <= :now THEN :expires_at ELSE expires_at END"
)
SELECT_COUNTER = (
    "SELECT bucket, window_start, expires_at, hits FROM rate_counters WHERE bucket = :bucket"
)
PURGE_EXPIRED = (
    "DELETE FROM rate_counters WHERE bucket IN (SELECT bucket FROM rate_counters"
    " WHERE expires_at < :now ORDER BY expires_at LIMIT :limit)"
)


def _time(text: str) -> datetime:
    """Stored UTC text → aware datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def count_from_row(row: Mapping[str, Any]) -> RateCount:
    """A row of ``SELECT_COUNTER`` → RateCount."""
    return RateCount(
        bucket=str(row["bucket"]),
        hits=int(row["hits"]),
        window_start=_time(row["window_start"]),
        expires_at=_time(row["expires_at"]),
    )


class SQLiteRateCounterRepository(RateCounterRepository):
    """Rate counters in the embedded SQLite file, on one ``SQLiteContext``'s connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Bind to ``connection``; the context owns the transaction."""
        self._connection = connection

    @translated
    def hit(self, bucket: str, *, now: datetime, window: timedelta) -> RateCount:
        """Count one event atomically; a new window starts when the old one expired."""
        params = {"bucket": bucket, "now": time_text(now), "expires_at": time_text(now + window)}
        self._connection.execute(HIT_COUNTER, params)
        row = self._connection.execute(SELECT_COUNTER, {"bucket": bucket}).fetchone()
        return count_from_row(row)

    @translated
    def current(self, bucket: str, *, now: datetime) -> RateCount | None:
        """The bucket's unexpired window, or ``None``."""
        row = self._connection.execute(SELECT_COUNTER, {"bucket": bucket}).fetchone()
        found = count_from_row(row) if row is not None else None
        return found if found is not None and found.expires_at > now else None

    @translated
    def purge_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Delete up to ``limit`` expired rows."""
        params = {"now": time_text(now), "limit": limit}
        return int(self._connection.execute(PURGE_EXPIRED, params).rowcount)
