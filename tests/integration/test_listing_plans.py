"""Every listing query is an index range scan in keyset order: no sort, no temporary table.

The SQL comes from the repository's own ``list_page_sql`` (per dialect), so what is
checked is what runs. On MariaDB/MySQL: ``EXPLAIN`` names the expected index and never a
filesort, and the handler counters show that a page deep into the table reads about
``limit`` index entries, not the rows before it. On SQLite: ``EXPLAIN QUERY PLAN`` never
builds a temporary B-tree for the ORDER BY.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.records import PageQuery, Visibility
from data.sqlite.database import SQLiteDatabase
from tests.support.mysql_fixtures import empty_tables
from tests.support.plans import (
    handler_reads,
    mysql_plan,
    seed_mysql,
    seed_sqlite,
    sqlite_plan,
)

ROWS = 3000
LIMIT = 51
BASE = datetime(2024, 1, 1, tzinfo=UTC)
OWNER = Visibility(private=True, owner="owner0")
AUTHOR_INDEX = "ix_images_author_newest"
PUBLIC_INDEX = "ix_images_visibility_newest"
TAG_INDEX = "ix_image_tags_tag"


def _rows() -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Images 1..ROWS, one second apart: every 10th private (5 owners), 20 authors, tags."""
    for i in range(1, ROWS + 1):
        private = i % 10 == 0
        author = f"owner{i % 5}" if private else (f"author{i % 20}" if i % 3 else None)
        created = BASE + timedelta(seconds=i)
        guid = str(uuid.uuid4())
        image: tuple[Any, ...] = (i, guid, "p", "f.png", "image/png", 1, "0" * 64, author)
        image += (int(private), f"images/{guid}.png", created, created)
        tags = [(i, tag, 0, int(private), created) for tag in {f"t{i % 10}", f"u{i % 7}"}]
        yield image, tags


def _position(i: int) -> tuple[datetime, int]:
    return BASE + timedelta(seconds=i), i


# label -> (query, index the driving table must use)
CASES: dict[str, tuple[PageQuery, str]] = {
    "plain": (PageQuery(limit=LIMIT), PUBLIC_INDEX),
    "cursor": (PageQuery(limit=LIMIT, after=_position(ROWS // 2)), PUBLIC_INDEX),
    "author": (PageQuery(limit=LIMIT, author="author1"), AUTHOR_INDEX),
    "author cursor": (PageQuery(limit=LIMIT, author="author1", after=_position(900)), AUTHOR_INDEX),
    "private": (PageQuery(visibility=OWNER, limit=LIMIT), AUTHOR_INDEX),
    "private cursor": (
        PageQuery(visibility=OWNER, limit=LIMIT, after=_position(ROWS // 2)),
        AUTHOR_INDEX,
    ),
    "tag": (PageQuery(limit=LIMIT, tags=["t1"]), TAG_INDEX),
    "tag cursor": (PageQuery(limit=LIMIT, tags=["t1"], after=_position(ROWS // 2)), TAG_INDEX),
    "two tags": (PageQuery(limit=LIMIT, tags=["t1", "u3"]), TAG_INDEX),
    "author and tag": (PageQuery(limit=LIMIT, tags=["t1"], author="author1"), AUTHOR_INDEX),
    "private and tag": (PageQuery(visibility=OWNER, limit=LIMIT, tags=["t0"]), AUTHOR_INDEX),
}
DEEP = _position(ROWS // 20)  # 95 % of the table lies before this position


@pytest.fixture(scope="module")
def seeded(mysql_admin: MySQLConnectionAbstract) -> Iterator[MySQLConnectionAbstract]:
    """The MySQL test database with ROWS images, analysed; emptied afterwards."""
    seed_mysql(mysql_admin, _rows())
    yield mysql_admin
    empty_tables(mysql_admin)


@pytest.mark.mysql
@pytest.mark.parametrize("label", sorted(CASES))
def test_each_mysql_listing_is_an_index_scan_without_a_sort(
    seeded: MySQLConnectionAbstract, label: str
) -> None:
    query, index = CASES[label]
    plan = mysql_plan(seeded, query)
    first, rest = plan[0], plan[1:]
    assert first["key"] == index, plan
    assert first["type"] in {"ref", "range"}, plan
    for row in plan:
        extra = str(row["Extra"] or "").lower()
        assert "filesort" not in extra and "temporary" not in extra, plan
        assert row["select_type"] == "SIMPLE", plan  # no dependent subqueries
    for row in rest:  # joined tables: one primary-key lookup per row
        assert (row["type"], row["key"]) == ("eq_ref", "PRIMARY"), plan


@pytest.mark.mysql
@pytest.mark.parametrize(
    "query",
    [
        PageQuery(limit=LIMIT, after=DEEP),
        PageQuery(limit=LIMIT, tags=["t1"], after=_position(ROWS // 5)),
        PageQuery(visibility=OWNER, limit=LIMIT, after=_position(ROWS // 5)),
    ],
    ids=["public", "tag", "private"],
)
def test_a_deep_page_reads_about_limit_rows_not_the_rows_before_it(
    seeded: MySQLConnectionAbstract, query: PageQuery
) -> None:
    returned, reads = handler_reads(seeded, query)
    assert returned == LIMIT
    # one index read per returned row, plus one per joined primary-key lookup
    assert reads <= 2 * LIMIT + 10, reads


@pytest.fixture(scope="module")
def sqlite_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteDatabase]:
    database = seed_sqlite(tmp_path_factory.mktemp("plans") / "pixy.db", _rows())
    yield database
    database.close()


@pytest.mark.parametrize("label", sorted(CASES))
def test_each_sqlite_listing_uses_an_index_without_a_sort(
    sqlite_seeded: SQLiteDatabase, label: str
) -> None:
    query, index = CASES[label]
    plan = sqlite_plan(sqlite_seeded, query)
    assert index in plan[0], plan
    assert not any("TEMP B-TREE" in step or "SCAN" in step for step in plan), plan
