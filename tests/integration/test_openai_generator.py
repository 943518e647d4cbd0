"""The real ``openai`` client, through ``OpenAIImageGenerator``, against the fake Images API."""

from __future__ import annotations

import logging
import threading
import time
from email.utils import formatdate

import pytest

from core.exceptions import (
    GeneratorRateLimitError,
    GeneratorTimeoutError,
    GeneratorUnavailableError,
    PromptRejectedError,
)
from core.media import sniff_media_type
from core.settings import Settings
from service.generation.openai_generator import OpenAIImageGenerator, parse_retry_after
from tests.support.live_server import free_port
from tests.support.openai_fixtures import TEST_API_KEY, make_openai_settings
from tests.support.openai_server import FakeImagesAPI, Mode
from tests.support.stalling_server import StallingServer, StallMode


@pytest.fixture
def generator(openai_settings: Settings) -> OpenAIImageGenerator:
    """A generator that talks to the fake API with the default test settings."""
    return OpenAIImageGenerator(openai_settings)


def test_returns_png_bytes_and_sends_model_size_quality_without_response_format(
    generator: OpenAIImageGenerator, openai_api: FakeImagesAPI
) -> None:
    data = generator.generate("a red fox in snow").data
    media = sniff_media_type(data)
    assert media is not None
    assert media.content_type == "image/png"
    [call] = openai_api.calls
    assert call.path == "/v1/images/generations"
    assert call.body == {
        "prompt": "a red fox in snow",
        "model": "gpt-image-1",
        "size": "1024x1024",
        "quality": "auto",
        "n": 1,
    }
    assert call.headers["authorization"] == f"Bearer {TEST_API_KEY}"


def test_asks_dall_e_models_for_b64_json(openai_api: FakeImagesAPI) -> None:
    settings = make_openai_settings(
        openai_api.base_url, openai_image_model="dall-e-3", openai_image_quality="high"
    )
    image = OpenAIImageGenerator(settings).generate("a lighthouse")
    assert sniff_media_type(image.data) is not None
    [call] = openai_api.calls
    assert call.body["model"] == "dall-e-3"
    assert call.body["quality"] == "high"
    assert call.body["response_format"] == "b64_json"


@pytest.mark.parametrize("mode", ["content_policy", "moderation_blocked"])
def test_a_refused_prompt_is_rejected_without_retry(
    generator: OpenAIImageGenerator, openai_api: FakeImagesAPI, mode: Mode
) -> None:
    openai_api.set_mode(mode)
    with pytest.raises(PromptRejectedError) as caught:
        generator.generate("something the safety system refuses")
    assert caught.value.code == "prompt_rejected"
    assert len(openai_api.calls) == 1


def test_a_rate_limit_carries_retry_after_and_is_not_slept_on(
    generator: OpenAIImageGenerator, openai_api: FakeImagesAPI
) -> None:
    openai_api.set_mode("rate_limit")
    started = time.perf_counter()
    with pytest.raises(GeneratorRateLimitError) as caught:
        generator.generate("a busy day")
    assert caught.value.retry_after == 7
    assert len(openai_api.calls) == 1
    assert time.perf_counter() - started < 2


def test_a_read_timeout_is_not_retried_and_openai_timeout_is_the_whole_wait(
    openai_api: FakeImagesAPI,
) -> None:
    settings = make_openai_settings(openai_api.base_url, openai_timeout=1.0)
    openai_api.set_mode("timeout")
    started = time.perf_counter()
    with pytest.raises(GeneratorTimeoutError):
        OpenAIImageGenerator(settings).generate("a slow sunrise")
    elapsed = time.perf_counter() - started
    assert len(openai_api.calls) == 1  # a retry could bill the same image twice
    assert 0.9 <= elapsed < 1.8


