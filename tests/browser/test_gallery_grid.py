"""The public gallery in Chromium: the grid, infinite scroll, search and tag filter."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import PUBLIC_COUNT, Gallery, NewPage
from web.gallery_views import FALLBACK_COLOUR, average_colour

pytestmark = pytest.mark.browser

GUID_IN_HREF = re.compile(r"/view/([0-9a-f-]{36})$")


def api_list(gallery: Gallery, **params: Any) -> list[dict[str, Any]]:
    """The newest public images as the JSON API lists them (one page of up to 200)."""
    response = httpx.get(f"{gallery.url}/image", params={"limit": 200, **params})
    response.raise_for_status()
    images: list[dict[str, Any]] = response.json()
    return images


def grid_guids(page: Page) -> list[str]:
    """The guids of the cards in the grid, in order, read from their links."""
    hrefs: list[str] = page.locator("#grid .card-link").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return [match.group(1) for href in hrefs if (match := GUID_IN_HREF.search(href))]


def test_the_home_page_shows_the_newest_thumbnails_with_their_prompts_as_alt(
    gallery: Gallery, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    newest = api_list(gallery)

    page.goto(gallery.url + "/")

    images = page.locator("#grid img")
    assert images.count() >= 12
    for n, image in enumerate(newest[:12]):
        thumbnail = images.nth(n)
        expect(thumbnail).to_have_attribute("src", f"/image/{image['guid']}/thumbnail")
        expect(thumbnail).to_have_attribute("alt", image["prompt"])
        expect(thumbnail).to_have_attribute("loading", "lazy")
    for n in range(4):  # the first row really loads, as thumbnails (longest side 256)
        images.nth(n).evaluate("img => img.decode()")
        assert (
            0
            < images.nth(n).evaluate("img => Math.max(img.naturalWidth, img.naturalHeight)")
            <= 256
        )
    sources = images.evaluate_all("imgs => imgs.map(img => img.getAttribute('src'))")
    assert all(source.endswith("/thumbnail") for source in sources)
    assert not [url for url in requested if "/content" in url]
    expect(page.get_by_role("searchbox", name="Search prompts")).to_be_visible()
    expect(page.get_by_role("textbox", name="Prompt")).to_be_visible()
    expect(page.get_by_role("combobox", name="Size")).to_be_visible()
    expect(page.get_by_role("combobox", name="Quality")).to_be_visible()
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    expect(page.locator("#needs-js")).to_be_hidden()


def test_scrolling_down_loads_the_next_pages_until_every_image_is_shown(
    gallery: Gallery, page: Page
) -> None:
    page.goto(gallery.url + "/")
    cards = page.locator("#grid > li")
    first_page = cards.count()
    expected = [image["guid"] for image in api_list(gallery)]
    assert len(expected) >= PUBLIC_COUNT > first_page

    page.mouse.wheel(0, 20_000)

    expect(cards).to_have_count(len(expected))
    assert grid_guids(page) == expected
    expect(page.locator("#more")).to_have_count(0)


def test_the_more_link_pages_through_the_gallery_without_javascript(
    gallery: Gallery, new_page: NewPage
) -> None:
    page = new_page(java_script_enabled=False)
    expected = [image["guid"] for image in api_list(gallery)]
    page.goto(gallery.url + "/")
    shown = grid_guids(page)

    page.get_by_role("link", name="More images").click()

    assert shown + grid_guids(page) == expected
    page.get_by_role("link", name="Back to the newest").click()
    assert grid_guids(page) == shown


def test_a_tag_link_filters_the_gallery_and_the_chip_clears_it_without_javascript(
    gallery: Gallery, new_page: NewPage
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(gallery.url + "/")
    tagged_odd = [image["guid"] for image in api_list(gallery, tag="odd")]
    assert 0 < len(tagged_odd) < PUBLIC_COUNT

    page.locator("#grid .tags").get_by_role("link", name="#odd").first.click()

    expect(page).to_have_url(re.compile(r"/\?tag=odd$"))
    expect(page.get_by_role("heading", name="Images tagged #odd")).to_be_visible()
    assert grid_guids(page) == tagged_odd
    page.get_by_role("link", name=re.compile("clear tag filter")).click()
    assert len(grid_guids(page)) > len(tagged_odd)


def test_an_unknown_tag_shows_an_empty_gallery_with_a_way_back(
    gallery: Gallery, page: Page
) -> None:
    page.goto(gallery.url + "/?tag=nothing-has-this")

    expect(page.locator("#grid > li")).to_have_count(0)
    expect(page.get_by_text("No images match.")).to_be_visible()
    page.get_by_role("link", name="Show all images").click()
    assert len(grid_guids(page)) >= 12


def test_the_gallery_can_be_used_from_the_keyboard(gallery: Gallery, page: Page) -> None:
    page.goto(gallery.url + "/")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("searchbox", name="Search prompts")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("textbox", name="Prompt")).to_be_focused()

    first = page.locator("#grid .card-link").first
    prompt = first.locator("img").get_attribute("alt")
    first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(prompt or "?")


@pytest.mark.parametrize("path", ["/", "/view/{guid}", "/?tag=odd"])
def test_pages_fit_a_phone_screen_without_sideways_scrolling(
    gallery: Gallery, new_page: NewPage, path: str
) -> None:
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)

    page.goto(gallery.url + path.format(guid=gallery.public[0].guid))

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    if path != "/view/{guid}":
        columns = page.locator("#grid").evaluate(
            "grid => getComputedStyle(grid).gridTemplateColumns.split(' ').length"
        )
        assert columns == 2


def test_without_javascript_the_prompt_form_is_disabled_and_says_why(
    gallery: Gallery, new_page: NewPage
) -> None:
    page = new_page(java_script_enabled=False)

    page.goto(gallery.url + "/")

    expect(page.get_by_role("button", name="Generate")).to_be_disabled()
    expect(page.get_by_text("Creating images here needs JavaScript")).to_be_visible()


def test_thumbnails_show_a_blurhash_placeholder_until_they_load(
    gallery: Gallery, page: Page
) -> None:
    held: list[Route] = []
    page.route("**/thumbnail", lambda route: held.append(route))  # noqa: PLW0108
    page.goto(gallery.url + "/")
    card = page.locator("#grid .card").first
    canvas = card.locator("canvas.blur")

    expect(canvas).to_have_attribute("data-painted", "1")
    opaque = canvas.evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data[3] === 255"
    )
    assert opaque
    colour = card.locator(".thumb").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour != "rgb({}, {}, {})".format(*bytes.fromhex(FALLBACK_COLOUR[1:]))
    assert not card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")

    for route in held:
        route.continue_()
    card.locator("img").evaluate("img => img.decode()")


def test_the_blurhash_decoder_paints_a_hashs_colours(gallery: Gallery, page: Page) -> None:
    page.goto(gallery.url + "/")
    image = gallery.public[-1]
    assert image.blurhash

    solid = page.evaluate("Array.from(PixyBlurhash.decode('00' + '5?}k', 2, 2))")
    average = page.evaluate(f"PixyBlurhash.averageColour({image.blurhash!r})")
    broken = page.evaluate("PixyBlurhash.decode('not a blurhash', 4, 4)")

    assert solid[:4] == [0x33, 0x66, 0x99, 255] and len(solid) == 16
    assert average == average_colour(image.blurhash)
    assert broken is None
