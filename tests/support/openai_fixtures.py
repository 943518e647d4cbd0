"""Fixtures for the fake OpenAI Images API (registered in ``tests/conftest.py``).

``openai_server`` starts one server for the session; ``openai_api`` hands it to a test
reset to "ok" with no recorded calls; ``openai_settings`` points the real ``openai``
client at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import Settings
from tests.support.openai_server import FakeImagesAPI

TEST_API_KEY = "sk-test-not-a-real-key"


def make_openai_settings(base_url: str, **overrides: object) -> Settings:
    """Settings for the OpenAI generator against ``base_url``; ``.env`` is not read."""
    values: dict[str, Any] = {
        "openai_api_key": TEST_API_KEY,
        "openai_base_url": base_url,
        "openai_image_model": "gpt-image-1",
        "openai_image_size": "1024x1024",
        "openai_image_quality": "auto",
        "openai_timeout": 2.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeImagesAPI]:
    """One fake Images API for the whole session, stopped at the end."""
    with FakeImagesAPI() as server:
        yield server


@pytest.fixture
def openai_api(openai_server: FakeImagesAPI) -> Iterator[FakeImagesAPI]:
    """The session's fake Images API, reset before and after the test."""
    openai_server.reset()
    yield openai_server
    openai_server.reset()


@pytest.fixture
def openai_settings(openai_api: FakeImagesAPI) -> Settings:
    """Settings whose OpenAI generator talks to ``openai_api`` (2 s timeout)."""
    return make_openai_settings(openai_api.base_url)
