"""Content delivery: ``python -m bench.content_bench`` (``make bench-content``).

Starts moto's S3 server and PixyProxy (``pixyproxy serve``: uvicorn, 1 worker) in
subprocesses, with embedded SQLite for the metadata and moto for the blobs. Seeds one
64 MiB PNG through the real service (the offline generator at zlib level 0, so the bytes
are a valid, uncompressed image), checks that ``/content`` returns it byte-exact, then:

- serves it to ``--clients`` concurrent clients (``--rounds`` downloads each) while
  sampling the server's ``VmRSS`` and reading its ``VmHWM`` (peak) from ``/proc``; the
  peak RSS growth over the idle server must stay under 64 MiB (a server that buffered
  whole blobs would need about clients x 64 MiB);
- in the same run, with the same concurrency and the same HTTP stack (urllib3, which
  boto3 uses), reads the same object straight from the S3 endpoint with boto3, and
  prints the throughput of both and the ratio of their medians over ``--repeats``
  interleaved passes.

Exits 1 when the memory target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import boto3
import urllib3
from botocore.config import Config

from bench.processes import BIN, ServerProcess, free_port
from core.models import ImageDetail, ImageDetailCreate
from core.settings import Settings
from service.generation.offline import OfflineImageGenerator
from service.init import build_services, initialise_database
from tests.support.s3_fixtures import create_bucket

MIB = 2**20
IMAGE_PIXELS = 4730  # an uncompressed RGB PNG of 4730² pixels: 64.02 MiB
CHUNK = 64 * 1024
RSS_TARGET_MIB = 64
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
REGION = "us-east-1"
BUCKET = "pixyproxy-bench"
S3_DIRECT = "S3 direct (boto3)"
CONTENT = "/content (PixyProxy)"


@dataclass(frozen=True)
class Throughput:
    """One timed pass: every client downloads the object ``rounds`` times."""

    name: str
    seconds: float
    total_bytes: int

    @property
    def mib_per_s(self) -> float:
        """Aggregate throughput in MiB/s."""
        return self.total_bytes / MIB / self.seconds


class RssSampler:
    """Samples ``VmRSS`` of a process every ``interval`` seconds; ``peak_kib`` is the max."""

    def __init__(self, server: ServerProcess, interval: float = 0.005) -> None:
        self._server = server
        self._interval = interval
        self._stop = threading.Event()
        self.peak_kib = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_kib = max(self.peak_kib, self._server.memory_kib().get("VmRSS", 0))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_clients(clients: int, rounds: int, download: Callable[[], int]) -> tuple[float, int]:
    """Run ``download`` ``rounds`` times on each of ``clients`` threads; (seconds, bytes)."""
    barrier = threading.Barrier(clients + 1)

    def client() -> int:
        barrier.wait()
        return sum(download() for _ in range(rounds))

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        barrier.wait()
        started = time.perf_counter()
        total = sum(future.result() for future in futures)
        return time.perf_counter() - started, total


def app_download(http: urllib3.PoolManager, url: str, size: int) -> Callable[[], int]:
    """One GET of ``/content``, read in 64 KiB chunks and thrown away; returns the bytes."""

    def download() -> int:
        response = http.request("GET", url, preload_content=False)
        received = sum(len(chunk) for chunk in response.stream(CHUNK))
        response.release_conn()
        assert response.status == 200 and received == size, (response.status, received)
        return received

    return download


def s3_download(endpoint: str, key: str, size: int, clients: int) -> Callable[[], int]:
    """One boto3 GetObject of the same object, read in 64 KiB chunks; returns the bytes."""
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(max_pool_connections=clients, s3={"addressing_style": "path"}),
    )

    def download() -> int:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
        received = sum(len(chunk) for chunk in body.iter_chunks(CHUNK))
        body.close()
        assert received == size, received
        return received

    return download


def seed(settings: Settings) -> ImageDetail:
    """Create the bucket and one 64 MiB image through the real service."""
    create_bucket(settings)
    initialise_database(settings)
    generator = OfflineImageGenerator(size=IMAGE_PIXELS, compression_level=0)
    services = build_services(settings, generator=generator)
    try:
        return services.public().create_image(ImageDetailCreate(prompt="a very large fox"))
    finally:
        services.close()


def verify(http: urllib3.PoolManager, url: str, detail: ImageDetail) -> None:
    """The whole body hashes to the stored sha256; a range returns its slice's length."""
    digest = hashlib.sha256()
    response = http.request("GET", url, preload_content=False)
    for chunk in response.stream(CHUNK):
        digest.update(chunk)
    response.release_conn()
    assert response.headers["content-type"] == "image/png", response.headers
    assert digest.hexdigest() == detail.sha256, "the body is not the stored image"
    ranged = http.request("GET", url, headers={"Range": "bytes=-1000"})
    assert ranged.status == 206 and len(ranged.data) == 1000


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--rounds", type=int, default=4, help="downloads per client (4)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per path (3)")
    return parser.parse_args()


