"""The benchmark: ``python -m bench.run`` (``make bench``).

Starts moto's S3 server and PixyProxy (``pixyproxy serve``, 1 uvicorn worker) against a
fresh MySQL database, seeds images with the offline generator (one of about 256 KiB for
``/content``), then measures from a separate process (wrk, else ``bench.httpx_load``):
the four endpoints, and in the same run, with the same client and settings, their
ceilings: bare FastAPI routes answering the same bytes (``bench.bare_app``) and a plain
GET of the same object straight from the S3 endpoint. Prints one table with ratios and
the server's peak RSS per scenario; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mysql.connector

from bench.load import LoadResult, LoadSpec, client_name, run_load
from bench.processes import BIN, PROJECT_ROOT, ServerProcess, free_port
from core.models import ImageDetailCreate
from core.settings import Settings
from data.schema import apply_mysql_schema
from service.generation.offline import OfflineImageGenerator
from service.init import build_services
from storage.s3 import S3BlobStore

CONTENT_IMAGE_SIZE = 296  # pixels a side: an offline PNG of about 256 KiB
SEED_IMAGE_SIZE = 64
TARGETS = {"GET /image/{guid}": 0.5, "GET /image/{guid}/content": 0.7}
RSS_LIMIT_MIB = 200


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    name: str
    result: LoadResult
    peak_rss_mib: float
    ceiling: str | None = None
    ratio: float | None = None


def bench_settings() -> Settings:
    """Settings for a fresh database and bucket (``DB_*`` from the environment)."""
    return Settings(
        _env_file=None,
        db_host=os.environ.get("DB_HOST") or "127.0.0.1",
        db_port=int(os.environ.get("DB_PORT") or 3306),
        db_user=os.environ.get("DB_USER") or "root",
        db_password=os.environ.get("DB_PASSWORD") or None,
        db_name=f"pixyproxy_bench_{secrets.token_hex(4)}",
        s3_bucket=f"pixy-bench-{secrets.token_hex(4)}",
        aws_region="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto accepts any key
    )


def service_env(settings: Settings) -> dict[str, str]:
    """The environment ``pixyproxy serve`` reads for ``settings`` (offline generator)."""
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    return {
        "DB_HOST": str(settings.db_host),
        "DB_PORT": str(settings.db_port),
        "DB_USER": str(settings.db_user),
        "DB_PASSWORD": password,
        "DB_NAME": settings.db_name,
        "S3_BUCKET": str(settings.s3_bucket),
        "S3_ENDPOINT_URL": str(settings.s3_endpoint_url),
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "OPENAI_API_KEY": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }


def seed(settings: Settings, count: int) -> str:
    """Create ``count`` small images and one of about 256 KiB; return the big one's guid."""
    small = build_services(settings, generator=OfflineImageGenerator(size=SEED_IMAGE_SIZE))
    big = build_services(settings, generator=OfflineImageGenerator(size=CONTENT_IMAGE_SIZE))
    try:
        for n in range(count):
            small.public().create_image(
                ImageDetailCreate(prompt=f"bench seed {n}", tags=["bench", f"n{n % 7}"])
            )
        detail = big.public().create_image(ImageDetailCreate(prompt="bench content image"))
    finally:
        small.close()
        big.close()
    return detail.guid


