"""The shared vocabulary: the request's models, extended per CONTRACT.md §1.

``ImageDetailCreate`` and ``ImageDetail`` are what clients send and see. ``StoredImage``
is the internal row (with ``id`` and ``storage_key``) and never leaves the service.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SkipValidation,
    StringConstraints,
    field_validator,
)

MAX_TAGS = 20
MAX_PAGE_SIZE = 200
TAG_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _as_utc(value: datetime) -> datetime:
    """Treat naive datetimes (as databases return them) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    """Format a UTC datetime as RFC 3339 with a ``Z`` suffix."""
    return _as_utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _canonical_uuid(value: str) -> str:
    """Normalise a UUID string to its lower-case hyphenated form."""
    return str(uuid.UUID(value))


UtcDateTime = Annotated[
    datetime, AfterValidator(_as_utc), PlainSerializer(_rfc3339, return_type=str)
]
Guid = Annotated[str, AfterValidator(_canonical_uuid), Field(examples=[str(uuid.UUID(int=1))])]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]
ImageSize = Literal["1024x1024", "1536x1024", "1024x1536", "auto"]
ImageQuality = Literal["low", "medium", "high", "auto"]
IMAGE_SIZES: tuple[str, ...] = get_args(ImageSize)
IMAGE_QUALITIES: tuple[str, ...] = get_args(ImageQuality)
AUTO_SIZE = "1024x1024"  # what "auto" draws where a generator must pick (the offline one)


def size_pixels(size: str) -> tuple[int, int]:
    """``"1536x1024"`` → ``(1536, 1024)``; ``"auto"`` → the square default."""
    width, height = (AUTO_SIZE if size == "auto" else size).split("x")
    return int(width), int(height)


class TokenUsage(BaseModel):
    """Token counts of one generation, as the Images API reported them."""

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class ImageDetailCreate(BaseModel):
    """A request to generate an image."""

    model_config = ConfigDict(extra="forbid")

    prompt: Prompt = Field(description="What to draw; stripped, 1 to 4000 characters.")
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description="Up to 20 tags of letters, digits, '-' and '_'; lower-cased, deduplicated.",
    )
    size: ImageSize | None = Field(
        default=None, description="Pixels, width x height; default: the OPENAI_IMAGE_SIZE setting."
    )
    quality: ImageQuality | None = Field(
        default=None, description="Rendering quality; default: the OPENAI_IMAGE_QUALITY setting."
    )

    @field_validator("tags")
    @classmethod
    def _normalise_tags(cls, tags: list[str]) -> list[str]:
        """Lower-case the tags and drop duplicates, keeping the first order."""
        return list(dict.fromkeys(tag.lower() for tag in tags))


class ImageDetail(ImageDetailCreate):
    """An image as clients see it. The internal integer id never appears here."""

    guid: Guid
    filename: str
    author: str | None = None
    private: bool = False
    content_type: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: UtcDateTime
    updated_at: UtcDateTime
    size: ImageSize | None = Field(
        default=None, description="The size asked for (null: made before sizes were recorded)."
    )
    quality: ImageQuality | None = Field(
        default=None, description="The quality asked for (null: made before it was recorded)."
    )
    model: str | None = Field(default=None, description="The model that drew it.")
    revised_prompt: str | None = Field(
        default=None, description="The prompt as the model rewrote it, if it did."
    )
    usage: TokenUsage | None = Field(
        default=None, description="Token counts as the Images API reported them."
    )
    width: int | None = Field(default=None, ge=1, description="Pixels of the stored image.")
    height: int | None = Field(default=None, ge=1, description="Pixels of the stored image.")
    blurhash: str | None = Field(
        default=None, max_length=64, description="A BlurHash placeholder of the image."
    )

    @property
    def etag(self) -> str:
        """The strong entity tag: the quoted sha256 of the whole blob."""
        return f'"{self.sha256}"'


