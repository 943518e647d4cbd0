"""Opaque keyset cursors: base64url of ``(created_at, id)`` of the last row on a page.

The text inside is ``v1:<microseconds since the epoch>:<id>:<check>``, where ``check``
is the first 8 hex digits of the SHA-256 of the rest. The check is not a secret (a
cursor only names a position; every query still applies the caller's visibility), but
it turns an edited or truncated cursor into a 422 instead of a page from a random place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime, timedelta

from core.exceptions import ValidationFailedError

_VERSION = "v1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_MAX_LENGTH = 80


def _check(body: str) -> str:
    """The integrity check of a cursor's body."""
    return hashlib.sha256(body.encode("ascii")).hexdigest()[:8]


def encode_cursor(created_at: datetime, row_id: int) -> str:
    """Encode the position after the row ``(created_at, row_id)``."""
    micros = (created_at.astimezone(UTC) - _EPOCH) // _MICRO
    body = f"{_VERSION}:{micros}:{row_id}"
    raw = f"{body}:{_check(body)}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Decode a cursor made by :func:`encode_cursor`; anything else is a 422."""
    try:
        if len(cursor) > _MAX_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        body, _, check = raw.rpartition(":")
        version, micros_text, id_text = body.split(":")
        micros, row_id = int(micros_text), int(id_text)
        if version != _VERSION or check != _check(body) or micros < 0 or row_id < 1:
            raise ValueError(raw)
        if encode_cursor(_EPOCH + micros * _MICRO, row_id) != cursor.rstrip("="):
            raise ValueError("not canonical")  # e.g. "+5" or leading zeros
        created_at = _EPOCH + micros * _MICRO
    except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError):
        raise ValidationFailedError(
            "The cursor is not valid.",
            details=[{"loc": ["query", "cursor"], "msg": "Malformed cursor", "type": "cursor"}],
        ) from None
    return created_at, row_id
