"""One image's page in Chromium: preview, prompt, metadata, download, copy link, 404."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import USERS, Gallery, NewPage
from tests.support.gallery_app import seed

pytestmark = pytest.mark.browser


def test_an_image_page_shows_the_prompt_the_preview_and_a_download_link(
    gallery: Gallery, page: Page
) -> None:
    image = gallery.public[-3]

    page.goto(f"{gallery.url}/view/{image.guid}")

    expect(page.get_by_role("heading", level=1)).to_have_text(image.prompt)
    preview = page.get_by_role("img", name=image.prompt)
    expect(preview).to_have_attribute("src", f"/image/{image.guid}/preview")
    download = page.get_by_role("link", name="Download")
    expect(download).to_have_attribute("href", f"/image/{image.guid}/content?download=1")
    for tag in image.tags:
        expect(page.get_by_role("link", name=f"#{tag}")).to_be_visible()
    expect(page.locator(".meta")).to_contain_text("Created")
    with page.expect_download() as event:
        download.click()
    assert event.value.suggested_filename == image.filename


def test_the_copy_link_button_copies_the_pages_address(gallery: Gallery, new_page: NewPage) -> None:
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    image = gallery.public[0]
    page.goto(f"{gallery.url}/view/{image.guid}")

    page.get_by_role("button", name="Copy link").click()

    expect(page.get_by_role("status")).to_have_text("Link copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{gallery.url}/view/{image.guid}"


def test_a_tag_on_an_image_page_leads_to_the_filtered_gallery(gallery: Gallery, page: Page) -> None:
    image = gallery.public[4]
    page.goto(f"{gallery.url}/view/{image.guid}")

    page.get_by_role("link", name=f"#{image.tags[0]}").click()

    expect(page.get_by_role("heading", name=f"Images tagged #{image.tags[0]}")).to_be_visible()


def test_an_unknown_image_shows_a_friendly_not_found_page(gallery: Gallery, page: Page) -> None:
    response = page.goto(f"{gallery.url}/view/{uuid.uuid4()}")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Image not found")).to_be_visible()
    page.get_by_role("link", name="Back to the gallery").click()
    expect(page.get_by_role("heading", name="Public gallery")).to_be_visible()


def test_the_author_signs_in_and_deletes_a_public_image(
    gallery: Gallery, new_page: NewPage
) -> None:
    image = seed(gallery.app.services, [("alice's comet over the lake", ["comet"])], owner="alice")[
        0
    ]
    page = new_page(http_credentials={"username": "alice", "password": USERS["alice"]})
    page.goto(f"{gallery.url}/view/{image.guid}")
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)

    page.get_by_role("link", name="Sign in to delete").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()

    expect(page.get_by_role("heading", name="Public gallery")).to_be_visible()
    gone = page.goto(f"{gallery.url}/view/{image.guid}")
    assert gone is not None
    assert gone.status == 404


def test_someone_else_cannot_delete_an_image(gallery: Gallery, new_page: NewPage) -> None:
    image = seed(gallery.app.services, [("alice's kite", [])], owner="alice")[0]
    page = new_page(http_credentials={"username": "bob", "password": USERS["bob"]})

    page.goto(f"{gallery.url}/view/{image.guid}?signin=1")

    expect(page.locator(".who")).to_contain_text("bob")
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    expect(page.get_by_role("link", name="Sign in to delete")).to_have_count(0)


def test_without_javascript_the_owner_sees_no_buttons_that_would_do_nothing(
    gallery: Gallery, new_page: NewPage
) -> None:
    # Delete and Copy link work through gallery.js; until it runs they must stay hidden,
    # or a click (a user's, or a test's) lands on a button with no handler yet.
    image = seed(gallery.app.services, [("alice's paper boat", [])], owner="alice")[0]
    page = new_page(
        java_script_enabled=False,
        http_credentials={"username": "alice", "password": USERS["alice"]},
    )

    page.goto(f"{gallery.url}/view/{image.guid}?signin=1")

    expect(page.locator(".who")).to_contain_text("alice")
    expect(page.locator("#delete")).to_be_attached()
    expect(page.locator("#delete")).to_be_hidden()
    expect(page.locator("#copy-link")).to_be_hidden()
    expect(page.get_by_role("link", name="Download")).to_be_visible()
