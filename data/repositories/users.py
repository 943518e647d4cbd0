"""``SQLUserRepository``: user rows, for both dialects (data/README.md, "Users")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.exceptions import RecordNotFoundError
from core.records import UserRecord
from data.dialect import Row, Session
from data.user_repository import UserRepository

INSERT_USER = (
    "INSERT INTO users (username, password_hash, created_at)"
    " VALUES (:username, :password_hash, :created_at)"
)
SELECT_USER = "SELECT id, username, password_hash, created_at FROM users WHERE username = :username"
SELECT_USERS = "SELECT id, username, password_hash, created_at FROM users ORDER BY username"
UPDATE_USER_HASH = "UPDATE users SET password_hash = :password_hash WHERE username = :username"
DELETE_USER = "DELETE FROM users WHERE username = :username"


class SQLUserRepository(UserRepository):
    """User rows on the session of one unit of work (MySQL/MariaDB or SQLite)."""

    def __init__(self, session: Session) -> None:
        """Bind to ``session``; the unit of work owns the transaction."""
        self._db = session

    def _record(self, row: Row) -> UserRecord:
        """A row of ``SELECT_USER`` → UserRecord (``created_at`` aware UTC)."""
        return UserRecord(**{**row, "created_at": self._db.dialect.from_db_time(row["created_at"])})

    def add(self, username: str, password_hash: str) -> UserRecord:
        """Insert a user; ``ConstraintViolationError`` if the name is taken."""
        params: dict[str, Any] = {
            "username": username,
            "password_hash": password_hash,
            "created_at": self._db.dialect.to_db_time(datetime.now(UTC)),
        }
        return self._record({**params, "id": self._db.insert(INSERT_USER, params)})

    def find(self, username: str) -> UserRecord | None:
        """The user called ``username`` (case-sensitive), or ``None``."""
        rows = self._db.rows(SELECT_USER, {"username": username})
        return self._record(rows[0]) if rows else None

    def list_all(self) -> list[UserRecord]:
        """Every user, by name."""
        return [self._record(row) for row in self._db.rows(SELECT_USERS)]

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash; ``RecordNotFoundError`` if there is no such user."""
        changed = self._db.run(
            UPDATE_USER_HASH, {"username": username, "password_hash": password_hash}
        )
        # MySQL counts changed rows, not matched ones: an unchanged hash reports 0.
        if changed == 0 and self.find(username) is None:
            raise RecordNotFoundError(f"No user named {username!r}.")

    def delete(self, username: str) -> None:
        """Delete a user; ``RecordNotFoundError`` if there is no such user."""
        if self._db.run(DELETE_USER, {"username": username}) == 0:
            raise RecordNotFoundError(f"No user named {username!r}.")
