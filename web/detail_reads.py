"""Reads of image details by guid that wait at the same time, answered by one query.

Under load, many ``GET /image/{guid}`` requests wait at once. Sent to a worker thread one
by one, each costs a thread hop, two hand-overs of the GIL and a database round trip,
and together those cost more CPU than the rest of the request (bench/README.md, "Detail
reads in batches"). :class:`DetailReads` sends the reads waiting in one scope to the
database together instead: one hop and one query (``WHERE guid IN (…)``, tags folded in)
for up to ``MAX_BATCH`` guids. While a batch is out, new requests of its scope wait for
the next one, so batches grow with the load, and a lone request on an idle server is a
batch of one, sent at once.

Each request still gets what a read of its own would give it: its batch's query starts
after the request arrived, so it sees every commit made before; a guid the scope may not
see is a ``RecordNotFoundError`` (404) for that request only; an error of the batch (the
database down or the pool exhausted: 503) is the error of every request in it. A scope is
a visibility (public, or one owner's private images): batches never mix two, so a
request can only ever receive a row its own scope may see.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field

from core.exceptions import RecordNotFoundError
from core.models import ImageDetail
from core.records import Visibility
from service.image_service import ImageService
from web.threads import in_thread

MAX_BATCH = 100  # guids per query; more waiting requests go in the next batch

Waiters = dict[str, list[asyncio.Future[ImageDetail]]]


@dataclass(eq=False)
class _Lane:
    """The requests of one visibility waiting for its next batch. A lane exists while its
    batch is about to go or out; it is closed when a batch ends and nobody waits."""

    scope: ImageService  # the latest request's scope; every scope of a lane reads the same rows
    waiting: Waiters = field(default_factory=dict)


class DetailReads:
    """Batches of concurrent detail reads, per scope; one per application (its lifespan)."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        """No lane is open until the first read."""
        self._max_batch = max_batch
        self._lanes: dict[Visibility, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # the batches out (asyncio keeps weak refs)

    async def get(self, scope: ImageService, guid: str) -> ImageDetail:
        """The image with ``guid`` (a canonical UUID string) visible in ``scope``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ImageDetail] = loop.create_future()
        lane = self._lanes.get(scope.visibility)
        if lane is not None:  # join the batch about to go, or wait for the one after
            lane.scope = scope
            lane.waiting.setdefault(guid, []).append(future)
        else:
            self._lanes[scope.visibility] = _Lane(scope, {guid: [future]})
            # Not sent at once: requests that reach this point in the same turn of the
            # event loop join the batch first. The batch serves several requests, so
            # it runs in a context of its own: its log lines carry no one request's id.
            loop.call_soon(self._send, scope.visibility, context=contextvars.Context())
        return await future

    def _send(self, visibility: Visibility) -> None:
        """Send the lane's next batch, or close the lane when nobody waits."""
        lane = self._lanes[visibility]
        guids = list(lane.waiting)[: self._max_batch]
        if not guids:
            del self._lanes[visibility]
            return
        batch = {guid: lane.waiting.pop(guid) for guid in guids}
        task = asyncio.ensure_future(self._read(visibility, lane.scope, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, visibility: Visibility, scope: ImageService, batch: Waiters) -> None:
        """Read ``batch`` in a worker thread and answer its requests; then the next batch."""
        try:
            found = await in_thread(scope.get_images_by_guid, list(batch))
        except asyncio.CancelledError:  # the server is stopping: so are its requests
            lane = self._lanes.pop(visibility)
            for future in [*_waiting(batch), *_waiting(lane.waiting)]:
                future.cancel()
            raise
        except BaseException as exc:  # each request of the batch raises it; the lane goes on
            for future in _waiting(batch):
                future.set_exception(exc)
        else:
            for guid, futures in batch.items():
                detail = found.get(guid)
                for future in _waiting({guid: futures}):
                    if detail is None:
                        future.set_exception(RecordNotFoundError())
                    else:
                        future.set_result(detail)
        self._send(visibility)


def _waiting(batch: Waiters) -> list[asyncio.Future[ImageDetail]]:
    """The futures of ``batch`` whose request still waits (a cancelled one went away)."""
    return [future for futures in batch.values() for future in futures if not future.done()]
