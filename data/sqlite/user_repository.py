"""``SQLiteUserRepository``: the embedded twin of ``MySQLUserRepository``.

Same queries in SQLite's dialect (named parameters ``:username``), same behaviour,
checked by the same contract tests. ``created_at`` is fixed-width UTC text; text
compares binary, so lookups are case-sensitive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.exceptions import RecordNotFoundError
from data.sqlite.errors import translated
from data.sqlite.repository import TIME_FORMAT, time_text
from data.user_repository import UserRecord, UserRepository

INSERT_USER = (
    "INSERT INTO users (username, password_hash, created_at)"
    " VALUES (:username, :password_hash, :created_at)"
)
SELECT_USER = "SELECT id, username, password_hash, created_at FROM users WHERE username = :username"
SELECT_USERS = "SELECT id, username, password_hash, created_at FROM users ORDER BY username"
UPDATE_USER_HASH = "UPDATE users SET password_hash = :password_hash WHERE username = :username"
DELETE_USER = "DELETE FROM users WHERE username = :username"


def user_from_row(row: Mapping[str, Any]) -> UserRecord:
    """A row of ``SELECT_USER`` → UserRecord (``created_at`` text → aware UTC)."""
    return UserRecord(
        id=int(row["id"]),
        username=str(row["username"]),
        password_hash=str(row["password_hash"]),
        created_at=datetime.strptime(row["created_at"], TIME_FORMAT).replace(tzinfo=UTC),
    )


class SQLiteUserRepository(UserRepository):
    """User rows in the embedded SQLite file, on the connection of one ``SQLiteContext``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Bind to ``connection`` (rows as ``sqlite3.Row``); the context owns the transaction."""
        self._connection = connection

    @translated
    def add(self, username: str, password_hash: str) -> UserRecord:
        """Insert a user; ``ConstraintViolationError`` if the name is taken."""
        params: dict[str, Any] = {
            "username": username,
            "password_hash": password_hash,
            "created_at": time_text(datetime.now(UTC)),
        }
        cursor = self._connection.execute(INSERT_USER, params)
        return user_from_row({**params, "id": cursor.lastrowid})

    @translated
    def find(self, username: str) -> UserRecord | None:
        """The user called ``username`` (case-sensitive), or ``None``."""
        row = self._connection.execute(SELECT_USER, {"username": username}).fetchone()
        return user_from_row(row) if row is not None else None

    @translated
    def list_all(self) -> list[UserRecord]:
        """Every user, by name."""
        return [user_from_row(row) for row in self._connection.execute(SELECT_USERS)]

    @translated
    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash; ``RecordNotFoundError`` if there is no such user."""
        params = {"username": username, "password_hash": password_hash}
        if self._connection.execute(UPDATE_USER_HASH, params).rowcount == 0:
            raise RecordNotFoundError(f"No user named {username!r}.")

    @translated
    def delete(self, username: str) -> None:
        """Delete a user; ``RecordNotFoundError`` if there is no such user."""
        if self._connection.execute(DELETE_USER, {"username": username}).rowcount == 0:
            raise RecordNotFoundError(f"No user named {username!r}.")
