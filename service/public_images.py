"""The public scope: images anyone may see. The caller, if logged in, is the author."""

from __future__ import annotations

from data.repository import Visibility
from service.image_service import Backends, ImageService


class PublicImageService(ImageService):
    """Public images only; creations are public and carry ``caller`` (or no author)."""

    def __init__(self, backends: Backends, caller: str | None = None) -> None:
        super().__init__(backends, Visibility(private=False), author=caller)
