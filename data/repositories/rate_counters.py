"""``SQLRateCounterRepository``, for both dialects (data/README.md, "Rate counters")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.records import RateCount
from data.dialect import Row, Session
from data.rate_counter_repository import RateCounterRepository

HIT_COUNTER = (
    "INSERT INTO rate_counters (bucket, window_start, expires_at, hits)"
    " VALUES (:bucket, :now, :expires_at, 1) {upsert}"
    " hits = CASE WHEN expires_at <= :now THEN 1 ELSE hits + 1 END,"
    " window_start = CASE WHEN expires_at <= :now THEN :now ELSE window_start END,"
    " expires_at = CASE WHEN expires_at <= :now THEN :expires_at ELSE expires_at END"
)
SELECT_COUNTER = (
    "SELECT bucket, window_start, expires_at, hits FROM rate_counters WHERE bucket = :bucket"
)
SELECT_EXPIRED = (
    "SELECT bucket FROM rate_counters WHERE expires_at < :now ORDER BY expires_at LIMIT :limit"
)
TIME_COLUMNS = ("window_start", "expires_at")
DELETE_EXPIRED = "DELETE FROM rate_counters WHERE bucket = :bucket AND expires_at < :now"


class SQLRateCounterRepository(RateCounterRepository):
    """Rate counters on the session of one unit of work (MySQL/MariaDB or SQLite)."""

    def __init__(self, session: Session) -> None:
        """Bind to ``session``; the unit of work owns the transaction."""
        self._db = session
        self._hit = HIT_COUNTER.format(upsert=session.dialect.upsert.format(key="bucket"))

    def _count(self, row: Row) -> RateCount:
        """A row of ``SELECT_COUNTER`` → RateCount."""
        times = {key: self._db.dialect.from_db_time(row[key]) for key in TIME_COLUMNS}
        return RateCount(bucket=str(row["bucket"]), hits=int(row["hits"]), **times)

    def hit(self, bucket: str, *, now: datetime, window: timedelta) -> RateCount:
        """Count one event atomically; a new window starts when the old one expired."""
        to_db = self._db.dialect.to_db_time
        params = {"bucket": bucket, "now": to_db(now), "expires_at": to_db(now + window)}
        self._db.run(self._hit, params)
        return self._count(self._db.rows(SELECT_COUNTER, {"bucket": bucket})[0])

    def current(self, bucket: str, *, now: datetime) -> RateCount | None:
        """The bucket's unexpired window, or ``None``."""
        rows = self._db.rows(SELECT_COUNTER, {"bucket": bucket})
        found = self._count(rows[0]) if rows else None
        return found if found is not None and found.expires_at > now else None

    def purge_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Delete up to ``limit`` expired rows, by primary key in key order."""
        params: dict[str, Any] = {"now": self._db.dialect.to_db_time(now), "limit": limit}
        buckets = sorted(str(row["bucket"]) for row in self._db.rows(SELECT_EXPIRED, params))
        return sum(
            self._db.run(DELETE_EXPIRED, {"bucket": bucket, "now": params["now"]})
            for bucket in buckets
        )
