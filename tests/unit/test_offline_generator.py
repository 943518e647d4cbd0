"""The offline generator draws valid, deterministic PNGs with the standard library only."""

from __future__ import annotations

import struct
import time
import zlib

import pytest

from core.media import sniff_media_type
from core.models import ImageSize
from core.settings import Settings
from service.generation.generator import GenerationOptions
from service.generation.init import build_generator
from service.generation.offline import PNG_SIGNATURE, OfflineImageGenerator, encode_png
from service.generation.openai_generator import OpenAIImageGenerator
from tests.fakes.generator import FakeImageGenerator


def parse_png(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking the signature and every CRC."""
    assert data.startswith(PNG_SIGNATURE)
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        offset += 12 + length
    assert offset == len(data)
    return chunks


def assert_valid_rgb_png(data: bytes, side: int, height_px: int | None = None) -> None:
    """The PNG is IHDR, IDAT, IEND of a ``side`` (x ``height_px``) 8-bit RGB image."""
    chunks = parse_png(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, colour) == (side, height_px or side, 8, 2)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + width * 3
    assert len(raw) == height * stride
    assert all(raw[row * stride] == 0 for row in range(height))


@pytest.mark.parametrize("side", [1, 7, 256])
def test_draws_a_valid_png_of_the_requested_size(side: int) -> None:
    data = OfflineImageGenerator(size=side).generate("a red fox in snow").data
    assert_valid_rgb_png(data, side)
    assert sniff_media_type(data) is not None
    assert sniff_media_type(data).content_type == "image/png"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("size", "width", "height"),
    [("1536x1024", 1536, 1024), ("1024x1536", 1024, 1536), ("auto", 1024, 1024)],
)
def test_draws_at_the_requested_size(size: ImageSize, width: int, height: int) -> None:
    image = OfflineImageGenerator().generate("a wide view", GenerationOptions(size=size))
    assert_valid_rgb_png(image.data, width, height)
    assert image.model == "offline"
    assert image.usage is None
    assert image.revised_prompt is None


def test_default_size_is_1024_square() -> None:
    assert_valid_rgb_png(OfflineImageGenerator().generate("x").data, 1024)


def test_a_fixed_side_ignores_the_requested_size() -> None:
    wide = GenerationOptions(size="1536x1024")
    assert_valid_rgb_png(OfflineImageGenerator(size=16).generate("x", wide).data, 16)


def test_same_prompt_gives_the_same_bytes() -> None:
    first = OfflineImageGenerator(size=64).generate("a lighthouse at dusk")
    assert OfflineImageGenerator(size=64).generate("a lighthouse at dusk") == first


def test_different_prompts_give_different_pixels() -> None:
    generator = OfflineImageGenerator(size=32)
    images = {generator.generate(prompt).data for prompt in ("a", "b", "a ", "A", "ü")}
    pixels = {zlib.decompress(parse_png(image)[1][1]) for image in images}
    assert len(pixels) == 5


def test_large_images_are_fast_and_about_three_bytes_a_pixel() -> None:
    started = time.perf_counter()
    data = OfflineImageGenerator(size=296).generate("benchmark blob").data
    assert time.perf_counter() - started < 1.0
    assert 200 * 1024 < len(data) < 320 * 1024  # ~256 KiB for benchmarks
    assert_valid_rgb_png(data, 296)


@pytest.mark.parametrize("side", [0, -1, 8193])
def test_refuses_sizes_out_of_range(side: int) -> None:
    with pytest.raises(ValueError, match="size"):
        OfflineImageGenerator(size=side)


def test_encode_png_checks_the_pixel_count() -> None:
    with pytest.raises(ValueError, match="pixel data"):
        encode_png(b"\x00" * 5, 1, 2)


def test_build_generator_is_offline_without_a_key_and_openai_with_one() -> None:
    offline = build_generator(Settings(_env_file=None, openai_api_key=None))
    assert isinstance(offline, OfflineImageGenerator)
    assert offline.backend == "offline"
    online = build_generator(
        Settings(
            _env_file=None, openai_api_key="sk-test-x", openai_base_url="http://127.0.0.1:9/v1"
        )
    )
    assert isinstance(online, OpenAIImageGenerator)
    assert online.backend == "openai"


def test_fake_generator_counts_calls_and_fails_once_on_demand() -> None:
    fake = FakeImageGenerator()
    assert sniff_media_type(fake.generate("one").data) is not None
    fake.fail_with = RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        fake.generate("two")
    fake.next_bytes = b"not an image"
    assert fake.generate("three").data == b"not an image"
    assert sniff_media_type(fake.generate("four").data) is not None
    assert fake.calls == 4
    assert fake.prompts == ["one", "two", "three", "four"]
