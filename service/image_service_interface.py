"""The request's ``ImageServiceInterface``, with its exact names, plus what we add.

The seed's five methods keep their names and signatures. ``get_image_content`` returns an
``ImageContent`` (a subclass of ``ImageDetail`` that streams its bytes), and
``getShekhar`` is the request's name for :meth:`status`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import List  # noqa: UP035 - the request's signature, kept verbatim

from core.models import (
    ImageContent,
    ImageDetail,
    ImageDetailCreate,
    ImagePage,
    RangeRequest,
    ServiceStatus,
)
from service.content import ImageSource
from service.imaging import RenditionKind


class ImageServiceInterface(ABC):
    """Generate, store, find, stream and delete images within one visibility scope."""

    @abstractmethod
    def create_image(self, image_create: ImageDetailCreate) -> ImageDetail:
        """Generate an image for the prompt, store bytes and row, return its details.

        Raises ``ValidationFailedError``, a ``GenerationError``, ``BlobStoreUnavailableError``
        or ``DBConnectionError``; on any failure neither a row nor a blob is left.
        """

    @abstractmethod
    def get_image_by_guid(self, guid: str) -> ImageDetail:
        """Return the image with ``guid`` visible in this scope, else ``RecordNotFoundError``."""

    @abstractmethod
    def get_images_by_guid(self, guids: Sequence[str]) -> dict[str, ImageDetail]:
        """The images among ``guids`` visible in this scope, by guid, read together; the
        others are absent. ``ValidationFailedError`` if one of them is not a UUID."""

    @abstractmethod
    def get_all_images(self) -> List[ImageDetail]:  # noqa: UP006
        """Return every image visible in this scope, newest first (walks all pages)."""

    @abstractmethod
    def get_image_content(
        self,
        guid: str,
        byte_range: RangeRequest | None = None,
        *,
        include_body: bool = True,
        rendition: RenditionKind | None = None,
    ) -> ImageContent:
        """Return the image's details with its bytes as a stream (optionally one range).

        ``RangeNotSatisfiableError`` for a range outside the blob; ``BlobNotFoundError``
        when the row's blob is missing. With ``include_body=False`` (HEAD) the blob is only
        stat-ed, so a missing blob fails the same way, and nothing is opened. With
        ``rendition``, the same for that WebP rendition (made now if it is missing).
        """

    @abstractmethod
    def getShekhar(self) -> object:
        """The request's name for :meth:`status`; returns a ``ServiceStatus``."""

    @abstractmethod
    def list_images(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        tags: Sequence[str] = (),
        author: str | None = None,
        q: str | None = None,
    ) -> ImagePage:
        """Return one page, newest first, and the cursor of the next page if there is one.

        ``q`` searches the prompts: for each of its words, a prompt word starting with it.
        """

    @abstractmethod
    def delete_image(self, guid: str) -> None:
        """Delete the caller's own image in this scope: the row, then the blob."""

    @abstractmethod
    def find_image_content(self, guid: str, rendition: RenditionKind | None = None) -> ImageSource:
        """Read a visible image's row once; ``open()`` on the result streams its bytes.

        For ``/content``, which needs the row (ETag, size) before it knows what to send:
        one unit of work per request, whatever its conditional headers. With
        ``rendition``, the source is that rendition (made now if it has none).
        """

    @abstractmethod
    def get_content_url(self, guid: str, rendition: RenditionKind | None = None) -> str | None:
        """A short-lived direct URL for a public image's bytes, or ``None``."""

    @abstractmethod
    def status(self, *, include_count: bool = True) -> ServiceStatus:
        """Health of the database, blob store and generator, and the image count."""
