"""Options, metadata and renditions over HTTP (issue 14, "What it must show" 1, 2 and 4).

On MariaDB + moto's S3 server + a fake Images API that draws at the requested size.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mysql.connector.abstracts import MySQLConnectionAbstract
from PIL import Image
from types_boto3_s3 import S3Client

from core.settings import Settings
from service.init import Services, build_reconciler, build_services
from tests.e2e.test_consistency import rejecting_trigger  # noqa: F401 - a fixture
from tests.e2e.test_public_images import assert_error
from tests.support.auth import basic
from tests.support.openai_server import FakeImagesAPI
from web.app import create_app

pytestmark = pytest.mark.e2e
PUBLIC_CACHE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def sized_api() -> Iterator[FakeImagesAPI]:
    """A fake Images API that draws at the requested size, as the real one does."""
    with FakeImagesAPI(image_size=None) as server:
        yield server


@pytest.fixture
def sized(
    e2e_settings: Settings, sized_api: FakeImagesAPI, mysql_clean: None
) -> Iterator[Services]:
    """Services on MariaDB + S3 whose generator is that API."""
    sized_api.reset()
    settings = e2e_settings.model_copy(
        update={"openai_base_url": sized_api.base_url, "openai_timeout": 30.0}
    )
    services = build_services(settings)
    yield services
    services.close()


@pytest.fixture
def http(sized: Services) -> Iterator[TestClient]:
    """An HTTP client on the app built on ``sized``."""
    with TestClient(create_app(services=sized), raise_server_exceptions=False) as client:
        yield client


def _create(client: TestClient, path: str = "/image", **body: Any) -> dict[str, Any]:
    body.setdefault("prompt", f"a red fox in deep snow {uuid.uuid4().hex[:6]}")
    response = client.post(path, json=body, headers=body.pop("headers", None) or {})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _bucket_keys(s3_client: S3Client, settings: Settings) -> set[str]:
    listed = s3_client.list_objects_v2(Bucket=str(settings.s3_bucket))
    return {item["Key"] for item in listed.get("Contents", [])}


def _pixels(data: bytes) -> tuple[str | None, tuple[int, int]]:
    image = Image.open(io.BytesIO(data))
    return image.format, image.size


def test_a_wide_low_quality_image_records_what_was_asked_and_what_was_stored(
    http: TestClient, sized_api: FakeImagesAPI
) -> None:
    detail = _create(http, prompt="a red fox in deep snow", size="1536x1024", quality="low")
    assert (detail["width"], detail["height"]) == (1536, 1024)
    assert (detail["size"], detail["quality"], detail["model"]) == (
        "1536x1024",
        "low",
        "gpt-image-1",
    )
    assert 20 <= len(detail["blurhash"]) <= 30
    assert detail["usage"] == {"input_tokens": 6, "output_tokens": 408, "total_tokens": 414}
    assert detail["revised_prompt"] is None
    [call] = sized_api.calls
    assert (call.body["size"], call.body["quality"]) == ("1536x1024", "low")
    assert http.get(f"/image/{detail['guid']}").json() == detail
    content = http.get(f"/image/{detail['guid']}/content")
    assert _pixels(content.content) == ("PNG", (1536, 1024))
    assert hashlib.sha256(content.content).hexdigest() == detail["sha256"]
    listed = http.get("/image").json()
    assert listed[0]["blurhash"] == detail["blurhash"]


@pytest.mark.parametrize(("field", "value"), [("size", "512x512"), ("quality", "hd")])
def test_an_unsupported_size_or_quality_is_422(
    http: TestClient, sized_api: FakeImagesAPI, field: str, value: str
) -> None:
    response = http.post("/image", json={"prompt": "a fox", field: value})
    body = assert_error(response, 422, "validation_error")
    assert body["details"][0]["loc"][-1] == field
    assert sized_api.calls == []


def test_the_defaults_come_from_the_settings(http: TestClient) -> None:
    detail = _create(http)
    assert (detail["size"], detail["quality"]) == ("1024x1024", "auto")
    assert (detail["width"], detail["height"]) == (1024, 1024)


@pytest.mark.parametrize(("kind", "size"), [("thumbnail", (256, 171)), ("preview", (1024, 683))])
def test_renditions_are_webp_with_the_longest_side_and_the_delivery_of_content(
    http: TestClient, kind: str, size: tuple[int, int]
) -> None:
    guid = _create(http, size="1536x1024", quality="low")["guid"]
    path = f"/image/{guid}/{kind}"
    full = http.get(path)
    assert full.status_code == 200
    assert full.headers["content-type"] == "image/webp"
    assert _pixels(full.content) == ("WEBP", size)
    etag = full.headers["etag"]
    assert etag == f'"{hashlib.sha256(full.content).hexdigest()}"'
    assert full.headers["cache-control"] == PUBLIC_CACHE
    assert full.headers["content-length"] == str(len(full.content))
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-disposition"].endswith(f'.{kind}.webp"')
    assert full.headers["last-modified"]
    not_modified = http.get(path, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == etag
    partial = http.get(path, headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206
    assert partial.content == full.content[:100]
    assert partial.headers["content-range"] == f"bytes 0-99/{len(full.content)}"
    beyond = http.get(path, headers={"Range": f"bytes={len(full.content)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(full.content)}"
    head = http.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == etag
    assert head.headers["content-length"] == str(len(full.content))
    assert http.get(f"/image/{guid}/content").headers["etag"] != etag  # the original's own


def test_a_square_image_is_never_upscaled(http: TestClient) -> None:
    guid = _create(http, size="1024x1024", quality="low")["guid"]
    assert _pixels(http.get(f"/image/{guid}/preview").content) == ("WEBP", (1024, 1024))
    assert _pixels(http.get(f"/image/{guid}/thumbnail").content) == ("WEBP", (256, 256))


def test_an_unknown_guid_or_rendition_is_refused(http: TestClient) -> None:
    assert_error(http.get(f"/image/{uuid.uuid4()}/thumbnail"), 404, "record_not_found")
    assert http.head(f"/image/{uuid.uuid4()}/preview").status_code == 404
    guid = _create(http, size="1024x1024", quality="low")["guid"]
    assert_error(http.get(f"/image/{guid}/poster"), 404, "not_found")


def test_private_renditions_follow_private_visibility(http: TestClient, sized: Services) -> None:
    sized.users.add_user("rendition-owner", "owner-password-1")
    sized.users.add_user("rendition-other", "other-password-1")
    owner = {"Authorization": basic("rendition-owner", "owner-password-1")}
    other = {"Authorization": basic("rendition-other", "other-password-1")}
    guid = _create(http, "/private/image", size="1024x1536", quality="low", headers=owner)["guid"]
    mine = http.get(f"/private/image/{guid}/thumbnail", headers=owner)
    assert mine.status_code == 200
    assert _pixels(mine.content) == ("WEBP", (171, 256))
    assert mine.headers["cache-control"] == "private, max-age=0, must-revalidate"
    assert_error(
        http.get(f"/private/image/{guid}/thumbnail", headers=other), 404, "record_not_found"
    )
    assert_error(http.get(f"/image/{guid}/thumbnail"), 404, "record_not_found")
    assert_error(http.get(f"/image/{guid}/preview", headers=owner), 404, "record_not_found")
    assert http.get(f"/private/image/{guid}/preview").status_code == 401


def test_delete_removes_the_original_and_every_rendition(
    http: TestClient, sized: Services, s3_client: S3Client, e2e_settings: Settings
) -> None:
    sized.users.add_user("rendition-deleter", "deleter-password-1")
    auth = {"Authorization": basic("rendition-deleter", "deleter-password-1")}
    guid = _create(http, size="1024x1024", quality="low", headers=auth)["guid"]
    assert http.get(f"/image/{guid}/preview").status_code == 200
    sized.backends.renditions.drain()  # type: ignore[union-attr]
    assert {key for key in _bucket_keys(s3_client, e2e_settings) if guid in key} == {
        f"images/{guid}.png",
        f"images/{guid}.thumbnail.webp",
        f"images/{guid}.preview.webp",
    }
    assert http.delete(f"/image/{guid}", headers=auth).status_code == 204
    assert {key for key in _bucket_keys(s3_client, e2e_settings) if guid in key} == set()
    assert_error(http.get(f"/image/{guid}/thumbnail"), 404, "record_not_found")


def test_a_rejected_insert_leaves_no_original_and_no_rendition(
    http: TestClient,
    rejecting_trigger: None,  # noqa: F811 - the fixture imported above
    sized: Services,
    s3_client: S3Client,
    e2e_settings: Settings,
) -> None:
    response = http.post("/image", json={"prompt": "a refused fox", "size": "1536x1024"})
    assert_error(response, 409, "constraint_violation")
    sized.backends.renditions.drain()  # type: ignore[union-attr]
    assert _bucket_keys(s3_client, e2e_settings) == set()


def test_reconcile_knows_every_key_of_an_image_and_removes_an_orphaned_rendition(
    http: TestClient,
    sized: Services,
    s3_client: S3Client,
    e2e_settings: Settings,
    mysql_admin: MySQLConnectionAbstract,
) -> None:
    guid = _create(http, size="1024x1024", quality="low")["guid"]
    assert http.get(f"/image/{guid}/thumbnail").status_code == 200
    sized.backends.renditions.drain()  # type: ignore[union-attr]
    orphan = f"images/{uuid.uuid4()}.thumbnail.webp"
    s3_client.put_object(Bucket=str(e2e_settings.s3_bucket), Key=orphan, Body=b"RIFF....WEBP")
    reconciler = build_reconciler(e2e_settings)
    try:
        report = reconciler.run(grace=timedelta(0))
    finally:
        reconciler.close()
    assert report.orphan_blobs == [orphan]
    assert report.dangling_rows == []
    assert {key for key in _bucket_keys(s3_client, e2e_settings) if guid in key} == {
        f"images/{guid}.png",
        f"images/{guid}.thumbnail.webp",
        f"images/{guid}.preview.webp",
    }
    assert orphan not in _bucket_keys(s3_client, e2e_settings)


def test_a_missing_rendition_is_made_on_its_first_request(
    http: TestClient,
    sized: Services,
    mysql_admin: MySQLConnectionAbstract,
    s3_client: S3Client,
    e2e_settings: Settings,
) -> None:
    guid = _create(http, size="1024x1024", quality="low")["guid"]
    sized.backends.renditions.drain()  # type: ignore[union-attr]
    first = http.get(f"/image/{guid}/thumbnail")
    cursor = mysql_admin.cursor()
    cursor.execute("DELETE FROM image_renditions")  # as if made before renditions existed
    cursor.close()
    s3_client.delete_object(Bucket=str(e2e_settings.s3_bucket), Key=f"images/{guid}.thumbnail.webp")
    again = http.get(f"/image/{guid}/thumbnail")
    assert again.status_code == 200
    assert again.content == first.content  # WebP encoding is deterministic
    assert f"images/{guid}.thumbnail.webp" in _bucket_keys(s3_client, e2e_settings)
    s3_client.delete_object(Bucket=str(e2e_settings.s3_bucket), Key=f"images/{guid}.preview.webp")
    assert http.get(f"/image/{guid}/preview").status_code == 200  # its row, not its blob
