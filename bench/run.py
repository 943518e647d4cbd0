"""The benchmark: ``python -m bench.run`` (``make bench``).

Starts moto's S3 server and PixyProxy (``pixyproxy serve``, 1 uvicorn worker) against a
fresh MySQL database, seeds images with the offline generator (one of about 256 KiB for
``/content``), then measures from a separate process (wrk, else ``bench.httpx_load``),
in the same run, with the same client and settings:

* the **plain build** (``bench.plain_app``: a new MySQL connection per request,
  ``GET /image`` returning every row, ``/content`` read whole) beside the project for
  detail, list, content and create, and the ratio of the two;
* the ceilings: bare FastAPI routes answering the same bytes (``bench.bare_app``) and a
  plain GET of the same object straight from the S3 endpoint.

Each project scenario and its references are measured in turn, ``--rounds`` times over
(reference, project, reference, project, …), so a slow minute of a shared machine falls
on both sides of a ratio; a ratio is the median of the rounds' ratios, the other figures
are medians of the rounds. Prints one table with ratios, targets and the server's peak
RSS per scenario; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import statistics
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import mysql.connector

from bench.load import LoadResult, LoadSpec, client_name, run_load
from bench.processes import BIN, PROJECT_ROOT, ServerProcess, free_port
from core.models import ImageDetailCreate
from core.settings import Settings
from data.mysql.database import apply_mysql_schema
from service.generation.offline import OfflineImageGenerator
from service.init import build_services
from storage.s3 import S3BlobStore
from tests.support.s3_fixtures import create_bucket

CONTENT_IMAGE_SIZE = 296  # pixels a side: an offline PNG of about 256 KiB
SEED_IMAGE_SIZE = 64
CREATE_IMAGE_SIDE = 256  # pixels a side of the offline images POST /image makes
RSS_LIMIT_MIB = 200
BARE_DETAIL = "ceiling: bare route /image/{guid}"
BARE_LIST = "ceiling: bare route /image"
S3_GET = "ceiling: S3 GET of the object"
PLAIN_DETAIL = "plain: GET /image/{guid}"
PLAIN_DETAILS = "plain: GET /image/{guid}, 200 guids in turn"
PLAIN_LIST = "plain: GET /image (all rows)"
PLAIN_CONTENT = "plain: GET /image/{guid}/content (read whole)"
PLAIN_CREATE = "plain: POST /image"
DETAIL = "GET /image/{guid}"
DETAILS = "GET /image/{guid}, 200 guids in turn"
LIST = "GET /image (first page of 50)"
CONTENT = "GET /image/{guid}/content"
CREATE = "POST /image"
# Each project scenario against its reference: (reference, target ratio or None).
COMPARED: dict[str, list[tuple[str, float | None]]] = {
    DETAIL: [(PLAIN_DETAIL, 3.0), (BARE_DETAIL, None)],
    DETAILS: [(PLAIN_DETAILS, 3.0)],
    LIST: [(PLAIN_LIST, 2.0), (BARE_LIST, None)],
    CONTENT: [(S3_GET, 0.8), (PLAIN_CONTENT, None)],
    CREATE: [(PLAIN_CREATE, 1.0)],
}
SHORT_NAMES = {
    BARE_DETAIL: "bare",
    BARE_LIST: "bare",
    S3_GET: "S3 direct",
    PLAIN_DETAIL: "plain",
    PLAIN_DETAILS: "plain",
    PLAIN_LIST: "plain",
    PLAIN_CONTENT: "plain",
    PLAIN_CREATE: "plain",
}
CREATE_BODY = '{"prompt": "bench fox {n}", "tags": ["bench"]}'


@dataclass(frozen=True)
class Row:
    """One line of the table: medians over the rounds; ``ratios``: (reference, median
    ratio, lowest and highest round's ratio, target) for a project row."""

    name: str
    result: LoadResult
    peak_rss_mib: float
    cpu_ms: float  # the server's CPU time per request
    ratios: tuple[tuple[str, float, float, float, float | None], ...] = ()


@dataclass(frozen=True)
class Sample:
    """One round of one scenario."""

    result: LoadResult
    peak_rss_mib: float
    cpu_ms: float


def combined(samples: list[Sample]) -> tuple[LoadResult, float, float]:
    """The rounds of one scenario as one result (medians; requests and errors summed),
    its highest peak RSS and its median CPU per request."""
    results = [sample.result for sample in samples]
    result = LoadResult(
        requests=sum(r.requests for r in results),
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
    )
    peak = max(sample.peak_rss_mib for sample in samples)
    return result, peak, statistics.median(sample.cpu_ms for sample in samples)


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
        # 256 px offline images, as every bench before sizes existed (1024 px by default)
        "OFFLINE_IMAGE_SIDE": str(CREATE_IMAGE_SIDE),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }


