"""``DetailReads``: concurrent reads by guid answered in batches, each as if read alone.

The real public and private scopes over the in-memory database; the database below
counts the units of work it opens (one per batch) and can hold a batch open.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core.exceptions import DBConnectionError, RecordNotFoundError
from core.log import request_id_var
from core.models import ImageDetail, ImageDetailCreate
from service.image_service import Backends, ImageService
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase, InMemoryUnitOfWork
from tests.fakes.generator import FakeImageGenerator
from web.detail_reads import DetailReads


class CountingDatabase(InMemoryDatabase):
    """The in-memory database, counting units of work; ``hold`` makes the next one wait."""

    def __init__(self) -> None:
        super().__init__()
        self.units = 0
        self.request_ids: list[str | None] = []  # the request id each unit was opened under
        self.hold: threading.Event | None = None
        self.held = threading.Event()  # set once a unit is waiting on ``hold``
        self.raise_next: BaseException | None = None

    def context(self) -> InMemoryUnitOfWork:
        self.units += 1
        self.request_ids.append(request_id_var.get())
        error, self.raise_next = self.raise_next, None
        if error is not None:
            raise error
        hold, self.hold = self.hold, None
        if hold is not None:
            self.held.set()
            hold.wait(5)
        return super().context()


class World:
    def __init__(self) -> None:
        self.database = CountingDatabase()
        self.backends = Backends(
            database=self.database, blobs=InMemoryBlobStore(), generator=FakeImageGenerator()
        )

    def public(self, caller: str | None = None) -> PublicImageService:
        return PublicImageService(self.backends, caller)

    def private(self, owner: str) -> PrivateImageService:
        return PrivateImageService(self.backends, owner)

    def create(self, scope: ImageService, prompt: str = "a fox") -> ImageDetail:
        detail = scope.create_image(ImageDetailCreate(prompt=prompt, tags=["fox"]))
        self.database.units = 0  # count the reads only
        return detail


@pytest.fixture
def world() -> World:
    return World()


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(main())  # type: ignore[arg-type]


def missing() -> str:
    return str(uuid.uuid4())


def test_concurrent_reads_get_what_each_would_alone_from_one_unit_of_work(world: World) -> None:
    images = [world.create(world.public(), f"fox {n}") for n in range(4)]
    hidden = world.create(world.private("alice"))
    wanted = [*(image.guid for image in images), images[0].guid, missing(), hidden.guid]
    reads = DetailReads()

    async def main() -> list[ImageDetail | BaseException]:
        # Different callers, one public scope: their reads share a batch.
        calls = [reads.get(world.public(f"user{n}"), guid) for n, guid in enumerate(wanted)]
        return await asyncio.gather(*calls, return_exceptions=True)

    answers = run(main)
    assert answers[:5] == [*images, images[0]]
    assert isinstance(answers[5], RecordNotFoundError)
    assert isinstance(answers[6], RecordNotFoundError)  # a private image is never revealed
    assert world.database.units == 1
    assert world.database.open_contexts == 0


def test_a_lone_read_is_answered_at_once_and_the_next_one_too(world: World) -> None:
    image = world.create(world.public())
    reads = DetailReads()

    async def main() -> tuple[ImageDetail, ImageDetail]:
        first = await asyncio.wait_for(reads.get(world.public(), image.guid), 5)
        second = await asyncio.wait_for(reads.get(world.public(), image.guid), 5)
        return first, second

    assert run(main) == (image, image)
    assert world.database.units == 2


def test_reads_arriving_while_a_batch_is_out_wait_for_the_next_and_see_newer_commits(
    world: World,
) -> None:
    first = world.create(world.public(), "first")
    reads = DetailReads()
    release = threading.Event()
    world.database.hold = release

    batches: list[int] = []

    async def main() -> list[ImageDetail]:
        out = asyncio.ensure_future(reads.get(world.public(), first.guid))
        await asyncio.to_thread(world.database.held.wait, 5)  # the first batch is out
        batches.append(world.database.units)
        # Committed while that batch is out (from another thread, as another request would):
        later = await asyncio.to_thread(world.create, world.public(), "later")  # counts anew
        waiting = [reads.get(world.public(), guid) for guid in (later.guid, first.guid)]
        pending = asyncio.gather(*waiting)
        await asyncio.sleep(0.05)
        assert not pending.done()  # they wait behind the batch that is out
        release.set()
        return [await out, *await pending]

    answers = run(main)
    assert [answer.prompt for answer in answers] == ["first", "later", "first"]
    assert [*batches, world.database.units] == [1, 1]  # one unit for each batch


def test_a_failed_batch_is_each_readers_error_and_the_next_batch_recovers(world: World) -> None:
    image = world.create(world.public())
    reads = DetailReads()

    async def main() -> tuple[list[ImageDetail | BaseException], ImageDetail]:
        world.database.available = False
        calls = [reads.get(world.public(), guid) for guid in (image.guid, missing())]
        failed = await asyncio.gather(*calls, return_exceptions=True)
        world.database.available = True
        return failed, await reads.get(world.public(), image.guid)

    failed, recovered = run(main)
    assert [type(answer) for answer in failed] == [DBConnectionError, DBConnectionError]
    assert recovered == image


def test_scopes_never_share_a_batch(world: World) -> None:
    alices = world.create(world.private("alice"), "alice's")
    bobs = world.create(world.private("bob"), "bob's")
    public = world.create(world.public(), "everyone's")
    reads = DetailReads()

    async def main() -> list[ImageDetail | BaseException]:
        calls = [
            reads.get(world.private("alice"), alices.guid),
            reads.get(world.private("alice"), bobs.guid),
            reads.get(world.private("bob"), bobs.guid),
            reads.get(world.private("bob"), alices.guid),
            reads.get(world.public(), public.guid),
            reads.get(world.public(), alices.guid),
            reads.get(world.private("alice"), public.guid),
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    answers = run(main)
    assert answers[0] == alices and answers[2] == bobs and answers[4] == public
    assert all(isinstance(answers[n], RecordNotFoundError) for n in (1, 3, 5, 6))
    assert world.database.units == 3  # alice's, bob's and the public scope's batches


def test_a_reader_that_goes_away_leaves_the_others_answered(world: World) -> None:
    image = world.create(world.public())
    reads = DetailReads()
    release = threading.Event()
    world.database.hold = release

    async def main() -> list[ImageDetail]:
        gone = asyncio.ensure_future(reads.get(world.public(), image.guid))
        staying = [asyncio.ensure_future(reads.get(world.public(), image.guid)) for _ in range(2)]
        await asyncio.to_thread(world.database.held.wait, 5)
        gone.cancel()
        release.set()
        answers = [await task for task in staying]
        assert gone.cancelled()
        return answers

    assert run(main) == [image, image]
    assert world.database.units == 1


def test_a_batch_holds_at_most_max_batch_guids(world: World) -> None:
    images = [world.create(world.public(), f"fox {n}") for n in range(5)]
    reads = DetailReads(max_batch=2)

    async def main() -> list[ImageDetail]:
        return await asyncio.gather(*(reads.get(world.public(), i.guid) for i in images))

    assert run(main) == images
    assert world.database.units == 3


def test_a_batch_runs_under_no_single_requests_id(world: World) -> None:
    image = world.create(world.public())
    reads = DetailReads()

    async def read_as(request_id: str) -> ImageDetail:
        request_id_var.set(request_id)  # as the middleware does, in each request's task
        return await reads.get(world.public(), image.guid)

    async def main() -> list[ImageDetail]:
        return list(await asyncio.gather(read_as("req-1"), read_as("req-2")))

    assert run(main) == [image, image]
    assert world.database.request_ids[-1:] == [None]  # its log lines say "-"


class Unexpected(BaseException):
    """Not an ``Exception``: what no ``except Exception`` catches."""


def test_a_batch_that_dies_of_anything_answers_its_readers_and_the_next_batch_runs(
    world: World,
) -> None:
    image = world.create(world.public())
    reads = DetailReads()

    async def main() -> tuple[BaseException | ImageDetail, ImageDetail]:
        world.database.raise_next = Unexpected()
        [first] = await asyncio.gather(
            asyncio.wait_for(reads.get(world.public(), image.guid), 5), return_exceptions=True
        )
        return first, await asyncio.wait_for(reads.get(world.public(), image.guid), 5)

    first, second = run(main)
    assert isinstance(first, Unexpected)
    assert second == image
