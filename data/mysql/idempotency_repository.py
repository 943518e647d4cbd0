"""``MySQLIdempotencyRepository``: idempotency keys on a ``DatabaseContext`` cursor.

Every statement touches one row by its unique key or id (purge: a bounded batch by
``expires_at``), so the short transactions of ``service/idempotency.py`` never hold
more than one row lock and cannot deadlock each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from mysql.connector.cursor import MySQLCursorBufferedDict

from data.idempotency_repository import (
    COMPLETED,
    PENDING,
    IdempotencyRecord,
    IdempotencyRepository,
    NewIdempotencyKey,
)
from data.mysql.errors import translated
from data.mysql.repository import naive_utc

KEY_COLUMNS = (
    "id, scope, caller, idempotency_key, request_hash, status, image_guid, created_at, expires_at"
)
INSERT_KEY = (
    "INSERT INTO idempotency_keys (scope, caller, idempotency_key, request_hash, status,"
    " image_guid, created_at, expires_at)"
    " VALUES (%(scope)s, %(caller)s, %(key)s, %(request_hash)s, %(status)s, NULL,"
    " %(created_at)s, %(expires_at)s)"
)
SELECT_KEY = (
    "SELECT " + KEY_COLUMNS + " FROM idempotency_keys"  # noqa: S608 - constants
    " WHERE scope = %(scope)s AND caller = %(caller)s AND idempotency_key = %(key)s"
)
COMPLETE_KEY = (
    "UPDATE idempotency_keys SET status = %(completed)s, image_guid = %(image_guid)s,"
    " expires_at = %(expires_at)s WHERE id = %(id)s AND status = %(pending)s"
)
RELEASE_KEY = "DELETE FROM idempotency_keys WHERE id = %(id)s AND status = %(pending)s"
DELETE_EXPIRED_KEY = "DELETE FROM idempotency_keys WHERE id = %(id)s AND expires_at < %(now)s"
PURGE_EXPIRED = (
    "DELETE FROM idempotency_keys WHERE expires_at < %(now)s ORDER BY expires_at LIMIT %(limit)s"
)


def _aware(value: datetime) -> datetime:
    """A naive UTC datetime from the database, made aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
        created_at=_aware(row["created_at"]),
        expires_at=_aware(row["expires_at"]),
    )


class MySQLIdempotencyRepository(IdempotencyRepository):
    """Idempotency keys in MySQL/MariaDB, on the cursor of one ``DatabaseContext``."""

    def __init__(self, cursor: MySQLCursorBufferedDict) -> None:
        """Bind to ``cursor`` (a dictionary cursor); the context owns the transaction."""
        self._cursor = cursor

    @translated
    def add(self, new: NewIdempotencyKey) -> IdempotencyRecord:
        """Insert a pending row; ``ConstraintViolationError`` if the key is taken."""
        params: dict[str, Any] = {
            "scope": new.scope,
            "caller": new.caller,
            "key": new.key,
            "request_hash": new.request_hash,
            "status": PENDING,
            "created_at": naive_utc(new.created_at),
            "expires_at": naive_utc(new.expires_at),
        }
        self._cursor.execute(INSERT_KEY, params)
        return IdempotencyRecord(
            id=int(self._cursor.lastrowid or 0),
            scope=new.scope,
            caller=new.caller,
            key=new.key,
            request_hash=new.request_hash,
            status=PENDING,
            image_guid=None,
            created_at=new.created_at,
            expires_at=new.expires_at,
        )

    @translated
    def find(self, scope: str, caller: str, key: str) -> IdempotencyRecord | None:
        """The row of ``(scope, caller, key)``, or ``None``."""
        self._cursor.execute(SELECT_KEY, {"scope": scope, "caller": caller, "key": key})
        rows = cast("list[dict[str, Any]]", self._cursor.fetchall())
        return key_from_row(rows[0]) if rows else None

    @translated
    def complete(self, record_id: int, *, image_guid: str, expires_at: datetime) -> bool:
        """Mark a pending row completed; ``False`` if no pending row has ``record_id``."""
        params: dict[str, Any] = {
            "id": record_id,
            "image_guid": image_guid,
            "expires_at": naive_utc(expires_at),
            "completed": COMPLETED,
            "pending": PENDING,
        }
        self._cursor.execute(COMPLETE_KEY, params)
        return self._cursor.rowcount == 1  # the status changes, so a match always counts

    @translated
    def release(self, record_id: int) -> bool:
        """Delete the row ``record_id`` if it is still pending."""
        self._cursor.execute(RELEASE_KEY, {"id": record_id, "pending": PENDING})
        return self._cursor.rowcount == 1

    @translated
    def delete_expired(self, record_id: int, now: datetime) -> bool:
        """Delete the row ``record_id`` if it expired before ``now``."""
        self._cursor.execute(DELETE_EXPIRED_KEY, {"id": record_id, "now": naive_utc(now)})
        return self._cursor.rowcount == 1

    @translated
    def purge_expired(self, now: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` rows that expired before ``now``."""
        self._cursor.execute(PURGE_EXPIRED, {"now": naive_utc(now), "limit": limit})
        return int(self._cursor.rowcount)
