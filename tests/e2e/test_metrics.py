"""``GET /metrics`` (CONTRACT.md §6 "Metrics"): what a create, a list and a download
leave in it, with labels that hold route templates and never a prompt, a guid or a
query; and, with ``pixyproxy serve --workers 2``, counts that add up over the workers.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from data.init import apply_schema
from service.generation.offline import OfflineImageGenerator
from service.init import Services, build_services
from tests.support.cli_process import ServerProcess, clean_env, free_port
from web.app import create_app

pytestmark = pytest.mark.e2e

PIXYPROXY = str(Path(sys.executable).with_name("pixyproxy"))
PROMPT = "a confidential heron wading at dawn"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when it is not exposed yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The app on SQLite, local blobs and the offline generator."""
    settings = Settings(_env_file=None, sqlite_path=tmp_path / "pixy.db", blob_dir=tmp_path / "b")
    apply_schema(settings)
    services = build_services(settings, generator=OfflineImageGenerator(size=16))
    with TestClient(create_app(services=services)) as test_client:
        yield test_client
    services.close()


def scrape(client: TestClient) -> tuple[str, Samples]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, parse(response.text)


def test_a_create_list_and_download_show_up_by_route_template(
    client: TestClient, services: Services
) -> None:
    _, before = scrape(client)
    created = client.post("/image", json={"prompt": PROMPT, "tags": ["heron"]})
    assert created.status_code == 201
    guid = created.json()["guid"]
    assert client.get("/image", params={"tag": "heron", "limit": 5}).status_code == 200
    content = client.get(f"/image/{guid}/content")
    assert content.status_code == 200
    assert client.get(f"/image/{guid}/nope?x={guid}").status_code == 404
    services.backends.renditions.drain()  # type: ignore[union-attr]  # off the pool's connection
    text, after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "pixyproxy_http_requests_total"
    assert delta(requests, method="POST", route="/image", status="201") == 1
    assert delta(requests, method="GET", route="/image", status="200") == 1
    assert delta(requests, method="GET", route="/image/{guid}/content", status="200") == 1
    assert delta(requests, method="GET", route="unmatched", status="404") == 1
    latency = "pixyproxy_http_request_duration_seconds_count"
    assert delta(latency, method="GET", route="/image/{guid}/content") == 1
    assert delta("pixyproxy_generations_total", outcome="ok") == 1
    assert delta("pixyproxy_generation_duration_seconds_count", outcome="ok") == 1
    for outcome in ("rejected", "rate_limited", "timeout", "error"):  # exported from the start
        assert ("pixyproxy_generations_total", frozenset({("outcome", outcome)})) in after
    streamed = delta("pixyproxy_blob_bytes_streamed_total", route="/image/{guid}/content")
    assert streamed == len(content.content)
    assert value(after, "pixyproxy_db_connections_in_use", backend="sqlite") == 0
    assert ("pixyproxy_db_connections_in_use", frozenset({("backend", "sqlite")})) in after
    assert ("pixyproxy_blob_compensating_deletes_total", frozenset({("result", "ok")})) in after
    # Nothing a client sent lands in the exposition: no prompt, guid, tag or query.
    for secret in (PROMPT, "confidential", guid, "heron", "limit="):
        assert secret not in text


def test_metrics_is_documented_and_needs_no_login(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]
    assert "text/plain" in operation["responses"]["200"]["content"]
    assert client.get("/metrics", headers={"Authorization": "Basic Zm9vOmJhcg=="}).is_success


def histogram_pids(folder: Path) -> set[str]:
    """The pids that wrote histogram values to the shared folder."""
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob("histogram_*.db")}


CREATES = 6


def serve_two_workers(tmp_path: Path, extra: dict[str, str], during: Callable[[], None]) -> None:
    """``pixyproxy serve --workers 2``: create images, scrape, check every scrape's sums."""
    env = clean_env(
        {
            "SQLITE_PATH": str(tmp_path / "pixy.db"),
            "BLOB_DIR": str(tmp_path / "blobs"),
            "RENDITION_WORKERS": "0",  # made before each answer: no connection in use after
            **extra,
        }
    )
    port = free_port()
    command = [PIXYPROXY, "serve", "--workers", "2", "--port", str(port)]
    with ServerProcess(command, cwd=tmp_path, env=env, log=tmp_path / "serve.log", port=port):
        base = f"http://127.0.0.1:{port}"
        for n in range(CREATES):  # a new connection each time: the workers share them
            assert httpx.post(f"{base}/image", json={"prompt": f"{PROMPT} {n}"}).status_code == 201
        scrapes = [parse(httpx.get(f"{base}/metrics").text) for _ in range(6)]
        during()
    for samples in scrapes:  # whichever worker answered, it reports both workers' counts
        assert value(samples, "pixyproxy_generations_total", outcome="ok") == CREATES
        posts = {"method": "POST", "route": "/image", "status": "201"}
        assert value(samples, "pixyproxy_http_requests_total", **posts) == CREATES
        assert value(samples, "pixyproxy_db_connections_in_use", backend="sqlite") == 0


def test_counts_add_up_over_several_workers_in_a_folder_of_their_own(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    seen: list[Path] = []

    def look() -> None:
        seen.extend(temp.glob("pixyproxy-metrics-*"))

    serve_two_workers(tmp_path, {"TMPDIR": str(temp)}, look)
    assert len(seen) == 1  # serve made one fresh folder for the workers...
    assert not seen[0].exists()  # ...and removed it when it stopped


def test_counts_add_up_over_several_workers_in_the_operators_folder(tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999999.db").write_bytes(b"stale")  # a stopped server's leftovers
    worker_pids: set[str] = set()

    def wait_for_both_workers() -> None:
        deadline = time.monotonic() + 20  # each worker writes its own files once started
        while len(histogram_pids(folder)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        worker_pids.update(histogram_pids(folder))

    serve_two_workers(tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(folder)}, wait_for_both_workers)
    assert not (folder / "counter_999999999.db").exists()
    assert len(worker_pids) == 2


def test_a_command_creates_a_missing_metrics_folder(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet"
    env = clean_env(
        {"SQLITE_PATH": str(tmp_path / "pixy.db"), "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    )
    result = subprocess.run(
        [PIXYPROXY, "init-db"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert folder.is_dir()
