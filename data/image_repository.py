"""The image repository port: the verbs the service needs, models in and out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.exceptions import RecordNotFoundError
from core.models import NewImage, StoredImage, StoredRendition


@dataclass(frozen=True)
class Visibility:
    """Which rows a query may see.

    ``private=False``: public rows only. ``private=True``: the private rows of ``owner``.
    """

    private: bool = False
    owner: str | None = None


@dataclass(frozen=True)
class PageQuery:
    """A keyset page request: rows strictly older than ``after`` (newest first)."""

    visibility: Visibility = field(default_factory=Visibility)
    limit: int = 50
    after: tuple[datetime, int] | None = None  # (created_at, id) of the last row seen
    tags: Sequence[str] = ()
    author: str | None = None
    # Search: every word must start a word of the prompt (lower-case letters and digits,
    # at least 3 of them, no stop words: service/search.py). Backed by the full-text index.
    words: Sequence[str] = ()


@dataclass(frozen=True)
class StorageRef:
    """Which blob a row references (for reconciliation)."""

    id: int
    guid: str
    storage_key: str


@dataclass(frozen=True)
class ImageFactsUpdate:
    """Width, height and BlurHash of an image stored before they were recorded."""

    width: int
    height: int
    blurhash: str


@dataclass(frozen=True)
class RenditionWork:
    """One row as the renditions backfill sees it."""

    id: int
    guid: str
    storage_key: str
    has_facts: bool  # width, height and blurhash are recorded
    kinds: frozenset[str]  # renditions recorded


class ImageRepository(ABC):
    """Image rows. Never commits: the service's ``DatabaseContext`` does."""

    @abstractmethod
    def add(self, image: NewImage) -> StoredImage:
        """Insert a row with its tags; raise ``ConstraintViolationError`` on a duplicate guid."""

    @abstractmethod
    def find_by_guid(self, guid: str, visibility: Visibility) -> StoredImage | None:
        """Return the row with ``guid`` if ``visibility`` may see it, else ``None``."""

    def get_by_guid(self, guid: str, visibility: Visibility) -> StoredImage:
        """Return the row with ``guid`` or raise ``RecordNotFoundError``."""
        found = self.find_by_guid(guid, visibility)
        if found is None:
            raise RecordNotFoundError
        return found

    @abstractmethod
    def list_page(self, query: PageQuery) -> list[StoredImage]:
        """Return up to ``query.limit`` rows, newest first by ``(created_at, id)``."""

    @abstractmethod
    def delete(self, guid: str, visibility: Visibility, *, author: str) -> StoredImage:
        """Delete ``author``'s row with ``guid``; raise ``RecordNotFoundError`` if none."""

    @abstractmethod
    def count(self) -> int:
        """Number of image rows, public and private."""

    @abstractmethod
    def storage_keys(self, keys: Sequence[str]) -> set[str]:
        """Return which of ``keys`` some row references (for reconciliation)."""

    @abstractmethod
    def list_storage_refs(self, *, after_id: int = 0, limit: int = 500) -> list[StorageRef]:
        """Up to ``limit`` rows (public and private) with ``id > after_id``, by id."""

    @abstractmethod
    def find_rendition(self, image_id: int, kind: str) -> StoredRendition | None:
        """The row of rendition ``kind`` of image ``image_id``, or ``None``."""

    @abstractmethod
    def save_rendition(self, image_id: int, rendition: StoredRendition) -> None:
        """Insert or replace rendition ``rendition.kind`` of image ``image_id``.

        ``ConstraintViolationError`` when the image row is gone (deleted meanwhile).
        """

    @abstractmethod
    def set_facts(self, image_id: int, facts: ImageFactsUpdate) -> None:
        """Record width, height and BlurHash of an older image (a no-op if it is gone)."""

    @abstractmethod
    def list_rendition_work(self, *, after_id: int = 0, limit: int = 100) -> list[RenditionWork]:
        """Up to ``limit`` rows with ``id > after_id``, by id, with what they already have."""
