"""The one exception family of PixyProxy.

Every error the project raises derives from :class:`PixyProxyException`. The seed's
classes (``ImageException``, ``DBConnectionError``, ``RecordNotFoundError``,
``ConstraintViolationError``, ``PromptException``) keep their names and default
messages. Each class carries a stable snake_case ``code`` (derived from its name unless
set) that the web layer puts in the error body; HTTP statuses live in ``web/errors.py``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar


def _snake_code(class_name: str) -> str:
    """Turn ``RecordNotFoundError`` into ``record_not_found``."""
    stem = re.sub(r"(Error|Exception)$", "", class_name) or class_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", stem).lower()


class PixyProxyException(Exception):  # noqa: N818 - the request's name for the family
    """Base of every exception PixyProxy raises; ``message`` is safe to show a client."""

    code: ClassVar[str] = "pixyproxy"
    default_message: ClassVar[str] = "An unexpected error occurred while processing your request."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _snake_code(cls.__name__)

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class ImageException(PixyProxyException):
    """The seed's base for image errors."""

    code = "image_error"


class DBConnectionError(ImageException):
    """The database cannot be reached, or no pooled connection came free in time."""

    default_message = "Failed to connect to the database."

    def __init__(self, message: str | None = None, *, retry_after: int | None = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecordNotFoundError(ImageException):
    """No record matches (or the caller may not know that it exists)."""

    default_message = "The requested record was not found."


class ConstraintViolationError(ImageException):
    """A uniqueness or integrity rule of the database was violated."""

    default_message = "A database constraint was violated."


class IdempotencyConflictError(ConstraintViolationError):
    """An ``Idempotency-Key`` was used before with a different request body."""

    code = "idempotency_conflict"
    default_message = "This Idempotency-Key was already used with a different request."


class IdempotencyInProgressError(ConstraintViolationError):
    """The first request with this ``Idempotency-Key`` is still running."""

    code = "idempotency_in_progress"
    default_message = "A request with this Idempotency-Key is still in progress; retry shortly."

    def __init__(self, message: str | None = None, *, retry_after: int | None = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PromptException(PixyProxyException):
    """The seed's catch-all for an unexpected failure while serving a request."""

    code = "internal_error"


class ValidationFailedError(PixyProxyException):
    """Input failed validation; ``details`` holds pydantic's field errors."""

    code = "validation_error"
    default_message = "The request is not valid."

    def __init__(
        self, message: str | None = None, *, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.details = details or []


class AuthenticationError(PixyProxyException):
    """Missing or wrong credentials."""

    default_message = "Authentication required."


class RateLimitedError(PixyProxyException):
    """Too many failed logins, or too many creations, from one client or for one user.

    ``retry_after``: seconds until the window that holds the limit ends.
    """

    default_message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageError(PixyProxyException):
    """Base of blob store errors."""

    code = "storage_error"
    default_message = "The blob store failed."


class BlobStoreUnavailableError(StorageError):
    """The blob store cannot be reached."""

    default_message = "The blob store is unavailable."

    def __init__(self, message: str | None = None, *, retry_after: int | None = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BlobNotFoundError(StorageError):
    """A key has no blob in the store."""

    default_message = "The image content is missing."


class RangeNotSatisfiableError(PixyProxyException):
    """A byte range lies outside the blob; ``size`` is the blob's length."""

    default_message = "The requested range is not satisfiable."

    def __init__(self, size: int, message: str | None = None) -> None:
        super().__init__(message)
        self.size = size


class GenerationError(PixyProxyException):
    """Base of image generator errors."""

    code = "generation_error"
    default_message = "The image generator failed."


class PromptRejectedError(GenerationError):
    """The generator's content policy refused the prompt."""

    code = "prompt_rejected"
    default_message = "The prompt was rejected by the image generator's content policy."


class GeneratorRateLimitError(GenerationError):
    """The generator's rate limit or quota was hit; ``retry_after`` in seconds if known."""

    code = "generator_rate_limited"
    default_message = "The image generator is rate limited; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GeneratorUnavailableError(GenerationError):
    """The generator could not be reached or answered something unusable."""

    code = "generator_unavailable"
    default_message = "The image generator is unavailable."


class GeneratorTimeoutError(GenerationError):
    """The generator did not answer within the configured timeout."""

    code = "generator_timeout"
    default_message = "The image generator did not answer in time."


class ConfigurationError(PixyProxyException):
    """A setting is present but invalid."""


class SchemaVersionError(ConfigurationError):
    """The database schema is not the one this release runs on (older or newer)."""

    code = "schema_version"
    default_message = "The database schema does not match this release."
