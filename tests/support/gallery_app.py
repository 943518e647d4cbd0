"""The app as the browser tests see it: embedded SQLite, local blobs, an offline generator.

``SwitchableGenerator`` draws real images with the offline generator and fails on
demand (``fail_with``), so a test can make the generator refuse, time out or break
while the server keeps running. ``build_gallery_services`` builds the services on a
fresh folder; ``seed`` creates images straight through the services (fast, and with
real renditions), oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models import ImageDetail, ImageDetailCreate
from core.settings import Settings
from data.schema import apply_schema
from service.generation.generator import ImageGenerator
from service.generation.offline import OfflineImageGenerator
from service.init import Services, build_services


class SwitchableGenerator(ImageGenerator):
    """The offline generator, except that it raises ``fail_with`` (once) when it is set.

    ``delay``: seconds the next generation takes (then cleared), to watch the progress.
    """

    backend = "offline-switchable"

    def __init__(self, size: int = 256) -> None:
        self._offline = OfflineImageGenerator(size=size)
        self.fail_with: Exception | None = None
        self.delay = 0.0

    def generate(self, prompt: str, *args: Any, **kwargs: Any) -> bytes:
        """Wait ``delay``, then raise ``fail_with`` and clear it, or draw the image offline."""
        if self.delay:
            delay, self.delay = self.delay, 0.0
            time.sleep(delay)
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        return self._offline.generate(prompt, *args, **kwargs)


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
