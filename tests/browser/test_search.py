"""Search in Chromium: the search box, with tags, without JavaScript, with paging."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Gallery, NewPage
from tests.browser.test_gallery_grid import api_list, grid_guids

pytestmark = pytest.mark.browser


def test_a_search_for_a_word_in_one_prompt_shows_that_one_image(
    gallery: Gallery, page: Page
) -> None:
    target = next(image for image in gallery.public if "nebula" in image.prompt)
    page.goto(gallery.url + "/")
    search = page.get_by_role("searchbox", name="Search prompts")

    search.fill("nebula")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"/\?q=nebula$"))
    expect(page.get_by_role("heading", name="Results for “nebula”")).to_be_visible()
    assert grid_guids(page) == [target.guid]
    expect(page.get_by_role("img", name=target.prompt)).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search prompts")).to_have_value("nebula")


def test_search_within_a_tag_works_without_javascript(gallery: Gallery, new_page: NewPage) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(gallery.url + "/?tag=odd")

    page.get_by_role("searchbox", name="Search prompts").fill("stud")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/\?q=stud&tag=odd$"))
    expected = [image["guid"] for image in api_list(gallery, q="stud", tag="odd")]
    assert 0 < len(expected) < len(gallery.public)
    assert grid_guids(page) == expected


def test_search_results_load_more_on_scroll(gallery: Gallery, page: Page) -> None:
    expected = [image["guid"] for image in api_list(gallery, q="study")]
    assert len(expected) == len(gallery.public)
    page.goto(gallery.url + "/?q=study")
    assert len(grid_guids(page)) < len(expected)

    page.mouse.wheel(0, 20_000)

    expect(page.locator("#grid > li")).to_have_count(len(expected))
    assert grid_guids(page) == expected


def test_a_search_with_no_words_left_explains_itself(gallery: Gallery, page: Page) -> None:
    response = page.goto(gallery.url + "/?q=of+a")

    assert response is not None
    assert response.status == 422
    expect(page.get_by_role("heading", name="Nothing to search for")).to_be_visible()
    page.get_by_role("searchbox", name="Search prompts").fill("nebula")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Results for “nebula”")).to_be_visible()
