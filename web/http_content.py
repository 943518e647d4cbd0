"""Small pure functions for the HTTP side of ``/content``: ranges, ETags, headers."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

from core.models import ByteRange, RangeRequest

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, max-age=0, must-revalidate"


def parse_range_header(value: str | None) -> RangeRequest | None:
    """Parse a single ``Range: bytes=a-b | a- | -n``.

    Anything else — no header, several ranges, another unit, bad syntax — returns
    ``None``, which means "send the whole representation" (RFC 9110 §14.2).
    """
    match = _SINGLE_RANGE.fullmatch((value or "").strip().replace(" ", ""))
    if match is None:
        return None
    first, last = (int(part) if part else None for part in match.groups())
    if first is not None:
        satisfiable_order = last is None or last >= first
        return RangeRequest(start=first, end=last) if satisfiable_order else None
    return RangeRequest(suffix=last) if last is not None else None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when an ``If-None-Match`` list names ``etag`` (weak comparison) or is ``*``."""
    if not if_none_match:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in candidates)


def if_range_allows(if_range: str | None, etag: str, last_modified: datetime) -> bool:
    """True when a ``Range`` may be honoured: no ``If-Range``, or it still matches."""
    if not if_range:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # strong comparison; weak tags never match
    try:
        return parsedate_to_datetime(value) >= last_modified.replace(microsecond=0)
    except (TypeError, ValueError):
        return False


def http_date(moment: datetime) -> str:
    """Format a UTC datetime as an IMF-fixdate (``Last-Modified``)."""
    return format_datetime(moment, usegmt=True)


def content_disposition(filename: str, *, download: bool) -> str:
    """``inline`` or ``attachment`` with ``filename`` and, when needed, RFC 6266 ``filename*``."""
    kind = "attachment" if download else "inline"
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    if ascii_name == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def content_range(byte_range: ByteRange, size: int) -> str:
    """The ``Content-Range`` value of a partial response."""
    return f"bytes {byte_range.start}-{byte_range.end}/{size}"
