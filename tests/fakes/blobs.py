"""An in-memory ``BlobStore`` for unit tests, with switches that make it fail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from core.exceptions import BlobNotFoundError, BlobStoreUnavailableError, RangeNotSatisfiableError
from storage.blob_store import CHUNK_SIZE, BlobInfo, BlobStore, BlobStream


@dataclass(frozen=True)
class StoredBlob:
    """One blob as the fake keeps it."""

    data: bytes
    content_type: str
    last_modified: datetime


class InMemoryBlobStore(BlobStore):
    """Blobs in a dict.

    ``unavailable`` makes every call raise ``BlobStoreUnavailableError``; ``fail_puts``
    and ``fail_deletes`` make only those calls raise it (nothing is stored or removed).
    """

    backend = "memory"

    def __init__(self) -> None:
        self.blobs: dict[str, StoredBlob] = {}
        self.unavailable = False
        self.fail_puts = False
        self.fail_deletes = False

    def _check(self, failing: bool = False) -> None:
        if self.unavailable or failing:
            raise BlobStoreUnavailableError()

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store a copy of ``data``."""
        self._check(self.fail_puts)
        self.blobs[key] = StoredBlob(bytes(data), content_type, datetime.now(UTC))

    def open(self, key: str, *, start: int | None = None, end: int | None = None) -> BlobStream:
        """Stream the blob (or bytes ``start``..``end`` inclusive) in ``CHUNK_SIZE`` chunks."""
        self._check()
        if (start is not None and start < 0) or (end is not None and end < (start or 0)):
            raise ValueError(f"invalid byte range {start}-{end}")
        data = self._get(key).data
        first = start or 0
        if first >= len(data) and (first > 0 or end is not None):
            raise RangeNotSatisfiableError(len(data))
        last = len(data) - 1 if end is None else min(end, len(data) - 1)
        view = data[first : last + 1]
        return BlobStream(iter([view[i : i + CHUNK_SIZE] for i in range(0, len(view), CHUNK_SIZE)]))

    def stat(self, key: str) -> BlobInfo:
        """Size and time of the stored blob."""
        self._check()
        blob = self._get(key)
        return BlobInfo(key=key, size=len(blob.data), last_modified=blob.last_modified)

    def delete(self, key: str) -> None:
        """Forget the blob; a missing key is fine."""
        self._check(self.fail_deletes)
        self.blobs.pop(key, None)

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield the blobs under ``prefix`` in key order."""
        self._check()
        for key in sorted(k for k in self.blobs if k.startswith(prefix)):
            blob = self.blobs[key]
            yield BlobInfo(key=key, size=len(blob.data), last_modified=blob.last_modified)

    def ping(self) -> None:
        """Answer unless ``unavailable`` is set."""
        self._check()

    def _get(self, key: str) -> StoredBlob:
        try:
            return self.blobs[key]
        except KeyError:
            raise BlobNotFoundError() from None
