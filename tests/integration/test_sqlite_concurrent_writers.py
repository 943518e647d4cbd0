"""Embedded SQLite: creates and background rendition writes never see "database is locked"."""

from __future__ import annotations

from pathlib import Path

from core.models import ImageDetailCreate
from core.settings import Settings
from service.generation.offline import OfflineImageGenerator
from service.init import build_services


def test_creates_while_the_rendition_pool_writes_all_succeed(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        sqlite_path=tmp_path / "pixy.db",
        blob_dir=tmp_path / "blobs",
        rendition_workers=1,
    )
    services = build_services(settings, generator=OfflineImageGenerator(size=32))
    try:
        images = services.public()
        # before the fix about one create in ten failed at once with SQLITE_BUSY
        guids = [
            images.create_image(ImageDetailCreate(prompt=f"a fox {n}")).guid for n in range(120)
        ]
        assert services.backends.renditions is not None
        services.backends.renditions.drain()
        assert len(images.list_images(limit=200, q="fox").items) == len(guids)
    finally:
        services.close()
