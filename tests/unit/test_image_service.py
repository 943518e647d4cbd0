"""The service core with in-memory fakes of every port: ordering, scopes, validation."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from core.exceptions import (
    AuthenticationError,
    BlobNotFoundError,
    BlobStoreUnavailableError,
    ConstraintViolationError,
    DBConnectionError,
    GeneratorUnavailableError,
    PromptException,
    PromptRejectedError,
    RangeNotSatisfiableError,
    RecordNotFoundError,
    ValidationFailedError,
)
from core.models import ImageContent, ImageDetailCreate, RangeRequest, ServiceStatus
from service.image_service import Backends
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator


class World:
    """The three fakes and the service factories over them."""

    def __init__(self) -> None:
        self.database = InMemoryDatabase()
        self.blobs = InMemoryBlobStore()
        self.generator = FakeImageGenerator()
        self.backends = Backends(database=self.database, blobs=self.blobs, generator=self.generator)

    def public(self, caller: str | None = None) -> PublicImageService:
        return PublicImageService(self.backends, caller)

    def private(self, owner: str) -> PrivateImageService:
        return PrivateImageService(self.backends, owner)

    def blob_keys(self) -> set[str]:
        return {info.key for info in self.blobs.list_blobs()}


@pytest.fixture
def world() -> World:
    return World()


def _prompt() -> ImageDetailCreate:
    return ImageDetailCreate(prompt=f"A red fox in snow {uuid.uuid4().hex[:6]}", tags=["Fox"])


def test_create_stores_the_blob_and_the_row_and_returns_the_details(world: World) -> None:
    detail = world.public().create_image(_prompt())
    assert uuid.UUID(detail.guid)
    assert re.fullmatch(rf"a-red-fox-in-snow-[0-9a-f]{{6}}-{detail.guid[:8]}\.png", detail.filename)
    assert (detail.author, detail.private, detail.tags) == (None, False, ["fox"])
    content = world.public().get_image_content(detail.guid)
    data = b"".join(content.chunks)
    assert content.content_type == "image/png" and len(data) == detail.size_bytes
    assert hashlib.sha256(data).hexdigest() == detail.sha256
    assert world.blob_keys() == {
        f"images/{detail.guid}.png",
        f"images/{detail.guid}.thumbnail.webp",
        f"images/{detail.guid}.preview.webp",
    }
    assert world.database.open_contexts == 0


def test_a_failed_commit_deletes_the_uploaded_blob(world: World) -> None:
    world.database.fail_next_commit = True
    with pytest.raises(DBConnectionError):
        world.public().create_image(_prompt())
    assert world.blob_keys() == set()
    assert world.public().get_all_images() == []


def test_a_failed_insert_deletes_the_uploaded_blob(world: World) -> None:
    world.database.fail_next_add = ConstraintViolationError()
    with pytest.raises(ConstraintViolationError):
        world.public().create_image(_prompt())
    assert world.blob_keys() == set()


def test_a_failed_upload_leaves_no_row(world: World) -> None:
    world.blobs.fail_puts = True
    with pytest.raises(BlobStoreUnavailableError):
        world.public().create_image(_prompt())
    assert world.public().get_all_images() == []


@pytest.mark.parametrize("error", [PromptRejectedError(), GeneratorUnavailableError()])
def test_a_generator_failure_stores_nothing(world: World, error: Exception) -> None:
    world.generator.fail_with = error
    with pytest.raises(type(error)):
        world.public().create_image(_prompt())
    assert world.blob_keys() == set()
    assert world.database.commits == 0


def test_bytes_that_are_not_an_image_are_refused(world: World) -> None:
    world.generator.next_bytes = b"<html>not an image</html>"
    with pytest.raises(GeneratorUnavailableError):
        world.public().create_image(_prompt())
    assert world.blob_keys() == set()


def test_input_is_revalidated_even_when_the_caller_skipped_pydantic(world: World) -> None:
    forged = ImageDetailCreate.model_construct(prompt="   ", tags=[])
    with pytest.raises(ValidationFailedError) as caught:
        world.public().create_image(forged)
    assert caught.value.details[0]["loc"] == ["prompt"]
    assert world.generator.calls == 0


@pytest.mark.parametrize("guid", ["nope", "", "1234", "g" * 36])
def test_malformed_guids_are_validation_errors(world: World, guid: str) -> None:
    with pytest.raises(ValidationFailedError):
        world.public().get_image_by_guid(guid)


def test_unknown_guid_is_not_found(world: World) -> None:
    with pytest.raises(RecordNotFoundError):
        world.public().get_image_by_guid(str(uuid.uuid4()))


def test_scopes_never_show_a_private_image_to_anyone_but_its_owner(world: World) -> None:
    mine = world.private("alice").create_image(_prompt())
    assert (mine.private, mine.author) == (True, "alice")
    assert world.private("alice").get_image_by_guid(mine.guid) == mine
    for other in (world.public(), world.public("alice"), world.private("bob")):
        with pytest.raises(RecordNotFoundError):
            other.get_image_by_guid(mine.guid)
        with pytest.raises(RecordNotFoundError):
            other.get_image_content(mine.guid)
        assert mine.guid not in {image.guid for image in other.get_all_images()}


def test_a_logged_in_public_creation_is_public_and_carries_the_author(world: World) -> None:
    detail = world.public("alice").create_image(_prompt())
    assert (detail.private, detail.author) == (False, "alice")
    assert world.public().get_image_by_guid(detail.guid) == detail


def test_listing_pages_newest_first_and_ends(world: World) -> None:
    created = [world.public().create_image(_prompt()).guid for _ in range(5)]
    first = world.public().list_images(limit=2)
    second = world.public().list_images(limit=2, cursor=first.next_cursor)
    third = world.public().list_images(limit=2, cursor=second.next_cursor)
    seen = [image.guid for page in (first, second, third) for image in page.items]
    assert seen == list(reversed(created))
    assert third.next_cursor is None


@pytest.mark.parametrize("limit", [0, -1, 201])
def test_out_of_range_limits_are_validation_errors(world: World, limit: int) -> None:
    with pytest.raises(ValidationFailedError):
        world.public().list_images(limit=limit)


def test_ranges_stream_only_the_requested_bytes(world: World) -> None:
    detail = world.public().create_image(_prompt())
    whole = b"".join(world.public().get_image_content(detail.guid).chunks)
    part = world.public().get_image_content(detail.guid, RangeRequest(start=10, end=19))
    assert isinstance(part, ImageContent) and part.content_length == 10
    assert b"".join(part.chunks) == whole[10:20]
    suffix = world.public().get_image_content(detail.guid, RangeRequest(suffix=5))
    assert b"".join(suffix.chunks) == whole[-5:]
    with pytest.raises(RangeNotSatisfiableError) as caught:
        world.public().get_image_content(detail.guid, RangeRequest(start=detail.size_bytes))
    assert caught.value.size == detail.size_bytes


def test_a_row_without_its_blob_is_a_distinct_not_found(world: World) -> None:
    detail = world.public().create_image(_prompt())
    world.blobs.delete(f"images/{detail.guid}.png")
    with pytest.raises(BlobNotFoundError):
        world.public().get_image_content(detail.guid)


def test_delete_removes_row_then_blob_for_the_author_only(world: World) -> None:
    detail = world.public("alice").create_image(_prompt())
    with pytest.raises(AuthenticationError):
        world.public().delete_image(detail.guid)
    with pytest.raises(RecordNotFoundError):
        world.public("bob").delete_image(detail.guid)
    with pytest.raises(RecordNotFoundError):
        world.private("alice").delete_image(detail.guid)
    world.public("alice").delete_image(detail.guid)
    assert world.blob_keys() == set()
    with pytest.raises(RecordNotFoundError):
        world.public().get_image_by_guid(detail.guid)


def test_status_reports_each_backend_and_the_count(world: World) -> None:
    world.public().create_image(_prompt())
    status = world.public().getShekhar()
    assert isinstance(status, ServiceStatus)
    assert status.ready and status.image_count == 1
    world.blobs.unavailable = True
    status = world.public().status()
    assert not status.ready and not status.blob_store.ok and status.database.ok


def test_an_unexpected_error_rolls_back_and_becomes_a_prompt_exception(world: World) -> None:
    world.database.fail_next_add = None
    world.database.fail_next_add = RuntimeError("boom")  # type: ignore[assignment]
    with pytest.raises(PromptException) as caught:
        world.public().create_image(_prompt())
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert world.blob_keys() == set()
    assert world.database.open_contexts == 0


def test_get_images_by_guid_reads_the_visible_ones_in_one_unit_and_validates_each(
    world: World,
) -> None:
    public = world.public().create_image(_prompt())
    hidden = world.private("alice").create_image(_prompt())
    unknown = str(uuid.uuid4())
    found = world.public().get_images_by_guid([public.guid, hidden.guid, unknown])
    assert found == {public.guid: public}
    assert world.private("alice").get_images_by_guid([public.guid, hidden.guid]) == {
        hidden.guid: hidden
    }
    assert world.public().get_images_by_guid([public.guid.upper()]) == {public.guid: public}
    with pytest.raises(ValidationFailedError):
        world.public().get_images_by_guid([public.guid, "not-a-guid"])
    assert world.database.open_contexts == 0
