"""The ``Idempotency-Key`` request header of the POST routes (CONTRACT.md §1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from service.idempotency import KEY_PATTERN

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=KEY_PATTERN,
        description=(
            "1 to 128 visible ASCII characters. A repeat of a completed request with the "
            "same key and body returns the same image (same status and Location) without "
            "generating again; the same key with another body is 409. Keys are remembered "
            "for IDEMPOTENCY_TTL seconds (default 24 hours)."
        ),
    ),
]
