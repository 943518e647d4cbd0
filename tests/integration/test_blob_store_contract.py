"""One contract for every ``BlobStore``: the in-memory fake, local files, S3 on moto."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime

import pytest

from core.exceptions import BlobNotFoundError, BlobStoreUnavailableError, RangeNotSatisfiableError
from storage.blob_store import CHUNK_SIZE, BlobStore
from storage.s3 import S3BlobStore
from tests.fakes.blobs import InMemoryBlobStore

BLOB_SIZE = 3 * CHUNK_SIZE + 123  # several chunks, the last one partial


@pytest.fixture(
    params=["memory", "local", pytest.param("s3", marks=pytest.mark.s3)],
)
def store(request: pytest.FixtureRequest) -> Iterator[BlobStore]:
    """Each implementation in turn."""
    if request.param == "memory":
        yield InMemoryBlobStore()
        return
    fixture = {"local": "local_blob_store", "s3": "s3_blob_store"}[request.param]
    blob_store: BlobStore = request.getfixturevalue(fixture)
    yield blob_store
    if isinstance(blob_store, S3BlobStore):
        # Every answer moto gave was one the presigned reads take as they are.
        assert blob_store.presigned_on


@pytest.fixture
def blob() -> bytes:
    """Random bytes, different every test."""
    return os.urandom(BLOB_SIZE)


def new_key(prefix: str = "images") -> str:
    """A key no other test uses."""
    return f"{prefix}/{secrets.token_hex(8)}.png"


def read(store: BlobStore, key: str, start: int | None = None, end: int | None = None) -> bytes:
    """The whole stream joined."""
    return b"".join(store.open(key, start=start, end=end))


def test_a_blob_reads_back_byte_exact_in_chunks_of_at_most_chunk_size(
    store: BlobStore, blob: bytes
) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    chunks = list(store.open(key))
    assert b"".join(chunks) == blob
    assert len(chunks) >= 4
    assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)


def test_a_range_from_a_to_b_returns_exactly_those_bytes_inclusive(
    store: BlobStore, blob: bytes
) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    assert read(store, key, 1000, 70_000) == blob[1000:70_001]
    assert read(store, key, 0, 0) == blob[:1]


def test_a_range_without_an_end_reads_to_the_end(store: BlobStore, blob: bytes) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    assert read(store, key, start=150_000) == blob[150_000:]


def test_a_range_of_the_last_byte_returns_that_byte(store: BlobStore, blob: bytes) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    assert read(store, key, BLOB_SIZE - 1, BLOB_SIZE - 1) == blob[-1:]


def test_an_end_past_the_size_stops_at_the_last_byte(store: BlobStore, blob: bytes) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    assert read(store, key, 200_000, BLOB_SIZE + 500) == blob[200_000:]


@pytest.mark.parametrize("offset", [0, 1, 10_000])
def test_a_start_at_or_past_the_end_raises_range_not_satisfiable_with_the_size(
    store: BlobStore, blob: bytes, offset: int
) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    with pytest.raises(RangeNotSatisfiableError) as caught:
        store.open(key, start=BLOB_SIZE + offset)
    assert caught.value.size == BLOB_SIZE


def test_an_empty_blob_reads_back_empty(store: BlobStore) -> None:
    key = new_key()
    store.put(key, b"", content_type="image/png")
    assert read(store, key) == b""
    assert store.stat(key).size == 0


def test_put_replaces_an_existing_blob(store: BlobStore, blob: bytes) -> None:
    key = new_key()
    store.put(key, b"old bytes", content_type="image/png")
    store.put(key, blob, content_type="image/png")
    assert read(store, key) == blob


def test_opening_or_stating_a_missing_key_raises_blob_not_found(store: BlobStore) -> None:
    key = new_key()
    with pytest.raises(BlobNotFoundError):
        store.open(key)
    with pytest.raises(BlobNotFoundError):
        store.open(key, start=5)
    with pytest.raises(BlobNotFoundError):
        store.stat(key)


def test_stat_reports_the_size_and_an_aware_timestamp(store: BlobStore, blob: bytes) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    info = store.stat(key)
    assert (info.key, info.size) == (key, BLOB_SIZE)
    assert isinstance(info.last_modified, datetime)
    assert info.last_modified.utcoffset() is not None


def test_a_deleted_blob_is_gone(store: BlobStore) -> None:
    key = new_key()
    store.put(key, b"bytes", content_type="image/png")
    store.delete(key)
    with pytest.raises(BlobNotFoundError):
        store.stat(key)
    with pytest.raises(BlobNotFoundError):
        store.open(key)


def test_deleting_a_missing_key_is_fine(store: BlobStore) -> None:
    store.delete(new_key())


def test_list_blobs_with_a_prefix_yields_exactly_the_keys_put_under_it(store: BlobStore) -> None:
    folder = f"images/{secrets.token_hex(6)}"
    wanted = {f"{folder}/abc1.png": 3, f"{folder}/abc2.png": 5, f"{folder}/abc/deep.png": 7}
    others = [f"{folder}/abd.png", f"other/{secrets.token_hex(6)}.png"]
    for key, size in wanted.items():
        store.put(key, b"x" * size, content_type="image/png")
    for key in others:
        store.put(key, b"y", content_type="image/png")
    assert {info.key: info.size for info in store.list_blobs(f"{folder}/ab")} == {
        **wanted,
        others[0]: 1,
    }
    assert {info.key for info in store.list_blobs(f"{folder}/abc")} == set(wanted)
    assert list(store.list_blobs(f"{folder}/nothing-here")) == []


def test_closing_a_stream_midway_releases_it_and_the_store_keeps_working(
    store: BlobStore, blob: bytes
) -> None:
    key = new_key()
    store.put(key, blob, content_type="image/png")
    for _ in range(5):
        stream = store.open(key)
        assert next(stream) == blob[:CHUNK_SIZE]
        stream.close()
        stream.close()  # twice is fine
    assert read(store, key) == blob


def test_ping_answers_on_a_healthy_store(store: BlobStore) -> None:
    store.ping()


def test_the_fake_can_refuse_puts_without_storing_anything() -> None:
    fake = InMemoryBlobStore()
    fake.fail_puts = True
    with pytest.raises(BlobStoreUnavailableError):
        fake.put("images/a.png", b"x", content_type="image/png")
    assert fake.blobs == {}
    fake.ping()


def test_the_fake_can_be_unavailable_for_every_call() -> None:
    fake = InMemoryBlobStore()
    fake.put("images/a.png", b"x", content_type="image/png")
    fake.unavailable = True
    for call in (
        lambda: fake.put("images/b.png", b"x", content_type="image/png"),
        lambda: fake.open("images/a.png"),
        lambda: fake.stat("images/a.png"),
        lambda: fake.delete("images/a.png"),
        lambda: list(fake.list_blobs()),
        fake.ping,
    ):
        with pytest.raises(BlobStoreUnavailableError):
            call()
