"""Walking ``Link: rel="next"`` over HTTP visits every image exactly once.

Images created during the walk are newer than every cursor, so they never show up in
it and never push an older image into a second visit (unlike OFFSET paging).
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_public_images import assert_error

pytestmark = pytest.mark.e2e

NEXT = re.compile(r'<([^>]+)>; rel="next"')


def _create(
    client: TestClient, path: str = "/image", tags: list[str] | None = None, **kwargs: Any
) -> str:
    body = {"prompt": f"a red fox in snow {uuid.uuid4().hex[:6]}", "tags": tags or []}
    response = client.post(path, json=body, **kwargs)
    assert response.status_code == 201, response.text
    return str(response.json()["guid"])


def _walk(
    client: TestClient, url: str, during: Callable[[], object] = lambda: None, **kwargs: Any
) -> list[str]:
    """Follow next links from ``url``; call ``during`` after every page."""
    seen: list[str] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, **kwargs)
        assert response.status_code == 200, response.text
        seen += [item["guid"] for item in response.json()]
        match = NEXT.fullmatch(response.headers.get("link", ""))
        next_url = match.group(1) if match else None
        during()
    return seen


def test_walking_next_links_visits_every_image_once_while_new_ones_arrive(
    client: TestClient,
) -> None:
    existing = [_create(client, tags=["fox"] if n % 2 else ["owl"]) for n in range(11)]
    added: list[str] = []
    seen = _walk(client, "/image?limit=3", during=lambda: added.append(_create(client)))
    assert seen == existing[::-1]  # newest first, each once, none of the newcomers
    assert len(added) == 4
    assert _walk(client, "/image?limit=200")[: len(added)] == added[::-1]


def test_a_walk_is_exact_while_another_client_keeps_creating(client: TestClient) -> None:
    existing = [_create(client) for _ in range(9)]
    stop = threading.Event()
    added: list[str] = []

    def keep_creating() -> None:
        while not stop.is_set():
            added.append(_create(client))

    with ThreadPoolExecutor(1) as pool:
        creator = pool.submit(keep_creating)
        while not added:  # the creator is running before the walk starts
            time.sleep(0.01)
        seen = _walk(client, "/image?limit=2", during=lambda: time.sleep(0.02))
        stop.set()
        creator.result(timeout=10)
    assert [guid for guid in seen if guid in existing] == existing[::-1]
    assert len(seen) == len(set(seen))  # nobody twice
    assert set(seen) - set(existing) <= set(added)  # newcomers seen only before the walk passed


def test_a_tag_filtered_walk_keeps_its_filter_and_visits_each_match_once(
    client: TestClient,
) -> None:
    foxes = [_create(client, tags=["fox", "snow"]) for _ in range(5)]
    _create(client, tags=["owl"])
    seen = _walk(
        client, "/image?limit=2&tag=fox", during=lambda: foxes.append(_create(client, tags=["fox"]))
    )
    assert seen == foxes[:5][::-1]
    assert _walk(client, "/image?limit=2&tag=fox&tag=snow") == foxes[:5][::-1]


def test_a_private_walk_visits_each_of_the_owners_images_once(
    client: TestClient, make_user: Callable[[], tuple[str, str]]
) -> None:
    alice, bob = make_user(), make_user()
    mine = [_create(client, "/private/image", auth=alice) for _ in range(5)]
    _create(client, "/private/image", auth=bob)
    seen = _walk(
        client,
        "/private/image?limit=2",
        during=lambda: _create(client, "/private/image", auth=alice),
        auth=alice,
    )
    assert seen == mine[::-1]


def test_a_tampered_cursor_is_a_422(client: TestClient) -> None:
    for _ in range(3):
        _create(client)
    link = client.get("/image?limit=1").headers["link"]
    match = NEXT.fullmatch(link)
    assert match is not None
    cursor = re.search(r"cursor=([^&]+)", match.group(1))
    assert cursor is not None
    raw = base64.urlsafe_b64decode(cursor.group(1) + "==").decode()
    version, micros, row_id, check = raw.split(":")
    forged = f"{version}:{micros}:{int(row_id) + 1}:{check}"
    tampered = base64.urlsafe_b64encode(forged.encode()).rstrip(b"=").decode()
    body = assert_error(client.get(f"/image?cursor={tampered}"), 422, "validation_error")
    assert body["details"][0]["loc"] == ["query", "cursor"]