def main() -> int:
    """Run the benchmark, print the tables; 1 if the memory target is missed."""
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pixyproxy-content-bench-"))
    moto_port, app_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    env = {
        **CREDENTIALS,
        "AWS_REGION": REGION,
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "SQLITE_PATH": str(workdir / "pixyproxy.db"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(CREDENTIALS)  # for this process's boto3 clients
    for name in ("OPENAI_API_KEY", "DB_HOST"):
        os.environ.pop(name, None)  # offline generator, embedded SQLite
    settings = Settings(
        _env_file=None,
        s3_bucket=BUCKET,
        s3_endpoint_url=endpoint,
        aws_region=REGION,
        sqlite_path=str(workdir / "pixyproxy.db"),
    )
    moto = ServerProcess(
        "moto",
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        ready_url=f"{endpoint}/",
        log_path=workdir / "moto.log",
    )
    app = ServerProcess(
        "pixyproxy",
        [str(BIN / "pixyproxy"), "serve", "--host", "127.0.0.1", "--port", str(app_port)],
        ready_url=f"http://127.0.0.1:{app_port}/readyz",
        env=env,
        cwd=workdir,  # no developer .env is read
        log_path=workdir / "app.log",
    )
    with moto:
        started = time.perf_counter()
        detail = seed(settings)
        print(f"seeded {detail.size_bytes / MIB:.2f} MiB in {time.perf_counter() - started:.1f} s")
        key = f"images/{detail.guid}.png"
        url = f"http://127.0.0.1:{app_port}/image/{detail.guid}/content"
        with app:
            return measure(args, Target(app, url, endpoint, key, detail))


@dataclass(frozen=True)
class Target:
    """What is measured: the app process, its ``/content`` URL, and the S3 object."""

    app: ServerProcess
    url: str
    endpoint: str
    key: str
    detail: ImageDetail


@dataclass(frozen=True)
class Memory:
    """The server's RSS before the load and at its peak, in KiB."""

    idle_kib: int
    peak_kib: int
    from_hwm: bool

    @property
    def growth_mib(self) -> float:
        """Peak minus idle, in MiB."""
        return (self.peak_kib - self.idle_kib) / 1024


def measure(args: argparse.Namespace, target: Target) -> int:
    """Interleaved throughput passes while sampling the server's RSS; print the tables."""
    size, clients, rounds = target.detail.size_bytes, args.clients, args.rounds
    http = urllib3.PoolManager(maxsize=clients, timeout=urllib3.Timeout(connect=5, read=60))
    downloads = {
        S3_DIRECT: s3_download(target.endpoint, target.key, size, clients),
        CONTENT: app_download(http, target.url, size),
    }
    passes: dict[str, list[Throughput]] = {name: [] for name in downloads}
    idle_kib = target.app.memory_kib()["VmRSS"]
    hwm_reset = target.app.reset_peak_rss()
    with RssSampler(target.app) as sampler:
        verify(http, target.url, target.detail)
        for _ in range(args.repeats):  # interleaved, so drift hits both paths alike
            for name, download in downloads.items():
                seconds, total = run_clients(clients, rounds, download)
                passes[name].append(Throughput(name, seconds, total))
    hwm_kib = target.app.memory_kib()["VmHWM"] if hwm_reset else 0
    memory = Memory(idle_kib, max(sampler.peak_kib, hwm_kib), hwm_reset)
    report(args, target.detail, memory, passes)
    return 0 if memory.growth_mib < RSS_TARGET_MIB else 1


def report(
    args: argparse.Namespace,
    detail: ImageDetail,
    memory: Memory,
    passes: dict[str, list[Throughput]],
) -> None:
    """Print the memory and throughput tables."""
    clients, rounds, growth = args.clients, args.rounds, memory.growth_mib
    print(
        f"\n{dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {detail.size_bytes / MIB:.2f} MiB image, "
        f"{clients} clients x {rounds} downloads per pass"
    )
    source = "VmHWM and 5 ms VmRSS samples" if memory.from_hwm else "5 ms VmRSS samples"
    verdict = "met" if growth < RSS_TARGET_MIB else "MISSED"
    print("\n| server RSS | MiB |\n|---|---|")
    print(f"| idle, before any /content request | {memory.idle_kib / 1024:.1f} |")
    print(f"| peak while serving ({source}) | {memory.peak_kib / 1024:.1f} |")
    print(f"| growth (target < {RSS_TARGET_MIB} MiB: {verdict}) | {growth:.1f} |")
    print(f"| a buffering server would need about | {clients * detail.size_bytes / MIB:.0f} |")
    median = {
        name: statistics.median(run.mib_per_s for run in runs) for name, runs in passes.items()
    }
    print("\n| path | median MiB/s | every pass MiB/s | vs S3 direct |\n|---|---|---|---|")
    for name, runs in passes.items():
        rates = ", ".join(f"{run.mib_per_s:.0f}" for run in runs)
        ratio = median[name] / median[S3_DIRECT]
        print(f"| {name} | {median[name]:.0f} | {rates} | {ratio:.2f} |")


if __name__ == "__main__":
    raise SystemExit(main())
