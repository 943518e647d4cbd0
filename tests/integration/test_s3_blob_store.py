"""What only one implementation does: S3 outages and presigning, local-file safety."""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from pydantic import SecretStr

from core.exceptions import (
    BlobNotFoundError,
    BlobStoreUnavailableError,
    PixyProxyException,
    ValidationFailedError,
)
from core.settings import Settings
from storage.blob_store import CHUNK_SIZE
from storage.init import build_blob_store
from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore
from tests.support.s3_fixtures import StoppableS3, create_bucket, make_s3_settings
from tests.support.scripted_s3 import crc32_of

OUTAGE_BUDGET_SECONDS = 15.0


def raises_unavailable_quickly(call: Callable[[], object]) -> BlobStoreUnavailableError:
    """Run ``call``; it must raise ``BlobStoreUnavailableError`` within the budget."""
    began = time.monotonic()
    with pytest.raises(BlobStoreUnavailableError) as caught:
        call()
    assert time.monotonic() - began < OUTAGE_BUDGET_SECONDS
    return caught.value


@pytest.mark.s3
def test_a_stopped_endpoint_makes_every_call_fail_fast_as_unavailable(
    stoppable_s3: StoppableS3,
) -> None:
    store = S3BlobStore(stoppable_s3.settings)
    store.put("images/a.png", b"before", content_type="image/png")
    stoppable_s3.stop()
    raises_unavailable_quickly(lambda: store.put("images/b.png", b"x", content_type="image/png"))
    raises_unavailable_quickly(lambda: store.open("images/a.png"))
    raises_unavailable_quickly(lambda: store.open("images/a.png", start=2))
    raises_unavailable_quickly(lambda: store.stat("images/a.png"))
    raises_unavailable_quickly(lambda: store.delete("images/a.png"))
    raises_unavailable_quickly(lambda: list(store.list_blobs()))
    raises_unavailable_quickly(store.ping)


@pytest.mark.s3
def test_the_same_store_recovers_when_the_endpoint_comes_back(stoppable_s3: StoppableS3) -> None:
    store = S3BlobStore(stoppable_s3.settings)
    store.put("images/a.png", b"before", content_type="image/png")
    stoppable_s3.stop()
    raises_unavailable_quickly(store.ping)
    stoppable_s3.start()
    store.ping()
    store.put("images/b.png", b"after", content_type="image/png")
    assert b"".join(store.open("images/a.png")) == b"before"
    assert b"".join(store.open("images/b.png")) == b"after"


@pytest.mark.s3
def test_constructing_against_an_unreachable_endpoint_makes_no_network_call() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        store = build_blob_store(make_s3_settings(url, s3_public_endpoint_url=url))
        assert isinstance(store, S3BlobStore)
        assert store.presigned_url("images/a.png", expires=60)
        with pytest.raises(BlockingIOError):
            listener.accept()
    raises_unavailable_quickly(store.ping)  # nothing listens there any more


@pytest.mark.s3
def test_a_missing_bucket_is_unavailable_not_a_missing_blob(moto_server: str) -> None:
    store = S3BlobStore(make_s3_settings(moto_server))
    raises_unavailable_quickly(store.ping)
    raises_unavailable_quickly(lambda: store.open("images/a.png"))
    raises_unavailable_quickly(lambda: store.put("images/a.png", b"x", content_type="image/png"))


@pytest.mark.s3
def test_a_bucket_in_another_region_answers_once_created(moto_server: str) -> None:
    settings = make_s3_settings(moto_server, aws_region="eu-west-1")
    assert create_bucket(settings) is True
    assert create_bucket(settings) is False
    S3BlobStore(settings).ping()


@pytest.mark.s3
def test_put_records_the_content_type_and_the_crc32(
    s3_settings: Settings, s3_blob_store: S3BlobStore
) -> None:
    data = os.urandom(70_000)
    s3_blob_store.put("images/a.webp", data, content_type="image/webp")
    client = boto3.client("s3", endpoint_url=s3_settings.s3_endpoint_url)
    head = client.head_object(
        Bucket=s3_blob_store.bucket, Key="images/a.webp", ChecksumMode="ENABLED"
    )
    assert head["ContentType"] == "image/webp"
    assert head["ContentLength"] == len(data)
    assert head["ChecksumCRC32"] == crc32_of(data)  # what the reads check


@pytest.mark.s3
def test_a_presigned_url_serves_the_exact_bytes(s3_blob_store: S3BlobStore) -> None:
    data = os.urandom(100_000)
    s3_blob_store.put("images/p.png", data, content_type="image/png")
    url = s3_blob_store.presigned_url("images/p.png", expires=60)
    assert url is not None
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == data


@pytest.mark.s3
def test_presigned_urls_use_the_public_endpoint_when_one_is_set(s3_settings: Settings) -> None:
    public = "http://images.example.test:9000"
    store = S3BlobStore(s3_settings.model_copy(update={"s3_public_endpoint_url": public}))
    url = store.presigned_url("images/p.png", expires=60)
    assert url is not None
    assert url.startswith(f"{public}/{s3_settings.s3_bucket}/images/p.png?")
    assert "X-Amz-Expires=60" in url


