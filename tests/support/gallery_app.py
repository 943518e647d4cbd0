"""The app as the browser tests see it: embedded SQLite, local blobs, an offline generator.

``SwitchableGenerator`` draws real images (the offline generator, through the unit
tests' fake) and fails on demand (``fail_with``), so a test can make the generator
refuse, time out or break while the server keeps running. ``build_gallery_services``
builds the services on a fresh folder; ``seed`` creates images straight through the
services (fast, and with real renditions), oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models import ImageDetail, ImageDetailCreate
from core.settings import Settings
from data.init import apply_schema
from service.init import Services, build_services
from tests.fakes.generator import FakeImageGenerator


class SwitchableGenerator(FakeImageGenerator):
    """The fake generator (real images, ``fail_with`` raised once), and slow on demand.

    ``delay``: seconds the next generation takes (then cleared), to watch the progress.
    """

    backend = "offline-switchable"

    def __init__(self, size: int = 256) -> None:
        super().__init__(size=size)
        self.delay = 0.0

    def generate(self, prompt: str, *args: Any, **kwargs: Any) -> Any:
        """Wait ``delay``, then generate as the fake generator does."""
        if self.delay:
            delay, self.delay = self.delay, 0.0
            time.sleep(delay)
        return super().generate(prompt, *args, **kwargs)


@dataclass
class GalleryApp:
    """Services on a temporary folder, with the generator a test can switch to failing."""

    services: Services
    generator: SwitchableGenerator


def build_gallery_services(root: Path) -> GalleryApp:
    """Services on SQLite and local blobs under ``root``, with a switchable generator."""
    settings = Settings(
        _env_file=None,
        db_host=None,
        s3_bucket=None,
        openai_api_key=None,
        sqlite_path=root / "pixy.db",
        blob_dir=root / "blobs",
        auth_max_failures=0,
        create_rate_limit=0,
    )
    apply_schema(settings)
    generator = SwitchableGenerator()
    return GalleryApp(build_services(settings, generator=generator), generator)


def seed(
    services: Services,
    prompts: Iterable[tuple[str, list[str]]],
    *,
    owner: str | None = None,
    private: bool = False,
) -> list[ImageDetail]:
    """Create one image per ``(prompt, tags)``, in order (the last is the newest)."""
    scope = services.private(owner) if private and owner else services.public(owner)
    return [
        scope.create_image(ImageDetailCreate(prompt=prompt, tags=tags)) for prompt, tags in prompts
    ]
