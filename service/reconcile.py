"""Reconcile the blob store with the database (CONTRACT.md §3 ``reconcile`` and §5).

Two passes, both in pages:

1. **Blobs** under ``images/``: a page of listed keys is checked against the rows in one
   query. A blob no row references is an *orphan*; one younger than the grace period
   is kept (an upload whose row is not committed yet), an older one is deleted. Right
   before deleting, the candidates are checked against the database once more in a
   fresh transaction, so a row committed while we ran keeps its blob. (A row can only
   appear for a blob its create uploaded moments before, i.e. a fresh one: the grace
   period covers the short time between that re-check and the delete.)
2. **Rows**, by id: a row whose key was not listed is confirmed with ``stat`` (it may
   have been uploaded after the listing) and then reported: rows are never deleted.

Finally expired idempotency keys are purged. ``--dry-run`` changes nothing. Memory grows
with the number of listed keys (a set of strings), not with the blobs' sizes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, Field

from core.exceptions import BlobNotFoundError, StorageError
from data.database import Database
from service.transaction import transaction
from storage.blob_store import BlobInfo, BlobStore

logger = logging.getLogger(__name__)

IMAGE_PREFIX = "images/"
PAGE_SIZE = 500
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``30s``, ``10m``, ``2h``, ``1d`` or plain seconds → timedelta; else ``ValueError``."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 10m, 2h or plain seconds")
    number, unit = match.groups()
    return timedelta(seconds=float(number) * _UNIT_SECONDS[unit.lower()])


class DanglingRow(BaseModel):
    """An image row whose blob is missing."""

    guid: str
    storage_key: str


class ReconcileReport(BaseModel):
    """What a run found and did (``--json`` prints exactly this)."""

    dry_run: bool
    grace_seconds: float
    blobs_scanned: int = 0
    rows_scanned: int = 0
    orphan_blobs: list[str] = Field(
        default_factory=list, description="Unreferenced, older than grace: deleted (not in dry run)"
    )
    deleted_blobs: int = 0
    fresh_orphan_blobs: list[str] = Field(
        default_factory=list, description="Unreferenced but younger than grace: kept"
    )
    rescued_blobs: list[str] = Field(
        default_factory=list, description="A row referencing them was committed during the run"
    )
    failed_deletes: list[str] = Field(default_factory=list)
    dangling_rows: list[DanglingRow] = Field(default_factory=list)
    expired_idempotency_keys: int = 0


class ReconcileProgress(Protocol):
    """Where a run reports its progress (a progress bar, log lines, or nothing)."""

    def phase(self, name: str, total: int | None) -> None:
        """A pass starts: ``blobs`` (total unknown) or ``rows``."""

    def advance(self, count: int) -> None:
        """``count`` more items of the current pass were handled."""


class NoProgress:
    """Reports nothing."""

    def phase(self, name: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, count: int) -> None:
        """Ignore."""


class Reconciler:
    """One database and one blob store, reconciled (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        *,
        page_size: int = PAGE_SIZE,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """Work on ``database`` and ``blobs`` in pages of ``page_size``."""
        self._database = database
        self._blobs = blobs
        self._page_size = page_size
        self._on_close = on_close

    def run(
        self,
        *,
        grace: timedelta,
        dry_run: bool = False,
        progress: ReconcileProgress | None = None,
    ) -> ReconcileReport:
        """Delete old orphan blobs (unless ``dry_run``), report rows without blobs."""
        progress = progress or NoProgress()
        started = datetime.now(UTC)
        report = ReconcileReport(dry_run=dry_run, grace_seconds=grace.total_seconds())
        listed = self._blob_pass(report, started - grace, progress)
        self._row_pass(report, listed, progress)
        if not dry_run:
            report.expired_idempotency_keys = self._purge_keys(started)
        logger.info(
            "reconcile done: dry_run=%s blobs=%d rows=%d orphans=%d deleted=%d dangling=%d",
            dry_run,
            report.blobs_scanned,
            report.rows_scanned,
            len(report.orphan_blobs),
            report.deleted_blobs,
            len(report.dangling_rows),
        )
        return report

    def close(self) -> None:
        """Release what the reconciler's builder opened."""
        if self._on_close is not None:
            self._on_close()

    # -- pass 1: blobs ------------------------------------------------------------------

    def _blob_pass(
        self, report: ReconcileReport, cutoff: datetime, progress: ReconcileProgress
    ) -> set[str]:
        """Check every listed blob; return the listed keys."""
        progress.phase("blobs", None)
        listed: set[str] = set()
        page: list[BlobInfo] = []
        for info in self._blobs.list_blobs(IMAGE_PREFIX):
            listed.add(info.key)
            page.append(info)
            if len(page) >= self._page_size:
                self._blob_page(page, report, cutoff, progress)
                page = []
        if page:
            self._blob_page(page, report, cutoff, progress)
        return listed

    def _blob_page(
        self,
        page: Sequence[BlobInfo],
        report: ReconcileReport,
        cutoff: datetime,
        progress: ReconcileProgress,
    ) -> None:
        referenced = self._referenced([info.key for info in page])
        candidates: list[str] = []
        for info in page:
            if info.key in referenced:
                continue
            if info.last_modified < cutoff:
                candidates.append(info.key)
            else:
                report.fresh_orphan_blobs.append(info.key)
        if candidates:
            rescued = self._referenced(candidates)  # re-check right before deleting
            for key in candidates:
                if key in rescued:
                    report.rescued_blobs.append(key)
                    continue
                report.orphan_blobs.append(key)
                if not report.dry_run:
                    self._delete(key, report)
        report.blobs_scanned += len(page)
        progress.advance(len(page))

    def _referenced(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` a committed row references, in a fresh transaction."""
        with transaction(self._database) as db:
            return db.images.storage_keys(keys)

    def _delete(self, key: str, report: ReconcileReport) -> None:
        try:
            self._blobs.delete(key)
        except StorageError:
            logger.warning("reconcile: could not delete orphan blob %s", key)
            report.failed_deletes.append(key)
            return
        report.deleted_blobs += 1
        logger.info("reconcile: deleted orphan blob %s", key)

    # -- pass 2: rows -------------------------------------------------------------------

    def _row_pass(
        self, report: ReconcileReport, listed: set[str], progress: ReconcileProgress
    ) -> None:
        with transaction(self._database) as db:
            total = db.images.count()
        progress.phase("rows", total)
        after_id = 0
        while True:
            with transaction(self._database) as db:
                refs = db.images.list_storage_refs(after_id=after_id, limit=self._page_size)
            if not refs:
                return
            for ref in refs:
                if ref.storage_key not in listed and self._blob_missing(ref.storage_key):
                    logger.error("reconcile: row %s has no blob %s", ref.guid, ref.storage_key)
                    report.dangling_rows.append(
                        DanglingRow(guid=ref.guid, storage_key=ref.storage_key)
                    )
            report.rows_scanned += len(refs)
            progress.advance(len(refs))
            after_id = refs[-1].id

    def _blob_missing(self, key: str) -> bool:
        """True when ``key`` has no blob and a committed row still references it."""
        try:
            self._blobs.stat(key)
        except BlobNotFoundError:
            return bool(self._referenced([key]))  # not deleted (row first) meanwhile
        return False

    def _purge_keys(self, now: datetime) -> int:
        removed = 0
        while True:
            with transaction(self._database) as db:
                batch = db.idempotency.purge_expired(now, limit=1000)
            removed += batch
            if batch < 1000:
                return removed
