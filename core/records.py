"""Records the data layer and the service exchange besides the image models.

What the repositories (data/*_repository.py) take and return: queries, rows of the
smaller aggregates, and what reconciliation and the renditions backfill read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from pydantic import BaseModel

PENDING: Final = "pending"
COMPLETED: Final = "completed"


@dataclass(frozen=True)
class Visibility:
    """Which rows a query may see: public only, or (``private``) the rows of ``owner``."""

    private: bool = False
    owner: str | None = None


@dataclass(frozen=True)
class PageQuery:
    """A keyset page request: rows strictly older than ``after`` (newest first)."""

    visibility: Visibility = field(default_factory=Visibility)
    limit: int = 50
    after: tuple[datetime, int] | None = None  # (created_at, id) of the last row seen
    tags: Sequence[str] = ()
    author: str | None = None
    # Search: every word must start a word of the prompt (service/search.py).
    words: Sequence[str] = ()


@dataclass(frozen=True)
class StorageRef:
    """Which blob a row references (for reconciliation)."""

    id: int
    guid: str
    storage_key: str


@dataclass(frozen=True)
class ImageFacts:
    """Width, height and BlurHash of a stored original (what ``ImageDetail`` records of it)."""

    width: int
    height: int
    blurhash: str


@dataclass(frozen=True)
class RenditionWork:
    """One row as the renditions backfill sees it."""

    id: int
    guid: str
    storage_key: str
    has_facts: bool  # width, height and blurhash are recorded
    kinds: frozenset[str]  # renditions recorded


class UserRecord(BaseModel):
    """A stored account. ``password_hash`` is a salted scrypt hash, never a password."""

    id: int
    username: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class RateCount:
    """One bucket's current window (datetimes aware UTC)."""

    bucket: str
    hits: int
    window_start: datetime
    expires_at: datetime


@dataclass(frozen=True)
class NewIdempotencyKey:
    """A claim to insert: always ``pending``, with a short lease in ``expires_at``."""

    scope: str
    caller: str  # username, "" when anonymous
    key: str
    request_hash: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class IdempotencyRecord:
    """A stored key (datetimes aware UTC)."""

    id: int
    scope: str
    caller: str
    key: str
    request_hash: str
    status: str  # PENDING or COMPLETED
    image_guid: str | None
    created_at: datetime
    expires_at: datetime
