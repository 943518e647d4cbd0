"""The private scope: one user's own private images, and nothing else."""

from __future__ import annotations

from core.exceptions import AuthenticationError
from core.records import Visibility
from service.image_service import Backends, ImageService


class PrivateImageService(ImageService):
    """The private images of ``owner``; creations are private and owned by ``owner``."""

    def __init__(self, backends: Backends, owner: str) -> None:
        if not owner:
            raise AuthenticationError
        super().__init__(backends, Visibility(private=True, owner=owner), author=owner)
