"""The image repository port: the verbs the service needs, models in and out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from core.exceptions import RecordNotFoundError
from core.models import NewImage, StoredImage, StoredRendition
from core.records import ImageFacts, PageQuery, RenditionWork, StorageRef, Visibility


class ImageRepository(ABC):
    """Image rows. Never commits: the service's ``DatabaseContext`` does."""

    @abstractmethod
    def add(self, image: NewImage) -> StoredImage:
        """Insert a row with its tags; raise ``ConstraintViolationError`` on a duplicate guid."""

    @abstractmethod
    def find_by_guid(self, guid: str, visibility: Visibility) -> StoredImage | None:
        """Return the row with ``guid`` if ``visibility`` may see it, else ``None``."""

    @abstractmethod
    def find_by_guids(self, guids: Sequence[str], visibility: Visibility) -> dict[str, StoredImage]:
        """The rows among ``guids`` that ``visibility`` may see, by guid; the rest are absent."""

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
        """Insert or replace a rendition; ``ConstraintViolationError`` if the image is gone."""

    @abstractmethod
    def set_facts(self, image_id: int, facts: ImageFacts) -> None:
        """Record width, height and BlurHash of an older image (a no-op if it is gone)."""

    @abstractmethod
    def list_rendition_work(self, *, after_id: int = 0, limit: int = 100) -> list[RenditionWork]:
        """Up to ``limit`` rows with ``id > after_id``, by id, with what they already have."""
