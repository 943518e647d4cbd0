"""The gallery's view helpers: placeholder colours, labels, URLs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.models import ImageDetail
from web.gallery_views import (
    BASE83,
    FALLBACK_COLOUR,
    PRIVATE,
    PUBLIC,
    average_colour,
    created_label,
    grid_heading,
    human_bytes,
    image_view,
    option_list,
)


def encode83(value: int, length: int) -> str:
    """Base83 as blurhash writes it."""
    return "".join(BASE83[(value // 83**n) % 83] for n in reversed(range(length)))


@pytest.mark.parametrize("rgb", [0xFF0000, 0x00FF7F, 0x123456, 0x000000, 0xFFFFFF])
def test_the_average_colour_is_the_blurhash_dc_component(rgb: int) -> None:
    blurhash = "00" + encode83(rgb, 4)  # 1x1 components: just the DC value
    assert average_colour(blurhash) == f"#{rgb:06x}"


@pytest.mark.parametrize("blurhash", [None, "", "LE", "LE!!!!xx"])
def test_a_missing_or_broken_blurhash_gives_the_neutral_colour(blurhash: str | None) -> None:
    assert average_colour(blurhash) == FALLBACK_COLOUR


def test_a_real_blurhash_gives_a_css_colour() -> None:
    assert average_colour("LEHV6nWB2yk8pyo0adR*.7kCMdnj").startswith("#")


@pytest.mark.parametrize(
    ("size", "label"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (196_900, "196.9 kB"), (2_500_000, "2.5 MB")],
)
def test_sizes_read_like_a_file_manager(size: int, label: str) -> None:
    assert human_bytes(size) == label


def test_the_creation_time_is_short_and_says_utc() -> None:
    assert created_label(datetime(2026, 12, 3, 6, 16, tzinfo=UTC)) == "3 Dec 2026, 06:16 UTC"


def test_gallery_urls_keep_only_the_filters_given() -> None:
    assert PUBLIC.gallery_url() == "/"
    assert PUBLIC.gallery_url(tag="fox", q=None) == "/?tag=fox"
    assert PRIVATE.gallery_url(q="red fox", tag="snow") == "/private/?q=red+fox&tag=snow"


def test_the_next_page_url_is_the_json_listing_of_the_scope() -> None:
    assert PUBLIC.api_list_url(limit=24, cursor="abc", tag="fox") == (
        "/image?limit=24&cursor=abc&tag=fox"
    )
    assert PRIVATE.api_list_url(limit=24, cursor="abc", q="cat") == (
        "/private/image?limit=24&cursor=abc&q=cat"
    )


def test_the_grid_heading_says_what_is_shown() -> None:
    assert grid_heading(None, None) == "Newest images"
    assert grid_heading("fox", None) == "Results for “fox”"
    assert grid_heading(None, "snow") == "Images tagged #snow"
    assert grid_heading("fox", "snow") == "Results for “fox” tagged #snow"


def test_the_configured_default_is_preselected_and_an_unknown_one_falls_back() -> None:
    options = option_list({"a": "A", "b": "B"}, "b")
    assert options == [("a", "A", False), ("b", "B", True)]
    assert option_list({"a": "A", "b": "B"}, "zzz")[0] == ("a", "A", True)


def test_an_image_view_names_its_urls_and_metadata_in_its_scope() -> None:
    guid = "3f2a9c1e-0000-4000-8000-000000000001"
    detail = ImageDetail(
        prompt="a red fox",
        tags=["fox"],
        guid=guid,
        filename="a-red-fox-3f2a9c1e.png",
        author="alice",
        private=True,
        content_type="image/png",
        size_bytes=2_048,
        sha256="0" * 64,
        created_at=datetime(2026, 12, 3, 6, 16, tzinfo=UTC),
        updated_at=datetime(2026, 12, 3, 6, 16, tzinfo=UTC),
        size="1536x1024",
        quality="low",
        model="gpt-image-1",
        width=1536,
        height=1024,
        blurhash="00" + encode83(0x336699, 4),
    )

    view = image_view(detail, PRIVATE)

    assert view.href == f"/private/view/{guid}"
    assert view.thumbnail_url == f"/private/image/{guid}/thumbnail"
    assert view.preview_url == f"/private/image/{guid}/preview"
    assert view.download_url == f"/private/image/{guid}/content?download=1"
    assert view.tag_links == [("fox", "/private/?tag=fox")]
    assert (view.size, view.quality, view.dimensions) == ("1536×1024", "Low", "1536×1024")  # noqa: RUF001
    assert view.aspect_ratio == "1536 / 1024"
    assert view.ratio == 1.5
    assert view.placeholder == "#336699"
    assert view.created_iso == "2026-12-03T06:16:00Z"
    assert view.bytes_label == "2.0 kB"
