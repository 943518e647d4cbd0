"""The service's metrics (service/metrics.py): outcomes, compensating deletes, connections."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from core.exceptions import (
    DBConnectionError,
    GeneratorRateLimitError,
    GeneratorTimeoutError,
    GeneratorUnavailableError,
    PixyProxyException,
    PromptRejectedError,
    RateLimitedError,
)
from core.models import ImageDetailCreate
from service.image_service import Backends
from service.metrics import generation_outcome
from service.public_images import PublicImageService
from service.transaction import transaction
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator


def sample(name: str, **labels: str) -> float:
    """The current value of one sample of the default registry (0 when absent)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class World:
    def __init__(self) -> None:
        self.database = InMemoryDatabase()
        self.blobs = InMemoryBlobStore()
        self.generator = FakeImageGenerator()
        self.backends = Backends(database=self.database, blobs=self.blobs, generator=self.generator)
        self.images = PublicImageService(self.backends)


@pytest.fixture
def world() -> World:
    return World()


def _prompt() -> ImageDetailCreate:
    return ImageDetailCreate(prompt="a secret prompt about foxes")


def test_a_generation_that_works_is_counted_and_timed_as_ok(world: World) -> None:
    before = sample("pixyproxy_generations_total", outcome="ok")
    timed = sample("pixyproxy_generation_duration_seconds_count", outcome="ok")
    world.images.create_image(_prompt())
    assert sample("pixyproxy_generations_total", outcome="ok") == before + 1
    assert sample("pixyproxy_generation_duration_seconds_count", outcome="ok") == timed + 1


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (PromptRejectedError(), "rejected"),
        (GeneratorRateLimitError(), "rate_limited"),
        (GeneratorTimeoutError(), "timeout"),
        (GeneratorUnavailableError(), "error"),
        (RuntimeError("driver bug"), "error"),
    ],
)
def test_a_failed_generation_is_counted_by_its_outcome(
    world: World, error: Exception, outcome: str
) -> None:
    world.generator.fail_with = error
    before = sample("pixyproxy_generations_total", outcome=outcome)
    timed = sample("pixyproxy_generation_duration_seconds_count", outcome=outcome)
    with pytest.raises(type(error)):
        world.images.create_image(_prompt())
    assert sample("pixyproxy_generations_total", outcome=outcome) == before + 1
    assert sample("pixyproxy_generation_duration_seconds_count", outcome=outcome) == timed + 1


def test_bytes_that_are_no_image_count_as_an_error(world: World) -> None:
    world.generator.next_bytes = b"not an image"
    before = sample("pixyproxy_generations_total", outcome="error")
    with pytest.raises(GeneratorUnavailableError):
        world.images.create_image(_prompt())
    assert sample("pixyproxy_generations_total", outcome="error") == before + 1


def test_our_own_creation_limit_counts_as_rate_limited() -> None:
    assert generation_outcome(RateLimitedError(retry_after=3)) == "rate_limited"
    assert generation_outcome(None) == "ok"
    assert generation_outcome(PixyProxyException()) == "error"


def test_a_blob_deleted_after_a_failed_commit_is_a_compensating_delete(world: World) -> None:
    ok = sample("pixyproxy_blob_compensating_deletes_total", result="ok")
    world.database.fail_next_commit = True
    with pytest.raises(DBConnectionError):
        world.images.create_image(_prompt())
    assert sample("pixyproxy_blob_compensating_deletes_total", result="ok") == ok + 1


def test_a_compensating_delete_that_fails_is_counted_as_failed(world: World) -> None:
    failed = sample("pixyproxy_blob_compensating_deletes_total", result="failed")
    world.database.fail_next_commit = True
    world.blobs.fail_deletes = True
    with pytest.raises(DBConnectionError):
        world.images.create_image(_prompt())
    assert sample("pixyproxy_blob_compensating_deletes_total", result="failed") == failed + 1


def test_a_normal_delete_is_not_a_compensating_one(world: World) -> None:
    alice = PublicImageService(world.backends, "alice")
    created = alice.create_image(_prompt())
    ok = sample("pixyproxy_blob_compensating_deletes_total", result="ok")
    alice.delete_image(created.guid)
    assert list(world.blobs.list_blobs()) == []
    assert sample("pixyproxy_blob_compensating_deletes_total", result="ok") == ok


def test_a_unit_of_work_holds_one_connection_until_it_ends(world: World) -> None:
    def in_use() -> float:
        return sample("pixyproxy_db_connections_in_use", backend=world.database.backend)

    before = in_use()
    with transaction(world.database):
        assert in_use() == before + 1
    assert in_use() == before
    with pytest.raises(DBConnectionError), transaction(world.database):
        raise DBConnectionError
    assert in_use() == before
