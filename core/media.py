"""Recognise image formats from their bytes, whatever a generator claims."""

from __future__ import annotations

from typing import NamedTuple


class MediaType(NamedTuple):
    """A content type and the file extension that goes with it."""

    content_type: str
    extension: str


_SIGNATURES: tuple[tuple[bytes, MediaType], ...] = (
    (b"\x89PNG\r\n\x1a\n", MediaType("image/png", "png")),
    (b"\xff\xd8\xff", MediaType("image/jpeg", "jpg")),
    (b"GIF87a", MediaType("image/gif", "gif")),
    (b"GIF89a", MediaType("image/gif", "gif")),
)


def sniff_media_type(data: bytes) -> MediaType | None:
    """Return the image type the bytes really are, or ``None`` if not a known image."""
    for signature, media in _SIGNATURES:
        if data.startswith(signature):
            return media
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return MediaType("image/webp", "webp")
    return None
