"""The generation deadline over HTTP (CONTRACT.md §6): ``OPENAI_TIMEOUT`` is the whole wait.

A real uvicorn serves the app on MariaDB + moto S3, its generator pointed at a server
that accepts the connection and reads the request but never answers (or drips its
answer a byte at a time). With ``OPENAI_TIMEOUT=2`` the create answers ``504`` within
a few seconds of it, the generator saw exactly one call, and nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from service.init import Services, build_services
from tests.e2e.test_faults import bucket_keys, table_keys
from tests.e2e.test_public_images import assert_error
from tests.support.auth import basic
from tests.support.live_server_fixtures import StartServer
from tests.support.stalling_server import StallingServer, StallMode

pytestmark = [pytest.mark.e2e, pytest.mark.mysql, pytest.mark.s3]

OPENAI_TIMEOUT = 2.0
SLACK = 3.0  # seconds the rest of a create may take on a busy test machine


@pytest.fixture(params=["silent", "drip"])
def stalled(
    request: pytest.FixtureRequest, e2e_settings: Settings, mysql_clean: None
) -> Iterator[tuple[StallingServer, Services]]:
    """A stalling generator and services whose OpenAI client talks to it."""
    mode: StallMode = request.param
    with StallingServer(mode, drip_interval=0.3) as server:
        settings = e2e_settings.model_copy(
            update={"openai_base_url": server.base_url, "openai_timeout": OPENAI_TIMEOUT}
        )
        services = build_services(settings)
        yield server, services
        services.close()


@pytest.mark.parametrize("route", ["/image", "/private/image"])
def test_a_generator_that_never_answers_is_a_504_at_the_deadline_and_stores_nothing(
    stalled: tuple[StallingServer, Services],
    live_server: StartServer,
    mysql_admin: MySQLConnectionAbstract,
    route: str,
) -> None:
    server, services = stalled
    services.users.add_user("erin", "erin-password")
    url = live_server(services)
    headers = {"Authorization": basic("erin", "erin-password"), "Idempotency-Key": "deadline-1"}
    with httpx.Client(base_url=url, timeout=60) as client:
        started = time.monotonic()
        response = client.post(route, json={"prompt": "a fox that takes forever"}, headers=headers)
        elapsed = time.monotonic() - started
        listing = client.get(route, headers=headers)
    assert_error(response, 504, "generator_timeout")
    assert OPENAI_TIMEOUT - 0.1 <= elapsed < OPENAI_TIMEOUT + SLACK
    assert server.requests == 1  # never retried: the first call may still be billed
    assert listing.status_code == 200 and listing.json() == []
    assert table_keys(mysql_admin) == set()
    assert bucket_keys(services.settings) == set()
