"""Size, quality and the metadata of a generation, through the real ``openai`` client."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pytest
from PIL import Image

from core.models import TokenUsage
from service.generation.generator import GenerationOptions
from service.generation.openai_generator import OpenAIImageGenerator
from tests.support.openai_fixtures import make_openai_settings
from tests.support.openai_server import FakeImagesAPI


@pytest.fixture(scope="module")
def sized_api() -> Iterator[FakeImagesAPI]:
    """A fake Images API that draws at the requested size, as the real one does."""
    with FakeImagesAPI(image_size=None) as server:
        yield server


def test_sends_the_requested_size_and_quality_and_reads_usage(sized_api: FakeImagesAPI) -> None:
    sized_api.reset()
    generator = OpenAIImageGenerator(make_openai_settings(sized_api.base_url, openai_timeout=10))
    image = generator.generate(
        "a red fox in deep snow", GenerationOptions(size="1536x1024", quality="low")
    )
    [call] = sized_api.calls
    assert (call.body["size"], call.body["quality"]) == ("1536x1024", "low")
    assert Image.open(BytesIO(image.data)).size == (1536, 1024)
    assert image.model == "gpt-image-1"
    assert image.usage == TokenUsage(input_tokens=6, output_tokens=408, total_tokens=414)
    assert image.revised_prompt is None  # GPT image models do not rewrite prompts


def test_without_options_the_settings_decide(openai_api: FakeImagesAPI) -> None:
    settings = make_openai_settings(
        openai_api.base_url, openai_image_size="1024x1536", openai_image_quality="high"
    )
    OpenAIImageGenerator(settings).generate("a tall tower")
    [call] = openai_api.calls
    assert (call.body["size"], call.body["quality"]) == ("1024x1536", "high")


def test_dall_e_3_reports_its_revised_prompt_and_no_usage(openai_api: FakeImagesAPI) -> None:
    settings = make_openai_settings(openai_api.base_url, openai_image_model="dall-e-3")
    image = OpenAIImageGenerator(settings).generate("a lighthouse")
    assert image.model == "dall-e-3"
    assert image.revised_prompt == "A detailed picture of a lighthouse."
    assert image.usage is None
