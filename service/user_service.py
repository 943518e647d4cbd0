"""Accounts: create, list, remove, change password, authenticate (HTTP Basic)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from core.exceptions import AuthenticationError, ValidationFailedError
from data.database import Database
from service.passwords import dummy_hash, hash_password, verify_password
from service.rate_limit import RateLimits
from service.transaction import transaction
from service.validation import revalidate

logger = logging.getLogger(__name__)

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserInfo(BaseModel):
    """What may be shown of a user: never the hash."""

    username: str
    created_at: datetime


class _Credentials(BaseModel):
    username: Username
    password: Password


class _Name(BaseModel):
    username: Username


class UserService:
    """User accounts stored with slow salted hashes."""

    def __init__(self, database: Database, limits: RateLimits | None = None) -> None:
        """Accounts in ``database``; ``limits`` slows down failed logins (none: unlimited)."""
        self._database = database
        self._limits = limits

    def close(self) -> None:
        """Release the database connections (for one-shot use from the CLI)."""
        self._database.close()

    def add_user(self, username: str, password: str) -> UserInfo:
        """Create a user; ``ConstraintViolationError`` if the name is taken."""
        creds = revalidate(_Credentials, {"username": username, "password": password})
        password_hash = hash_password(creds.password)
        with transaction(self._database) as db:
            record = db.users.add(creds.username, password_hash)
        logger.info("user added: %s", creds.username)
        return UserInfo(username=record.username, created_at=record.created_at)

    def list_users(self) -> list[UserInfo]:
        """Every user, by name."""
        with transaction(self._database) as db:
            records = db.users.list_all()
        return [UserInfo(username=r.username, created_at=r.created_at) for r in records]

    def remove_user(self, username: str) -> None:
        """Delete a user; ``RecordNotFoundError`` if there is none. Their images stay."""
        name = revalidate(_Name, {"username": username}).username
        with transaction(self._database) as db:
            db.users.delete(name)
        logger.info("user removed: %s", name)

    def change_password(self, username: str, password: str) -> None:
        """Set a new password; ``RecordNotFoundError`` if there is no such user."""
        creds = revalidate(_Credentials, {"username": username, "password": password})
        password_hash = hash_password(creds.password)
        with transaction(self._database) as db:
            db.users.set_password_hash(creds.username, password_hash)

    def authenticate(self, username: str, password: str, *, client: str | None = None) -> str:
        """Return the username when the password is right, else ``AuthenticationError``.

        An unknown or malformed username costs one hash verification too, so the answer
        time does not reveal which usernames exist. With rate limits, a client address
        with too many recent failures, for this username or for all together, gets
        ``RateLimitedError`` before any check, and each failure is counted
        (service/rate_limit.py). Failures from other addresses never refuse this one.
        """
        if self._limits is not None:
            self._limits.check_login(username, client)
        try:
            return self._verify(username, password)
        except AuthenticationError:
            if self._limits is not None:
                self._limits.record_login_failure(username, client)
            raise

    def _verify(self, username: str, password: str) -> str:
        """The username when ``password`` is right; constant cost for unknown names."""
        try:
            creds = revalidate(_Credentials, {"username": username, "password": password})
        except ValidationFailedError:
            verify_password(password, dummy_hash())
            raise AuthenticationError("Invalid credentials.") from None
        with transaction(self._database) as db:
            record = db.users.find(creds.username)
        encoded = record.password_hash if record else dummy_hash()
        if not verify_password(creds.password, encoded) or record is None:
            raise AuthenticationError("Invalid credentials.")
        return record.username
