"""The idempotency-key port: the rows behind ``Idempotency-Key`` (service/idempotency.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from core.records import IdempotencyRecord, NewIdempotencyKey


class IdempotencyRepository(ABC):
    """Idempotency keys. Never commits: the service's unit of work does."""

    @abstractmethod
    def add(self, new: NewIdempotencyKey) -> IdempotencyRecord:
        """Insert a pending row; ``ConstraintViolationError`` if the key is taken."""

    @abstractmethod
    def find(self, scope: str, caller: str, key: str) -> IdempotencyRecord | None:
        """The row of ``(scope, caller, key)``, or ``None``."""

    @abstractmethod
    def complete(self, record_id: int, *, image_guid: str, expires_at: datetime) -> bool:
        """Mark a pending row completed; ``False`` if no pending row has ``record_id``."""

    @abstractmethod
    def release(self, record_id: int) -> bool:
        """Delete the row ``record_id`` if it is still pending; ``True`` if one went."""

    @abstractmethod
    def delete_expired(self, record_id: int, now: datetime) -> bool:
        """Delete the row ``record_id`` if it expired before ``now``; ``True`` if one went."""

    @abstractmethod
    def purge_expired(self, now: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` rows that expired before ``now``; return how many."""