def drop_database(settings: Settings) -> None:
    """Drop the benchmark's database."""
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    connection = mysql.connector.connect(
        host=settings.db_host, port=settings.db_port, user=settings.db_user, password=password
    )
    try:
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.db_name}`")
    finally:
        connection.close()


def measure(
    server: ServerProcess, spec: LoadSpec, client: str, warmup: float
) -> tuple[LoadResult, float]:
    """Warm up, reset the peak-RSS mark, run ``spec``; return the result and peak RSS (MiB)."""
    if warmup > 0:
        run_load(LoadSpec(spec.url, spec.method, spec.body, spec.connections, warmup), client)
    server.reset_peak_rss()
    result = run_load(spec, client)
    return result, server.memory_kib().get("VmHWM", 0) / 1024


def machine() -> str:
    """CPU count, memory and OS, for the figures' caption."""
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    system = f"{platform.system()} {platform.release()}"
    return (
        f"{os.cpu_count()} CPU, {mem_kib / 1024 / 1024:.0f} GiB RAM, {system}, "
        f"Python {platform.python_version()}"
    )


@contextlib.contextmanager
def environment(args: argparse.Namespace, workdir: Path) -> Iterator[dict[str, Any]]:
    """Start moto, the database, the service and the bare app; tear all down afterwards."""
    settings = bench_settings()
    moto_port = free_port()
    moto = ServerProcess(
        "moto",
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        ready_url=f"http://127.0.0.1:{moto_port}/moto-api/",
        env={"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"},
        log_path=workdir / "moto.log",
    )
    settings = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{moto_port}"})
    servers: list[ServerProcess] = [moto]
    created_db = False
    try:
        moto.start()
        store = S3BlobStore(settings)
        store.create_bucket_if_missing()
        store.close()
        apply_mysql_schema(settings)
        created_db = True
        guid = seed(settings, args.seed)
        store = S3BlobStore(settings)
        # moto refuses anonymous GETs; a presigned URL is a plain GET that it accepts.
        s3_object = store.presigned_url(f"images/{guid}.png", expires=3600)
        store.close()
        port = free_port()
        service = ServerProcess(
            "pixyproxy",
            [str(BIN / "pixyproxy"), "serve", "--port", str(port), "--workers", "1"],
            ready_url=f"http://127.0.0.1:{port}/healthz",
            env=service_env(settings),
            cwd=workdir,  # no developer .env is read
            log_path=workdir / "service.log",
        )
        servers.append(service.start())
        base = f"http://127.0.0.1:{port}"
        for name, path in (("detail", f"/image/{guid}"), ("list", "/image")):
            with urllib.request.urlopen(base + path) as response:  # noqa: S310 - loopback
                (workdir / f"{name}.json").write_bytes(response.read())
        bare_port = free_port()
        bare = ServerProcess(
            "bare",
            [str(BIN / "python"), "-m", "bench.bare_app", "--port", str(bare_port)],
            ready_url=f"http://127.0.0.1:{bare_port}/healthz",
            env={
                "BENCH_DETAIL_BODY": str(workdir / "detail.json"),
                "BENCH_LIST_BODY": str(workdir / "list.json"),
                "PYTHONPATH": str(PROJECT_ROOT),
            },
            log_path=workdir / "bare.log",
        )
        servers.append(bare.start())
        yield {
            "guid": guid,
            "service": service,
            "bare": bare,
            "moto": moto,
            "base": base,
            "bare_base": f"http://127.0.0.1:{bare_port}",
            "s3_object": s3_object,
        }
    finally:
        for server in reversed(servers):
            server.stop()
        if created_db:
            drop_database(settings)


def run(args: argparse.Namespace) -> list[Row]:
    """Measure every scenario and ceiling; return the table's rows."""
    client = args.client or client_name()
    with (
        tempfile.TemporaryDirectory(prefix="pixy-bench-") as folder,
        environment(args, Path(folder)) as env,
    ):
        guid, service, bare, moto = env["guid"], env["service"], env["bare"], env["moto"]
        plan: list[tuple[str, ServerProcess, LoadSpec, str | None]] = [
            (
                "ceiling: bare route /image/{guid}",
                bare,
                LoadSpec(f"{env['bare_base']}/image/{guid}"),
                None,
            ),
            ("ceiling: bare route /image", bare, LoadSpec(f"{env['bare_base']}/image"), None),
            ("ceiling: S3 GET of the object", moto, LoadSpec(env["s3_object"]), None),
            (
                "GET /image/{guid}",
                service,
                LoadSpec(f"{env['base']}/image/{guid}"),
                "ceiling: bare route /image/{guid}",
            ),
            ("GET /image", service, LoadSpec(f"{env['base']}/image"), "ceiling: bare route /image"),
            (
                "GET /image/{guid}/content",
                service,
                LoadSpec(f"{env['base']}/image/{guid}/content"),
                "ceiling: S3 GET of the object",
            ),
            (
                "POST /image",
                service,
                LoadSpec(
                    f"{env['base']}/image", "POST", '{"prompt": "bench fox {n}", "tags": ["bench"]}'
                ),
                None,
            ),
        ]
        rows: dict[str, Row] = {}
        for name, server, planned, ceiling in plan:
            spec = LoadSpec(
                planned.url, planned.method, planned.body, args.connections, args.duration
            )
            result, rss = measure(server, spec, client, args.warmup)
            ratio = result.rps / rows[ceiling].result.rps if ceiling else None
            rows[name] = Row(name, result, rss, ceiling, ratio)
            print(f"  measured {name}: {result.rps:.0f} req/s", flush=True)
        return list(rows.values())


def render(rows: list[Row], args: argparse.Namespace) -> str:
    """The table, as Markdown, with a caption naming date, machine and client."""
    client = args.client or client_name()
    lines = [
        f"PixyProxy bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()}",
        f"client {client}, {args.connections} connections, {args.duration:g} s per scenario "
        f"(after {args.warmup:g} s warm-up); server: 1 uvicorn worker; MySQL + moto S3",
        "",
        "| scenario | req/s | p50 ms | p99 ms | errors | ratio to ceiling | target "
        "| peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        r = row.result
        target = TARGETS.get(row.name)
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        verdict = ""
        if target is not None and row.ratio is not None:
            verdict = f"≥ {target} {'ok' if row.ratio >= target else 'MISSED'}"
        rss = f"{row.peak_rss_mib:.0f}"
        if not row.name.startswith("ceiling"):
            rss += " ok" if row.peak_rss_mib < RSS_LIMIT_MIB else " OVER"
        lines.append(
            f"| {row.name} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} "
            f"| {ratio} | {verdict or '-'} | {rss} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run the benchmark, print the table (and JSON if asked)."""
    parser = argparse.ArgumentParser(description="PixyProxy benchmark")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=60, help="small images to seed")
    parser.add_argument("--client", choices=("wrk", "httpx"), help="default: wrk if installed")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    rows = run(args)
    print()
    print(render(rows, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2))


if __name__ == "__main__":
    main()