@pytest.mark.s3
def test_credentials_never_appear_in_error_messages(
    moto_server: str, stoppable_s3: StoppableS3
) -> None:
    key_id, secret = "AKIALEAKCHECK0000001", "sEcReT-leak-check/+value"
    creds: dict[str, Any] = {
        "aws_access_key_id": key_id,
        "aws_secret_access_key": SecretStr(secret),
    }
    missing_bucket = S3BlobStore(make_s3_settings(moto_server, **creds))
    down = S3BlobStore(stoppable_s3.settings.model_copy(update=creds))
    stoppable_s3.stop()
    errors: list[PixyProxyException] = []
    for store in (missing_bucket, down):
        for call in (store.ping, lambda s=store: s.open("images/a.png")):
            with pytest.raises(PixyProxyException) as caught:
                call()
            errors.append(caught.value)
    for error in errors:
        for text in (str(error), repr(error), error.message):
            assert key_id not in text
            assert secret not in text
        assert secret not in str(error.__cause__)
        # Reads are presigned GETs: the signed URL is a credential too, so it is never
        # in the error, its chain or the traceback a log line would carry.
        logged = "".join(traceback.format_exception(error))
        assert "X-Amz-Signature" not in logged
        assert key_id not in logged
        assert "X-Amz-Signature" not in str(error.__context__)


def test_build_blob_store_picks_local_files_without_a_bucket(tmp_path: Path) -> None:
    store = build_blob_store(Settings(_env_file=None, s3_bucket=None, blob_dir=tmp_path / "b"))
    assert isinstance(store, LocalBlobStore)
    assert store.backend == "local"
    assert not (tmp_path / "b").exists()  # created on first use, not at build time


@pytest.mark.parametrize(
    "key",
    ["../escape.png", "images/../../escape.png", "/etc/passwd", "images\\a.png", "", "a//b",
     "images/./a.png", ".hidden", "images/.a.png.x.tmp", "images/a.png/"],
)  # fmt: skip
def test_local_store_rejects_keys_that_could_escape_or_collide(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for call in (
        lambda: store.put(key, b"x", content_type="image/png"),
        lambda: store.open(key),
        lambda: store.stat(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValidationFailedError):
            call()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_local_put_leaves_no_temp_files(local_blob_store: LocalBlobStore) -> None:
    local_blob_store.put("images/a.png", b"x" * 100_000, content_type="image/png")
    files = [p for p in local_blob_store.root.rglob("*") if p.is_file()]
    assert files == [local_blob_store.root / "images" / "a.png"]


def test_local_file_appears_under_its_name_only_when_complete(
    local_blob_store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = local_blob_store.root / "images" / "a.png"
    seen_at_fsync: list[bool] = []
    real_fsync = os.fsync

    def spying_fsync(fd: int) -> None:
        seen_at_fsync.append(target.exists())
        real_fsync(fd)

    monkeypatch.setattr("storage.local.os.fsync", spying_fsync)
    local_blob_store.put("images/a.png", b"complete", content_type="image/png")
    assert seen_at_fsync[0] is False
    assert target.read_bytes() == b"complete"


def test_a_crash_before_the_rename_keeps_the_old_blob_and_no_temp_file(
    local_blob_store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_blob_store.put("images/a.png", b"old", content_type="image/png")

    def failing_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("storage.local.os.replace", failing_replace)
    with pytest.raises(BlobStoreUnavailableError):
        local_blob_store.put("images/a.png", b"new and longer", content_type="image/png")
    with pytest.raises(BlobStoreUnavailableError):
        local_blob_store.put("images/b.png", b"new", content_type="image/png")
    assert b"".join(local_blob_store.open("images/a.png")) == b"old"
    with pytest.raises(BlobNotFoundError):
        local_blob_store.stat("images/b.png")
    assert [p.name for p in local_blob_store.root.rglob("*") if p.is_file()] == ["a.png"]


def test_local_listing_skips_writes_in_progress(local_blob_store: LocalBlobStore) -> None:
    local_blob_store.put("images/a.png", b"x", content_type="image/png")
    (local_blob_store.root / "images" / ".b.png.k3j.tmp").write_bytes(b"half")
    assert [info.key for info in local_blob_store.list_blobs()] == ["images/a.png"]


def test_local_ping_creates_the_folder_and_fails_when_it_cannot(tmp_path: Path) -> None:
    LocalBlobStore(tmp_path / "new" / "blobs").ping()
    assert (tmp_path / "new" / "blobs").is_dir()
    (tmp_path / "a-file").write_bytes(b"")
    raises_unavailable_quickly(LocalBlobStore(tmp_path / "a-file").ping)


@pytest.mark.s3
def test_streams_closed_midway_never_leave_bytes_for_the_next_read(
    s3_settings: Settings,
) -> None:
    # No retry to hide a pooled connection with unread bytes on it.
    store = S3BlobStore(s3_settings, max_attempts=1)
    data = os.urandom(3 * CHUNK_SIZE + 7)
    store.put("images/big.png", data, content_type="image/png")
    for _ in range(4):
        stream = store.open("images/big.png")
        next(stream)
        stream.close()
        assert b"".join(store.open("images/big.png", start=5, end=9)) == data[5:10]
    assert b"".join(store.open("images/big.png")) == data
    assert store.presigned_on
