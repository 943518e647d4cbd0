"""The user repository port: accounts for HTTP Basic authentication."""

from __future__ import annotations

from abc import ABC, abstractmethod

from core.exceptions import RecordNotFoundError
from core.records import UserRecord


class UserRepository(ABC):
    """User rows. Never commits: the service's unit of work does."""

    @abstractmethod
    def add(self, username: str, password_hash: str) -> UserRecord:
        """Insert a user; ``ConstraintViolationError`` if the name is taken."""

    @abstractmethod
    def find(self, username: str) -> UserRecord | None:
        """The user called ``username``, or ``None``."""

    def get(self, username: str) -> UserRecord:
        """The user called ``username``, or ``RecordNotFoundError``."""
        found = self.find(username)
        if found is None:
            raise RecordNotFoundError(f"No user named {username!r}.")
        return found

    @abstractmethod
    def list_all(self) -> list[UserRecord]:
        """Every user, by name."""

    @abstractmethod
    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash; ``RecordNotFoundError`` if there is no such user."""

    @abstractmethod
    def delete(self, username: str) -> None:
        """Delete a user; ``RecordNotFoundError`` if there is no such user."""
