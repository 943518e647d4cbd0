"""What the gallery's templates show: plain view objects built from ``ImageDetail``.

Templates only print these fields; URLs, labels and the placeholder colour are
decided here, so no logic lives in the templates. A ``GalleryScope`` says where one
gallery's pages and API live (public ``/`` and ``/image``, private ``/private/`` and
``/private/image``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from core.models import IMAGE_QUALITIES, IMAGE_SIZES, ImageDetail

BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
FALLBACK_COLOUR = "#3a3f4b"
TIMES = "\N{MULTIPLICATION SIGN}"

# Every size and quality the API accepts (core.models), with the label a person reads.
_SIZE_NAMES = {"1024x1024": "Square 1:1", "1536x1024": "Landscape 3:2", "1024x1536": "Portrait 2:3"}
_QUALITY_NAMES = {"low": "Low (fastest)"}
SIZE_LABELS = {size: _SIZE_NAMES.get(size, size.capitalize()) for size in IMAGE_SIZES}
QUALITY_LABELS = {q: _QUALITY_NAMES.get(q, q.capitalize()) for q in IMAGE_QUALITIES}


@dataclass(frozen=True)
class GalleryScope:
    """Where one gallery's pages and its API live."""

    name: str
    home: str
    view_base: str
    api_base: str
    private: bool

    def gallery_url(self, **query: str | None) -> str:
        """The gallery page with the non-empty ``query`` parameters."""
        params = {key: value for key, value in query.items() if value}
        return f"{self.home}?{urlencode(params)}" if params else self.home

    def api_list_url(
        self, *, limit: int, cursor: str, tag: str | None = None, q: str | None = None
    ) -> str:
        """The JSON listing of the next page, as the API's ``Link: rel="next"`` names it."""
        params = {"limit": str(limit), "cursor": cursor, "tag": tag, "q": q}
        return f"{self.api_base}?{urlencode({k: v for k, v in params.items() if v})}"


PUBLIC = GalleryScope("Public gallery", "/", "/view/", "/image", private=False)
PRIVATE = GalleryScope("Private images", "/private/", "/private/view/", "/private/image", True)


def average_colour(blurhash: str | None) -> str:
    """The CSS colour of a blurhash's DC component (its average), or a neutral grey."""
    if not blurhash or len(blurhash) < 6:
        return FALLBACK_COLOUR
    value = 0
    for char in blurhash[2:6]:
        index = BASE83.find(char)
        if index < 0:
            return FALLBACK_COLOUR
        value = value * 83 + index
    return f"#{value & 0xFFFFFF:06x}"


def human_bytes(size: int) -> str:
    """``1.4 MB``-style size, decimal units as file managers show them."""
    amount = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} GB"  # pragma: no cover - the loop always returns


def created_label(when: datetime) -> str:
    """``3 Dec 2026, 06:16 UTC``."""
    return f"{when.day} {when:%b %Y, %H:%M} UTC"


@dataclass(frozen=True)
class ImageView:
    """One image as the grid and the image page show it."""

    guid: str
    prompt: str
    tags: list[str]
    tag_links: list[tuple[str, str]]
    author: str | None
    href: str
    api_url: str
    thumbnail_url: str
    preview_url: str
    content_url: str
    download_url: str
    blurhash: str | None
    placeholder: str
    width: int | None
    height: int | None
    model: str | None
    size: str | None
    quality: str | None
    revised_prompt: str | None
    created_iso: str
    created_label: str
    bytes_label: str
    content_type: str
    filename: str

    @property
    def dimensions(self) -> str | None:
        """``1024 x 1536`` (with a multiplication sign) when the stored size is known."""
        return f"{self.width}{TIMES}{self.height}" if self.width and self.height else None

    @property
    def aspect_ratio(self) -> str:
        """CSS ``aspect-ratio`` of the image (square until the size is known)."""
        return f"{self.width} / {self.height}" if self.width and self.height else "1 / 1"

    @property
    def ratio(self) -> float:
        """Width over height as a number, for CSS arithmetic (1 until the size is known)."""
        return round(self.width / self.height, 4) if self.width and self.height else 1.0


def image_view(detail: ImageDetail, scope: GalleryScope) -> ImageView:
    """Build the view of ``detail`` in ``scope``."""
    api_url = f"{scope.api_base}/{detail.guid}"
    return ImageView(
        guid=detail.guid,
        prompt=detail.prompt,
        tags=list(detail.tags),
        tag_links=[(tag, scope.gallery_url(tag=tag)) for tag in detail.tags],
        author=detail.author,
        href=f"{scope.view_base}{detail.guid}",
        api_url=api_url,
        thumbnail_url=f"{api_url}/thumbnail",
        preview_url=f"{api_url}/preview",
        content_url=f"{api_url}/content",
        download_url=f"{api_url}/content?download=1",
        blurhash=detail.blurhash,
        placeholder=average_colour(detail.blurhash),
        width=detail.width,
        height=detail.height,
        model=detail.model,
        size=detail.size.replace("x", TIMES) if detail.size else None,
        quality=detail.quality.capitalize() if detail.quality else None,
        revised_prompt=detail.revised_prompt,
        created_iso=detail.created_at.isoformat().replace("+00:00", "Z"),
        created_label=created_label(detail.created_at),
        bytes_label=human_bytes(detail.size_bytes),
        content_type=detail.content_type,
        filename=detail.filename,
    )


def grid_heading(q: str | None, tag: str | None) -> str:
    """The heading above the grid: what it shows."""
    if q and tag:
        return f"Results for “{q}” tagged #{tag}"
    if q:
        return f"Results for “{q}”"
    if tag:
        return f"Images tagged #{tag}"
    return "Newest images"


def option_list(labels: dict[str, str], default: str) -> list[tuple[str, str, bool]]:
    """``(value, label, selected)`` for a select, with ``default`` selected."""
    chosen = default if default in labels else next(iter(labels))
    return [(value, label, value == chosen) for value, label in labels.items()]
