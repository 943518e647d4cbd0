"""The private gallery in Chromium, behind the browser's own Basic prompt."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Response, expect

from tests.browser.conftest import USERS, Gallery, NewPage
from tests.support.gallery_app import seed

pytestmark = pytest.mark.browser


def credentials(name: str) -> dict[str, str]:
    """Playwright's ``http_credentials`` for a seeded user."""
    return {"username": name, "password": USERS[name]}


def test_the_private_gallery_asks_for_credentials(gallery: Gallery, new_page: NewPage) -> None:
    """Without credentials to give, headless Chromium cancels the Basic prompt it was sent."""
    page = new_page()
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))  # noqa: PLW0108 - playwright cannot wrap a builtin

    with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
        page.goto(f"{gallery.url}/private/")

    challenge = next(r for r in responses if r.url == f"{gallery.url}/private/")
    assert challenge.status == 401
    assert challenge.headers["www-authenticate"] == 'Basic realm="pixyproxy"'


def test_wrong_credentials_get_a_sign_in_page_and_no_images(
    gallery: Gallery, new_page: NewPage
) -> None:
    page = new_page(http_credentials={"username": "alice", "password": "not-her-password"})

    response = page.goto(f"{gallery.url}/private/")

    assert response is not None
    assert response.status == 401
    expect(page.get_by_role("heading", name="Sign in to continue")).to_be_visible()
    expect(page.locator("#grid")).to_have_count(0)


def test_with_credentials_it_shows_only_the_callers_images(
    gallery: Gallery, new_page: NewPage
) -> None:
    page = new_page(http_credentials=credentials("alice"))

    page.goto(f"{gallery.url}/private/")

    expect(page.get_by_role("heading", name="Your private images")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("alice")
    listed = httpx.get(
        f"{gallery.url}/private/image", params={"limit": 200}, auth=("alice", USERS["alice"])
    ).json()
    own = {image["guid"] for image in listed}
    assert {image.guid for image in gallery.private["alice"]} <= own
    hrefs = page.locator("#grid .card-link").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    assert {href.removeprefix("/private/view/") for href in hrefs} == own
    sources = page.locator("#grid img").evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))")
    assert all(re.fullmatch(r"/private/image/[0-9a-f-]{36}/thumbnail", src) for src in sources)
    texts = page.locator("#grid").inner_text()
    assert "bob" not in texts


def test_the_owner_opens_and_deletes_a_private_image(gallery: Gallery, new_page: NewPage) -> None:
    image = seed(gallery.app.services, [("bob's doodle to delete", [])], owner="bob", private=True)[
        0
    ]
    page = new_page(http_credentials=credentials("bob"))
    page.goto(f"{gallery.url}/private/")

    page.get_by_role("link", name=image.prompt).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(image.prompt)
    expect(page.get_by_role("img", name=image.prompt)).to_have_attribute(
        "src", f"/private/image/{image.guid}/preview"
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{gallery.url}/private/")
    response = httpx.get(f"{gallery.url}/private/image/{image.guid}", auth=("bob", USERS["bob"]))
    assert response.status_code == 404
