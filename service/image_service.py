"""``ImageService``: the one service core behind the public and private scopes.

It is the only place that knows more than one backend at a time and the only place
that orders work across the database and the blob store (CONTRACT.md §5):

* create: generate → upload blob → insert row → commit; if the insert or the commit
  fails, the blob is deleted before the error is raised;
* delete: delete row → commit → delete blob (a crash in between leaves an orphan blob,
  which ``pixyproxy reconcile`` removes; never a row without its blob).

Renditions (``service/renditions.py``) are made after the create's commit and deleted
with the original; a rendition still missing is made on its first request.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import List  # noqa: UP035 - the request's signature

from core.exceptions import (
    AuthenticationError,
    DBConnectionError,
    GeneratorUnavailableError,
    PixyProxyException,
    RecordNotFoundError,
)
from core.media import sniff_media_type
from core.models import (
    MAX_PAGE_SIZE,
    ComponentStatus,
    ImageContent,
    ImageDetail,
    ImageDetailCreate,
    ImageListQuery,
    ImagePage,
    ImageQuality,
    ImageSize,
    NewImage,
    RangeRequest,
    ServiceStatus,
    slugify,
)
from core.records import PageQuery, Visibility
from data.database import Database
from service.content import ImageSource
from service.generation.generator import GenerationOptions, ImageGenerator
from service.idempotency import IdempotencyKeys, IdempotentRequest, OnInsert
from service.image_service_interface import ImageServiceInterface
from service.imaging import RenditionKind, UnreadableImageError, inspect_image
from service.metrics import observed_generation, record_compensating_delete
from service.pagination import decode_cursor, encode_cursor
from service.public_rows import PublicRows
from service.renditions import Renditions, image_keys
from service.search import search_words
from service.transaction import transaction
from service.validation import parse_guid, revalidate
from storage.blob_store import BlobStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backends:
    """The three backends and the few settings the service itself needs."""

    database: Database
    blobs: BlobStore
    generator: ImageGenerator
    content_redirect: bool = False
    presign_expires: int = 300
    idempotency_ttl: float = 86400.0  # seconds a completed Idempotency-Key is remembered
    idempotency_wait: float = 10.0  # seconds a repeat polls a key that is still pending
    default_size: ImageSize = "1024x1024"  # OPENAI_IMAGE_SIZE
    default_quality: ImageQuality = "auto"  # OPENAI_IMAGE_QUALITY
    renditions: Renditions | None = None  # None: made inline, right after each commit
    public_rows: PublicRows = field(default_factory=PublicRows)  # /content's recent rows


class ImageService(ImageServiceInterface):
    """Images seen through one ``Visibility``, acting as ``author`` (``None``: anonymous)."""

    def __init__(self, backends: Backends, visibility: Visibility, author: str | None) -> None:
        self._backends = backends
        self._visibility = visibility
        self._author = author
        self._renditions = backends.renditions or Renditions(
            backends.database, backends.blobs, workers=0
        )

    @property
    def visibility(self) -> Visibility:
        """Which rows this scope sees (scopes with equal visibility read the same rows)."""
        return self._visibility

    # -- create -----------------------------------------------------------------------

    def create_image(
        self, image_create: ImageDetailCreate, *, idempotency_key: str | None = None
    ) -> ImageDetail:
        """Generate, upload, insert and commit; on failure leave neither row nor blob.

        With ``idempotency_key`` (service/idempotency.py), a repeat of a completed request
        with the same body returns the same image without generating again; another body
        is ``IdempotencyConflictError``, a still-running twin ``IdempotencyInProgressError``.
        """
        request = revalidate(ImageDetailCreate, image_create)
        if idempotency_key is None:
            return self._create(request)
        keyed = IdempotentRequest.of(
            scope="private" if self._visibility.private else "public",
            caller=self._author,
            key=idempotency_key,
            body=request,
        )
        keys = IdempotencyKeys(
            self._backends.database,
            ttl=self._backends.idempotency_ttl,
            wait=self._backends.idempotency_wait,
        )
        return keys.run(keyed, lambda on_insert: self._create(request, on_insert), self._replay)

    def _replay(self, guid: str) -> ImageDetail:
        """The image an earlier request with the same Idempotency-Key created."""
        try:
            return self.get_image_by_guid(guid)
        except RecordNotFoundError:
            raise RecordNotFoundError(
                "The image created with this Idempotency-Key no longer exists."
            ) from None

    def _create(self, request: ImageDetailCreate, on_insert: OnInsert | None = None) -> ImageDetail:
        """The creation itself; ``on_insert`` runs inside the insert's transaction."""
        with observed_generation():
            self._admit_creation()
            options = GenerationOptions(
                size=request.size or self._backends.default_size,
                quality=request.quality or self._backends.default_quality,
            )
            # Generation runs outside the transaction: it may take a minute, and a pooled
            # connection should not wait on it.
            generated = self._backends.generator.generate(request.prompt, options)
            data = generated.data
            media = sniff_media_type(data)
            unusable = GeneratorUnavailableError("The image generator returned no usable image.")
            if media is None:
                raise unusable
            try:
                facts = inspect_image(data)
            except UnreadableImageError:
                raise unusable from None
        guid = str(uuid.uuid4())
        new_image = NewImage(
            guid=guid,
            prompt=request.prompt,
            tags=request.tags,
            filename=f"{slugify(request.prompt)}-{guid[:8]}.{media.extension}",
            author=self._author,
            private=self._visibility.private,
            content_type=media.content_type,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=f"images/{guid}.{media.extension}",
            created_at=datetime.now(UTC),
            model=generated.model,
            size=options.size,
            quality=options.quality,
            revised_prompt=generated.revised_prompt,
            usage=generated.usage,
            width=facts.width,
            height=facts.height,
            blurhash=facts.blurhash,
        )
        self._backends.blobs.put(new_image.storage_key, data, content_type=media.content_type)
        try:
            with transaction(self._backends.database) as db:
                stored = db.images.add(new_image)
                if on_insert is not None:
                    on_insert(db, guid)
        except BaseException:
            record_compensating_delete(deleted=self._discard_blob(new_image.storage_key))
            raise
        logger.info("image created guid=%s size=%d", guid, len(data))
        self._renditions.after_commit(stored.id, guid, data)
        return stored.to_detail()

    def _admit_creation(self) -> None:
        """Called before each generation; a scope may refuse it (the public rate limit)."""

    def _discard_blob(self, key: str) -> bool:
        """Delete a blob whose row is gone or did not commit; ``False`` if that failed.

        ``pixyproxy reconcile`` catches what this misses.
        """
        try:
            self._backends.blobs.delete(key)
        except PixyProxyException:
            logger.exception("could not delete orphan blob %s; reconcile will", key)
            return False
        return True

    # -- read -------------------------------------------------------------------------

    def get_image_by_guid(self, guid: str) -> ImageDetail:
        """Return the image with ``guid`` visible in this scope."""
        guid = parse_guid(guid)
        with transaction(self._backends.database) as db:
            return db.images.get_by_guid(guid, self._visibility).to_detail()

    def get_images_by_guid(self, guids: Sequence[str]) -> dict[str, ImageDetail]:
        """The images among ``guids`` visible in this scope, by guid, in one unit of work
        (one query for up to 500 of them); the others are absent."""
        wanted = [parse_guid(guid) for guid in guids]
        with transaction(self._backends.database) as db:
            found = db.images.find_by_guids(wanted, self._visibility)
        return {guid: image.to_detail() for guid, image in found.items()}

    def get_all_images(self) -> List[ImageDetail]:  # noqa: UP006
        """Return every visible image, newest first, page by page (for scripts, not HTTP)."""
        images: list[ImageDetail] = []
        cursor: str | None = None
        while True:
            page = self.list_images(limit=MAX_PAGE_SIZE, cursor=cursor)
            images.extend(page.items)
            if page.next_cursor is None:
                return images
            cursor = page.next_cursor

    def list_images(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        tags: Sequence[str] = (),
        author: str | None = None,
        q: str | None = None,
    ) -> ImagePage:
        """Return one keyset page, newest first; ``next_cursor`` when more rows exist.

        With ``q``, only images whose prompt has a word starting with each word of ``q``
        (``service/search.py``; ``ValidationFailedError`` when ``q`` has none).
        """
        filters = revalidate(ImageListQuery, {"limit": limit, "tags": list(tags), "author": author})
        words = search_words(q) if q is not None else []
        after = decode_cursor(cursor) if cursor is not None else None
        query = PageQuery(
            visibility=self._visibility,
            limit=filters.limit + 1,
            after=after,
            tags=filters.tags,
            author=filters.author,
            words=words,
        )
        with transaction(self._backends.database) as db:
            rows = db.images.list_page(query)
        page, more = rows[: filters.limit], len(rows) > filters.limit
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
        # Rows were validated as they left the repository: no second pass over the page.
        return ImagePage.model_construct(
            items=[row.to_detail() for row in page], next_cursor=next_cursor
        )

    def get_image_content(
        self,
        guid: str,
        byte_range: RangeRequest | None = None,
        *,
        include_body: bool = True,
        rendition: RenditionKind | None = None,
    ) -> ImageContent:
        """Return details plus a chunk stream of the blob (or of one byte range).

        With ``rendition``, the details and bytes are those of that rendition (made now
        if it is missing, or if its blob went missing).
        """
        source = self.find_image_content(guid, rendition)
        return source.open(byte_range, include_body=include_body)

    def find_image_content(self, guid: str, rendition: RenditionKind | None = None) -> ImageSource:
        """Read the row of a visible image (one unit of work); its blob is opened later.

        A public original's row read in the last second is reused (service/public_rows.py).

        With ``rendition``, that rendition's row is read in the same unit of work (and
        the rendition is made now when it has none).
        """
        guid = parse_guid(guid)
        reusable = rendition is None and not self._visibility.private
        if reusable and (kept := self._backends.public_rows.get(guid)) is not None:
            return ImageSource(kept, self._backends.blobs)
        with transaction(self._backends.database) as db:
            stored = db.images.get_by_guid(guid, self._visibility)
            record = db.images.find_rendition(stored.id, rendition) if rendition else None
        if reusable:
            self._backends.public_rows.keep(stored)
        if rendition is not None and record is None:
            record = self._renditions.remake(stored)[rendition]
        return ImageSource(stored, self._backends.blobs, record, self._renditions)

    def get_content_url(self, guid: str, rendition: RenditionKind | None = None) -> str | None:
        """A presigned URL for a public image when redirects are on, else ``None``."""
        if not self._backends.content_redirect or self._visibility.private:
            return None
        source = self.find_image_content(guid, rendition)
        return self._backends.blobs.presigned_url(
            source.storage_key, expires=self._backends.presign_expires
        )

    # -- delete -----------------------------------------------------------------------

    def delete_image(self, guid: str) -> None:
        """Delete the caller's own image: row first (committed), then every blob of it."""
        guid = parse_guid(guid)
        if self._author is None:
            raise AuthenticationError
        with transaction(self._backends.database) as db:
            deleted = db.images.delete(guid, self._visibility, author=self._author)
        self._backends.public_rows.forget(guid)
        for key in image_keys(guid, deleted.storage_key):
            self._discard_blob(key)
        logger.info("image deleted guid=%s", guid)

    # -- status -----------------------------------------------------------------------

    def status(self, *, include_count: bool = True) -> ServiceStatus:
        """Ping each backend; count images when the database answers."""
        database = _probe(self._backends.database.backend, self._backends.database.ping)
        blob_store = _probe(self._backends.blobs.backend, self._backends.blobs.ping)
        generator = _probe(self._backends.generator.backend, self._backends.generator.ping)
        count = None
        if database.ok and include_count:
            try:
                with transaction(self._backends.database) as db:
                    count = db.images.count()
            except DBConnectionError:
                count = None
        return ServiceStatus(
            database=database, blob_store=blob_store, generator=generator, image_count=count
        )

    def getShekhar(self) -> object:
        """The request's name for :meth:`status` (kept so its interface holds)."""
        return self.status()


def _probe(backend: str, ping: Callable[[], None]) -> ComponentStatus:
    """Run one ``ping`` and report it, without letting its error escape."""
    try:
        ping()
    except PixyProxyException as exc:
        return ComponentStatus(backend=backend, ok=False, detail=exc.message)
    return ComponentStatus(backend=backend, ok=True)
