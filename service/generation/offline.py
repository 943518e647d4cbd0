"""An image generator that needs no network: a deterministic PNG drawn from the prompt.

It draws at the requested size (``auto``: 1024x1024). Tests and benchmarks may fix
the side instead (``OfflineImageGenerator(size=32)``) to keep blobs small.

The picture is a colour gradient whose colours and slopes come from ``sha256(prompt)``,
with a little deterministic noise so that the file size grows with the image like a
real picture's would (benchmarks use ``size`` to get bigger blobs). It is written with
``zlib`` and ``struct`` only; rows are built with C-level byte operations
(``bytes.translate``, slice assignment, big-integer XOR), so even large sizes are fast.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

from core.models import size_pixels
from service.generation.generator import GeneratedImage, GenerationOptions, ImageGenerator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_SIZE = 1
MAX_SIZE = 8192
_NOISE_MASK = 0x0F  # low bits of each byte perturbed by noise: visible grain, real entropy

# _SHIFT[k] maps every byte value v to (v + k) mod 256, for bytes.translate.
_SHIFT: tuple[bytes, ...] = tuple(bytes((v + k) & 0xFF for v in range(256)) for k in range(256))


class OfflineImageGenerator(ImageGenerator):
    """Draws an RGB PNG at the requested size; same prompt and size, same bytes.

    With ``size``, every image is a square of ``size`` pixels a side whatever was asked.
    """

    backend = "offline"
    model = "offline"

    def __init__(self, size: int | None = None, *, compression_level: int = 6) -> None:
        if size is not None and not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
        self.size = size
        self._level = compression_level

    def generate(self, prompt: str, options: GenerationOptions | None = None) -> GeneratedImage:
        """Return a valid PNG derived deterministically from ``prompt``."""
        width, height = self.pixels(options or GenerationOptions())
        return GeneratedImage(data=self.draw_png(prompt, width, height), model=self.model)

    def pixels(self, options: GenerationOptions) -> tuple[int, int]:
        """Width and height this generator draws for ``options``."""
        return (self.size, self.size) if self.size is not None else size_pixels(options.size)

    def draw_png(self, prompt: str, width: int, height: int) -> bytes:
        """The PNG bytes of ``prompt``'s picture at ``width`` x ``height``."""
        seed = hashlib.sha256(prompt.encode("utf-8")).digest()
        return encode_png(_draw(seed, width, height), width, height, level=self._level)


def _draw(seed: bytes, width: int, height: int) -> bytes:
    """Return ``height`` rows of ``width`` RGB pixels, unfiltered, from a 32-byte seed."""
    # Per channel: a start colour, a slope along x and a slope along y.
    starts, x_slopes, y_slopes = seed[0:3], seed[3:6], seed[6:9]
    channel_rows = [
        bytes((start + x * (1 + slope % 7)) & 0xFF for x in range(width))
        for start, slope in zip(starts, x_slopes, strict=True)
    ]
    stride = width * 3
    image = bytearray(stride * height)
    row = bytearray(stride)
    for y in range(height):
        for channel in range(3):
            shift = (y * (1 + y_slopes[channel] % 5)) & 0xFF
            row[channel::3] = channel_rows[channel].translate(_SHIFT[shift])
        image[y * stride : (y + 1) * stride] = row
    noise = hashlib.shake_256(seed).digest(len(image))
    mask = bytes((_NOISE_MASK,)) * len(image)
    grain = int.from_bytes(noise, "big") & int.from_bytes(mask, "big")
    mixed = int.from_bytes(image, "big") ^ grain
    return mixed.to_bytes(len(image), "big")


def encode_png(pixels: bytes, width: int, height: int, *, level: int = 6) -> bytes:
    """Encode unfiltered 8-bit RGB ``pixels`` (rows top to bottom) as a PNG file."""
    stride = width * 3
    if len(pixels) != stride * height:
        raise ValueError("pixel data does not match width and height")
    filtered = b"".join(
        b"\x00" + pixels[offset : offset + stride] for offset in range(0, len(pixels), stride)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour RGB
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(filtered, level)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
