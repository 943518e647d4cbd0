"""Opaque keyset cursors: base64url of ``(created_at, id)`` of the last row on a page."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from core.exceptions import ValidationFailedError

_VERSION = "v1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def encode_cursor(created_at: datetime, row_id: int) -> str:
    """Encode the position after the row ``(created_at, row_id)``."""
    micros = (created_at.astimezone(UTC) - _EPOCH) // _MICRO
    raw = f"{_VERSION}:{micros}:{row_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Decode a cursor made by :func:`encode_cursor`; anything else is a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        version, micros_text, id_text = raw.split(":")
        micros, row_id = int(micros_text), int(id_text)
        if version != _VERSION or micros < 0 or row_id < 1 or len(cursor) > 64:
            raise ValueError(raw)
        created_at = _EPOCH + micros * _MICRO
    except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError):
        raise ValidationFailedError(
            "The cursor is not valid.",
            details=[{"loc": ["query", "cursor"], "msg": "Malformed cursor", "type": "cursor"}],
        ) from None
    return created_at, row_id
