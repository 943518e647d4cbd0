"""Renditions (thumbnail, preview): made, stored and found again (CONTRACT.md §6).

They are made right after a create's commit, never inside its transaction: in a small
bounded thread pool (``RENDITION_WORKERS``, default 1), or inline on the request path
when that is 0. When the pool is full the image simply waits for its first request:
:meth:`Renditions.remake` makes a missing rendition then, and ``pixyproxy renditions``
backfills older images. Each rendition follows the create's order (CONTRACT.md §5):
upload the blob, then save its row; if the row cannot be saved (the image was deleted
meanwhile) the blob is deleted again, and ``reconcile`` removes what a crash leaves.

Keys contain the image's guid, ``images/<guid>.<kind>.webp``, beside the original
``images/<guid>.<ext>``, so deleting an image deletes every key :func:`image_keys`
names, whether or not its renditions were made.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime

from core.exceptions import ConstraintViolationError, PixyProxyException, RecordNotFoundError
from core.models import ImageDetail, StoredImage, StoredRendition
from data.database import Database
from service import imaging
from service.imaging import RenditionKind
from service.metrics import record_renditions_after_create
from service.transaction import transaction
from storage.blob_store import BlobStore

logger = logging.getLogger(__name__)

RENDITION_KINDS: tuple[RenditionKind, ...] = tuple(RenditionKind)
MAX_PENDING = 16  # renditions waiting for the pool; beyond that, made on first request


def rendition_key(guid: str, kind: str) -> str:
    """The blob key of rendition ``kind`` of image ``guid``."""
    return f"images/{guid}.{kind}.webp"


def image_keys(guid: str, storage_key: str) -> list[str]:
    """Every blob key an image may have: the original and each rendition."""
    return [storage_key, *(rendition_key(guid, kind) for kind in RENDITION_KINDS)]


def content_detail(stored: StoredImage, record: StoredRendition | None) -> ImageDetail:
    """The image's details, or those of its rendition ``record`` (type, size, hash, name)."""
    detail = stored.to_detail()
    if record is None:
        return detail
    stem = detail.filename.rsplit(".", 1)[0]
    return detail.model_copy(
        update={
            "content_type": record.content_type,
            "size_bytes": record.size_bytes,
            "sha256": record.sha256,
            "filename": f"{stem}.{record.kind}.webp",
            "width": record.width,
            "height": record.height,
        }
    )


class Renditions:
    """Makes renditions on ``database`` and ``blobs``, in ``workers`` background threads."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        *,
        workers: int = 1,
        max_pending: int = MAX_PENDING,
    ) -> None:
        """``workers=0``: :meth:`after_commit` makes them inline, on the caller's thread."""
        self._database = database
        self._blobs = blobs
        self._pool = (
            ThreadPoolExecutor(workers, thread_name_prefix="renditions") if workers > 0 else None
        )
        self._slots = threading.BoundedSemaphore(max_pending)
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    # -- after a create -----------------------------------------------------------------

    def after_commit(self, image_id: int, guid: str, data: bytes) -> None:
        """Make the renditions of a just-committed image (``data``: its original)."""
        if self._pool is None:
            record_renditions_after_create(deferred=False)
            self._make_quietly(image_id, guid, data)
            return
        if not self._slots.acquire(blocking=False):
            # Counted, and logged at DEBUG only: under load this happens on every create.
            record_renditions_after_create(deferred=True)
            logger.debug("rendition pool full: %s gets its renditions on first request", guid)
            return
        try:
            future = self._pool.submit(self._make_quietly, image_id, guid, data)
        except RuntimeError:  # shutting down: made on first request
            self._slots.release()
            record_renditions_after_create(deferred=True)
            return
        record_renditions_after_create(deferred=False)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        self._slots.release()

    def _make_quietly(self, image_id: int, guid: str, data: bytes) -> None:
        """:meth:`make`, logging instead of raising: the first request will retry."""
        try:
            self.make(image_id, guid, data)
        except RecordNotFoundError:
            logger.info("image %s was deleted before its renditions were stored", guid)
        except Exception:
            logger.exception("renditions of %s failed; made on first request", guid)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until the renditions queued so far are made (tests, shutdown)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        """Finish the renditions under way and stop the pool (queued ones are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # -- making -------------------------------------------------------------------------

    def make(
        self,
        image_id: int,
        guid: str,
        data: bytes,
        kinds: Iterable[RenditionKind] = RENDITION_KINDS,
        *,
        with_facts: bool = False,
    ) -> dict[RenditionKind, StoredRendition]:
        """Render ``kinds`` of ``data``, upload them, then save their rows in one transaction.

        ``with_facts`` also records width, height and BlurHash (images stored before
        they were). ``RecordNotFoundError`` when the image was deleted meanwhile; its
        uploaded renditions are deleted again.
        """
        facts = imaging.inspect_image(data) if with_facts else None
        rendered = imaging.render(data, list(kinds))
        now = datetime.now(UTC)
        records: dict[RenditionKind, StoredRendition] = {}
        for kind, image in rendered.items():
            key = rendition_key(guid, kind)
            try:
                self._blobs.put(key, image.data, content_type=image.content_type)
            except BaseException:
                for record in records.values():
                    self.discard(record.storage_key)
                raise
            records[kind] = StoredRendition(
                kind=kind.value,
                storage_key=key,
                content_type=image.content_type,
                size_bytes=len(image.data),
                sha256=hashlib.sha256(image.data).hexdigest(),
                width=image.width,
                height=image.height,
                created_at=now,
            )
        try:
            with transaction(self._database) as db:
                for record in records.values():
                    db.images.save_rendition(image_id, record)
                if facts is not None:
                    db.images.set_facts(image_id, facts)
        except BaseException as exc:
            for record in records.values():
                self.discard(record.storage_key)
            if isinstance(exc, ConstraintViolationError):
                raise RecordNotFoundError from exc
            raise
        return records

    def remake(
        self, image: StoredImage, kinds: Iterable[RenditionKind] = RENDITION_KINDS
    ) -> dict[RenditionKind, StoredRendition]:
        """Make ``kinds`` of ``image`` from its stored original (missing, or its blob gone).

        Also records the image's width, height and BlurHash if it has none yet.
        """
        return self.make_from_original(
            image.id, image.guid, image.storage_key, kinds, with_facts=image.width is None
        )

    def make_from_original(
        self,
        image_id: int,
        guid: str,
        storage_key: str,
        kinds: Iterable[RenditionKind],
        *,
        with_facts: bool,
    ) -> dict[RenditionKind, StoredRendition]:
        """:meth:`make` from the original stored under ``storage_key``."""
        data = self.read_original(storage_key)
        return self.make(image_id, guid, data, kinds, with_facts=with_facts)

    def read_original(self, key: str) -> bytes:
        """The whole original (it must be decoded anyway); ``BlobNotFoundError`` if gone."""
        stream = self._blobs.open(key)
        try:
            return b"".join(stream)
        finally:
            stream.close()

    def discard(self, key: str) -> None:
        """Delete a blob; a failure is logged (``reconcile`` catches it later)."""
        try:
            self._blobs.delete(key)
        except PixyProxyException:
            logger.exception("could not delete blob %s; reconcile will", key)
