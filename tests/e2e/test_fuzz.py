"""Schemathesis against the app's own ``/openapi.json``: no 5xx, and every response,
status, header and body as documented.

In process, on embedded SQLite + a local blob folder + the offline generator, so each
operation's examples cost milliseconds. ``/private`` routes are called with a real
user's HTTP Basic credentials; the public routes with none.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.models import ImageDetailCreate
from core.settings import Settings
from data.init import apply_schema
from service.generation.offline import OfflineImageGenerator
from service.init import build_services
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
USERNAME = "fuzz-user"
PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app on SQLite, local blobs and the offline generator, with one user."""
    root: Path = tmp_path_factory.mktemp("fuzz")
    app_settings = Settings(
        _env_file=None,
        sqlite_path=root / "pixy.db",
        blob_dir=root / "blobs",
    )
    apply_schema(app_settings)
    services = build_services(app_settings, generator=OfflineImageGenerator(size=8))
    services.users.add_user(USERNAME, PASSWORD)
    for n in range(3):  # rows to list; guids are random, so GETs by guid mostly 404
        services.public(USERNAME).create_image(ImageDetailCreate(prompt=f"fuzz seed {n}"))
    yield create_app(services=services)
    services.close()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read at collection time.

    Building the app reads no settings and opens nothing (that happens in its lifespan),
    so its OpenAPI document is available without any backend.
    """
    paths = create_app().openapi()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


def _auth_headers(path: str) -> dict[str, str]:
    if not path.startswith("/private"):
        return {}
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_as_documented(fuzz_app: FastAPI, method: str, path: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operation = schema[path][method]

    # (schemathesis' own pytest plugin does not load under this pytest; hypothesis
    # drives its strategies just as well.)
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Case[Any]) -> None:
        case.call_and_validate(headers=_auth_headers(path), checks=CHECKS)

    run()
