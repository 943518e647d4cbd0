"""The gallery's pages over HTTP (no browser): statuses, headers, errors, scopes.

Runs the app on embedded SQLite and local blobs, as ``make run`` does by default.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.models import ImageDetail
from tests.support.gallery_app import build_gallery_services, seed
from web.app import create_app

pytestmark = pytest.mark.e2e

ALICE = ("alice", "alice-pages-pw")
BOB = ("bob", "bob-pages-pw")


def basic(user: tuple[str, str]) -> dict[str, str]:
    """An ``Authorization`` header for ``user``."""
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Seeded:
    """Images made before the tests: public ones (one by alice), and private ones."""

    public: list[ImageDetail]
    alices_public: ImageDetail
    alices_private: list[ImageDetail]
    bobs_private: list[ImageDetail]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Seeded]]:
    """A client on the app and what was seeded into it."""
    app = build_gallery_services(Path(tmp_path_factory.mktemp("pages")))
    for name, password in (ALICE, BOB):
        app.services.users.add_user(name, password)
    data = Seeded()
    data.public = seed(app.services, [(f"public picture {n}", ["pages"]) for n in range(3)])
    data.alices_public = seed(app.services, [("alice shows a comet", ["space"])], owner="alice")[0]
    data.alices_private = seed(
        app.services, [("alice keeps a diary", [])], owner="alice", private=True
    )
    data.bobs_private = seed(app.services, [("bob hides a map", [])], owner="bob", private=True)
    with TestClient(create_app(services=app.services), raise_server_exceptions=False) as client:
        yield client, data
    app.services.close()


@pytest.fixture
def client(seeded: tuple[TestClient, Seeded]) -> TestClient:
    """The client on the seeded app."""
    return seeded[0]


@pytest.fixture
def data(seeded: tuple[TestClient, Seeded]) -> Seeded:
    """What was seeded."""
    return seeded[1]


def img_sources(html: str) -> list[str]:
    """The ``src`` of every ``<img>`` in a page."""
    return re.findall(r'<img src="([^"]+)"', html)


def test_the_home_page_is_html_with_thumbnails_and_safe_headers(
    client: TestClient, data: Seeded
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    thumbnails = [src for src in img_sources(response.text) if src.startswith("/image/")]
    newest = client.get("/image", params={"limit": 1}).json()[0]["guid"]
    assert thumbnails[0] == f"/image/{newest}/thumbnail"
    assert all(src.endswith("/thumbnail") for src in thumbnails)
    assert f'alt="{data.public[0].prompt}"' in response.text


def test_private_images_never_appear_in_the_public_gallery(
    client: TestClient, data: Seeded
) -> None:
    text = client.get("/").text
    assert data.alices_private[0].guid not in text
    assert client.get(f"/view/{data.alices_private[0].guid}").status_code == 404


def test_the_assets_are_served_with_versioned_urls(client: TestClient) -> None:
    page = client.get("/").text
    css = re.search(r'href="(/static/gallery\.css\?v=[0-9a-f]+)"', page)
    js = re.search(r'src="(/static/gallery\.js\?v=[0-9a-f]+)"', page)
    assert css and js
    assert client.get(css.group(1)).headers["content-type"].startswith("text/css")
    assert "javascript" in client.get(js.group(1)).headers["content-type"]


def test_an_image_page_shows_prompt_preview_metadata_and_download(
    client: TestClient, data: Seeded
) -> None:
    image = data.public[1]
    response = client.get(f"/view/{image.guid}")

    assert response.status_code == 200
    assert f'<h1 class="prompt">{image.prompt}</h1>' in response.text
    assert f'src="/image/{image.guid}/preview"' in response.text
    assert f'href="/image/{image.guid}/content?download=1"' in response.text
    assert "#pages" in response.text
    assert 'id="delete"' not in response.text


@pytest.mark.parametrize("guid", [str(uuid.uuid4()), "not-a-uuid", "0" * 40])
def test_an_unknown_image_is_a_friendly_html_404(client: TestClient, guid: str) -> None:
    response = client.get(f"/view/{guid}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Image not found" in response.text
    assert 'href="/"' in response.text


def test_the_json_api_keeps_its_json_errors(client: TestClient) -> None:
    unknown = str(uuid.uuid4())
    for path in (f"/image/{unknown}", f"/private/image/{unknown}", "/no-such-api"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.headers["content-type"] == "application/json", path
        assert set(response.json()) >= {"error", "message", "request_id"}
    browser_asks = client.get(f"/image/{unknown}", headers={"Accept": "text/html,*/*"})
    assert browser_asks.json()["error"] == "record_not_found"


def test_an_unknown_page_asked_for_by_a_browser_is_an_html_404(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_a_malformed_cursor_is_an_html_422_page(client: TestClient) -> None:
    response = client.get("/?cursor=not-a-cursor")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "That request did not work" in response.text


def test_the_private_gallery_asks_the_browser_for_credentials(client: TestClient) -> None:
    response = client.get("/private/")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="pixyproxy"'
    assert response.headers["content-type"].startswith("text/html")
    assert client.get("/private/", headers=basic(("alice", "wrong"))).status_code == 401


def test_the_private_gallery_shows_only_the_callers_images(
    client: TestClient, data: Seeded
) -> None:
    response = client.get("/private/", headers=basic(ALICE))

    assert response.status_code == 200
    guid = data.alices_private[0].guid
    assert f'src="/private/image/{guid}/thumbnail"' in response.text
    assert f'href="/private/view/{guid}"' in response.text
    assert data.bobs_private[0].guid not in response.text
    assert data.public[0].guid not in response.text
    assert "Signed in as <strong>alice</strong>" in response.text


def test_a_private_image_page_is_for_its_owner_only(client: TestClient, data: Seeded) -> None:
    bobs = data.bobs_private[0].guid
    assert client.get(f"/private/view/{bobs}", headers=basic(ALICE)).status_code == 404
    own = client.get(f"/private/view/{bobs}", headers=basic(BOB))
    assert own.status_code == 200
    assert f'src="/private/image/{bobs}/preview"' in own.text
    assert f'data-endpoint="/private/image/{bobs}"' in own.text


def test_the_author_signs_in_from_a_public_image_page_to_delete_it(
    client: TestClient, data: Seeded
) -> None:
    path = f"/view/{data.alices_public.guid}"
    anonymous = client.get(path).text
    assert 'id="delete"' not in anonymous
    assert f'href="{path}?signin=1"' in anonymous
    assert client.get(f"{path}?signin=1").status_code == 401

    as_alice = client.get(f"{path}?signin=1", headers=basic(ALICE))
    as_bob = client.get(f"{path}?signin=1", headers=basic(BOB))

    assert f'data-endpoint="/image/{data.alices_public.guid}"' in as_alice.text
    assert 'id="delete"' not in as_bob.text


def test_the_gallery_pages_are_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    pages = {"/", "/view/{guid}", "/private/", "/private/view/{guid}"}
    assert not pages & set(paths)


def test_prompts_and_tags_are_escaped_in_the_pages(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    services = client.app.state.services  # type: ignore[attr-defined]
    sneaky = '<script>alert("x")</script> & <b onclick="y">bold</b>'
    image = seed(services, [(sneaky, ["safe"])])[0]

    for path in ("/", f"/view/{image.guid}"):
        text = client.get(path).text
        assert "<script>alert" not in text
        assert "<b onclick" not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b" in text


def test_head_of_a_page_answers_like_get_without_a_body(client: TestClient) -> None:
    got, head = client.get("/"), client.head("/")
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""
