"""Listing at scale: ``python -m bench.list_bench`` (``make bench-list``).

Creates a fresh MySQL database (``DB_HOST``/``DB_PORT``/``DB_USER``/``DB_PASSWORD``,
default 127.0.0.1:3306 root), seeds it with bulk multi-row INSERTs (not the API), and
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

import mysql.connector

from core.settings import Settings
from data.mysql.migrate import apply_mysql_schema
from service.image_service import ImageService
from service.init import Services, build_services
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


def image_rows(start: int, stop: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Rows ``start``..``stop-1``: pairs share a timestamp, 20 % private, two tags each."""
    for i in range(start, stop):
        private = i % 5 == 0
        author = f"owner{i % OWNERS}" if private else (f"author{i % AUTHORS}" if i % 4 else None)
        created = (BASE + timedelta(milliseconds=1500 * (i // 2 * 2))).replace(tzinfo=None)
        guid = str(uuid.uuid4())
        image = (guid, f"prompt {i}", f"prompt-{i}-{guid[:8]}.png", "image/png", 4096)
        image += ("0" * 64, author, int(private), f"images/{guid}.png", created, created)
        tags = [(guid, f"tag{i % TAGS}", 0), (guid, f"tag{(i * 7 + 3) % TAGS}", 1)]
        yield image, [t for n, t in enumerate(tags) if n == 0 or t[1] != tags[0][1]]


def seed(connection: Any, start: int, stop: int) -> float:
    """Bulk-insert images ``start``..``stop-1`` and their tags; return seconds taken."""
    began = time.perf_counter()
    cursor = connection.cursor()
    for low in range(start, stop, BATCH):
        images, tags = [], []
        for image, image_tags in image_rows(low, min(low + BATCH, stop)):
            images.append(image)
            tags.extend(image_tags)
        cursor.executemany(  # the connector sends one multi-row INSERT per call
            "INSERT INTO images (guid, prompt, filename, content_type, size_bytes, sha256,"
            " author, is_private, storage_key, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            images,
        )
        cursor.execute(
            "SELECT id, guid, is_private, created_at FROM images WHERE id >= LAST_INSERT_ID()"
        )
        by_guid = {row[1]: row for row in cursor.fetchall()}
        cursor.executemany(
            "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [
                (by_guid[guid][0], tag, ordinal, by_guid[guid][2], by_guid[guid][3])
                for guid, tag, ordinal in tags
            ],
        )
        connection.commit()
    cursor.execute("ANALYZE TABLE images, image_tags")
    cursor.fetchall()
    cursor.close()
    return time.perf_counter() - began


def deep_cursor(connection: Any, case: Case) -> str:
    """The cursor after the row ``case.depth`` of the way into ``case``'s listing."""
    where, params = ["i.is_private = %s"], [0]
    if case.name.startswith("private"):
        where, params = ["i.is_private = 1 AND i.author = %s"], ["owner1"]
    if case.author:
        where.append("i.author = %s")
        params.append(case.author)
    for tag in case.tags:
        where.append("EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag = %s)")
        params.append(tag)
    cursor = connection.cursor()
    cursor.execute(f"SELECT COUNT(*) FROM images i WHERE {' AND '.join(where)}", params)  # noqa: S608
    total = int(cursor.fetchone()[0])
    cursor.execute(
        f"SELECT i.created_at, i.id FROM images i WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY i.created_at DESC, i.id DESC LIMIT 1 OFFSET %s",
        [*params, max(int(total * case.depth) - 1, 0)],
    )
    created, row_id = cursor.fetchone()
    cursor.close()
    return encode_cursor(created.replace(tzinfo=UTC), int(row_id))


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


def measure(services: Services, connection: Any, args: Any) -> dict[str, list[float]]:
    """Every case once at the current table size."""
    results = {}
    for case in CASES:
        cursor = deep_cursor(connection, case) if case.depth else None
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
    apply_mysql_schema(settings)
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    connection = mysql.connector.connect(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_user,
        password=password,
        database=db_name,
        time_zone="+00:00",
    )
    services = build_services(settings)
    try:
        print(f"seeded {args.small:,} rows in {seed(connection, 0, args.small):.1f} s")
        small = measure(services, connection, args)
        took = seed(connection, args.small, args.rows)
        print(f"seeded {args.rows - args.small:,} more rows in {took:.1f} s")
        large = measure(services, connection, args)
        print(f"server: MySQL protocol {connection.server_info}")
        ok = report(small, large, args)
    finally:
        services.close()
        if not args.keep:
            connection.cursor().execute(f"DROP DATABASE `{db_name}`")
        connection.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
