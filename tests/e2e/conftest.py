"""The whole app over HTTP, on MariaDB + moto's S3 server + the fake Images API."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import boto3
import pytest
from fastapi.testclient import TestClient
from types_boto3_s3 import S3Client

from core.settings import Settings
from service.init import Services, build_services
from tests.support.openai_server import FakeImagesAPI
from web.app import create_app


@pytest.fixture
def e2e_settings(
    mysql_settings: Settings, s3_settings: Settings, openai_settings: Settings
) -> Settings:
    """MySQL from one fixture, S3 from another, OpenAI from the third."""
    return mysql_settings.model_copy(
        update={
            "s3_bucket": s3_settings.s3_bucket,
            "s3_endpoint_url": s3_settings.s3_endpoint_url,
            "aws_region": s3_settings.aws_region,
            "aws_access_key_id": s3_settings.aws_access_key_id,
            "aws_secret_access_key": s3_settings.aws_secret_access_key,
            "openai_api_key": openai_settings.openai_api_key,
            "openai_base_url": openai_settings.openai_base_url,
            "openai_timeout": openai_settings.openai_timeout,
        }
    )


@pytest.fixture
def services(
    e2e_settings: Settings, mysql_clean: None, openai_api: FakeImagesAPI
) -> Iterator[Services]:
    """Services built by the same bootstrap the app uses."""
    built = build_services(e2e_settings)
    yield built
    built.close()


@pytest.fixture
def client(services: Services, caplog: pytest.LogCaptureFixture) -> Iterator[TestClient]:
    """An HTTP client on the app. Afterwards, fails the test if any response was a 500."""
    caplog.set_level(logging.INFO, logger="pixyproxy.access")
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        yield test_client
    crashes = [
        record.getMessage()
        for record in caplog.records
        if record.name == "pixyproxy.access" and getattr(record, "status", 0) == 500
    ]
    assert crashes == [], f"responses with status 500: {crashes}"


@pytest.fixture
def make_user(services: Services) -> Iterator[object]:
    """Create users with random names; returns ``(username, password)``."""

    def factory(prefix: str = "user") -> tuple[str, str]:
        username = f"{prefix}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        services.users.add_user(username, password)
        return username, password

    return factory  # type: ignore[return-value]


@pytest.fixture
def s3_client(e2e_settings: Settings) -> S3Client:
    """A plain boto3 client on the test bucket's endpoint, to look behind the service."""
    return boto3.client(
        "s3", endpoint_url=e2e_settings.s3_endpoint_url, region_name=e2e_settings.aws_region
    )
