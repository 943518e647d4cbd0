"""Listing at scale: ``python -m bench.list_bench`` (``make bench-list``).

Creates a fresh MySQL database (``DB_HOST``/``DB_PORT``/``DB_USER``/``DB_PASSWORD``,
default 127.0.0.1:3306 root), seeds it through the image repository (not the API), and
times listing pages through the real service (``ImageService.list_images`` on the pooled
``MySQLDatabase``: row query, tag query, model conversion, cursor) at ``--small`` rows
and again at ``--rows`` rows. A *deep* page starts at a cursor 90 % into the listing.
Prints one table with the median and p95 of each case and the large/small ratio of the
medians (target: below 1.5, i.e. cost per page does not grow with the table). The
database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.run import drop_database
from core.models import NewImage
from core.records import PageQuery, Visibility
from core.settings import Settings
from data.database import Database
from service.image_service import ImageService
from service.init import Services, build_services, initialise_database
from service.pagination import encode_cursor

BASE = datetime(2024, 1, 1, tzinfo=UTC)
OWNERS = 2  # private rows: every 5th, split between two owners
AUTHORS = 10
TAGS = 8
BATCH = 5000
TARGET_RATIO = 1.5


@dataclass(frozen=True)
class Case:
    """One timed listing: which scope, which filters, and how deep."""

    name: str
    scope: Callable[[Services], ImageService]
    tags: tuple[str, ...] = ()
    author: str | None = None
    depth: float = 0.0  # where the cursor sits, as a share of the listing's rows
    limit: int = 10  # the filtered listings are small at 1,000 rows: short pages
    required: bool = False  # part of the target


CASES = [
    Case("first page", lambda s: s.public(), limit=50, required=True),
    Case("deep page (90 %)", lambda s: s.public(), depth=0.9, limit=50, required=True),
    Case("tag, first page", lambda s: s.public(), tags=("tag7",)),
    Case("tag, deep page (80 %)", lambda s: s.public(), tags=("tag7",), depth=0.8),
    Case("author, deep page (80 %)", lambda s: s.public(), author="author3", depth=0.8),
    Case("private, first page", lambda s: s.private("owner1")),
    Case("private, deep page (80 %)", lambda s: s.private("owner1"), depth=0.8),
]


def image_rows(start: int, stop: int) -> Iterator[NewImage]:
    """Rows ``start``..``stop-1``: pairs share a timestamp, 20 % private, two tags each."""
    for i in range(start, stop):
        private = i % 5 == 0
        author = f"owner{i % OWNERS}" if private else (f"author{i % AUTHORS}" if i % 4 else None)
        guid = str(uuid.uuid4())
        yield NewImage(
            guid=guid,
            prompt=f"prompt {i}",
            tags=[f"tag{i % TAGS}", f"tag{(i * 7 + 3) % TAGS}"],
            filename=f"prompt-{i}-{guid[:8]}.png",
            author=author,
            private=private,
            content_type="image/png",
            size_bytes=4096,
            sha256="0" * 64,
            storage_key=f"images/{guid}.png",
            created_at=BASE + timedelta(milliseconds=1500 * (i // 2 * 2)),
        )


def seed(database: Database, start: int, stop: int) -> float:
    """Insert images ``start``..``stop-1`` through the image repository; return seconds."""
    began = time.perf_counter()
    for low in range(start, stop, BATCH):
        with database.context() as db:
            db.begin_transaction()
            for image in image_rows(low, min(low + BATCH, stop)):
                db.images.add(image)
            db.commit_transaction()
    return time.perf_counter() - began


def deep_cursor(services: Services, case: Case) -> str:
    """The cursor after the row ``case.depth`` of the way into ``case``'s listing."""
    owner = "owner1" if case.name.startswith("private") else None
    query = PageQuery(
        visibility=Visibility(private=owner is not None, owner=owner),
        limit=10**7,
        tags=case.tags,
        author=case.author,
    )
    with services.backends.database.context() as db:
        rows = db.images.list_page(query)
    row = rows[max(int(len(rows) * case.depth) - 1, 0)]
    return encode_cursor(row.created_at, row.id)


def time_case(services: Services, case: Case, cursor: str | None, args: Any) -> list[float]:
    """Milliseconds per ``list_images`` call, after a warm-up."""
    images = case.scope(services)

    def call() -> None:
        page = images.list_images(
            limit=case.limit, cursor=cursor, tags=case.tags, author=case.author
        )
        assert len(page.items) == case.limit and page.next_cursor, case.name

    for _ in range(args.warmup):
        call()
    samples = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def measure(services: Services, args: Any) -> dict[str, list[float]]:
    """Every case once at the current table size."""
    results = {}
    for case in CASES:
        cursor = deep_cursor(services, case) if case.depth else None
        results[case.name] = time_case(services, case, cursor, args)
    return results


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def report(small: dict[str, list[float]], large: dict[str, list[float]], args: Any) -> bool:
    """Print the table; True when every required case meets the target."""
    small_label, large_label = f"{args.small:,} rows", f"{args.rows:,} rows"
    print(
        f"\nlisting latency through ImageService.list_images, ms ({args.repeat} calls per"
        " case; limit 50 for the first two rows, 10 for the filtered ones)\n"
    )
    header = f"| case | {small_label} p50 | p95 | {large_label} p50 | p95 | ratio p50 |"
    print(header)
    print("|" + "---|" * 6)
    ok = True
    for case in CASES:
        s, big = small[case.name], large[case.name]
        ratio = statistics.median(big) / statistics.median(s)
        mark = ""
        if case.required:
            ok &= ratio < TARGET_RATIO
            mark = " ✓" if ratio < TARGET_RATIO else " ✗"
        print(
            f"| {case.name} | {statistics.median(s):.2f} | {p95(s):.2f} | "
            f"{statistics.median(big):.2f} | {p95(big):.2f} | {ratio:.2f}{mark} |"
        )
    print(f"\ntarget: {large_label} / {small_label} below {TARGET_RATIO} for the first two rows")
    return ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    db_name = f"pixyproxy_bench_{secrets.token_hex(4)}"
    settings = Settings(
        _env_file=None,
        db_host=os.environ.get("DB_HOST") or "127.0.0.1",
        db_port=int(os.environ.get("DB_PORT") or 3306),
        db_user=os.environ.get("DB_USER") or "root",
        db_password=os.environ.get("DB_PASSWORD") or None,
        db_name=db_name,
        db_pool_size=2,
        blob_dir=tempfile.mkdtemp(prefix="pixy-bench-"),
    )
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}, database {db_name} on {settings.db_host}"
    )
    initialise_database(settings)
    services = build_services(settings)
    database = services.backends.database
    try:
        print(f"seeded {args.small:,} rows in {seed(database, 0, args.small):.1f} s")
        small = measure(services, args)
        took = seed(database, args.small, args.rows)
        print(f"seeded {args.rows - args.small:,} more rows in {took:.1f} s")
        large = measure(services, args)
        ok = report(small, large, args)
    finally:
        services.close()
        if not args.keep:
            drop_database(settings)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
