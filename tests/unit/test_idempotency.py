"""Idempotent creation in the service, with in-memory fakes of every port."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from core.exceptions import (
    DBConnectionError,
    GeneratorUnavailableError,
    IdempotencyConflictError,
    IdempotencyInProgressError,
    RecordNotFoundError,
    ValidationFailedError,
)
from core.models import ImageDetail, ImageDetailCreate
from core.records import COMPLETED, NewIdempotencyKey
from service.generation.generator import GeneratedImage, GenerationOptions
from service.idempotency import request_hash
from service.image_service import Backends
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator


class GatedGenerator(FakeImageGenerator):
    """Blocks every ``generate`` until ``gate`` is set (``started`` tells it began)."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.gate = threading.Event()

    def generate(self, prompt: str, options: GenerationOptions | None = None) -> GeneratedImage:
        self.started.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return super().generate(prompt, options)


class World:
    def __init__(self, *, ttl: float = 3600, wait: float = 5.0, gated: bool = False) -> None:
        self.database = InMemoryDatabase()
        self.blobs = InMemoryBlobStore()
        self.generator: FakeImageGenerator = GatedGenerator() if gated else FakeImageGenerator()
        self.backends = Backends(
            database=self.database,
            blobs=self.blobs,
            generator=self.generator,
            idempotency_ttl=ttl,
            idempotency_wait=wait,
        )

    def public(self, caller: str | None = None) -> PublicImageService:
        return PublicImageService(self.backends, caller)

    def private(self, owner: str) -> PrivateImageService:
        return PrivateImageService(self.backends, owner)

    def keys(self) -> list[str]:
        return [record.status for record in self.database.idempotency_keys.snapshot().values()]


def body(prompt: str = "a red fox in snow", tags: list[str] | None = None) -> ImageDetailCreate:
    return ImageDetailCreate(prompt=prompt, tags=tags or ["fox"])


def key() -> str:
    return f"key-{uuid.uuid4().hex}"


def test_a_repeat_returns_the_same_image_without_generating_again() -> None:
    world = World()
    k = key()
    first = world.public().create_image(body(), idempotency_key=k)
    second = world.public().create_image(body(), idempotency_key=k)
    assert second == first
    assert world.generator.calls == 1
    assert len(world.database.rows) == 1 and len(world.blobs.blobs) == 3  # original, renditions
    assert world.keys() == [COMPLETED]


def test_the_same_key_with_another_body_is_a_conflict() -> None:
    world = World()
    k = key()
    world.public().create_image(body(), idempotency_key=k)
    with pytest.raises(IdempotencyConflictError) as caught:
        world.public().create_image(body(tags=["owl"]), idempotency_key=k)
    assert caught.value.code == "idempotency_conflict"
    assert world.generator.calls == 1


def test_bodies_that_validate_to_the_same_request_are_the_same_request() -> None:
    world = World()
    k = key()
    first = world.public().create_image(body(" a fox ", ["Fox", "fox"]), idempotency_key=k)
    again = world.public().create_image(body("a fox", ["fox"]), idempotency_key=k)
    assert again.guid == first.guid
    assert request_hash(body(" a fox ", ["Fox"])) == request_hash(body("a fox", ["fox"]))


def test_keys_belong_to_one_scope_and_one_caller() -> None:
    world = World()
    k = key()
    made = {
        world.public().create_image(body(), idempotency_key=k).guid,
        world.public("alice").create_image(body(), idempotency_key=k).guid,
        world.public("bob").create_image(body(), idempotency_key=k).guid,
        world.private("alice").create_image(body(), idempotency_key=k).guid,
    }
    assert len(made) == 4 and world.generator.calls == 4


def test_without_a_key_every_request_generates() -> None:
    world = World()
    world.public().create_image(body())
    world.public().create_image(body())
    assert world.generator.calls == 2 and world.keys() == []


@pytest.mark.parametrize("bad", ["", " ", "a b", "x" * 129, "caf\u00e9", "tab\there", "\x7f"])
def test_invalid_keys_are_validation_errors_and_generate_nothing(bad: str) -> None:
    world = World()
    with pytest.raises(ValidationFailedError):
        world.public().create_image(body(), idempotency_key=bad)
    assert world.generator.calls == 0


