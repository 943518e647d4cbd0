"""Renditions and image facts with Pillow, and the BlurHash encoder against known values."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from service import blurhash
from service.generation.offline import OfflineImageGenerator
from service.imaging import (
    RenditionKind,
    UnreadableImageError,
    inspect_image,
    render,
)


def png(width: int, height: int) -> bytes:
    return OfflineImageGenerator().draw_png("a red fox in deep snow", width, height)


def pattern(width: int, height: int) -> list[tuple[int, int, int]]:
    return [
        ((x * 37 + y * 5) % 256, (x * 7) % 256, (y * 11 + 40) % 256)
        for y in range(height)
        for x in range(width)
    ]


@pytest.mark.parametrize(
    ("width", "height", "x", "y", "expected"),
    [
        # computed with the reference implementation (PyPI "blurhash" 1.1.5)
        (20, 12, 4, 3, "LJG~@TDZS{FLxOniOCjrN[jtjtjt"),
        (9, 14, 3, 4, "TlFo2je@2EoDS1WpfRa|jtj]n+a|"),
        (1, 1, 1, 1, "00000e"),
    ],
)
def test_blurhash_matches_the_reference_encoder(
    width: int, height: int, x: int, y: int, expected: str
) -> None:
    code = blurhash.encode(pattern(width, height), width, height, x_components=x, y_components=y)
    assert code == expected


def test_blurhash_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="components"):
        blurhash.encode(pattern(2, 2), 2, 2, x_components=10)
    with pytest.raises(ValueError, match="pixel data"):
        blurhash.encode(pattern(2, 2), 3, 2)


@pytest.mark.parametrize(("width", "height"), [(1536, 1024), (1024, 1536), (64, 64)])
def test_inspect_reports_the_size_and_a_short_blurhash(width: int, height: int) -> None:
    facts = inspect_image(png(width, height))
    assert (facts.width, facts.height) == (width, height)
    assert 20 <= len(facts.blurhash) <= 30
    assert all(char in blurhash.BASE83 for char in facts.blurhash)


def test_renditions_are_webp_with_the_longest_side_and_the_aspect_kept() -> None:
    rendered = render(png(1536, 1024), list(RenditionKind))
    thumbnail, preview = rendered[RenditionKind.THUMBNAIL], rendered[RenditionKind.PREVIEW]
    assert (thumbnail.width, thumbnail.height) == (256, 171)
    assert (preview.width, preview.height) == (1024, 683)
    for image in (thumbnail, preview):
        decoded = Image.open(io.BytesIO(image.data))
        assert decoded.format == "WEBP"
        assert decoded.size == (image.width, image.height)
        assert image.content_type == "image/webp"


def test_a_portrait_is_scaled_by_its_height() -> None:
    rendered = render(png(1024, 1536), [RenditionKind.THUMBNAIL])
    assert (rendered[RenditionKind.THUMBNAIL].width, rendered[RenditionKind.THUMBNAIL].height) == (
        171,
        256,
    )


def test_small_images_are_never_upscaled() -> None:
    rendered = render(png(100, 60), list(RenditionKind))
    assert {(image.width, image.height) for image in rendered.values()} == {(100, 60)}


def test_transparency_is_kept() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (40, 20), (255, 0, 0, 0)).save(out, format="PNG")
    rendered = render(out.getvalue(), [RenditionKind.THUMBNAIL])
    assert Image.open(io.BytesIO(rendered[RenditionKind.THUMBNAIL].data)).mode == "RGBA"
    assert inspect_image(out.getvalue()).width == 40


def test_bytes_that_are_no_image_are_refused() -> None:
    with pytest.raises(UnreadableImageError):
        inspect_image(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(UnreadableImageError):
        render(b"not an image", [RenditionKind.PREVIEW])