class StoredImage(ImageDetail):
    """An image row as the repositories hold it: ``ImageDetail`` plus internal fields."""

    id: int
    storage_key: str

    def to_detail(self) -> ImageDetail:
        """Return the public view, without the internal fields.

        Built without validating again: this row passed ``ImageDetail``'s own validators
        when it became a ``StoredImage`` (a subclass), so the values are already valid.
        """
        values = self.__dict__
        return ImageDetail.model_construct(
            set(_DETAIL_FIELDS), **{name: values[name] for name in _DETAIL_FIELDS}
        )


_DETAIL_FIELDS = tuple(ImageDetail.model_fields)


class NewImage(BaseModel):
    """What the service hands a repository to insert (no id or timestamps yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guid: Guid
    prompt: Prompt
    tags: list[Tag] = Field(default_factory=list)
    filename: str
    author: str | None = None
    private: bool = False
    content_type: str
    size_bytes: int = Field(ge=0)
    sha256: str
    storage_key: str
    created_at: UtcDateTime
    model: str | None = None
    size: ImageSize | None = None
    quality: ImageQuality | None = None
    revised_prompt: str | None = None
    usage: TokenUsage | None = None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None


class StoredRendition(BaseModel):
    """A rendition's row: which blob holds it and what its bytes are."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(pattern=r"^[a-z]{1,16}$")
    storage_key: str
    content_type: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    created_at: UtcDateTime


class ByteRange(BaseModel):
    """An inclusive byte range ``start``..``end`` inside a blob."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.end - self.start + 1


class RangeRequest(BaseModel):
    """A byte range as a client asked for it, before the size is known.

    ``start`` and ``end`` given: ``a-b``; only ``start``: ``a-``; only ``suffix``: ``-n``.
    """

    model_config = ConfigDict(frozen=True)

    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    suffix: int | None = Field(default=None, ge=0)

    def resolve(self, size: int) -> ByteRange | None:
        """Clamp to a blob of ``size`` bytes; ``None`` when no range can be served."""
        if self.suffix is not None:
            if self.suffix == 0 or size == 0:
                return None
            return ByteRange(start=max(size - self.suffix, 0), end=size - 1)
        if self.start is None or self.start >= size:
            return None
        end = size - 1 if self.end is None else min(self.end, size - 1)
        return ByteRange(start=self.start, end=end) if end >= self.start else None


class ImageContent(ImageDetail):
    """``ImageDetail`` plus the bytes as a stream of chunks (possibly one byte range).

    The seed's ``get_image_content(guid) -> ImageDetail`` returns this subclass, so the
    signature holds and nothing is read whole into memory. ``chunks`` must be consumed
    or closed by the caller.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    chunks: SkipValidation[Iterator[bytes]] = Field(exclude=True)
    byte_range: ByteRange | None = Field(default=None, exclude=True)

    @property
    def content_length(self) -> int:
        """Bytes this response carries: the range's length or the whole size."""
        return self.byte_range.length if self.byte_range else self.size_bytes

    def close(self) -> None:
        """Release the underlying stream (e.g. the S3 body) early."""
        close = getattr(self.chunks, "close", None)
        if callable(close):
            close()


class ImageListQuery(BaseModel):
    """Filters and size of one listing page."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    author: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("tags")
    @classmethod
    def _lower_tags(cls, tags: list[str]) -> list[str]:
        """Tags are stored lower-case, so filters match them lower-case."""
        return list(dict.fromkeys(tag.lower() for tag in tags))


class ImagePage(BaseModel):
    """One page of a listing and the opaque cursor of the next page, if any."""

    items: list[ImageDetail]
    next_cursor: str | None = None


class ComponentStatus(BaseModel):
    """Health of one backend."""

    backend: str
    ok: bool
    detail: str | None = None


class ServiceStatus(BaseModel):
    """What ``status()`` (the request's ``getShekhar``) reports."""

    database: ComponentStatus
    blob_store: ComponentStatus
    generator: ComponentStatus
    image_count: int | None = None

    @property
    def ready(self) -> bool:
        """True when the database and the blob store answer."""
        return self.database.ok and self.blob_store.ok


_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_length: int = 48) -> str:
    """Make a lower-case ASCII slug of ``text`` for filenames (``image`` if nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "image"
