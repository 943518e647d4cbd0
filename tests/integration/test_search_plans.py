"""A search is driven by the full-text index (issue 14, "What it must show" 5).

The SQL comes from the repository's own ``list_page_sql`` (per dialect). On MariaDB/MySQL
``EXPLAIN`` shows the FULLTEXT index ``ft_images_prompt`` as the first table's access
(type ``fulltext``) for every combination of filters, and the handler counters show that
a rare word reads about its matches, not the table. On SQLite the FTS5 table is the
outer loop and each match is one primary-key lookup.
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
from data.sqlite.dialect import SQLITE
from tests.support.mysql_fixtures import empty_tables
from tests.support.plans import (
    handler_reads,
    mysql_plan,
    page_sql,
    seed_mysql,
    seed_sqlite,
    sqlite_plan,
)

ROWS = 2000
RARE = 7  # rows whose prompt has the word "zebra"
BASE = datetime(2024, 1, 1, tzinfo=UTC)
OWNER = Visibility(private=True, owner="owner0")
FULLTEXT_INDEX = "ft_images_prompt"
WORDS = ("fox", "owl", "barn", "snow", "lighthouse", "river", "forest", "meadow")

CASES: dict[str, PageQuery] = {
    "public": PageQuery(words=["fox"]),
    "two words": PageQuery(words=["red", "fox"]),
    "cursor": PageQuery(words=["fox"], after=(BASE + timedelta(seconds=ROWS // 2), ROWS // 2)),
    "tag": PageQuery(words=["fox"], tags=["t1"]),
    "author": PageQuery(words=["fox"], author="author1"),
    "private": PageQuery(words=["fox"], visibility=OWNER),
    "private and tag": PageQuery(words=["fox"], visibility=OWNER, tags=["t0"]),
}


def _rows() -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Images 1..ROWS: prompts from a small vocabulary, every 10th private, tags."""
    for i in range(1, ROWS + 1):
        private = i % 10 == 0
        author = f"owner{i % 5}" if private else f"author{i % 20}"
        created = BASE + timedelta(seconds=i)
        guid = str(uuid.uuid4())
        prompt = f"a red {WORDS[i % len(WORDS)]} by the {WORDS[(i * 3) % len(WORDS)]}"
        if i % (ROWS // RARE) == 0:  # RARE rows, spread over the table
            prompt += " and a zebra"
        image: tuple[Any, ...] = (i, guid, prompt, "f.png", "image/png", 1, "0" * 64, author)
        image += (int(private), f"images/{guid}.png", created, created)
        tags = [(i, tag, 0, int(private), created) for tag in {f"t{i % 10}", f"u{i % 7}"}]
        yield image, tags


@pytest.fixture(scope="module")
def seeded(mysql_admin: MySQLConnectionAbstract) -> Iterator[MySQLConnectionAbstract]:
    """The MySQL test database with ROWS images, analysed; emptied afterwards."""
    seed_mysql(mysql_admin, _rows())
    yield mysql_admin
    empty_tables(mysql_admin)


@pytest.mark.mysql
@pytest.mark.parametrize("label", sorted(CASES))
def test_each_mysql_search_is_driven_by_the_fulltext_index(
    seeded: MySQLConnectionAbstract, label: str
) -> None:
    plan = mysql_plan(seeded, CASES[label])
    first, rest = plan[0], plan[1:]
    assert (first["table"], first["type"], first["key"]) == ("i", "fulltext", FULLTEXT_INDEX), plan
    for row in plan:
        assert row["select_type"] == "SIMPLE", plan  # no dependent subqueries
    for row in rest:  # tags: one primary-key lookup per match
        assert (row["type"], row["key"]) == ("eq_ref", "PRIMARY"), plan


@pytest.mark.mysql
def test_a_rare_word_reads_about_its_matches_not_the_table(
    seeded: MySQLConnectionAbstract,
) -> None:
    returned, reads = handler_reads(seeded, PageQuery(words=["zebra"], limit=50))
    assert 0 < returned <= RARE
    assert reads <= 10 * RARE, reads  # a full scan would read about ROWS


@pytest.fixture(scope="module")
def sqlite_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteDatabase]:
    database = seed_sqlite(tmp_path_factory.mktemp("search-plans") / "pixy.db", _rows())
    yield database
    database.close()


@pytest.mark.parametrize("label", sorted(CASES))
def test_each_sqlite_search_is_driven_by_the_fts5_index(
    sqlite_seeded: SQLiteDatabase, label: str
) -> None:
    plan = sqlite_plan(sqlite_seeded, CASES[label])
    assert plan[0].startswith("SCAN f VIRTUAL TABLE INDEX"), plan
    assert "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert not any(step.startswith("SCAN i") for step in plan), plan


def test_the_fts5_index_was_filled_by_its_trigger(sqlite_seeded: SQLiteDatabase) -> None:
    sql, params = page_sql(SQLITE, PageQuery(words=["zebra"], limit=50))
    with sqlite_seeded.context() as db:
        found = db.cursor.execute(sql, params).fetchall()
    assert 0 < len(found) <= RARE
    assert all("zebra" in row["prompt"] for row in found)
