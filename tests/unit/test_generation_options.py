"""Size and quality per request, their defaults, and the metadata a create records."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from core.exceptions import ValidationFailedError
from core.models import ImageDetailCreate
from service.generation.generator import GenerationOptions
from service.idempotency import request_hash
from service.image_service import Backends
from service.public_images import PublicImageService
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator


def service(generator: FakeImageGenerator, **settings: str) -> PublicImageService:
    backends = Backends(
        database=InMemoryDatabase(),
        blobs=InMemoryBlobStore(),
        generator=generator,
        **settings,  # type: ignore[arg-type]
    )
    return PublicImageService(backends)


@pytest.mark.parametrize("field", ["size", "quality"])
@pytest.mark.parametrize("value", ["512x512", "hd", "", "AUTO", 1024])
def test_values_outside_the_contract_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        ImageDetailCreate.model_validate({"prompt": "a fox", field: value})


def test_the_service_revalidates_what_it_is_given() -> None:
    body = ImageDetailCreate.model_construct(prompt="a fox", tags=[], size="640x480")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailedError):
        service(FakeImageGenerator()).create_image(body)


def test_size_and_quality_reach_the_generator_and_the_details() -> None:
    generator = FakeImageGenerator()
    body = ImageDetailCreate(prompt="a red fox", size="1536x1024", quality="low")
    detail = service(generator).create_image(body)
    assert generator.options == [GenerationOptions(size="1536x1024", quality="low")]
    assert (detail.size, detail.quality, detail.model) == ("1536x1024", "low", "fake")
    assert (detail.width, detail.height) == (8, 8)  # the fake draws 8 px squares
    assert detail.blurhash is not None and 20 <= len(detail.blurhash) <= 30
    assert detail.usage is None and detail.revised_prompt is None


def test_without_them_the_settings_decide() -> None:
    generator = FakeImageGenerator()
    images = service(generator, default_size="1024x1536", default_quality="high")
    detail = images.create_image(ImageDetailCreate(prompt="a tall tower"))
    assert generator.options == [GenerationOptions(size="1024x1536", quality="high")]
    assert (detail.size, detail.quality) == ("1024x1536", "high")


def test_bytes_pillow_cannot_decode_are_no_usable_image() -> None:
    generator = FakeImageGenerator()
    generator.next_bytes = b"\x89PNG\r\n\x1a\n but nothing after the signature"
    with pytest.raises(Exception, match="no usable image"):
        service(generator).create_image(ImageDetailCreate(prompt="a broken picture"))


def test_an_idempotency_key_fingerprint_is_unchanged_for_bodies_without_options() -> None:
    body = ImageDetailCreate(prompt="a fox", tags=["Fox"])
    before_options = hashlib.sha256(b'{"prompt":"a fox","tags":["fox"]}').hexdigest()
    assert request_hash(body) == before_options  # keys stored by the first release match
    with_size = ImageDetailCreate(prompt="a fox", tags=["fox"], size="1536x1024")
    assert request_hash(with_size) != request_hash(body)
