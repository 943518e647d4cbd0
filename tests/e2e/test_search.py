"""Search by prompt words over HTTP (issue 14, "What it must show" 3), on MariaDB."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.init import Services
from tests.e2e.test_public_images import assert_error
from tests.support.auth import basic

pytestmark = pytest.mark.e2e
PROMPTS = ("a foxglove flower", "Fox cubs playing", "a red fox in deep snow", "a red barn")


def _create(client: TestClient, prompt: str, path: str = "/image", **extra: Any) -> str:
    response = client.post(path, json={"prompt": prompt}, **extra)
    assert response.status_code == 201, response.text
    return str(response.json()["guid"])


def _prompts(client: TestClient, url: str, **extra: Any) -> list[str]:
    response = client.get(url, **extra)
    assert response.status_code == 200, response.text
    return [item["prompt"] for item in response.json()]


def test_q_finds_word_prefixes_newest_first_and_needs_every_word(client: TestClient) -> None:
    for prompt in PROMPTS:
        _create(client, prompt)
    assert _prompts(client, "/image?q=fox") == [
        "a red fox in deep snow",
        "Fox cubs playing",
        "a foxglove flower",
    ]
    assert _prompts(client, "/image?q=FOX") == _prompts(client, "/image?q=fox")
    assert _prompts(client, "/image?q=red%20fox") == ["a red fox in deep snow"]
    assert _prompts(client, "/image?q=red") == ["a red barn", "a red fox in deep snow"]
    assert _prompts(client, "/image?q=the%20red%20fox%20in") == ["a red fox in deep snow"]
    assert _prompts(client, "/image?q=zebra") == []


def test_q_combines_with_tag_and_pages_with_link(client: TestClient) -> None:
    for n in range(5):
        client.post("/image", json={"prompt": f"a fox number {n}", "tags": ["wild"]})
    client.post("/image", json={"prompt": "a tame fox", "tags": ["pet"]})
    client.post("/image", json={"prompt": "a wild owl", "tags": ["wild"]})
    assert _prompts(client, "/image?q=fox&tag=pet") == ["a tame fox"]
    seen: list[str] = []
    url: str | None = "/image?q=fox&tag=wild&limit=2"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        seen += [item["prompt"] for item in response.json()]
        link = response.headers.get("link")
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link) if link else None
        if match:
            assert "q=fox" in match.group(1) and "tag=wild" in match.group(1)
        url = match.group(1) if match else None
    assert seen == [f"a fox number {n}" for n in range(4, -1, -1)]


def test_private_search_sees_only_the_callers_images(
    client: TestClient, services: Services
) -> None:
    services.users.add_user("searcher", "searcher-password")
    services.users.add_user("stranger", "stranger-password")
    mine = {"Authorization": basic("searcher", "searcher-password")}
    theirs = {"Authorization": basic("stranger", "stranger-password")}
    _create(client, "my secret fox", "/private/image", headers=mine)
    _create(client, "their secret fox", "/private/image", headers=theirs)
    _create(client, "a public fox")
    assert _prompts(client, "/private/image?q=secret%20fox", headers=mine) == ["my secret fox"]
    assert _prompts(client, "/image?q=secret") == []
    assert _prompts(client, "/image?q=fox") == ["a public fox"]


@pytest.mark.parametrize(
    "q", ["", "a" * 300, "a an to", "the of is with", "!!! ??", "fo"], ids=lambda q: repr(q[:12])
)
def test_a_q_with_nothing_to_search_for_is_422(client: TestClient, q: str) -> None:
    response = client.get("/image", params={"q": q})
    body = assert_error(response, 422, "validation_error")
    assert body["details"][0]["loc"][-1] == "q"


def test_a_deleted_image_is_no_longer_found(client: TestClient, services: Services) -> None:
    services.users.add_user("deleter", "deleter-password")
    auth = {"Authorization": basic("deleter", "deleter-password")}
    word = f"unique{uuid.uuid4().hex[:8]}"
    guid = _create(client, f"a {word} fox", headers=auth)
    assert _prompts(client, f"/image?q={word}") == [f"a {word} fox"]
    assert client.delete(f"/image/{guid}", headers=auth).status_code == 204
    assert _prompts(client, f"/image?q={word}") == []
