"""``Idempotency-Key`` over HTTP, counting the calls that reach the fake Images API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from service.init import build_services
from tests.e2e.test_public_images import assert_error
from tests.support.openai_server import FakeImagesAPI
from web.app import create_app

pytestmark = pytest.mark.e2e


def _key() -> str:
    return f"retry-{uuid.uuid4().hex}"


def _body() -> dict[str, Any]:
    return {"prompt": f"a red fox in snow {uuid.uuid4().hex[:6]}", "tags": ["fox"]}


def _count(admin: MySQLConnectionAbstract, table: str) -> int:
    cursor = admin.cursor()
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    (count,) = cursor.fetchone()  # type: ignore[misc]
    cursor.close()
    return int(str(count))


def test_a_repeat_with_the_same_key_and_body_returns_the_same_201_without_generating(
    client: TestClient, openai_api: FakeImagesAPI, mysql_admin: MySQLConnectionAbstract
) -> None:
    key, body = _key(), _body()
    first = client.post("/image", json=body, headers={"Idempotency-Key": key})
    again = client.post("/image", json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert len(openai_api.calls) == 1
    assert _count(mysql_admin, "images") == 1


def test_two_concurrent_requests_with_the_same_key_generate_once(
    client: TestClient,
    openai_api: FakeImagesAPI,
    mysql_admin: MySQLConnectionAbstract,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openai_api, "hang_seconds", 0.6)
    openai_api.set_mode("timeout", times=1)  # the first generation takes 0.6 s
    key, body = _key(), _body()

    def post() -> Any:
        return client.post("/image", json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: post(), range(3)))
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]
    assert len({r.json()["guid"] for r in responses}) == 1
    assert len({r.headers["location"] for r in responses}) == 1
    assert len(openai_api.calls) == 1
    assert _count(mysql_admin, "images") == 1


def test_the_same_key_with_another_body_is_409_and_generates_nothing_more(
    client: TestClient, openai_api: FakeImagesAPI
) -> None:
    key = _key()
    assert client.post("/image", json=_body(), headers={"Idempotency-Key": key}).status_code == 201
    other = client.post("/image", json=_body(), headers={"Idempotency-Key": key})
    assert_error(other, 409, "idempotency_conflict")
    assert len(openai_api.calls) == 1


def test_private_keys_are_per_user_and_repeat_with_their_location(
    client: TestClient, openai_api: FakeImagesAPI, make_user: Callable[[], tuple[str, str]]
) -> None:
    alice, bob = make_user(), make_user()
    key, body = _key(), _body()
    first = client.post("/private/image", json=body, headers={"Idempotency-Key": key}, auth=alice)
    again = client.post("/private/image", json=body, headers={"Idempotency-Key": key}, auth=alice)
    bobs = client.post("/private/image", json=body, headers={"Idempotency-Key": key}, auth=bob)
    public = client.post("/image", json=body, headers={"Idempotency-Key": key})
    assert [r.status_code for r in (first, again, bobs, public)] == [201] * 4
    assert again.json() == first.json()
    assert again.headers["location"] == f"/private/image/{first.json()['guid']}"
    assert len({first.json()["guid"], bobs.json()["guid"], public.json()["guid"]}) == 3
    assert len(openai_api.calls) == 3


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "caf\u00e9"])
def test_an_invalid_key_is_422_and_generates_nothing(
    client: TestClient, openai_api: FakeImagesAPI, bad: str
) -> None:
    raw = bad.encode("latin-1")
    response = client.post("/image", json=_body(), headers=[(b"idempotency-key", raw)])
    body = assert_error(response, 422, "validation_error")
    assert any("Idempotency-Key" in str(detail["loc"]) for detail in body["details"])
    assert openai_api.calls == []


def test_a_key_of_128_visible_characters_is_accepted(client: TestClient) -> None:
    key = "~!" * 64
    assert client.post("/image", json=_body(), headers={"Idempotency-Key": key}).status_code == 201


@pytest.fixture
def short_lived_client(
    e2e_settings: Settings, mysql_clean: None, openai_api: FakeImagesAPI
) -> Iterator[TestClient]:
    """The app with IDEMPOTENCY_TTL=1."""
    services = build_services(e2e_settings.model_copy(update={"idempotency_ttl": 1}))
    with TestClient(create_app(services=services)) as test_client:
        yield test_client
    services.close()


def test_a_key_expires_after_idempotency_ttl(
    short_lived_client: TestClient, openai_api: FakeImagesAPI
) -> None:
    key = _key()
    first = short_lived_client.post("/image", json=_body(), headers={"Idempotency-Key": key})
    time.sleep(1.1)
    again = short_lived_client.post("/image", json=_body(), headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["guid"] != first.json()["guid"]
    assert len(openai_api.calls) == 2


def test_openapi_documents_the_header_and_the_409(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/image", "/private/image"):
        post = spec["paths"][path]["post"]
        names = [p["name"] for p in post.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names
        assert "409" in post["responses"]
