"""``ImageSource``: one image's row, read once, and the blob calls that deliver its bytes.

A ``/content`` request needs the row before it knows what to send (a conditional request
may end in ``304`` from the ETag alone; ``If-Range`` may turn a range into the whole
blob). Reading the row once and opening the blob afterwards keeps every request at one
unit of work, whatever headers it carries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.exceptions import BlobNotFoundError, RangeNotSatisfiableError
from core.models import ImageContent, ImageDetail, RangeRequest, StoredImage
from storage.blob_store import BlobStore, BlobStream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageSource:
    """A visible image's row (already read, its transaction over) and its blob store."""

    stored: StoredImage
    blobs: BlobStore

    @property
    def detail(self) -> ImageDetail:
        """The public view of the row (for ETag, headers, conditional requests)."""
        return self.stored.to_detail()

    def open(
        self, byte_range: RangeRequest | None = None, *, include_body: bool = True
    ) -> ImageContent:
        """Details plus a chunk stream of the blob (or of one byte range).

        ``RangeNotSatisfiableError`` for a range outside the blob; ``BlobNotFoundError``
        when the blob is missing. With ``include_body=False`` (HEAD) the blob is only
        stat-ed, so a missing blob fails the same way, and nothing is opened.
        """
        stored = self.stored
        resolved = None
        if byte_range is not None:
            resolved = byte_range.resolve(stored.size_bytes)
            if resolved is None:
                raise RangeNotSatisfiableError(stored.size_bytes)
        chunks: BlobStream = BlobStream(iter(()))
        try:
            if include_body:
                chunks = self.blobs.open(
                    stored.storage_key,
                    start=resolved.start if resolved else None,
                    end=resolved.end if resolved else None,
                )
            else:  # HEAD: a stat, so it fails exactly as the GET would
                self.blobs.stat(stored.storage_key)
        except BlobNotFoundError:
            logger.error("inconsistency: row %s has no blob %s", stored.guid, stored.storage_key)
            raise
        # The row was validated once, as it left the repository; no second validation.
        fields = {name: getattr(stored, name) for name in ImageDetail.model_fields}
        return ImageContent.model_construct(**fields, chunks=chunks, byte_range=resolved)
