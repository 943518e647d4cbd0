"""The four public endpoints over HTTP, on MariaDB + moto S3 + the fake Images API."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from types_boto3_s3 import S3Client

from core.settings import Settings
from tests.support.openai_server import FakeImagesAPI, Mode

pytestmark = pytest.mark.e2e


def _create(client: TestClient, prompt: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"prompt": prompt or f"a red fox in snow {uuid.uuid4().hex[:6]}", **extra}
    response = client.post("/image", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The contract's error body, with the request id echoed from the header."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


def test_create_answers_201_with_location_and_the_stored_details(
    client: TestClient, openai_api: FakeImagesAPI
) -> None:
    response = client.post(
        "/image", json={"prompt": "  A red fox in snow ", "tags": ["Fox", "fox"]}
    )
    assert response.status_code == 201
    detail = response.json()
    assert response.headers["location"] == f"/image/{detail['guid']}"
    assert uuid.UUID(detail["guid"])
    assert detail["prompt"] == "A red fox in snow"
    assert detail["tags"] == ["fox"]
    assert re.fullmatch(rf"a-red-fox-in-snow-{detail['guid'][:8]}\.png", detail["filename"])
    assert detail["author"] is None and detail["private"] is False
    assert detail["content_type"] == "image/png"
    assert detail["created_at"].endswith("Z")
    assert "id" not in detail and "storage_key" not in detail
    assert len(openai_api.calls) == 1
    assert openai_api.calls[0].body["model"] == "gpt-image-1"


def test_get_by_guid_returns_what_create_returned(client: TestClient) -> None:
    created = _create(client)
    response = client.get(f"/image/{created['guid']}")
    assert response.status_code == 200
    assert response.json() == created


def test_content_streams_the_exact_bytes_that_are_in_the_bucket(
    client: TestClient, e2e_settings: Settings, s3_client: S3Client
) -> None:
    created = _create(client)
    response = client.get(f"/image/{created['guid']}/content")
    assert response.status_code == 200
    stored = s3_client.get_object(
        Bucket=str(e2e_settings.s3_bucket), Key=f"images/{created['guid']}.png"
    )["Body"].read()
    assert response.content == stored
    assert hashlib.sha256(response.content).hexdigest() == created["sha256"]
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(created["size_bytes"])
    assert response.headers["etag"] == f'"{created["sha256"]}"'
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_list_is_newest_first_with_a_next_link_until_the_end(client: TestClient) -> None:
    guids = [_create(client)["guid"] for _ in range(3)]
    first = client.get("/image", params={"limit": 2})
    assert first.status_code == 200
    assert [item["guid"] for item in first.json()] == guids[::-1][:2]
    link = first.headers["link"]
    match = re.fullmatch(r'<(/image\?[^>]+)>; rel="next"', link)
    assert match is not None
    second = client.get(match.group(1))
    assert [item["guid"] for item in second.json()] == guids[:1]
    assert "link" not in second.headers


def test_unknown_guid_is_404_with_the_error_body(client: TestClient) -> None:
    assert_error(client.get(f"/image/{uuid.uuid4()}"), 404, "record_not_found")
    assert_error(client.get(f"/image/{uuid.uuid4()}/content"), 404, "record_not_found")


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("post", "/image", {"json": {"prompt": ""}}),
        ("post", "/image", {"json": {"prompt": "   "}}),
        ("post", "/image", {"json": {"prompt": "x" * 4001}}),
        ("post", "/image", {"json": {"prompt": "ok", "colour": "red"}}),
        ("post", "/image", {"json": {"prompt": "ok", "tags": ["no spaces allowed"]}}),
        ("post", "/image", {"json": {"prompt": "ok", "tags": "fox"}}),
        ("post", "/image", {"json": ["prompt"]}),
        (
            "post",
            "/image",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
        ),
        (
            "post",
            "/image",
            {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
        ),
        ("post", "/image", {}),
        ("get", "/image/not-a-uuid", {}),
        ("get", "/image/not-a-uuid/content", {}),
        ("get", "/image", {"params": {"limit": 0}}),
        ("get", "/image", {"params": {"limit": 201}}),
        ("get", "/image", {"params": {"limit": "many"}}),
        ("get", "/image", {"params": {"cursor": "!!not-a-cursor!!"}}),
        ("get", "/image", {"params": {"cursor": "djI6MTIzOjQ1"}}),
    ],
)
def test_bad_input_is_a_422_with_details_and_stores_nothing(
    client: TestClient, openai_api: FakeImagesAPI, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    body = assert_error(getattr(client, method)(path, **kwargs), 422, "validation_error")
    assert body["details"]
    assert openai_api.calls == []
    assert client.get("/image").json() == []


def test_unknown_routes_and_methods_use_the_error_body(client: TestClient) -> None:
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.put("/image"), 405, "method_not_allowed")


def test_a_sane_request_id_is_echoed_and_a_bad_one_replaced(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("content_policy", 422, "prompt_rejected"),
        ("moderation_blocked", 422, "prompt_rejected"),
        ("rate_limit", 429, "generator_rate_limited"),
        ("server_error", 502, "generator_unavailable"),
        ("malformed", 502, "generator_unavailable"),
        ("not_image", 502, "generator_unavailable"),
        ("unauthorized", 502, "generator_unavailable"),
    ],
)
def test_generator_failures_map_to_the_contract_and_store_nothing(
    client: TestClient,
    openai_api: FakeImagesAPI,
    s3_client: S3Client,
    e2e_settings: Settings,
    mode: Mode,
    status: int,
    code: str,
) -> None:
    openai_api.set_mode(mode)
    response = client.post("/image", json={"prompt": "a fox"})
    assert_error(response, status, code)
    if mode == "rate_limit":
        assert response.headers["retry-after"] == "7"
    assert "sk-test" not in response.text
    assert client.get("/image").json() == []
    listed = s3_client.list_objects_v2(Bucket=str(e2e_settings.s3_bucket))
    assert listed.get("KeyCount", 0) == 0


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"]["backend"] == "mysql"
    assert ready.json()["blob_store"]["backend"] == "s3"


def test_openapi_documents_every_route_and_the_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/image", "/image/{guid}", "/image/{guid}/content", "/healthz", "/readyz"} <= set(
        spec["paths"]
    )
    assert "ErrorBody" in spec["components"]["schemas"]
    assert "404" in spec["paths"]["/image/{guid}"]["get"]["responses"]
