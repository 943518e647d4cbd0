"""Row mapping of the generation metadata columns, the same in both dialects.

``usage`` is three nullable integer columns (``input_tokens``, ``output_tokens``,
``total_tokens``): all set, or all ``NULL`` when the generator reported none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.models import NewImage, TokenUsage

METADATA_COLUMNS = (
    "model",
    "size",
    "quality",
    "revised_prompt",
    "width",
    "height",
    "blurhash",
)
USAGE_COLUMNS = ("input_tokens", "output_tokens", "total_tokens")


def metadata_params(image: NewImage) -> dict[str, Any]:
    """NewImage → the named parameters of the metadata columns."""
    usage = image.usage.model_dump() if image.usage else dict.fromkeys(USAGE_COLUMNS)
    return {**{name: getattr(image, name) for name in METADATA_COLUMNS}, **usage}


def metadata_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata columns of a row → ``ImageDetail`` fields (``usage`` or ``None``)."""
    usage = None
    if row["total_tokens"] is not None:
        usage = TokenUsage(**{name: int(row[name]) for name in USAGE_COLUMNS})
    return {**{name: row[name] for name in METADATA_COLUMNS}, "usage": usage}
