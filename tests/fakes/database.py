"""In-memory twin of the data layer, for service unit tests.

Real transactional semantics: a unit of work sees the committed rows plus its own
staged changes; ``commit_transaction()`` applies them, rollback (also on leaving the
``with`` block without commit) discards them. It passes the same contract suite as
the SQLite and MySQL backends (tests/integration/test_image_repository_contract.py and
test_user_repository_contract.py). Users are staged the same way as images.

Failure hooks, for the service's error paths:

- ``database.fail_next_commit = True``: the next commit raises ``DBConnectionError``
  and discards the staged changes.
- ``database.fail_next_add = SomeCoreError()``: the next ``images.add`` raises it.
- ``database.available = False``: ``context()`` and ``ping()`` raise
  ``DBConnectionError`` (the database is down).

Counters: ``commits`` (successful commits) and ``open_contexts`` (should be 0 after
every service call: nothing leaks).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.exceptions import (
    ConstraintViolationError,
    DBConnectionError,
    PixyProxyException,
    RecordNotFoundError,
)
from core.models import NewImage, StoredImage, StoredRendition
from core.records import (
    ImageFacts,
    PageQuery,
    RenditionWork,
    StorageRef,
    UserRecord,
    Visibility,
)
from data.database import Database
from data.image_repository import ImageRepository
from data.migrations import Migration, SchemaStatus
from data.unit_of_work import UnitOfWork
from data.user_repository import UserRepository
from tests.fakes.idempotency import InMemoryIdempotencyRepository, InMemoryKeyTable
from tests.fakes.rate_counters import InMemoryRateCounterRepository, InMemoryRateTable


@dataclass(frozen=True)
class UserChange:
    """One staged user write: ``record`` to insert or replace, or ``None`` to delete."""

    username: str
    record: UserRecord | None
    insert: bool = False


def _visible(row: StoredImage, visibility: Visibility) -> bool:
    """Whether ``visibility`` may see ``row`` (an owner of ``None`` sees nothing private)."""
    if not visibility.private:
        return not row.private
    return row.private and row.author is not None and row.author == visibility.owner


def _prompt_has(prompt: str, words: Sequence[str]) -> bool:
    """Whether every word starts some word of ``prompt`` (as the full-text indexes match)."""
    prompt_words = re.findall(r"[^\W_]+", prompt.casefold())
    return all(any(found.startswith(word) for found in prompt_words) for word in words)


class InMemoryDatabase(Database):
    """Committed rows in a dict, shared by the units of work it opens."""

    backend = "memory"

    def __init__(self) -> None:
        """Start empty and available, with no failure armed."""
        self.rows: dict[str, StoredImage] = {}
        self.renditions: dict[tuple[int, str], StoredRendition] = {}
        self.users: dict[str, UserRecord] = {}
        self.idempotency_keys = InMemoryKeyTable()
        self.rate_counters = InMemoryRateTable()
        self.fail_next_commit = False
        self.fail_next_add: PixyProxyException | None = None
        self.available = True
        self.commits = 0
        self.open_contexts = 0
        self._next_id = 1
        self._lock = threading.Lock()

    def context(self) -> InMemoryUnitOfWork:
        """Open a unit of work (``DBConnectionError`` when ``available`` is false)."""
        if not self.available:
            raise DBConnectionError
        with self._lock:
            self.open_contexts += 1
        return InMemoryUnitOfWork(self)

    def ping(self) -> None:
        """Raise ``DBConnectionError`` when ``available`` is false."""
        if not self.available:
            raise DBConnectionError

    def migrate(self) -> list[Migration]:
        """Nothing to migrate: the fake has no schema."""
        return []

    def schema_status(self) -> SchemaStatus:
        """Always up to date."""
        return SchemaStatus(current=1, latest=1, pending=())

    def close(self) -> None:
        """Nothing to release."""

    def next_id(self) -> int:
        """Allocate an id; like AUTO_INCREMENT, ids are never reused, even after rollback."""
        with self._lock:
            self._next_id += 1
            return self._next_id - 1

    def snapshot(self) -> dict[str, StoredImage]:
        """A copy of the committed rows."""
        with self._lock:
            return dict(self.rows)

    def rendition_snapshot(self) -> dict[tuple[int, str], StoredRendition]:
        """A copy of the committed renditions."""
        with self._lock:
            return dict(self.renditions)

    def user_snapshot(self) -> dict[str, UserRecord]:
        """A copy of the committed users."""
        with self._lock:
            return dict(self.users)

    def apply(
        self,
        added: Sequence[StoredImage],
        deleted: Sequence[str],
        user_changes: Sequence[UserChange] = (),
        renditions: Sequence[tuple[int, StoredRendition]] = (),
        facts: Sequence[tuple[int, ImageFacts]] = (),
    ) -> None:
        """Apply staged changes atomically; ``ConstraintViolationError`` on a key clash.

        Renditions of deleted images go with them (as ``ON DELETE CASCADE``); one of an
        image that is gone is a ``ConstraintViolationError`` (a foreign key).
        """
        with self._lock:
            rows = dict(self.rows)
            for guid in deleted:
                rows.pop(guid, None)
            for row in added:
                if row.guid in rows:
                    raise ConstraintViolationError
                rows[row.guid] = row
            by_id = {row.id: guid for guid, row in rows.items()}
            for image_id, update in facts:
                if image_id in by_id:
                    guid = by_id[image_id]
                    rows[guid] = rows[guid].model_copy(update=vars(update))
            kept = {key: value for key, value in self.renditions.items() if key[0] in by_id}
            for image_id, rendition in renditions:
                if image_id not in by_id:
                    raise ConstraintViolationError
                kept[(image_id, rendition.kind)] = rendition
            users = dict(self.users)
            for change in user_changes:
                if change.record is None:
                    users.pop(change.username, None)
                elif change.insert and change.username in users:
                    raise ConstraintViolationError
                elif change.insert or change.username in users:
                    users[change.username] = change.record
            self.rows = rows
            self.renditions = kept
            self.users = users
            self.commits += 1

    def closed_context(self) -> None:
        """Bookkeeping for ``open_contexts``."""
        with self._lock:
            self.open_contexts -= 1


class InMemoryUnitOfWork(UnitOfWork):
    """Staged adds and deletes over a snapshot of the committed rows."""

    def __init__(self, database: InMemoryDatabase) -> None:
        """Bind to ``database``; nothing is staged yet."""
        self.database = database
        self.images = InMemoryImageRepository(self)
        self.users = InMemoryUserRepository(self)
        self.idempotency: InMemoryIdempotencyRepository = InMemoryIdempotencyRepository(
            database.idempotency_keys
        )
        self.rate_counters: InMemoryRateCounterRepository = InMemoryRateCounterRepository(
            database.rate_counters
        )
        self._view: dict[str, StoredImage] | None = None
        self._added: list[StoredImage] = []
        self._deleted: list[str] = []
        self.staged_renditions: list[tuple[int, StoredRendition]] = []
        self.staged_facts: list[tuple[int, ImageFacts]] = []
        self._user_view: dict[str, UserRecord] | None = None
        self._user_changes: list[UserChange] = []
        self._closed = False

    def view(self) -> dict[str, StoredImage]:
        """The rows this unit of work sees: committed (at first use) plus staged."""
        if self._closed:
            raise DBConnectionError("The unit of work is closed.")
        if self._view is None:
            self._view = self.database.snapshot()
        return self._view

    def user_view(self) -> dict[str, UserRecord]:
        """The users this unit of work sees: committed (at first use) plus staged."""
        if self._closed:
            raise DBConnectionError("The unit of work is closed.")
        if self._user_view is None:
            self._user_view = self.database.user_snapshot()
        return self._user_view

    def stage_user(self, change: UserChange) -> None:
        """Stage a user insert, update or delete."""
        view = self.user_view()
        if change.record is None:
            view.pop(change.username, None)
        else:
            view[change.username] = change.record
        self._user_changes.append(change)

    def stage_add(self, row: StoredImage) -> None:
        """Stage an insert."""
        self.view()[row.guid] = row
        self._added.append(row)

    def stage_delete(self, guid: str) -> None:
        """Stage a delete."""
        self.view().pop(guid, None)
        self._added = [row for row in self._added if row.guid != guid]
        self._deleted.append(guid)

    def begin_transaction(self) -> None:
        """Start a transaction (staging starts at first use anyway)."""
        self.view()

    def commit_transaction(self) -> None:
        """Apply the staged changes, or fail as armed by ``fail_next_commit``."""
        added, deleted, user_changes = self._added, self._deleted, self._user_changes
        renditions, facts = self.staged_renditions, self.staged_facts
        key_changes = self.idempotency.take_changes()
        rate_changes = self.rate_counters.take_changes()
        self._reset()
        if self.database.fail_next_commit:
            self.database.fail_next_commit = False
            raise DBConnectionError
        self.database.idempotency_keys.apply(key_changes)  # first: the one that may clash
        self.database.apply(added, deleted, user_changes, renditions, facts)
        self.database.rate_counters.apply(rate_changes)

    def rollback_transaction(self) -> None:
        """Discard the staged changes."""
        self._reset()

    def close(self) -> None:
        """Discard anything staged; idempotent."""
        if not self._closed:
            self._reset()
            self._closed = True
            self.database.closed_context()

    def _reset(self) -> None:
        """Forget the view and the staged changes."""
        self._view = None
        self._added = []
        self._deleted = []
        self.staged_renditions = []
        self.staged_facts = []
        self._user_view = None
        self._user_changes = []
        self.idempotency.discard()
        self.rate_counters.discard()


class InMemoryImageRepository(ImageRepository):
    """The repository port over an ``InMemoryUnitOfWork``'s view."""

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        """Bind to ``uow``."""
        self._uow = uow

    def add(self, image: NewImage) -> StoredImage:
        """Stage a row; ``ConstraintViolationError`` on a duplicate guid."""
        database = self._uow.database
        if database.fail_next_add is not None:
            error, database.fail_next_add = database.fail_next_add, None
            raise error
        if image.guid in self._uow.view():
            raise ConstraintViolationError
        data = image.model_dump()
        row = StoredImage(**data, id=database.next_id(), updated_at=image.created_at)
        self._uow.stage_add(row)
        return row

    def find_by_guid(self, guid: str, visibility: Visibility) -> StoredImage | None:
        """Return the row with ``guid`` if ``visibility`` may see it."""
        row = self._uow.view().get(guid)
        return row if row is not None and _visible(row, visibility) else None

    def find_by_guids(self, guids: Sequence[str], visibility: Visibility) -> dict[str, StoredImage]:
        """The rows among ``guids`` that ``visibility`` may see, by guid."""
        view = self._uow.view()
        return {
            guid: view[guid] for guid in guids if guid in view and _visible(view[guid], visibility)
        }

    def list_page(self, query: PageQuery) -> list[StoredImage]:
        """Rows newest first by ``(created_at, id)``, strictly older than ``query.after``."""
        wanted = {tag.lower() for tag in query.tags}
        after = None
        if query.after is not None:
            created, last_id = query.after
            after = (created if created.tzinfo else created.replace(tzinfo=UTC), last_id)
        rows = [
            row
            for row in self._uow.view().values()
            if _visible(row, query.visibility)
            and (query.author is None or row.author == query.author)
            and wanted.issubset(row.tags)
            and _prompt_has(row.prompt, query.words)
            and (after is None or (row.created_at, row.id) < after)
        ]
        rows.sort(key=lambda row: (row.created_at, row.id), reverse=True)
        return rows[: query.limit]

    def delete(self, guid: str, visibility: Visibility, *, author: str) -> StoredImage:
        """Stage the delete of ``author``'s row; ``RecordNotFoundError`` if none."""
        row = self.find_by_guid(guid, visibility)
        if row is None or row.author != author:
            raise RecordNotFoundError
        self._uow.stage_delete(guid)
        return row

    def count(self) -> int:
        """Number of rows, public and private."""
        return len(self._uow.view())

    def storage_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` some row references."""
        referenced = {row.storage_key for row in self._uow.view().values()}
        referenced |= {r.storage_key for r in self._uow.database.rendition_snapshot().values()}
        return {key for key in keys if key in referenced}

    def list_storage_refs(self, *, after_id: int = 0, limit: int = 500) -> list[StorageRef]:
        """Up to ``limit`` rows with ``id > after_id``, by id."""
        rows = sorted((r for r in self._uow.view().values() if r.id > after_id), key=lambda r: r.id)
        return [StorageRef(row.id, row.guid, row.storage_key) for row in rows[:limit]]

    def find_rendition(self, image_id: int, kind: str) -> StoredRendition | None:
        """The committed or staged rendition ``kind`` of ``image_id``."""
        for staged_id, rendition in reversed(self._uow.staged_renditions):
            if staged_id == image_id and rendition.kind == kind:
                return rendition
        if image_id not in {row.id for row in self._uow.view().values()}:
            return None
        return self._uow.database.rendition_snapshot().get((image_id, kind))

    def save_rendition(self, image_id: int, rendition: StoredRendition) -> None:
        """Stage an insert-or-replace; ``ConstraintViolationError`` if the image is gone."""
        if image_id not in {row.id for row in self._uow.view().values()}:
            raise ConstraintViolationError
        self._uow.staged_renditions.append((image_id, rendition))

    def set_facts(self, image_id: int, facts: ImageFacts) -> None:
        """Stage width, height and BlurHash of an older image."""
        self._uow.staged_facts.append((image_id, facts))

    def list_rendition_work(self, *, after_id: int = 0, limit: int = 100) -> list[RenditionWork]:
        """Rows with ``id > after_id`` by id, with their facts and recorded renditions."""
        renditions = self._uow.database.rendition_snapshot()
        rows = sorted((r for r in self._uow.view().values() if r.id > after_id), key=lambda r: r.id)
        return [
            RenditionWork(
                id=row.id,
                guid=row.guid,
                storage_key=row.storage_key,
                has_facts=row.width is not None,
                kinds=frozenset(kind for (image_id, kind) in renditions if image_id == row.id),
            )
            for row in rows[:limit]
        ]


class InMemoryUserRepository(UserRepository):
    """The user repository port over an ``InMemoryUnitOfWork``'s view (case-sensitive)."""

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        """Bind to ``uow``."""
        self._uow = uow

    def add(self, username: str, password_hash: str) -> UserRecord:
        """Stage a user; ``ConstraintViolationError`` if the name is taken."""
        if username in self._uow.user_view():
            raise ConstraintViolationError
        record = UserRecord(
            id=self._uow.database.next_id(),
            username=username,
            password_hash=password_hash,
            created_at=datetime.now(UTC),
        )
        self._uow.stage_user(UserChange(username, record, insert=True))
        return record

    def find(self, username: str) -> UserRecord | None:
        """The user called ``username``, or ``None``."""
        return self._uow.user_view().get(username)

    def list_all(self) -> list[UserRecord]:
        """Every user, by name (code-point order, as the binary collations sort)."""
        return sorted(self._uow.user_view().values(), key=lambda record: record.username)

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Stage a new hash; ``RecordNotFoundError`` if there is no such user."""
        record = self.get(username)
        changed = record.model_copy(update={"password_hash": password_hash})
        self._uow.stage_user(UserChange(username, changed))

    def delete(self, username: str) -> None:
        """Stage the delete; ``RecordNotFoundError`` if there is no such user."""
        self.get(username)
        self._uow.stage_user(UserChange(username, None))
