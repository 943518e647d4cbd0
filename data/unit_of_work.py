"""The unit-of-work port: the seed's ``DatabaseContext`` shape (data/README.md, "Units of work")."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

from data.idempotency_repository import IdempotencyRepository
from data.image_repository import ImageRepository
from data.rate_counter_repository import RateCounterRepository
from data.user_repository import UserRepository


class UnitOfWork(ABC):
    """One connection, one transaction at a time, and the repositories bound to it."""

    images: ImageRepository
    idempotency: IdempotencyRepository
    users: UserRepository
    rate_counters: RateCounterRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.rollback_transaction()
        finally:
            self.close()

    @abstractmethod
    def begin_transaction(self) -> None:
        """Start a transaction."""

    @abstractmethod
    def commit_transaction(self) -> None:
        """Commit; raise ``DBConnectionError`` / ``ConstraintViolationError`` on failure."""

    @abstractmethod
    def rollback_transaction(self) -> None:
        """Roll back whatever is uncommitted (a no-op when nothing is)."""

    @abstractmethod
    def close(self) -> None:
        """Give the connection back (to its pool)."""