def seed(settings: Settings, count: int) -> tuple[str, list[str]]:
    """Create ``count`` small images and one of about 256 KiB; return the big one's guid
    and the small ones'."""
    small = build_services(settings, generator=OfflineImageGenerator(size=SEED_IMAGE_SIZE))
    big = build_services(settings, generator=OfflineImageGenerator(size=CONTENT_IMAGE_SIZE))
    try:
        guids = [
            small.public()
            .create_image(ImageDetailCreate(prompt=f"bench seed {n}", tags=["bench", f"n{n % 7}"]))
            .guid
            for n in range(count)
        ]
        detail = big.public().create_image(ImageDetailCreate(prompt="bench content image"))
    finally:
        small.close()
        big.close()
    return detail.guid, guids


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


def warm_up(spec: LoadSpec, client: str, seconds: float) -> None:
    """Load ``spec`` for ``seconds`` without measuring it (the pools and caches fill first)."""
    if seconds > 0:
        run_load(replace(spec, duration=seconds), client)


def measure(server: ServerProcess, spec: LoadSpec, client: str) -> Sample:
    """Reset the peak-RSS mark and run ``spec``: the result, the peak RSS (MiB) and the
    server's CPU milliseconds per request (less sensitive than req/s to other work on the
    machine)."""
    server.reset_peak_rss()
    cpu_before = server.cpu_seconds()
    result = run_load(spec, client)
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(result.requests, 1)
    return Sample(result, server.memory_kib().get("VmHWM", 0) / 1024, cpu_ms)


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
        create_bucket(settings)
        apply_mysql_schema(settings)
        created_db = True
        guid, seeded = seed(settings, args.seed)
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
        plain_port = free_port()
        plain = ServerProcess(
            "plain",
            [str(BIN / "python"), "-m", "bench.plain_app", "--port", str(plain_port)],
            ready_url=f"http://127.0.0.1:{plain_port}/healthz",
            env={**service_env(settings), "PYTHONPATH": str(PROJECT_ROOT)},
            log_path=workdir / "plain.log",
        )
        servers.append(plain.start())
        yield {
            "guid": guid,
            "seeded": seeded,
            "service": service,
            "bare": bare,
            "plain": plain,
            "moto": moto,
            "base": base,
            "bare_base": f"http://127.0.0.1:{bare_port}",
            "plain_base": f"http://127.0.0.1:{plain_port}",
            "s3_object": s3_object,
        }
    finally:
        for server in reversed(servers):
            server.stop()
        if created_db:
            drop_database(settings)


def plan_of(env: dict[str, Any]) -> list[tuple[str, ServerProcess, LoadSpec]]:
    """The scenarios in the order they run: each reference right before its project row,
    reads before writes (creations grow the table the plain list returns whole)."""
    guid, service, bare, plain = env["guid"], env["service"], env["bare"], env["plain"]
    base, bare_base, plain_base = env["base"], env["bare_base"], env["plain_base"]
    # Requests that wait together for one guid are answered by one row; these ask for a
    # different guid each, in turn, so that the detail figure does not rest on that.
    seeded = tuple(f"/image/{seeded}" for seeded in env["seeded"])
    return [
        (BARE_DETAIL, bare, LoadSpec(f"{bare_base}/image/{guid}")),
        (PLAIN_DETAIL, plain, LoadSpec(f"{plain_base}/image/{guid}")),
        (DETAIL, service, LoadSpec(f"{base}/image/{guid}")),
        (PLAIN_DETAILS, plain, LoadSpec(f"{plain_base}/", paths=seeded)),
        (DETAILS, service, LoadSpec(f"{base}/", paths=seeded)),
        (BARE_LIST, bare, LoadSpec(f"{bare_base}/image")),
        (PLAIN_LIST, plain, LoadSpec(f"{plain_base}/image")),
        (LIST, service, LoadSpec(f"{base}/image")),
        (S3_GET, env["moto"], LoadSpec(env["s3_object"])),
        (PLAIN_CONTENT, plain, LoadSpec(f"{plain_base}/image/{guid}/content")),
        (CONTENT, service, LoadSpec(f"{base}/image/{guid}/content")),
        (PLAIN_CREATE, plain, LoadSpec(f"{plain_base}/image", "POST", CREATE_BODY)),
        (CREATE, service, LoadSpec(f"{base}/image", "POST", CREATE_BODY)),
    ]