def test_two_concurrent_requests_with_one_key_generate_once() -> None:
    world = World(gated=True)
    generator = world.generator
    assert isinstance(generator, GatedGenerator)
    k = key()
    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(world.public().create_image, body(), idempotency_key=k) for _ in range(4)
        ]
        assert generator.started.wait(5)
        time.sleep(0.2)  # the others are now polling the pending key
        generator.gate.set()
        results: list[ImageDetail] = [future.result(timeout=10) for future in futures]
    assert {result.guid for result in results} == {results[0].guid}
    assert generator.calls == 1
    assert len(world.database.rows) == 1 and len(world.blobs.blobs) == 3  # original, renditions


def test_a_twin_that_waits_too_long_gets_in_progress_and_no_image() -> None:
    world = World(gated=True, wait=0.2)
    generator = world.generator
    assert isinstance(generator, GatedGenerator)
    k = key()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(world.public().create_image, body(), idempotency_key=k)
        assert generator.started.wait(5)
        with pytest.raises(IdempotencyInProgressError) as caught:
            world.public().create_image(body(), idempotency_key=k)
        assert caught.value.retry_after == 1
        generator.gate.set()
        created = first.result(timeout=10)
    assert world.public().create_image(body(), idempotency_key=k) == created
    assert generator.calls == 1


def test_a_failed_generation_releases_the_key_for_a_retry() -> None:
    world = World()
    k = key()
    world.generator.fail_with = GeneratorUnavailableError()
    with pytest.raises(GeneratorUnavailableError):
        world.public().create_image(body(), idempotency_key=k)
    assert world.keys() == []
    created = world.public().create_image(body(), idempotency_key=k)
    assert world.public().create_image(body(), idempotency_key=k) == created
    assert world.generator.calls == 2


def test_a_failed_insert_leaves_no_key_no_row_and_no_blob() -> None:
    world = World()
    k = key()
    world.database.fail_next_add = DBConnectionError()
    with pytest.raises(DBConnectionError):
        world.public().create_image(body(), idempotency_key=k)
    assert world.keys() == [] and world.database.rows == {} and world.blobs.blobs == {}
    world.public().create_image(body(), idempotency_key=k)
    assert world.keys() == [COMPLETED]


def test_a_waiting_twin_takes_over_when_the_first_request_fails() -> None:
    world = World(gated=True)
    generator = world.generator
    assert isinstance(generator, GatedGenerator)
    k = key()
    generator.fail_with = GeneratorUnavailableError()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(world.public().create_image, body(), idempotency_key=k)
        assert generator.started.wait(5)
        second = pool.submit(world.public().create_image, body(), idempotency_key=k)
        time.sleep(0.2)
        generator.gate.set()
        with pytest.raises(GeneratorUnavailableError):
            first.result(timeout=10)
        created = second.result(timeout=10)
    assert generator.calls == 2
    assert list(world.database.rows) == [created.guid]


def test_an_expired_key_is_free_for_any_body() -> None:
    world = World(ttl=0.05)
    k = key()
    first = world.public().create_image(body(), idempotency_key=k)
    time.sleep(0.1)
    second = world.public().create_image(body(tags=["owl"]), idempotency_key=k)
    assert second.guid != first.guid and world.generator.calls == 2


def test_a_pending_claim_whose_lease_ran_out_is_taken_over() -> None:
    world = World()
    k = key()
    past = datetime.now(UTC) - timedelta(hours=1)
    stale = NewIdempotencyKey("public", "", k, request_hash(body()), past, past)
    with world.database.context() as db:
        db.begin_transaction()
        db.idempotency.add(stale)
        db.commit_transaction()
    created = world.public().create_image(body(), idempotency_key=k)
    assert world.generator.calls == 1 and list(world.database.rows) == [created.guid]


def test_a_replay_of_a_deleted_image_is_not_found() -> None:
    world = World()
    k = key()
    created = world.public("alice").create_image(body(), idempotency_key=k)
    world.public("alice").delete_image(created.guid)
    with pytest.raises(RecordNotFoundError, match="no longer exists"):
        world.public("alice").create_image(body(), idempotency_key=k)
    assert world.generator.calls == 1


def test_the_seed_signature_still_works() -> None:
    world = World()
    created = world.public().create_image(body())
    assert created.prompt == "a red fox in snow" and world.generator.calls == 1
