"""``SQLiteIdempotencyRepository``: the embedded twin of ``MySQLIdempotencyRepository``.

Same statements in SQLite's dialect, checked by the same contract tests. Datetimes are
fixed-width UTC text, so text comparison is time comparison.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from data.idempotency_repository import (
    COMPLETED,
    PENDING,
    IdempotencyRecord,
    IdempotencyRepository,
    NewIdempotencyKey,
)
from data.sqlite.errors import translated
from data.sqlite.repository import TIME_FORMAT, time_text

KEY_COLUMNS = (
    "id, scope, caller, idempotency_key, request_hash, status, image_guid, created_at, expires_at"
)
INSERT_KEY = (
    "INSERT INTO idempotency_keys (scope, caller, idempotency_key, request_hash, status,"
    " image_guid, created_at, expires_at)"
    " VALUES (:scope, :caller, :key, :request_hash, :status, NULL, :created_at, :expires_at)"
)
SELECT_KEY = (
    "SELECT " + KEY_COLUMNS + " FROM idempotency_keys"  # noqa: S608 - constants
    " WHERE scope = :scope AND caller = :caller AND idempotency_key = :key"
)
COMPLETE_KEY = (
    "UPDATE idempotency_keys SET status = :completed, image_guid = :image_guid,"
    " expires_at = :expires_at WHERE id = :id AND status = :pending"
)
RELEASE_KEY = "DELETE FROM idempotency_keys WHERE id = :id AND status = :pending"
DELETE_EXPIRED_KEY = "DELETE FROM idempotency_keys WHERE id = :id AND expires_at < :now"
PURGE_EXPIRED = (
    "DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys"
    " WHERE expires_at < :now ORDER BY expires_at LIMIT :limit)"
)


def _time(text: str) -> datetime:
    """Stored UTC text → aware datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def key_from_row(row: Mapping[str, Any]) -> IdempotencyRecord:
    """A row of ``KEY_COLUMNS`` → IdempotencyRecord."""
    return IdempotencyRecord(
        id=int(row["id"]),
        scope=str(row["scope"]),
        caller=str(row["caller"]),
        key=str(row["idempotency_key"]),
        request_hash=str(row["request_hash"]),
        status=str(row["status"]),
        image_guid=str(row["image_guid"]) if row["image_guid"] is not None else None,
        created_at=_time(row["created_at"]),
        expires_at=_time(row["expires_at"]),
    )


class SQLiteIdempotencyRepository(IdempotencyRepository):
    """Idempotency keys in the embedded SQLite file, on one ``SQLiteContext``'s connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Bind to ``connection``; the context owns the transaction."""
        self._connection = connection

    @translated
    def add(self, new: NewIdempotencyKey) -> IdempotencyRecord:
        """Insert a pending row; ``ConstraintViolationError`` if the key is taken."""
        params: dict[str, Any] = {
            "scope": new.scope,
            "caller": new.caller,
            "key": new.key,
            "request_hash": new.request_hash,
            "status": PENDING,
            "created_at": time_text(new.created_at),
            "expires_at": time_text(new.expires_at),
        }
        cursor = self._connection.execute(INSERT_KEY, params)
        return key_from_row(
            {**params, "id": cursor.lastrowid, "idempotency_key": new.key, "image_guid": None}
        )

    @translated
    def find(self, scope: str, caller: str, key: str) -> IdempotencyRecord | None:
        """The row of ``(scope, caller, key)``, or ``None``."""
        params = {"scope": scope, "caller": caller, "key": key}
        row = self._connection.execute(SELECT_KEY, params).fetchone()
        return key_from_row(row) if row is not None else None

    @translated
    def complete(self, record_id: int, *, image_guid: str, expires_at: datetime) -> bool:
        """Mark a pending row completed; ``False`` if no pending row has ``record_id``."""
        params = {
            "id": record_id,
            "image_guid": image_guid,
            "expires_at": time_text(expires_at),
            "completed": COMPLETED,
            "pending": PENDING,
        }
        return self._connection.execute(COMPLETE_KEY, params).rowcount == 1

    @translated
    def release(self, record_id: int) -> bool:
        """Delete the row ``record_id`` if it is still pending."""
        params = {"id": record_id, "pending": PENDING}
        return self._connection.execute(RELEASE_KEY, params).rowcount == 1

    @translated
    def delete_expired(self, record_id: int, now: datetime) -> bool:
        """Delete the row ``record_id`` if it expired before ``now``."""
        params = {"id": record_id, "now": time_text(now)}
        return self._connection.execute(DELETE_EXPIRED_KEY, params).rowcount == 1

    @translated
    def purge_expired(self, now: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` rows that expired before ``now``."""
        params = {"now": time_text(now), "limit": limit}
        return int(self._connection.execute(PURGE_EXPIRED, params).rowcount)
