"""Rows of public images read in the last second, for ``/content`` to deliver from.

A public image's row never changes after its commit; it only goes, with its blobs, when
the image is deleted (there is no update). Its bytes are served with ``Cache-Control:
public, max-age=31536000, immutable`` (CONTRACT.md, "Content delivery"): any client or
CDN may keep them a year. So ``/content`` of a public original may reuse a row this
process read less than :data:`ROW_TTL` seconds ago instead of asking the database again,
and under load most requests for a popular image do (bench/README.md, "Public rows for
``/content``"): a database round trip costs the server more CPU than the rest of such a
request.

What it keeps: a delete in this process forgets the row at once and, for ``ROW_TTL``,
refuses it from a read that began before the delete (a tombstone); another worker or
replica forgets it within ``ROW_TTL``, and by then the delete has removed the blob, which
``/content`` would answer with ``404`` anyway. Rows that were not found are not kept (a
new image is served at once), private rows never are, and nor are renditions, which are
made on their first request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from core.models import StoredImage

ROW_TTL = 1.0  # seconds a row read by /content is reused
MAX_ROWS = 1024  # rows kept at most; the oldest go first


class PublicRows:
    """Recently read public rows by guid, each for ``ttl`` seconds (thread-safe)."""

    def __init__(
        self,
        ttl: float = ROW_TTL,
        max_rows: int = MAX_ROWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_rows = max_rows
        self._clock = clock
        # guid -> (expiry, row); ``None`` is a tombstone: the image was deleted.
        self._rows: OrderedDict[str, tuple[float, StoredImage | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, guid: str) -> StoredImage | None:
        """The row of ``guid`` if one was kept less than ``ttl`` seconds ago."""
        entry = self._rows.get(guid)
        if entry is None or entry[1] is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def keep(self, row: StoredImage) -> None:
        """Keep a public ``row`` just read; not while its image's tombstone lasts."""
        if row.private or self._ttl <= 0:
            return
        now = self._clock()
        with self._lock:
            entry = self._rows.get(row.guid)
            if entry is not None and entry[1] is None and entry[0] > now:
                return  # deleted after this row was read
            self._store(row.guid, (now + self._ttl, row))

    def forget(self, guid: str) -> None:
        """The image ``guid`` was deleted: drop its row, and refuse it for ``ttl`` seconds."""
        with self._lock:
            self._store(guid, (self._clock() + self._ttl, None))

    def _store(self, guid: str, entry: tuple[float, StoredImage | None]) -> None:
        """Put ``entry`` last (newest), dropping the oldest beyond ``max_rows``."""
        self._rows[guid] = entry
        self._rows.move_to_end(guid)
        while len(self._rows) > self._max_rows:
            self._rows.popitem(last=False)
