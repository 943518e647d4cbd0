"""The blob store port. Keys are immutable: ``images/<guid>.<ext>``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

# Chosen by measurement (bench/README.md, "Content delivery"): each chunk costs a thread
# hop and an ASGI send, so 64 KiB chunks spent more CPU on handing over than on moving
# bytes. 512 KiB sends a typical bench image (256 KiB) as one plain response and keeps
# 8 clients streaming 64 MiB each at +29 MiB of server RSS (1 MiB: +46 MiB).
CHUNK_SIZE = 512 * 1024


@dataclass(frozen=True)
class BlobInfo:
    """What the store knows of one blob."""

    key: str
    size: int
    last_modified: datetime


class BlobStream(Iterator[bytes]):
    """Chunks of a blob; ``close()`` releases the underlying body early."""

    def __init__(self, chunks: Iterator[bytes], closer: object | None = None) -> None:
        self._chunks = chunks
        self._closer = closer

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        """Release the underlying file or HTTP body; safe to call twice."""
        for target in (self._chunks, self._closer):
            close = getattr(target, "close", None)
            if callable(close):
                close()


class BlobStore(ABC):
    """Immutable image bytes by key."""

    backend: str

    @abstractmethod
    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key`` (whole or not at all)."""

    @abstractmethod
    def open(self, key: str, *, start: int | None = None, end: int | None = None) -> BlobStream:
        """Stream the blob in chunks of about ``CHUNK_SIZE``, optionally bytes ``start``..``end``
        inclusive; raise ``BlobNotFoundError`` if the key has no blob."""

    @abstractmethod
    def stat(self, key: str) -> BlobInfo:
        """Return size and time of a blob; raise ``BlobNotFoundError`` if missing."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the blob; a missing key is not an error."""

    @abstractmethod
    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield every blob under ``prefix``, page by page."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``BlobStoreUnavailableError`` unless the store answers."""

    def presigned_url(self, key: str, *, expires: int) -> str | None:
        """A short-lived URL a client may GET directly, or ``None`` if unsupported."""
        return None

    def close(self) -> None:  # noqa: B027 - a no-op unless the store holds clients
        """Release the store's clients and connections (nothing by default)."""
