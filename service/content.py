"""``ImageSource``: one image's row, read once, and the blob calls that deliver its bytes.

A ``/content`` request needs the row before it knows what to send (a conditional request
may end in ``304`` from the ETag alone; ``If-Range`` may turn a range into the whole
blob). Reading the row once and opening the blob afterwards keeps every request at one
unit of work, whatever headers it carries. A rendition (``/thumbnail``, ``/preview``)
is the same with the rendition's row: its type, size, hash and blob key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.exceptions import BlobNotFoundError, RangeNotSatisfiableError
from core.models import ImageContent, ImageDetail, RangeRequest, StoredImage, StoredRendition
from service.imaging import RenditionKind
from service.renditions import Renditions, content_detail
from storage.blob_store import BlobStore, BlobStream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageSource:
    """A visible image's row (already read, its transaction over) and its blob store.

    With ``rendition``, the source is that rendition of the image; ``renditions`` makes
    it again should its blob have gone missing.
    """

    stored: StoredImage
    blobs: BlobStore
    rendition: StoredRendition | None = None
    renditions: Renditions | None = None

    @property
    def detail(self) -> ImageDetail:
        """The public view of what is served (for ETag, headers, conditional requests)."""
        return content_detail(self.stored, self.rendition)

    @property
    def storage_key(self) -> str:
        """The blob key of what is served."""
        return self.rendition.storage_key if self.rendition else self.stored.storage_key

    def open(
        self, byte_range: RangeRequest | None = None, *, include_body: bool = True
    ) -> ImageContent:
        """Details plus a chunk stream of the blob (or of one byte range).

        ``RangeNotSatisfiableError`` for a range outside the blob; ``BlobNotFoundError``
        when the blob is missing. With ``include_body=False`` (HEAD) the blob is only
        stat-ed, so a missing blob fails the same way, and nothing is opened. A
        rendition whose blob is missing is made again first.
        """
        try:
            return self._open(byte_range, include_body=include_body)
        except BlobNotFoundError:
            if self.rendition is None or self.renditions is None:
                logger.error(
                    "inconsistency: row %s has no blob %s", self.stored.guid, self.storage_key
                )
                raise
            logger.warning("rendition blob %s is missing; making it again", self.storage_key)
            kind = RenditionKind(self.rendition.kind)
            remade = self.renditions.remake(self.stored)[kind]
            again = ImageSource(self.stored, self.blobs, remade, None)
            return again._open(byte_range, include_body=include_body)

    def _open(self, byte_range: RangeRequest | None, *, include_body: bool) -> ImageContent:
        """Stat (HEAD) or open the blob, for the whole of it or one byte range."""
        detail = self.detail
        resolved = None
        if byte_range is not None:
            resolved = byte_range.resolve(detail.size_bytes)
            if resolved is None:
                raise RangeNotSatisfiableError(detail.size_bytes)
        chunks: BlobStream = BlobStream(iter(()))
        if include_body:
            start, end = (resolved.start, resolved.end) if resolved else (None, None)
            chunks = self.blobs.open(self.storage_key, start=start, end=end)
        else:  # HEAD: a stat, so it fails exactly as the GET would
            self.blobs.stat(self.storage_key)
        # The row was validated once, as it left the repository; no second validation.
        fields = {name: getattr(detail, name) for name in ImageDetail.model_fields}
        return ImageContent.model_construct(**fields, chunks=chunks, byte_range=resolved)
