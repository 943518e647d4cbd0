"""A bounded load test: 32 clients for about 20 s of mixed reads and creates.

Real uvicorn, MariaDB, moto's S3 server and the offline generator. Afterwards: no 5xx,
no connection errors, and the bucket and the table hold exactly the same images.
``LOAD_TEST_SECONDS`` changes the duration.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from service.generation.offline import OfflineImageGenerator
from service.init import Services, build_services
from tests.e2e.test_faults import bucket_keys, table_keys
from tests.e2e.test_pool_behaviour import stack_settings
from tests.support.live_server import LiveServer
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.mysql, pytest.mark.s3, pytest.mark.slow]

CLIENTS = 32
SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "20"))


@pytest.fixture
def load_services(
    mysql_settings: Settings, s3_settings: Settings, mysql_clean: None
) -> Iterator[Services]:
    """The default pool (10 connections) on MySQL and moto, offline 64 px images."""
    settings = stack_settings(mysql_settings, s3_settings, db_pool_size=10, db_pool_timeout=5.0)
    services = build_services(settings, generator=OfflineImageGenerator(size=64))
    yield services
    services.close()


def test_32_clients_of_mixed_reads_and_creates_see_no_5xx_and_leave_the_stores_equal(
    load_services: Services, mysql_admin: MySQLConnectionAbstract
) -> None:
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    created: list[str] = []
    lock = threading.Lock()
    with LiveServer(create_app(services=load_services)) as server:
        with httpx.Client(base_url=server.url) as client:
            for n in range(4):
                response = client.post("/image", json={"prompt": f"seed fox {n}"})
                created.append(response.json()["guid"])
        deadline = time.monotonic() + SECONDS

        def client_loop(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=server.url, timeout=30.0) as client:
                while time.monotonic() < deadline:
                    guid = rng.choice(created)
                    roll = rng.random()
                    try:
                        if roll < 0.15:
                            response = client.post(
                                "/image", json={"prompt": f"fox {seed}", "tags": ["load"]}
                            )
                            if response.status_code == 201:
                                with lock:
                                    created.append(response.json()["guid"])
                        elif roll < 0.45:
                            response = client.get(f"/image/{guid}")
                        elif roll < 0.65:
                            response = client.get("/image", params={"limit": 20})
                        else:
                            response = client.get(f"/image/{guid}/content")
                    except httpx.TransportError as exc:
                        with lock:
                            failures.append(type(exc).__name__)
                        continue
                    with lock:
                        statuses[f"{response.status_code}"] += 1

        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert failures == []
    assert {status for status in statuses if status.startswith("5")} == set(), statuses
    assert set(statuses) <= {"200", "201"}, statuses
    assert sum(statuses.values()) > CLIENTS * 10
    load_services.backends.renditions.drain()  # type: ignore[union-attr]  # made after commits
    assert bucket_keys(load_services.settings) == table_keys(mysql_admin)
    originals = {key for key in table_keys(mysql_admin) if not key.endswith(".webp")}
    assert len(originals) == len(created)