def round_ratio(ours: list[Sample], theirs: list[Sample]) -> tuple[float, float, float] | None:
    """The median, lowest and highest of the rounds' req/s ratios ``ours / theirs`` (each
    round against the reference measured beside it), ``None`` if no reference answered."""
    per_round = [
        mine.result.rps / other.result.rps
        for mine, other in zip(ours, theirs, strict=True)
        if other.result.rps > 0
    ]
    if not per_round:
        return None
    return statistics.median(per_round), min(per_round), max(per_round)


def groups(
    plan: list[tuple[str, ServerProcess, LoadSpec]],
) -> list[list[tuple[str, ServerProcess, LoadSpec]]]:
    """The plan cut after each project scenario: its references and itself, in order."""
    cut: list[list[tuple[str, ServerProcess, LoadSpec]]] = [[]]
    for step in plan:
        cut[-1].append(step)
        if step[0] in COMPARED:
            cut.append([])
    return [group for group in cut if group]


def run(args: argparse.Namespace) -> list[Row]:
    """Measure every scenario, reference and ceiling, ``args.rounds`` times each, in turn
    within its group; return the table's rows."""
    client = args.client or client_name()
    with (
        tempfile.TemporaryDirectory(prefix="pixy-bench-") as folder,
        environment(args, Path(folder)) as env,
    ):
        rows: dict[str, Row] = {}
        for group in groups(plan_of(env)):
            chosen = [
                (name, server, replace(p, connections=args.connections, duration=args.duration))
                for name, server, p in group
                if not args.only or any(word in name for word in args.only)
            ]
            for _, _, spec in chosen:
                warm_up(spec, client, args.warmup)
            samples: dict[str, list[Sample]] = {name: [] for name, _, _ in chosen}
            for _ in range(args.rounds):
                for name, server, spec in chosen:
                    samples[name].append(measure(server, spec, client))
            for name, _, _ in chosen:
                result, rss, cpu_ms = combined(samples[name])
                ratios = tuple(
                    (reference, *ratio, target)
                    for reference, target in COMPARED.get(name, [])
                    if reference in samples
                    and (ratio := round_ratio(samples[name], samples[reference])) is not None
                )
                rows[name] = Row(name, result, rss, cpu_ms, ratios)
                print(f"  measured {name}: {result.rps:.0f} req/s, {cpu_ms:.2f} ms CPU", flush=True)
        return list(rows.values())


def _ratio_cells(row: Row) -> tuple[str, str]:
    """The ratio column and the target column of one row."""
    if not row.ratios:
        return "-", "-"
    ratios, targets = [], []
    for reference, ratio, lowest, highest, target in row.ratios:
        short = SHORT_NAMES[reference]
        spread = f" ({lowest:.2f}-{highest:.2f})" if highest > lowest else ""
        ratios.append(f"{ratio:.2f}x {short}{spread}")
        if target is not None:
            targets.append(f"≥ {target:g}x {short} {'ok' if ratio >= target else 'MISSED'}")
    return "; ".join(ratios), "; ".join(targets) or "-"


def render(rows: list[Row], args: argparse.Namespace) -> str:
    """The table, as Markdown, with a caption naming date, machine, driver and client."""
    client = args.client or client_name()
    driver = "C extension" if mysql.connector.HAVE_CEXT else "pure Python"
    lines = [
        f"PixyProxy bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()}",
        f"client {client}, {args.connections} connections, {args.rounds} rounds of "
        f"{args.duration:g} s per scenario, in turn with its references (after {args.warmup:g} s "
        f"warm-up); medians of the rounds, ratio ranges in brackets; servers: 1 uvicorn worker "
        f"each; MySQL + moto S3; "
        f"mysql-connector-python {mysql.connector.__version__} ({driver})",
        "",
        "| scenario | req/s | p50 ms | p99 ms | errors | server CPU ms/req | ratio | target "
        "| peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for row in rows:
        r = row.result
        ratio, target = _ratio_cells(row)
        rss = f"{row.peak_rss_mib:.0f}"
        if row.name in COMPARED:
            rss += " ok" if row.peak_rss_mib < RSS_LIMIT_MIB else " OVER"
        lines.append(
            f"| {row.name} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} "
            f"| {row.cpu_ms:.2f} | {ratio} | {target} | {rss} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run the benchmark, print the table (and JSON if asked)."""
    parser = argparse.ArgumentParser(description="PixyProxy benchmark")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed", type=int, default=200, help="small images to seed")
    parser.add_argument("--client", choices=("wrk", "httpx"), help="default: wrk if installed")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument(
        "--only", action="append", help="run only scenarios whose name contains this (repeatable)"
    )
    args = parser.parse_args()
    rows = run(args)
    print()
    print(render(rows, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2))


if __name__ == "__main__":
    main()
