"""S3 uploads as presigned PUTs: what is sent, and the answers moto never gives.

moto covers the everyday round trip (``test_blob_store_contract.py``, and the CRC32 it
stores in ``test_s3_blob_store.py``); a scripted endpoint shows the request itself and
the refusals, throttling and failures of a real bucket.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.config import Config

from core.exceptions import BlobStoreUnavailableError
from storage.s3 import S3BlobStore
from storage.s3_writes import UploadSigner
from tests.support.s3_fixtures import make_s3_settings
from tests.support.scripted_s3 import DENIED, Answer, crc32_of, presigned, scripted_s3


def test_an_upload_is_one_presigned_put_with_its_type_and_crc32_signed() -> None:
    data = os.urandom(50_000)
    with scripted_s3([Answer(200)]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        store.put("images/a.png", data, content_type="image/png")
    [upload] = s3.uploads
    path, query = urlsplit(upload.path)[2:4]
    assert path == f"/{store.bucket}/images/a.png"
    signed = parse_qs(query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-type", "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm"} <= set(signed)
    headers = {name.lower(): value for name, value in upload.headers.items()}
    assert headers["content-type"] == "image/png"
    assert headers["x-amz-checksum-crc32"] == crc32_of(data)
    assert headers["x-amz-sdk-checksum-algorithm"] == "CRC32"
    assert upload.body == data


def test_a_bucket_that_refuses_presigned_uploads_gets_them_through_put_object() -> None:
    with scripted_s3([Answer(403, DENIED)], [Answer(200), Answer(200)]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        store.put("images/a.png", b"first", content_type="image/png")
        assert not store.presigned_on
        store.put("images/b.png", b"second", content_type="image/png")  # put_object at once
    # Refused, then put_object for it and for the next upload.
    assert presigned(s3.requests) == [True, False, False]
    assert [upload.body for upload in s3.uploads] == [b"first", b"first", b"second"]


def test_a_throttled_upload_is_retried_once_then_unavailable_without_its_url() -> None:
    slow_down = Answer(503, b"<Error><Code>SlowDown</Code></Error>")
    with scripted_s3([slow_down, Answer(200), slow_down, slow_down]) as s3:
        store = S3BlobStore(make_s3_settings(s3.url))
        store.put("images/a.png", b"image", content_type="image/png")
        with pytest.raises(BlobStoreUnavailableError, match="SlowDown") as caught:
            store.put("images/b.png", b"image", content_type="image/png")
        assert store.presigned_on  # throttling is no refusal of presigned URLs
    assert len(s3.uploads) == 4
    assert "X-Amz-Signature" not in str(caught.value)
    assert caught.value.__context__ is None  # no urllib3 error (and its URL) attached


UPLOAD_HEADERS = {
    "Content-Type": "image/png",
    "x-amz-checksum-crc32": "AAAAAA==",
    "x-amz-sdk-checksum-algorithm": "CRC32",
}


@pytest.mark.parametrize(
    ("endpoint", "region", "addressing", "token"),
    [
        ("http://127.0.0.1:9000", "us-east-1", "path", None),  # MinIO, moto
        (None, "eu-west-1", "auto", None),  # AWS: virtual-host addressing
        (None, "us-west-2", "virtual", "session-token"),  # temporary credentials
    ],
)
@pytest.mark.parametrize("key", ["images/0b5e.png", "images/a b+c~é.thumbnail.webp"])
def test_upload_urls_are_the_ones_the_client_itself_signs(
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str | None,
    region: str,
    addressing: Literal["auto", "virtual", "path"],
    token: str | None,
    key: str,
) -> None:
    # One instant for both signatures, so that equal URLs mean equal signing.
    now = datetime(2026, 12, 7, 2, 0, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now)
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        aws_session_token=token,
        region_name=region,
    )
    client = session.client(
        "s3",
        endpoint_url=endpoint,
        config=Config(signature_version="s3v4", s3={"addressing_style": addressing}),
    )
    signer = UploadSigner(client, "pixy-bucket", session.get_credentials())
    params = {"ContentType": "image/png", "ChecksumAlgorithm": "CRC32", "ChecksumCRC32": "AAAAAA=="}
    theirs = client.generate_presigned_url(
        "put_object", Params={"Bucket": "pixy-bucket", "Key": key, **params}, ExpiresIn=300
    )
    assert signer.url(key, UPLOAD_HEADERS) == theirs


def test_without_credentials_an_upload_is_unavailable_not_a_botocore_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with scripted_s3([]) as s3:
        settings = make_s3_settings(s3.url).model_copy(
            update={"aws_access_key_id": None, "aws_secret_access_key": None}
        )
        store = S3BlobStore(settings)
        with pytest.raises(BlobStoreUnavailableError, match="NoCredentialsError"):
            store.put("images/a.png", b"image", content_type="image/png")
    assert s3.requests == []  # nothing unsigned was sent
