"""Build the image generator the settings ask for (ARCHITECTURE.md, "Composition")."""

from __future__ import annotations

from core.settings import Settings
from service.generation.generator import ImageGenerator
from service.generation.offline import OfflineImageGenerator
from service.generation.openai_generator import OpenAIImageGenerator


def build_generator(settings: Settings) -> ImageGenerator:
    """Return the OpenAI generator when ``OPENAI_API_KEY`` is set, else the offline one.

    Nothing connects here: the OpenAI client opens connections on the first generation.
    """
    if settings.uses_openai:
        return OpenAIImageGenerator(settings)
    return OfflineImageGenerator(size=settings.offline_image_side)
