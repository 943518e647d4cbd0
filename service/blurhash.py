"""A small BlurHash encoder (https://blurha.sh, Wolt's algorithm), pure Python.

It runs on an image already scaled down to a few dozen pixels a side (see
``service/imaging.py``), so the cost is a few thousand multiplications.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import mul

BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
MAX_COMPONENTS = 9


def _base83(value: int, length: int) -> str:
    """``value`` in ``length`` base-83 digits, most significant first."""
    return "".join(BASE83[(value // 83**place) % 83] for place in range(length - 1, -1, -1))


def _srgb_to_linear(value: int) -> float:
    scaled = value / 255
    return scaled / 12.92 if scaled <= 0.04045 else ((scaled + 0.055) / 1.055) ** 2.4


_LINEAR = tuple(_srgb_to_linear(value) for value in range(256))


def _linear_to_srgb(value: float) -> int:
    clamped = max(0.0, min(1.0, value))
    if clamped <= 0.0031308:
        return int(clamped * 12.92 * 255 + 0.5)
    return int((1.055 * clamped ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _sign_pow(value: float, exponent: float) -> float:
    return math.copysign(abs(value) ** exponent, value)


def encode(
    pixels: Sequence[tuple[int, int, int]],
    width: int,
    height: int,
    *,
    x_components: int = 4,
    y_components: int = 3,
) -> str:
    """The BlurHash of ``width`` x ``height`` sRGB ``pixels`` (rows top to bottom).

    The string has ``4 + 2 * x_components * y_components`` characters (28 for 4x3).
    """
    if not (1 <= x_components <= MAX_COMPONENTS and 1 <= y_components <= MAX_COMPONENTS):
        raise ValueError("BlurHash needs 1 to 9 components in each direction")
    if width < 1 or height < 1 or len(pixels) != width * height:
        raise ValueError("pixel data does not match width and height")
    # sRGB → linear once per channel value (a table of 256), channels as flat lists.
    channels = [[_LINEAR[pixel[c]] for pixel in pixels] for c in range(3)]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)] for i in range(x_components)]
    cos_y = [
        [math.cos(math.pi * j * y / height) for y in range(height)] for j in range(y_components)
    ]
    # Separable basis: first each column against each vertical cosine, then those
    # column sums against each horizontal cosine (W*H*Y multiplications instead of
    # W*H*X*Y; columns first, as the 4x3 of a square or landscape image has fewer
    # vertical components); ``sum(map(mul, …))`` keeps the inner loops in C.
    columns = [[channel[x::width] for x in range(width)] for channel in channels]
    column_sums = [
        [[sum(map(mul, cos_y[j], column)) for column in channel] for channel in columns]
        for j in range(y_components)
    ]
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            scale = (1 if i == 0 and j == 0 else 2) / (width * height)
            red, green, blue = (
                scale * sum(map(mul, cos_x[i], column_sums[j][c])) for c in range(3)
            )
            factors.append((red, green, blue))
    return _pack(factors, x_components, y_components)


def _pack(factors: list[tuple[float, float, float]], x_components: int, y_components: int) -> str:
    """Quantise the DC and AC factors into the BlurHash string."""
    dc, ac = factors[0], factors[1:]
    text = _base83((x_components - 1) + (y_components - 1) * 9, 1)
    if ac:
        actual_max = max(abs(channel) for factor in ac for channel in factor)
        quantised_max = max(0, min(82, math.floor(actual_max * 166 - 0.5)))
        maximum = (quantised_max + 1) / 166
        text += _base83(quantised_max, 1)
    else:
        maximum = 1.0
        text += _base83(0, 1)
    r, g, b = (_linear_to_srgb(channel) for channel in dc)
    text += _base83((r << 16) + (g << 8) + b, 4)
    for factor in ac:
        q = [
            max(0, min(18, math.floor(_sign_pow(channel / maximum, 0.5) * 9 + 9.5)))
            for channel in factor
        ]
        text += _base83(q[0] * 19 * 19 + q[1] * 19 + q[2], 2)
    return text
