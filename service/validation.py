"""Revalidation of service inputs with pydantic, so the service is safe from any caller."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.exceptions import ValidationFailedError

M = TypeVar("M", bound=BaseModel)


def revalidate(model: type[M], value: object) -> M:
    """Validate ``value`` (a model instance or a mapping) as ``model`` afresh.

    An instance is dumped and validated again, so one built with ``model_construct`` or
    mutated after creation cannot slip past the rules. Raises ``ValidationFailedError``.
    """
    data = value.model_dump() if isinstance(value, BaseModel) else value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailedError(details=safe_errors(exc)) from None


def parse_guid(guid: object) -> str:
    """Return ``guid`` as a canonical UUID string or raise ``ValidationFailedError``."""
    try:
        return str(uuid.UUID(str(guid)))
    except ValueError:
        raise ValidationFailedError(
            "The guid is not a valid UUID.",
            details=[{"loc": ["guid"], "msg": "Input should be a valid UUID", "type": "uuid"}],
        ) from None


def safe_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the rejected input (which may be huge or sensitive)."""
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()
    ]
