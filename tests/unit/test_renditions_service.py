"""Renditions in the service, with in-memory fakes: made, served, remade, cleaned up."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import REGISTRY

from core.exceptions import RecordNotFoundError
from core.models import ImageDetailCreate
from service.image_service import Backends
from service.imaging import RenditionKind
from service.public_images import PublicImageService
from service.renditions import MAX_PENDING, Renditions, rendition_key
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator

COUNTER = "pixyproxy_renditions_after_create_total"


class World:
    def __init__(self, workers: int = 0, max_pending: int = MAX_PENDING) -> None:
        self.database = InMemoryDatabase()
        self.blobs = InMemoryBlobStore()
        self.renditions = Renditions(
            self.database, self.blobs, workers=workers, max_pending=max_pending
        )
        self.backends = Backends(
            database=self.database,
            blobs=self.blobs,
            generator=FakeImageGenerator(size=300),
            renditions=self.renditions,
        )

    def images(self) -> PublicImageService:
        return PublicImageService(self.backends)

    def create(self) -> str:
        return self.images().create_image(ImageDetailCreate(prompt="a red fox")).guid


def hold_renditions(renditions: Renditions) -> threading.Event:
    """Make ``renditions``' pool wait before each image until the returned event is set."""
    gate = threading.Event()
    original = renditions.make

    def held_make(*args: object, **kwargs: object) -> object:
        assert gate.wait(10)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    renditions.make = held_make  # type: ignore[method-assign,assignment]
    return gate


def test_a_rendition_is_served_with_its_own_type_size_and_etag() -> None:
    world = World()
    guid = world.create()
    content = world.images().get_image_content(guid, rendition=RenditionKind.THUMBNAIL)
    data = b"".join(content.chunks)
    assert (content.content_type, content.size_bytes) == ("image/webp", len(data))
    assert (content.width, content.height) == (256, 256)
    assert content.filename.endswith(".thumbnail.webp")
    assert content.etag != world.images().get_image_by_guid(guid).etag
    assert (
        world.images().find_image_content(guid, RenditionKind.THUMBNAIL).detail.etag == content.etag
    )


def test_a_missing_rendition_row_and_blob_are_made_on_first_request() -> None:
    world = World()
    guid = world.create()
    world.database.renditions.clear()
    world.blobs.delete(rendition_key(guid, "preview"))
    content = world.images().get_image_content(guid, rendition=RenditionKind.PREVIEW)
    assert (content.width, content.height) == (300, 300)  # never upscaled
    assert rendition_key(guid, "preview") in world.blobs.blobs
    assert len(world.database.renditions) == 2


def test_a_rendition_whose_blob_is_gone_is_made_again() -> None:
    world = World()
    guid = world.create()
    world.blobs.delete(rendition_key(guid, "thumbnail"))
    content = world.images().get_image_content(guid, rendition=RenditionKind.THUMBNAIL)
    assert b"".join(content.chunks).startswith(b"RIFF")


def test_renditions_of_an_image_deleted_meanwhile_are_not_left_behind() -> None:
    world = World()
    data = world.backends.generator.generate("a ghost").data
    with pytest.raises(RecordNotFoundError):
        world.renditions.make(4242, "00000000-0000-0000-0000-000000004242", data)
    assert world.blobs.blobs == {}


def test_the_pool_makes_them_after_the_commit_off_the_request_path() -> None:
    world = World(workers=1)
    gate = hold_renditions(world.renditions)
    first = world.create()
    assert world.images().get_image_by_guid(first).width == 300  # answered before renditions
    assert rendition_key(first, "thumbnail") not in world.blobs.blobs
    gate.set()
    world.renditions.drain()
    assert rendition_key(first, "thumbnail") in world.blobs.blobs
    world.renditions.close()


def test_a_full_pool_defers_renditions_to_the_first_request_and_counts_it() -> None:
    world = World(workers=1, max_pending=1)
    gate = hold_renditions(world.renditions)
    queued = REGISTRY.get_sample_value(COUNTER, {"result": "queued"}) or 0.0
    deferred = REGISTRY.get_sample_value(COUNTER, {"result": "deferred"}) or 0.0
    world.create()  # takes the only slot and waits at the gate
    second = world.create()
    assert REGISTRY.get_sample_value(COUNTER, {"result": "queued"}) == queued + 1
    assert REGISTRY.get_sample_value(COUNTER, {"result": "deferred"}) == deferred + 1
    gate.set()
    world.renditions.drain()
    assert rendition_key(second, "thumbnail") not in world.blobs.blobs
    content = world.images().get_image_content(second, rendition=RenditionKind.THUMBNAIL)
    assert b"".join(content.chunks).startswith(b"RIFF")
    world.renditions.close()
