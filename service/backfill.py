"""``pixyproxy renditions``: give images stored before renditions existed theirs.

Images are walked by id in pages; an image that already has every rendition and its
width, height and BlurHash costs nothing but its share of one query per page, so the
run is idempotent and resumable: interrupted, it is simply run again. Each image is
made as on its first request (``Renditions.remake``): original read from the blob
store, renditions uploaded, then their rows and the facts saved in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel, Field

from core.exceptions import PixyProxyException, RecordNotFoundError
from core.records import RenditionWork
from data.database import Database
from service.imaging import UnreadableImageError
from service.reconcile import NoProgress, ReconcileProgress
from service.renditions import RENDITION_KINDS, Renditions
from service.transaction import transaction

logger = logging.getLogger(__name__)

PAGE_SIZE = 100


class BackfillReport(BaseModel):
    """What a run did (``--json`` prints exactly this)."""

    images_scanned: int = 0
    images_done: int = Field(default=0, description="Renditions or facts made for them now")
    renditions_made: int = 0
    already_complete: int = 0
    failed: list[str] = Field(default_factory=list, description="Guids that could not be done")


class RenditionBackfill:
    """Walks every image of ``database`` and makes what it lacks with ``renditions``."""

    def __init__(
        self,
        database: Database,
        renditions: Renditions,
        *,
        page_size: int = PAGE_SIZE,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """Work on ``database`` in pages of ``page_size`` images."""
        self._database = database
        self._renditions = renditions
        self._page_size = page_size
        self._on_close = on_close

    def run(self, progress: ReconcileProgress | None = None) -> BackfillReport:
        """Make every missing rendition and record missing facts; report what happened."""
        progress = progress or NoProgress()
        report = BackfillReport()
        with transaction(self._database) as db:
            total = db.images.count()
        progress.phase("images", total)
        after_id = 0
        while True:
            with transaction(self._database) as db:
                page = db.images.list_rendition_work(after_id=after_id, limit=self._page_size)
            if not page:
                break
            for work in page:
                self._one(work, report)
            report.images_scanned += len(page)
            progress.advance(len(page))
            after_id = page[-1].id
        logger.info(
            "renditions backfill: scanned=%d done=%d made=%d failed=%d",
            report.images_scanned,
            report.images_done,
            report.renditions_made,
            len(report.failed),
        )
        return report

    def _one(self, work: RenditionWork, report: BackfillReport) -> None:
        """Make what ``work``'s image lacks; a failure is reported, not raised."""
        missing = [kind for kind in RENDITION_KINDS if kind.value not in work.kinds]
        if not missing and work.has_facts:
            report.already_complete += 1
            return
        try:
            made = self._renditions.make_from_original(
                work.id, work.guid, work.storage_key, missing, with_facts=not work.has_facts
            )
        except RecordNotFoundError:
            return  # deleted meanwhile: nothing to do
        except (PixyProxyException, UnreadableImageError) as exc:
            logger.warning("renditions of %s failed: %s", work.guid, exc)
            report.failed.append(work.guid)
            return
        report.images_done += 1
        report.renditions_made += len(made)

    def close(self) -> None:
        """Release what the builder opened."""
        if self._on_close is not None:
            self._on_close()
