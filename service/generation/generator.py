"""The image generator port."""

from __future__ import annotations

from abc import ABC, abstractmethod


class ImageGenerator(ABC):
    """Turns a prompt into image bytes."""

    backend: str

    @abstractmethod
    def generate(self, prompt: str) -> bytes:
        """Return the bytes of one image for ``prompt``.

        Raise ``PromptRejectedError``, ``GeneratorRateLimitError``,
        ``GeneratorTimeoutError`` or ``GeneratorUnavailableError``; nothing else.
        """

    def ping(self) -> None:
        """Raise ``GeneratorUnavailableError`` if the generator is known to be down.

        Generation is billed, so the default does no network call.
        """
        return

    def close(self) -> None:  # noqa: B027 - a no-op unless the generator holds a client
        """Release the generator's client and connections (nothing by default)."""
