"""JSON bodies serialized once, by pydantic's core, and sent as plain responses.

A route that returns a model makes FastAPI validate it again against its
``response_model`` (in a second worker-thread hop for a ``def`` route) and then encode
it; for a list, ``jsonable_encoder`` walks every field in Python first. The service's
models are already valid, so routes send these bytes instead, and keep their
``response_model`` for the OpenAPI document only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import Response
from pydantic import TypeAdapter

from core.models import ImageDetail

_DETAIL = TypeAdapter(ImageDetail)
_DETAILS = TypeAdapter(list[ImageDetail])
JSON = "application/json"


def detail_response(
    detail: ImageDetail, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """One ``ImageDetail`` as JSON (a subclass instance shows only ``ImageDetail``'s fields)."""
    return Response(_DETAIL.dump_json(detail), status_code, headers, media_type=JSON)


def details_response(
    details: Sequence[ImageDetail], *, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON array of ``ImageDetail``, serialized in one call."""
    return Response(_DETAILS.dump_json(list(details)), 200, headers, media_type=JSON)
