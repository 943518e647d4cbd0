"""Public rows reused by ``/content`` for a second: fewer reads, and nothing deleted served.

``PublicRows`` on a hand-driven clock, and the public and private scopes over the
in-memory database, which counts the units of work the content reads open.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.exceptions import RecordNotFoundError
from core.models import ImageDetailCreate, StoredImage
from service.image_service import Backends
from service.imaging import RenditionKind
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from service.public_rows import PublicRows
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase, InMemoryUnitOfWork
from tests.fakes.generator import FakeImageGenerator


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


GUID = "0b5e7d9c-1d2e-4f3a-8b4c-5d6e7f8a9b0c"


def row(guid: str = GUID, *, private: bool = False) -> StoredImage:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    return StoredImage(
        id=1,
        guid=guid,
        prompt="a fox",
        filename="a-fox.png",
        tags=[],
        author="alice" if private else None,
        private=private,
        content_type="image/png",
        size_bytes=5,
        sha256="0" * 64,
        storage_key=f"images/{guid}.png",
        created_at=now,
        updated_at=now,
    )


def test_a_row_is_reused_for_its_ttl_then_read_again() -> None:
    clock = Clock()
    rows = PublicRows(ttl=1.0, clock=clock)
    kept = row()
    rows.keep(kept)
    clock.now += 0.9
    assert rows.get(kept.guid) == kept
    clock.now += 0.2
    assert rows.get(kept.guid) is None


def test_a_deleted_image_is_forgotten_and_a_read_from_before_the_delete_is_refused() -> None:
    clock = Clock()
    rows = PublicRows(ttl=1.0, clock=clock)
    before = row()  # read by a request that began before the delete
    rows.keep(before)
    rows.forget(before.guid)
    assert rows.get(before.guid) is None
    rows.keep(before)  # that request finishes after the delete
    assert rows.get(before.guid) is None
    clock.now += 1.1  # the tombstone has lapsed (the blob is long gone)
    rows.keep(before)
    assert rows.get(before.guid) == before


def test_private_rows_are_never_kept_and_the_oldest_rows_go_first() -> None:
    rows = PublicRows(max_rows=2)
    rows.keep(row(private=True))
    assert rows.get(row().guid) is None
    guids = [f"0b5e7d9c-1d2e-4f3a-8b4c-5d6e7f8a9b0{n}" for n in range(3)]
    for guid in guids:
        rows.keep(row(guid))
    assert [rows.get(guid) is not None for guid in guids] == [False, True, True]


def test_a_ttl_of_zero_keeps_nothing() -> None:
    rows = PublicRows(ttl=0)
    rows.keep(row())
    assert rows.get(row().guid) is None


class CountingDatabase(InMemoryDatabase):
    """The in-memory database, counting the units of work opened."""

    def __init__(self) -> None:
        super().__init__()
        self.units = 0

    def context(self) -> InMemoryUnitOfWork:
        self.units += 1
        return super().context()


class World:
    def __init__(self) -> None:
        self.database = CountingDatabase()
        self.blobs = InMemoryBlobStore()
        self.backends = Backends(
            database=self.database, blobs=self.blobs, generator=FakeImageGenerator()
        )

    def public(self, caller: str | None = None) -> PublicImageService:
        return PublicImageService(self.backends, caller)

    def private(self, owner: str) -> PrivateImageService:
        return PrivateImageService(self.backends, owner)

    def content(self, scope: PublicImageService | PrivateImageService, guid: str) -> bytes:
        """Read the content as ``/content`` does, counting the units of work it opens."""
        content = scope.find_image_content(guid).open()
        try:
            return b"".join(content.chunks)
        finally:
            content.close()


@pytest.fixture
def world() -> World:
    return World()


def test_content_reads_of_a_public_image_share_one_row_read(world: World) -> None:
    created = world.public("alice").create_image(ImageDetailCreate(prompt="a fox"))
    world.database.units = 0
    first = world.content(world.public(), created.guid)
    second = world.content(world.public("bob"), created.guid)  # any caller: the same row
    assert first == second == world.blobs.blobs[f"images/{created.guid}.png"].data
    assert world.database.units == 1


def test_a_deleted_public_image_is_not_served_from_a_kept_row(world: World) -> None:
    created = world.public("alice").create_image(ImageDetailCreate(prompt="a fox"))
    world.content(world.public(), created.guid)
    world.public("alice").delete_image(created.guid)
    with pytest.raises(RecordNotFoundError):
        world.public().find_image_content(created.guid)


def test_private_content_and_renditions_read_their_row_every_time(world: World) -> None:
    private = world.private("alice").create_image(ImageDetailCreate(prompt="a secret fox"))
    public = world.public("alice").create_image(ImageDetailCreate(prompt="a fox"))
    world.database.units = 0
    for _ in range(2):
        world.content(world.private("alice"), private.guid)
        world.public().find_image_content(public.guid, RenditionKind.THUMBNAIL)
    assert world.database.units == 4
    with pytest.raises(RecordNotFoundError):  # a private row is never kept for the public
        world.public().find_image_content(private.guid)
