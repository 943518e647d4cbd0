"""In-memory twin of the idempotency-key table, used by ``tests/fakes/database.py``.

Same staging as the fake's images: a unit of work sees the committed rows plus its own
changes; commit applies them under a lock (a duplicate ``(scope, caller, key)`` at that
moment is a ``ConstraintViolationError``, as a unique index would make it); rollback
discards them. It passes the same contract suite as the SQLite and MySQL repositories.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.exceptions import ConstraintViolationError
from core.records import COMPLETED, PENDING, IdempotencyRecord, NewIdempotencyKey
from data.idempotency_repository import IdempotencyRepository


@dataclass(frozen=True)
class KeyChange:
    """One staged write: ``record`` to insert or replace, or ``None`` to delete ``id``."""

    id: int
    record: IdempotencyRecord | None
    insert: bool = False


class InMemoryKeyTable:
    """The committed idempotency keys of one ``InMemoryDatabase``."""

    def __init__(self) -> None:
        self.rows: dict[int, IdempotencyRecord] = {}
        self._lock = threading.Lock()
        self._next_id = 1

    def snapshot(self) -> dict[int, IdempotencyRecord]:
        """A copy of the committed rows."""
        with self._lock:
            return dict(self.rows)

    def next_id(self) -> int:
        """Allocate an id (never reused)."""
        with self._lock:
            self._next_id += 1
            return self._next_id - 1

    def apply(self, changes: Sequence[KeyChange]) -> None:
        """Apply staged changes atomically; ``ConstraintViolationError`` on a clash."""
        if not changes:
            return
        with self._lock:
            rows = dict(self.rows)
            for change in changes:
                if change.record is None:
                    rows.pop(change.id, None)
                    continue
                new = change.record
                if change.insert and any(
                    (r.scope, r.caller, r.key) == (new.scope, new.caller, new.key)
                    for r in rows.values()
                ):
                    raise ConstraintViolationError
                if not change.insert and change.id not in rows:
                    raise ConstraintViolationError  # updated a row another commit deleted
                rows[change.id] = new
            self.rows = rows


class InMemoryIdempotencyRepository(IdempotencyRepository):
    """The idempotency port over a key table, with staged changes."""

    def __init__(self, table: InMemoryKeyTable) -> None:
        self._table = table
        self._view: dict[int, IdempotencyRecord] | None = None
        self._changes: list[KeyChange] = []

    def take_changes(self) -> list[KeyChange]:
        """Hand the staged changes to the commit and forget them."""
        changes = self._changes
        self.discard()
        return changes

    def discard(self) -> None:
        """Forget the view and the staged changes (rollback)."""
        self._view = None
        self._changes = []

    def _rows(self) -> dict[int, IdempotencyRecord]:
        if self._view is None:
            self._view = self._table.snapshot()
        return self._view

    def _stage(self, change: KeyChange) -> None:
        if change.record is None:
            self._rows().pop(change.id, None)
        else:
            self._rows()[change.id] = change.record
        self._changes.append(change)

    def add(self, new: NewIdempotencyKey) -> IdempotencyRecord:
        """Stage a pending row; ``ConstraintViolationError`` if the key is taken."""
        if self.find(new.scope, new.caller, new.key) is not None:
            raise ConstraintViolationError
        fields = {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}
        record = IdempotencyRecord(
            id=self._table.next_id(), status=PENDING, image_guid=None, **fields
        )
        self._stage(KeyChange(record.id, record, insert=True))
        return record

    def find(self, scope: str, caller: str, key: str) -> IdempotencyRecord | None:
        """The row of ``(scope, caller, key)``, or ``None``."""
        for record in self._rows().values():
            if (record.scope, record.caller, record.key) == (scope, caller, key):
                return record
        return None

    def complete(self, record_id: int, *, image_guid: str, expires_at: datetime) -> bool:
        """Stage pending → completed; ``False`` if no pending row has ``record_id``."""
        record = self._rows().get(record_id)
        if record is None or record.status != PENDING:
            return False
        done = dataclasses.replace(
            record, status=COMPLETED, image_guid=image_guid, expires_at=expires_at
        )
        self._stage(KeyChange(record_id, done))
        return True

    def release(self, record_id: int) -> bool:
        """Stage the delete of a pending row."""
        record = self._rows().get(record_id)
        if record is None or record.status != PENDING:
            return False
        self._stage(KeyChange(record_id, None))
        return True

    def delete_expired(self, record_id: int, now: datetime) -> bool:
        """Stage the delete of a row that expired before ``now``."""
        record = self._rows().get(record_id)
        if record is None or record.expires_at >= now:
            return False
        self._stage(KeyChange(record_id, None))
        return True

    def purge_expired(self, now: datetime, *, limit: int = 1000) -> int:
        """Stage the delete of up to ``limit`` expired rows."""
        expired = sorted(
            (r for r in self._rows().values() if r.expires_at < now), key=lambda r: r.expires_at
        )[:limit]
        for record in expired:
            self._stage(KeyChange(record.id, None))
        return len(expired)
