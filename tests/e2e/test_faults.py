"""Faults of real components while requests run: S3 going away, the generator failing,
SIGTERM during a create. Each ends with the bucket and the table checked against each
other (CONTRACT.md §5).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from service.generation.offline import OfflineImageGenerator
from service.init import build_services
from service.reconcile import Reconciler
from tests.e2e.test_pool_behaviour import stack_settings
from tests.e2e.test_public_images import assert_error
from tests.support.live_server import LiveServer, free_port
from tests.support.openai_server import FakeImagesAPI
from tests.support.s3_fixtures import StoppableS3
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.mysql, pytest.mark.s3, pytest.mark.slow]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def bucket_keys(settings: Settings) -> set[str]:
    """Every key in the bucket of ``settings``."""
    client = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region
    )
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=str(settings.s3_bucket)):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def table_keys(admin: MySQLConnectionAbstract) -> set[str]:
    """Every ``storage_key`` in the images and image_renditions tables."""
    if not admin.is_connected():
        admin.reconnect()
    cursor = admin.cursor()
    cursor.execute(
        "SELECT storage_key FROM images UNION ALL SELECT storage_key FROM image_renditions"
    )
    keys = {str(row[0]) for row in cursor.fetchall()}  # type: ignore[index]
    cursor.close()
    return keys


# -- S3 endpoint stopped while requests run -----------------------------------------------


def test_s3_stopped_under_concurrent_requests_is_503_then_recovers_without_restart(
    mysql_settings: Settings,
    stoppable_s3: StoppableS3,
    mysql_clean: None,
    mysql_admin: MySQLConnectionAbstract,
) -> None:
    settings = stack_settings(mysql_settings, stoppable_s3.settings)
    services = build_services(settings, generator=OfflineImageGenerator(size=16))
    outage = threading.Event()
    stop = threading.Event()
    seen: list[tuple[bool, int]] = []  # (during the outage, status)
    lock = threading.Lock()
    with LiveServer(create_app(services=services)) as server:
        with httpx.Client(base_url=server.url) as client:
            guid = client.post("/image", json={"prompt": "a fox before the outage"}).json()["guid"]

        def worker(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30.0) as client:
                while not stop.is_set():
                    if n % 2:
                        response = client.post("/image", json={"prompt": f"fox {n}"})
                    else:
                        response = client.get(f"/image/{guid}/content")
                    down = outage.is_set()
                    with lock:
                        seen.append((down, response.status_code))
                    if response.status_code == 503:
                        assert response.headers["retry-after"]
                        assert response.json()["error"] == "blob_store_unavailable"

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(worker, n) for n in range(8)]
            time.sleep(0.5)
            stoppable_s3.stop()
            outage.set()
            time.sleep(1.5)
            outage.clear()
            stoppable_s3.start()
            time.sleep(1.0)  # requests after the endpoint returned
            stop.set()
            for future in futures:
                future.result()
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/readyz").status_code == 200
            assert client.post("/image", json={"prompt": "a fox after"}).status_code == 201
            assert client.get(f"/image/{guid}/content").status_code == 200
    statuses = {status for _, status in seen}
    assert statuses <= {200, 201, 503}, statuses
    assert any(down and status == 503 for down, status in seen)
    assert sum(status in (200, 201) for _, status in seen[-8:]) > 0
    # Never a row without its blob. An upload cut mid-way may have landed although the
    # client saw an error, and the delete of that blob could not reach S3 either: such
    # orphans are what `pixyproxy reconcile` is for (CONTRACT.md §5).
    services.backends.renditions.drain()  # type: ignore[union-attr]  # blob first, then row
    blobs, rows = bucket_keys(stoppable_s3.settings), table_keys(mysql_admin)
    assert rows <= blobs
    orphan_originals = {key for key in blobs - rows if not key.endswith(".webp")}
    assert len(orphan_originals) <= sum(status == 503 for _, status in seen)
    report = Reconciler(services.backends.database, services.backends.blobs).run(grace=timedelta(0))
    services.close()
    assert report.dangling_rows == []
    assert bucket_keys(stoppable_s3.settings) == table_keys(mysql_admin)


# -- the generator timing out or refusing connections -------------------------------------


def test_a_generator_timeout_is_504_and_stores_nothing(
    client: TestClient,
    openai_api: FakeImagesAPI,
    e2e_settings: Settings,
    mysql_admin: MySQLConnectionAbstract,
) -> None:
    openai_api.set_mode("timeout")  # hangs past OPENAI_TIMEOUT (2 s in the tests)
    response = client.post("/image", json={"prompt": "a fox that takes forever"})
    assert_error(response, 504, "generator_timeout")
    assert table_keys(mysql_admin) == set()
    assert bucket_keys(e2e_settings) == set()


def test_a_generator_refusing_connections_is_502_and_stores_nothing(
    e2e_settings: Settings, mysql_clean: None, mysql_admin: MySQLConnectionAbstract
) -> None:
    settings = e2e_settings.model_copy(
        update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1"}  # nobody listens
    )
    services = build_services(settings)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        response = client.post("/image", json={"prompt": "a fox with no painter"})
    services.close()
    body = assert_error(response, 502, "generator_unavailable")
    assert "127.0.0.1" not in body["message"]
    assert table_keys(mysql_admin) == set()
    assert bucket_keys(e2e_settings) == set()


# -- SIGTERM while a create is in flight --------------------------------------------------


def _server_env(settings: Settings, openai_url: str) -> dict[str, str]:
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "S3_", "OPENAI_"))}
    env.update(
        {
            "DB_HOST": str(settings.db_host),
            "DB_PORT": str(settings.db_port),
            "DB_USER": str(settings.db_user),
            "DB_PASSWORD": password,
            "DB_NAME": settings.db_name,
            "S3_BUCKET": str(settings.s3_bucket),
            "S3_ENDPOINT_URL": str(settings.s3_endpoint_url),
            "AWS_REGION": str(settings.aws_region),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            "OPENAI_BASE_URL": openai_url,
            "OPENAI_TIMEOUT": "30",
            "LOG_FORMAT": "json",
        }
    )
    return env


@pytest.fixture
def slow_openai() -> Iterator[FakeImagesAPI]:
    """A fake Images API of its own whose generations take 1.5 s."""
    with FakeImagesAPI(hang_seconds=1.5) as api:
        api.set_mode("timeout")  # "hang", then answer normally: a slow generation
        yield api


@pytest.mark.parametrize("in_flight_requests", [1, 3])
def test_sigterm_during_an_in_flight_create_leaves_both_stores_complete_or_neither(
    e2e_settings: Settings,
    mysql_clean: None,
    mysql_admin: MySQLConnectionAbstract,
    slow_openai: FakeImagesAPI,
    tmp_path: Path,
    in_flight_requests: int,
) -> None:
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "pixyproxy"), "serve", "--port", str(port)],
        env=_server_env(e2e_settings, slow_openai.base_url),
        cwd=tmp_path,
        stdout=log,
        stderr=log,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        results: list[int | str] = []

        def create(n: int) -> None:
            try:
                response = httpx.post(
                    f"{base}/image", json={"prompt": f"a fox at shutdown {n}"}, timeout=30
                )
                results.append(response.status_code)
            except httpx.TransportError as exc:
                results.append(type(exc).__name__)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(in_flight_requests)]
        for thread in threads:
            thread.start()
        while len(slow_openai.calls) < in_flight_requests:  # every create is generating now
            assert time.monotonic() < deadline, "the creates never reached the generator"
            time.sleep(0.02)
        server.send_signal(signal.SIGTERM)
        # uvicorn finishes in-flight requests, then re-raises the signal it caught.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    assert len(results) == in_flight_requests
    # Whatever each client saw, the stores agree: complete in both, or in neither.
    assert bucket_keys(e2e_settings) == table_keys(mysql_admin)
    assert set(results) <= {201, 503, "RemoteProtocolError", "ReadError"}
    originals = {key for key in table_keys(mysql_admin) if not key.endswith(".webp")}
    assert len(originals) == results.count(201)
