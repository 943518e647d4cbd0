"""Concurrent creations with one ``Idempotency-Key`` generate once, on every database.

The claim relies on the database's unique index and row locks (MySQL), its write lock
(SQLite) or the fake's commit check, so the race is run against each of them.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from core.models import ImageDetailCreate
from data.database import Database
from service.generation.generator import GeneratedImage, GenerationOptions
from service.image_service import Backends
from service.public_images import PublicImageService
from service.renditions import image_keys
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.generator import FakeImageGenerator


class SlowGenerator(FakeImageGenerator):
    """Takes ``seconds`` per image, so that twins overlap."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self._lock = threading.Lock()

    def generate(self, prompt: str, options: GenerationOptions | None = None) -> GeneratedImage:
        with self._lock:
            self.prompts.append(prompt)
        time.sleep(self.seconds)
        return self._images.generate(prompt, options)


def test_concurrent_twins_generate_once_and_all_get_the_same_image(database: Database) -> None:
    generator = SlowGenerator(0.3)
    blobs = InMemoryBlobStore()
    backends = Backends(database=database, blobs=blobs, generator=generator)
    body = ImageDetailCreate(prompt="a red fox in snow", tags=["fox"])
    key = f"twin-{uuid.uuid4().hex}"

    def create() -> str:
        return PublicImageService(backends).create_image(body, idempotency_key=key).guid

    with ThreadPoolExecutor(4) as pool:
        guids = [future.result(timeout=20) for future in [pool.submit(create) for _ in range(4)]]
    assert len(set(guids)) == 1
    assert generator.calls == 1
    assert sorted(blobs.blobs) == sorted(image_keys(guids[0], f"images/{guids[0]}.png"))
    with database.context() as db:
        assert db.images.count() == 1
        record = db.idempotency.find("public", "", key)
    assert record is not None and (record.status, record.image_guid) == ("completed", guids[0])
