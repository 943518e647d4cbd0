"""The ``live_server`` fixture (registered in ``tests/conftest.py``).

``live_server(services)`` serves ``create_app(services=services)`` with a real uvicorn
on a free loopback port and returns its base URL, for tests that talk to the app over
real sockets (curl, raw sockets, clients going away). Every server is stopped at the end
of the test, and, like the in-process ``client``, the test fails if any response was 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from service.init import Services
from tests.support.live_server import LiveServer
from web.app import create_app

StartServer = Callable[[Services], str]


@pytest.fixture
def live_server(caplog: pytest.LogCaptureFixture) -> Iterator[StartServer]:
    """A factory: ``live_server(services)`` starts a server and returns its URL."""
    caplog.set_level(logging.INFO, logger="pixyproxy.access")
    servers: list[LiveServer] = []

    def start(services: Services) -> str:
        server = LiveServer(create_app(services=services)).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
    assert_no_500(caplog)


def assert_no_500(caplog: pytest.LogCaptureFixture) -> None:
    """Fail if the access log of the test recorded a response with status 500."""
    crashes = [
        record.getMessage()
        for record in caplog.records
        if record.name == "pixyproxy.access" and getattr(record, "status", 0) == 500
    ]
    assert crashes == [], f"responses with status 500: {crashes}"
