"""The public scope: images anyone may see. The caller, if logged in, is the author."""

from __future__ import annotations

from core.records import Visibility
from service.image_service import Backends, ImageService
from service.rate_limit import RateLimits


class PublicImageService(ImageService):
    """Public images only; creations are public and carry ``caller`` (or no author).

    With ``limits``, each generation first counts against the creation rate limit of
    ``client`` (the caller's address), which refuses it with ``RateLimitedError`` (429)
    when the address created too many images recently. Replays of an Idempotency-Key
    generate nothing and are not counted.
    """

    def __init__(
        self,
        backends: Backends,
        caller: str | None = None,
        *,
        client: str | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        super().__init__(backends, Visibility(private=False), author=caller)
        self._client = client
        self._limits = limits

    def _admit_creation(self) -> None:
        """Count this creation against the client's limit (``RateLimitedError`` if over)."""
        if self._limits is not None:
            self._limits.admit_creation(self._client)
