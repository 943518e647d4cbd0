"""``MySQLUserRepository``: user rows on a ``DatabaseContext`` cursor.

SQL lives in the named constants below, with explicit column lists and named
parameters only. ``username`` has a binary collation, so lookups are case-sensitive
and ``ORDER BY username`` is code-point order, as in the SQLite backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from mysql.connector.cursor import MySQLCursorBufferedDict

from core.exceptions import RecordNotFoundError
from data.mysql.errors import translated
from data.mysql.repository import naive_utc
from data.user_repository import UserRecord, UserRepository

INSERT_USER = (
    "INSERT INTO users (username, password_hash, created_at)"
    " VALUES (%(username)s, %(password_hash)s, %(created_at)s)"
)
SELECT_USER = (
    "SELECT id, username, password_hash, created_at FROM users WHERE username = %(username)s"
)
SELECT_USERS = "SELECT id, username, password_hash, created_at FROM users ORDER BY username"
UPDATE_USER_HASH = (
    "UPDATE users SET password_hash = %(password_hash)s WHERE username = %(username)s"
)
DELETE_USER = "DELETE FROM users WHERE username = %(username)s"


def user_from_row(row: Mapping[str, Any]) -> UserRecord:
    """A row of ``SELECT_USER`` → UserRecord (the naive UTC ``created_at`` made aware)."""
    created: datetime = row["created_at"]
    return UserRecord(
        id=int(row["id"]),
        username=str(row["username"]),
        password_hash=str(row["password_hash"]),
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
    )


class MySQLUserRepository(UserRepository):
    """User rows in MySQL/MariaDB, on the cursor of one ``DatabaseContext``."""

    def __init__(self, cursor: MySQLCursorBufferedDict) -> None:
        """Bind to ``cursor`` (a dictionary cursor); the context owns the transaction."""
        self._cursor = cursor

    @translated
    def add(self, username: str, password_hash: str) -> UserRecord:
        """Insert a user; ``ConstraintViolationError`` if the name is taken."""
        created = datetime.now(UTC)
        params: dict[str, Any] = {
            "username": username,
            "password_hash": password_hash,
            "created_at": naive_utc(created),
        }
        self._cursor.execute(INSERT_USER, params)
        return user_from_row({**params, "id": self._cursor.lastrowid, "created_at": created})

    @translated
    def find(self, username: str) -> UserRecord | None:
        """The user called ``username`` (case-sensitive), or ``None``."""
        self._cursor.execute(SELECT_USER, {"username": username})
        rows = self._fetchall()
        return user_from_row(rows[0]) if rows else None

    @translated
    def list_all(self) -> list[UserRecord]:
        """Every user, by name."""
        self._cursor.execute(SELECT_USERS)
        return [user_from_row(row) for row in self._fetchall()]

    @translated
    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash; ``RecordNotFoundError`` if there is no such user."""
        self._cursor.execute(
            UPDATE_USER_HASH, {"username": username, "password_hash": password_hash}
        )
        # MySQL counts changed rows, not matched ones: an unchanged hash reports 0.
        if self._cursor.rowcount == 0 and self.find(username) is None:
            raise RecordNotFoundError(f"No user named {username!r}.")

    @translated
    def delete(self, username: str) -> None:
        """Delete a user; ``RecordNotFoundError`` if there is no such user."""
        self._cursor.execute(DELETE_USER, {"username": username})
        if self._cursor.rowcount == 0:
            raise RecordNotFoundError(f"No user named {username!r}.")

    def _fetchall(self) -> list[dict[str, Any]]:
        """The rows of the last query (a dictionary cursor returns dicts)."""
        return cast("list[dict[str, Any]]", self._cursor.fetchall())
