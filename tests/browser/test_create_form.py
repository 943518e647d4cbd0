"""The prompt form in Chromium: it creates an image, shows progress, and every error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from core.exceptions import (
    GeneratorRateLimitError,
    GeneratorTimeoutError,
    GeneratorUnavailableError,
    PromptRejectedError,
)
from tests.browser.conftest import USERS, Gallery, NewPage

pytestmark = pytest.mark.browser


def newest(gallery: Gallery) -> dict[str, Any]:
    """The newest public image, from the JSON API."""
    image: dict[str, Any] = httpx.get(f"{gallery.url}/image", params={"limit": 1}).json()[0]
    return image


def fill_form(page: Page, prompt: str, *, tags: str = "") -> None:
    """Type a prompt (and tags) into the form."""
    page.get_by_role("textbox", name="Prompt").fill(prompt)
    page.get_by_role("textbox", name="Tags").fill(tags)


def test_the_form_creates_an_image_and_shows_it_first_in_the_grid(
    gallery: Gallery, page: Page
) -> None:
    prompt = "a lantern festival over a quiet river"
    page.goto(gallery.url + "/")
    fill_form(page, prompt, tags="lantern, festival")
    page.get_by_role("combobox", name="Size").select_option("1536x1024")
    page.get_by_role("combobox", name="Quality").select_option("low")

    page.get_by_role("button", name="Generate").click()

    expect(page.locator("#create-status")).to_contain_text("Your image is ready")
    created = newest(gallery)
    assert created["prompt"] == prompt
    assert created["tags"] == ["lantern", "festival"]
    assert (created["size"], created["quality"]) == ("1536x1024", "low")
    first = page.locator("#grid img").first
    expect(first).to_have_attribute("alt", prompt)
    expect(first).to_have_attribute("src", f"/image/{created['guid']}/thumbnail")
    first.evaluate("img => img.decode()")  # the thumbnail really loads
    page.get_by_role("link", name="open it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(prompt)


def test_progress_shows_while_the_generator_works(gallery: Gallery, page: Page) -> None:
    page.goto(gallery.url + "/")
    gallery.generator.delay = 2.0
    fill_form(page, "a slow sunrise over the dunes")

    page.get_by_role("button", name="Generate").click()

    expect(page.locator("#create-progress progress")).to_be_visible()
    expect(page.locator("#create-button")).to_be_disabled()
    expect(page.locator("#create-status")).to_contain_text("can take up to a minute")
    expect(page.locator("#create-elapsed")).to_contain_text("1 s")
    expect(page.locator("#create-status")).to_contain_text("Your image is ready")
    expect(page.locator("#create-progress")).to_be_hidden()
    expect(page.locator("#create-button")).to_be_enabled()


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (PromptRejectedError(), "The generator refused this prompt."),
        (GeneratorRateLimitError(retry_after=30), "You can try again in 30 s."),
        (GeneratorUnavailableError(), "The image generator failed."),
        (GeneratorTimeoutError(), "The image generator timed out."),
    ],
    ids=["422-rejected", "429", "502", "504"],
)
def test_an_error_from_the_generator_is_shown_and_nothing_is_added(
    gallery: Gallery, page: Page, error: Exception, shown: str
) -> None:
    page.goto(gallery.url + "/")
    before = newest(gallery)["guid"]
    first_card = page.locator("#grid .card-link").first.get_attribute("href")
    gallery.generator.fail_with = error
    fill_form(page, "a picture the generator will not make")

    page.get_by_role("button", name="Generate").click()

    expect(page.get_by_role("alert")).to_contain_text(shown)
    assert newest(gallery)["guid"] == before
    assert page.locator("#grid .card-link").first.get_attribute("href") == first_card
    expect(page.locator("#create-progress")).to_be_hidden()


def test_a_rate_limit_disables_the_button_for_the_wait(gallery: Gallery, page: Page) -> None:
    page.goto(gallery.url + "/")
    gallery.generator.fail_with = GeneratorRateLimitError(retry_after=3)
    fill_form(page, "too many foxes")

    page.get_by_role("button", name="Generate").click()

    expect(page.locator("#create-button")).to_have_text("Wait 2 s")
    expect(page.locator("#create-button")).to_be_disabled()
    expect(page.locator("#create-button")).to_have_text("Generate")
    expect(page.locator("#create-button")).to_be_enabled()


def test_invalid_input_shows_the_validation_details(gallery: Gallery, page: Page) -> None:
    page.goto(gallery.url + "/")
    fill_form(page, "a fox with a bad tag", tags="good fine not/a/tag")

    page.get_by_role("button", name="Generate").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please check the form.")
    expect(alert.locator("li")).to_have_text(
        "Tag 3: use only letters, digits, - and _ (at most 64)."
    )


def test_the_private_form_creates_a_private_image(gallery: Gallery, new_page: NewPage) -> None:
    page = new_page(http_credentials={"username": "alice", "password": USERS["alice"]})
    prompt = "alice's own lantern, not for anyone else"
    page.goto(gallery.url + "/private/")
    fill_form(page, prompt)

    page.get_by_role("button", name="Generate").click()

    expect(page.locator("#create-status")).to_contain_text("Your image is ready")
    mine = httpx.get(
        f"{gallery.url}/private/image", params={"limit": 1}, auth=("alice", USERS["alice"])
    ).json()[0]
    assert mine["prompt"] == prompt
    assert mine["private"] is True
    assert newest(gallery)["prompt"] != prompt
    first = page.locator("#grid img").first
    expect(first).to_have_attribute("src", f"/private/image/{mine['guid']}/thumbnail")
    first.evaluate("img => img.decode()")
