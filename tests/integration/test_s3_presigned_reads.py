"""S3 reads as presigned GETs: what moto never answers, from a scripted endpoint.

moto covers the everyday answers (``test_blob_store_contract.py``); these are the odd
ones a real bucket, a proxy or a dying server gives, and what a reader sees of each.
"""

from __future__ import annotations

import pytest

from core.exceptions import BlobStoreUnavailableError
from storage.s3 import S3BlobStore
from tests.support.s3_fixtures import make_s3_settings
from tests.support.scripted_s3 import DENIED, Answer, crc32_of, presigned, scripted_s3


def crc32_header(data: bytes) -> dict[str, str]:
    """The ``x-amz-checksum-crc32`` header S3 sends for ``data``."""
    return {"x-amz-checksum-crc32": crc32_of(data)}


@pytest.mark.parametrize("status", [200, 206])
def test_a_body_cut_short_is_unavailable_not_a_shorter_image(status: int) -> None:
    cut = Answer(status, b"abc", length=10)
    with scripted_s3([cut, Answer(200, b"0123456789")]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        with pytest.raises(BlobStoreUnavailableError, match="3 of 10 bytes"):
            b"".join(store.open("images/a.png", start=0 if status == 206 else None, end=9))
        assert b"".join(store.open("images/a.png")) == b"0123456789"
    assert all(path.startswith(f"/{store.bucket}/images/a.png?") for path in s3.requests)


def test_a_throttled_or_failing_read_is_retried_once_then_unavailable() -> None:
    slow_down = Answer(503)
    with scripted_s3([slow_down, Answer(200, b"ok"), slow_down, slow_down]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        assert b"".join(store.open("images/a.png")) == b"ok"
        with pytest.raises(BlobStoreUnavailableError, match="503"):
            store.open("images/a.png")
    assert len(s3.requests) == 4


def test_a_body_that_fails_its_checksum_is_an_error_before_any_byte_is_handed_on() -> None:
    good = Answer(200, b"image", headers=crc32_header(b"image"))
    bad = Answer(200, b"imagf", headers=crc32_header(b"image"))
    with scripted_s3([good, bad]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        assert b"".join(store.open("images/a.png")) == b"image"
        stream = store.open("images/a.png")
        with pytest.raises(BlobStoreUnavailableError, match="crc32 checksum mismatch"):
            next(stream)


def test_a_bucket_that_refuses_presigned_reads_is_read_through_get_object() -> None:
    refused = Answer(403, DENIED)
    image = Answer(200, b"image")
    with scripted_s3([refused, refused], [image, image]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        assert b"".join(store.open("images/a.png")) == b"image"
        assert not store.presigned_on
        assert b"".join(store.open("images/a.png")) == b"image"  # straight to get_object
    # Refused, refused again with a freshly signed URL, then get_object twice.
    assert presigned(s3.requests) == [True, True, False, False]


def test_a_refused_reused_url_is_signed_again_and_presigned_reads_go_on() -> None:
    with scripted_s3([Answer(403, DENIED), Answer(200, b"image")]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        assert b"".join(store.open("images/a.png")) == b"image"
        assert store.presigned_on
    assert presigned(s3.requests) == [True, True]


def test_an_error_answer_that_stalls_is_unavailable_not_a_crash() -> None:
    stalled = Answer(403, DENIED, stall=3.0)
    with scripted_s3([stalled, stalled]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url), read_timeout=0.5)
        with pytest.raises(BlobStoreUnavailableError, match="ReadTimeoutError") as caught:
            store.open("images/a.png")
    assert caught.value.__context__ is None  # no urllib3 error (and its URL) attached
