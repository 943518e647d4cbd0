"""An in-memory image generator for service unit tests."""

from __future__ import annotations

from service.generation.generator import GeneratedImage, GenerationOptions, ImageGenerator
from service.generation.offline import OfflineImageGenerator


class FakeImageGenerator(ImageGenerator):
    """Returns real PNG bytes, records prompts, and fails on demand.

    ``fail_with``: raised by the next ``generate`` call, then cleared.
    ``next_bytes``: returned by the next ``generate`` call instead of a PNG, then cleared.
    ``ping_fails_with``: raised by every ``ping`` while set.
    """

    backend = "fake"

    def __init__(self, *, size: int = 8) -> None:
        self._images = OfflineImageGenerator(size=size)
        self.prompts: list[str] = []
        self.options: list[GenerationOptions] = []
        self.fail_with: Exception | None = None
        self.next_bytes: bytes | None = None
        self.ping_fails_with: Exception | None = None

    @property
    def calls(self) -> int:
        """How many times ``generate`` was called (failures included)."""
        return len(self.prompts)

    def generate(self, prompt: str, options: GenerationOptions | None = None) -> GeneratedImage:
        """Record the call; raise ``fail_with`` or return ``next_bytes`` or a PNG."""
        self.prompts.append(prompt)
        self.options.append(options or GenerationOptions())
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        if self.next_bytes is not None:
            data, self.next_bytes = self.next_bytes, None
            return GeneratedImage(data=data, model="fake")
        return GeneratedImage(data=self._images.generate(prompt, options).data, model="fake")

    def ping(self) -> None:
        """Raise ``ping_fails_with`` when set."""
        if self.ping_fails_with is not None:
            raise self.ping_fails_with
