"""The MySQL pool under pressure, over real sockets: a pool of 2 and 32 clients, and KILL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from data.mysql.database import MySQLDatabase
from service.generation.offline import OfflineImageGenerator
from service.init import Services, build_services
from tests.support.live_server import LiveServer
from tests.support.pool_stats import pool_stats
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.mysql, pytest.mark.s3]

CLIENTS = 32


def stack_settings(
    mysql_settings: Settings, s3_settings: Settings, **overrides: object
) -> Settings:
    """MySQL from one fixture, S3 from the other, offline generator, ``overrides`` on top."""
    return mysql_settings.model_copy(
        update={
            "s3_bucket": s3_settings.s3_bucket,
            "s3_endpoint_url": s3_settings.s3_endpoint_url,
            "aws_region": s3_settings.aws_region,
            "aws_access_key_id": s3_settings.aws_access_key_id,
            "aws_secret_access_key": s3_settings.aws_secret_access_key,
            "openai_api_key": None,
            **overrides,
        }
    )


@pytest.fixture
def small_pool_services(
    mysql_settings: Settings, s3_settings: Settings, mysql_clean: None
) -> Iterator[Services]:
    """Services on a pool of 2 connections that waits at most 0.3 s for one."""
    settings = stack_settings(mysql_settings, s3_settings, db_pool_size=2, db_pool_timeout=0.3)
    services = build_services(settings, generator=OfflineImageGenerator(size=16))
    yield services
    services.close()


@pytest.fixture
def live(small_pool_services: Services) -> Iterator[str]:
    """The app on a real uvicorn; yields its base URL."""
    with LiveServer(create_app(services=small_pool_services)) as server:
        yield server.url


def _hammer(url: str, paths: list[str], rounds: int) -> list[httpx.Response]:
    """Each of ``CLIENTS`` threads GETs every path ``rounds`` times; all responses."""

    def one_client(_: int) -> list[httpx.Response]:
        with httpx.Client(base_url=url, timeout=15.0) as client:
            return [client.get(path) for _ in range(rounds) for path in paths]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [r for batch in pool.map(one_client, range(CLIENTS)) for r in batch]


def _assert_served_or_503(responses: list[httpx.Response]) -> None:
    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            assert response.headers["retry-after"]
            assert response.json()["error"] == "db_connection"


def test_32_clients_on_a_pool_of_2_are_served_or_told_to_retry_never_hung(live: str) -> None:
    with httpx.Client(base_url=live) as client:
        guid = client.post("/image", json={"prompt": "a crowded fox"}).json()["guid"]
    # Every request completes (the client's 15 s timeout would raise on a hang).
    unknown = f"/image/{uuid.uuid4()}"
    responses = _hammer(live, [f"/image/{guid}", "/image", unknown], rounds=4)
    assert len(responses) == CLIENTS * 12
    misses = [r for r in responses if r.request.url.path == unknown]
    assert {r.status_code for r in misses} <= {404, 503}
    _assert_served_or_503([r for r in responses if r.request.url.path != unknown])
    assert sum(r.status_code == 200 for r in responses) > 0


def test_a_pool_held_busy_answers_503_with_retry_after_then_recovers(
    live: str, small_pool_services: Services
) -> None:
    database = small_pool_services.backends.database
    assert isinstance(database, MySQLDatabase)
    with httpx.Client(base_url=live, timeout=10.0) as client:
        guid = client.post("/image", json={"prompt": "a patient fox"}).json()["guid"]
        with ExitStack() as held:
            for _ in range(2):
                held.enter_context(database.context())
            responses = _hammer(live, [f"/image/{guid}"], rounds=1)
            assert {r.status_code for r in responses} == {503}
            _assert_served_or_503(responses)
        assert client.get(f"/image/{guid}").status_code == 200
    assert pool_stats(database).in_use == 0


def _kill_pooled_sessions(admin: MySQLConnectionAbstract, db_name: str) -> int:
    """KILL every session on ``db_name`` but the admin's own, as wait_timeout would."""
    cursor = admin.cursor()
    cursor.execute(
        "SELECT id FROM information_schema.PROCESSLIST WHERE db = %s AND id <> CONNECTION_ID()",
        (db_name,),
    )
    sessions = [int(str(row[0])) for row in cursor.fetchall()]  # type: ignore[index]
    for session in sessions:
        cursor.execute(f"KILL {session}")
    cursor.close()
    return len(sessions)


def test_connections_killed_by_the_server_are_replaced_and_requests_succeed(
    live: str, small_pool_services: Services, mysql_admin: MySQLConnectionAbstract
) -> None:
    db_name = small_pool_services.settings.db_name
    with httpx.Client(base_url=live, timeout=10.0) as client:
        guid = client.post("/image", json={"prompt": "a fox that outlives its session"}).json()[
            "guid"
        ]
        assert client.get(f"/image/{guid}").status_code == 200
        assert _kill_pooled_sessions(mysql_admin, db_name) >= 1  # opened on demand
        # The very next requests succeed, one after another and then concurrently.
        for _ in range(4):
            assert client.get(f"/image/{guid}").status_code == 200
    statuses: list[int] = []
    lock = threading.Lock()

    def get() -> None:
        with httpx.Client(base_url=live, timeout=10.0) as client:
            status = client.get(f"/image/{guid}").status_code
        with lock:
            statuses.append(status)

    # LIFO reuse revived one connection; the other is still the dead one: kill them all.
    assert _kill_pooled_sessions(mysql_admin, db_name) >= 1
    threads = [threading.Thread(target=get) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