@pytest.mark.parametrize("mode", ["silent", "drip"])
def test_a_server_that_never_finishes_its_answer_is_abandoned_at_the_deadline(
    mode: StallMode,
) -> None:
    with StallingServer(mode, drip_interval=0.2) as server:
        settings = make_openai_settings(server.base_url, openai_timeout=1.5)
        started = time.perf_counter()
        with pytest.raises(GeneratorTimeoutError):
            OpenAIImageGenerator(settings).generate("a dripping tap")
        elapsed = time.perf_counter() - started
        assert server.requests == 1
    assert 1.4 <= elapsed < 2.3  # a drip keeps every read alive: only the deadline ends it


def test_a_refused_connection_is_retried_within_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()  # nobody listens there for the first 0.3 s: connections are refused
    servers: list[FakeImagesAPI] = []

    def come_up() -> None:
        servers.append(FakeImagesAPI(port=port).start())

    timer = threading.Timer(0.3, come_up)
    timer.start()
    try:
        settings = make_openai_settings(f"http://127.0.0.1:{port}/v1", openai_timeout=5.0)
        with caplog.at_level(logging.INFO, logger="service.generation"):
            data = OpenAIImageGenerator(settings).generate("a door that opens late").data
        assert sniff_media_type(data) is not None
        assert "refused the connection; retry 1" in caplog.text
        timer.join()
        assert len(servers[0].calls) == 1
    finally:
        timer.join()
        for server in servers:
            server.stop()


@pytest.mark.parametrize("mode", ["malformed", "missing_b64", "not_image"])
def test_an_unusable_answer_is_unavailable(
    generator: OpenAIImageGenerator, openai_api: FakeImagesAPI, mode: Mode
) -> None:
    openai_api.set_mode(mode)
    with pytest.raises(GeneratorUnavailableError, match="malformed response"):
        generator.generate("a broken mirror")


def test_a_server_error_is_not_retried(
    generator: OpenAIImageGenerator, openai_api: FakeImagesAPI
) -> None:
    openai_api.set_mode("server_error", times=1)  # the next call would succeed
    with pytest.raises(GeneratorUnavailableError, match="HTTP 500"):
        generator.generate("a storm")
    assert len(openai_api.calls) == 1


def test_a_wrong_key_is_unavailable_and_never_shows_the_key(
    generator: OpenAIImageGenerator,
    openai_api: FakeImagesAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    openai_api.set_mode("unauthorized")
    with caplog.at_level(logging.DEBUG), pytest.raises(GeneratorUnavailableError) as caught:
        generator.generate("a locked door")
    error = caught.value
    assert error.__cause__ is not None
    for text in (error.message, str(error), repr(error), repr(error.__cause__), caplog.text):
        assert TEST_API_KEY not in text
    assert len(openai_api.calls) == 1


def test_an_unreachable_server_is_unavailable_after_a_few_quick_retries() -> None:
    settings = make_openai_settings(f"http://127.0.0.1:{free_port()}/v1", openai_timeout=30.0)
    started = time.perf_counter()
    with pytest.raises(GeneratorUnavailableError, match="could not be reached"):
        OpenAIImageGenerator(settings).generate("a closed door")
    assert time.perf_counter() - started < 5  # the retry pauses, not the 30 s deadline


def test_failures_are_logged_with_a_prompt_preview_only(
    generator: OpenAIImageGenerator,
    openai_api: FakeImagesAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    prompt = "a very long and private prompt " + "with many words " * 20 + "THE-SECRET-END"
    openai_api.set_mode("content_policy")
    with (
        caplog.at_level(logging.WARNING, logger="service.generation"),
        pytest.raises(PromptRejectedError),
    ):
        generator.generate(prompt)
    [record] = [r for r in caplog.records if r.name.startswith("service.generation")]
    assert record.levelno == logging.WARNING
    assert "a very long and private" in record.getMessage()
    assert "THE-SECRET-END" not in record.getMessage()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7),
        ({"retry-after": "1.2"}, 2),
        ({"retry-after-ms": "1500"}, 2),
        ({"Retry-After": "0"}, 1),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_parses_retry_after_seconds(headers: dict[str, str], expected: int | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parses_retry_after_as_an_http_date() -> None:
    header = formatdate(time.time() + 30, usegmt=True)
    seconds = parse_retry_after({"Retry-After": header})
    assert seconds is not None
    assert 28 <= seconds <= 31
