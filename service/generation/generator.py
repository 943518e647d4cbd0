"""The image generator port: a prompt and its options in, image bytes and metadata out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from core.models import ImageQuality, ImageSize, TokenUsage


@dataclass(frozen=True)
class GenerationOptions:
    """What a caller may choose per image (CONTRACT.md §6 "Generation options")."""

    size: ImageSize = "1024x1024"
    quality: ImageQuality = "auto"


@dataclass(frozen=True)
class GeneratedImage:
    """One generated image: its bytes and what the generator said about it."""

    data: bytes
    model: str
    revised_prompt: str | None = None
    usage: TokenUsage | None = None


class ImageGenerator(ABC):
    """Turns a prompt into image bytes."""

    backend: str

    @abstractmethod
    def generate(self, prompt: str, options: GenerationOptions | None = None) -> GeneratedImage:
        """Return one image for ``prompt`` drawn with ``options`` (default: 1024², auto).

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
