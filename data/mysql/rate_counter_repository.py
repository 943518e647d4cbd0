"""``MySQLRateCounterRepository``: rate counters on a ``DatabaseContext`` cursor.

``hit`` is one ``INSERT … ON DUPLICATE KEY UPDATE``: atomic, and it leaves the row
locked until commit, so the ``SELECT`` after it reads this transaction's own count.
MySQL applies the ``UPDATE`` assignments left to right, each seeing the ones before;
``expires_at`` is therefore assigned last, so the tests before it read the old window.

``purge_expired`` first reads expired buckets without locking, then deletes them one
by one by primary key, in key order, re-checking expiry. It never locks an index
range, and every transaction here takes row locks in bucket order, so a purge and
the hits it races cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from mysql.connector.cursor import MySQLCursorBufferedDict

from data.mysql.errors import translated
from data.mysql.repository import naive_utc
from data.rate_counter_repository import RateCount, RateCounterRepository

HIT_COUNTER = (
    "INSERT INTO rate_counters (bucket, window_start, expires_at, hits)"
    " VALUES (%(bucket)s, %(now)s, %(expires_at)s, 1)"
    " ON DUPLICATE KEY UPDATE"
    " hits = CASE WHEN expires_at <= %(now)s THEN 1 ELSE hits + 1 END,"
    " window_start = CASE WHEN expires_at <= %(now)s THEN %(now)s ELSE window_start END,"
    " expires_at = CASE WHEN expires_at <= %(now)s THEN %(expires_at)s ELSE expires_at END"
)
SELECT_COUNTER = (
    "SELECT bucket, window_start, expires_at, hits FROM rate_counters WHERE bucket = %(bucket)s"
)
SELECT_EXPIRED = (
    "SELECT bucket FROM rate_counters WHERE expires_at < %(now)s"
    " ORDER BY expires_at LIMIT %(limit)s"
)
DELETE_EXPIRED = "DELETE FROM rate_counters WHERE bucket = %(bucket)s AND expires_at < %(now)s"


def _aware(value: datetime) -> datetime:
    """A naive UTC datetime from the database, made aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def count_from_row(row: Mapping[str, Any]) -> RateCount:
    """A row of ``SELECT_COUNTER`` → RateCount."""
    return RateCount(
        bucket=str(row["bucket"]),
        hits=int(row["hits"]),
        window_start=_aware(row["window_start"]),
        expires_at=_aware(row["expires_at"]),
    )


class MySQLRateCounterRepository(RateCounterRepository):
    """Rate counters in MySQL/MariaDB, on the cursor of one ``DatabaseContext``."""

    def __init__(self, cursor: MySQLCursorBufferedDict) -> None:
        """Bind to ``cursor`` (a dictionary cursor); the context owns the transaction."""
        self._cursor = cursor

    @translated
    def hit(self, bucket: str, *, now: datetime, window: timedelta) -> RateCount:
        """Count one event atomically; a new window starts when the old one expired."""
        params: dict[str, Any] = {
            "bucket": bucket,
            "now": naive_utc(now),
            "expires_at": naive_utc(now + window),
        }
        self._cursor.execute(HIT_COUNTER, params)
        self._cursor.execute(SELECT_COUNTER, {"bucket": bucket})
        rows = cast("list[dict[str, Any]]", self._cursor.fetchall())
        return count_from_row(rows[0])  # written just now, and locked until commit

    @translated
    def current(self, bucket: str, *, now: datetime) -> RateCount | None:
        """The bucket's unexpired window, or ``None``."""
        self._cursor.execute(SELECT_COUNTER, {"bucket": bucket})
        rows = cast("list[dict[str, Any]]", self._cursor.fetchall())
        found = count_from_row(rows[0]) if rows else None
        return found if found is not None and found.expires_at > now else None

    @translated
    def purge_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Delete up to ``limit`` expired rows, by primary key in key order."""
        params: dict[str, Any] = {"now": naive_utc(now), "limit": limit}
        self._cursor.execute(SELECT_EXPIRED, params)
        rows = cast("list[dict[str, Any]]", self._cursor.fetchall())
        deleted = 0
        for bucket in sorted(str(row["bucket"]) for row in rows):
            self._cursor.execute(DELETE_EXPIRED, {"bucket": bucket, "now": params["now"]})
            deleted += int(self._cursor.rowcount)
        return deleted
