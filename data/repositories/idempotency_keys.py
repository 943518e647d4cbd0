"""``SQLIdempotencyRepository``, for both dialects (data/README.md, "Idempotency keys")."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from core.records import COMPLETED, PENDING, IdempotencyRecord, NewIdempotencyKey
from data.dialect import Row, Session
from data.idempotency_repository import IdempotencyRepository

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
TEXT_FIELDS = ("scope", "caller", "request_hash", "status")
TIME_FIELDS = ("created_at", "expires_at")
DELETE_EXPIRED_KEY = "DELETE FROM idempotency_keys WHERE id = :id AND expires_at < :now"


class SQLIdempotencyRepository(IdempotencyRepository):
    """Idempotency keys on the session of one unit of work (MySQL/MariaDB or SQLite)."""

    def __init__(self, session: Session) -> None:
        """Bind to ``session``; the unit of work owns the transaction."""
        self._db = session
        self._to_db = session.dialect.to_db_time
        self._purge = session.dialect.purge(
            "idempotency_keys", "id", "expires_at < :now", "expires_at"
        )

    def _record(self, row: Row) -> IdempotencyRecord:
        """A row of ``KEY_COLUMNS`` → IdempotencyRecord (datetimes aware UTC)."""
        texts: dict[str, Any] = {field: str(row[field]) for field in TEXT_FIELDS}
        times: dict[str, Any] = {f: self._db.dialect.from_db_time(row[f]) for f in TIME_FIELDS}
        key, guid = str(row["idempotency_key"]), row["image_guid"]
        return IdempotencyRecord(id=int(row["id"]), key=key, image_guid=guid, **texts, **times)

    def add(self, new: NewIdempotencyKey) -> IdempotencyRecord:
        """Insert a pending row; ``ConstraintViolationError`` if the key is taken."""
        values = asdict(new)
        params = values | {field: self._to_db(values[field]) for field in TIME_FIELDS}
        record_id = self._db.insert(INSERT_KEY, params | {"status": PENDING})
        return IdempotencyRecord(id=record_id, status=PENDING, image_guid=None, **values)

    def find(self, scope: str, caller: str, key: str) -> IdempotencyRecord | None:
        """The row of ``(scope, caller, key)``, or ``None``."""
        rows = self._db.rows(SELECT_KEY, {"scope": scope, "caller": caller, "key": key})
        return self._record(rows[0]) if rows else None

    def complete(self, record_id: int, *, image_guid: str, expires_at: datetime) -> bool:
        """Mark a pending row completed; ``False`` if no pending row has ``record_id``."""
        params: dict[str, Any] = {
            "id": record_id,
            "image_guid": image_guid,
            "expires_at": self._to_db(expires_at),
            "completed": COMPLETED,
            "pending": PENDING,
        }
        return self._db.run(COMPLETE_KEY, params) == 1  # the status changes: a match counts

    def release(self, record_id: int) -> bool:
        """Delete the row ``record_id`` if it is still pending."""
        return self._db.run(RELEASE_KEY, {"id": record_id, "pending": PENDING}) == 1

    def delete_expired(self, record_id: int, now: datetime) -> bool:
        """Delete the row ``record_id`` if it expired before ``now``."""
        return self._db.run(DELETE_EXPIRED_KEY, {"id": record_id, "now": self._to_db(now)}) == 1

    def purge_expired(self, now: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` rows that expired before ``now``."""
        return self._db.run(self._purge, {"now": self._to_db(now), "limit": limit})
