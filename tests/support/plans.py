"""Seeding and query-plan helpers shared by the listing and search plan tests.

Rows are ``(image, tags)`` pairs: ``image`` is ``(id, guid, prompt, filename,
content_type, size_bytes, sha256, author, is_private, storage_key, created_at,
updated_at)`` with aware datetimes, ``tags`` are ``(image_id, tag, ordinal, is_private,
created_at)``. The SQL under test always comes from the repository's ``list_page_sql``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mysql.connector.abstracts import MySQLConnectionAbstract

from core.records import PageQuery
from core.settings import Settings
from data.dialect import Dialect
from data.mysql.dialect import MYSQL
from data.repositories.images import list_page_sql
from data.sqlite.database import SQLiteDatabase
from data.sqlite.dialect import SQLITE, time_text
from tests.support.mysql_fixtures import empty_tables

Rows = Iterable[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]
INSERT_IMAGE = (
    "INSERT INTO images (id, guid, prompt, filename, content_type, size_bytes, sha256,"
    " author, is_private, storage_key, created_at, updated_at)"
)
INSERT_TAG = "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at)"


def seed_mysql(admin: MySQLConnectionAbstract, rows: Rows) -> None:
    """Empty the MySQL test database, insert ``rows`` and analyse the tables."""
    empty_tables(admin)
    images: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []
    for image, image_tags in rows:
        images.append((*image[:10], image[10].replace(tzinfo=None), image[11].replace(tzinfo=None)))
        tags.extend((*row[:4], row[4].replace(tzinfo=None)) for row in image_tags)
    cursor = admin.cursor()
    cursor.executemany(INSERT_IMAGE + " VALUES (" + ", ".join(["%s"] * 12) + ")", images)
    cursor.executemany(INSERT_TAG + " VALUES (%s, %s, %s, %s, %s)", tags)
    cursor.execute("ANALYZE TABLE images, image_tags")
    cursor.fetchall()
    cursor.close()


def seed_sqlite(path: Path, rows: Rows) -> SQLiteDatabase:
    """A SQLite database at ``path`` holding ``rows``, analysed."""
    database = SQLiteDatabase(Settings(_env_file=None, db_host=None, sqlite_path=path))
    with database.context() as db:
        db.begin_transaction()
        for image, tags in rows:
            times = (time_text(image[10]), time_text(image[11]))
            db.cursor.execute(
                INSERT_IMAGE + " VALUES (" + ", ".join(["?"] * 12) + ")", (*image[:10], *times)
            )
            db.cursor.executemany(
                INSERT_TAG + " VALUES (?, ?, ?, ?, ?)",
                [(*row[:4], time_text(row[4])) for row in tags],
            )
        db.cursor.execute("ANALYZE")
        db.commit_transaction()
    return database


def page_sql(dialect: Dialect, query: PageQuery) -> tuple[str, dict[str, Any]]:
    """What the repository runs for ``query``, in ``dialect``'s placeholder style."""
    sql, params = list_page_sql(dialect, query)
    return dialect.sql(sql), params


def mysql_plan(connection: MySQLConnectionAbstract, query: PageQuery) -> list[dict[str, Any]]:
    """The rows of MySQL's ``EXPLAIN`` for ``query``."""
    sql, params = page_sql(MYSQL, query)
    cursor = connection.cursor(dictionary=True)
    cursor.execute("EXPLAIN " + sql, params)
    plan = list(cursor.fetchall())
    cursor.close()
    return plan  # type: ignore[return-value]


def handler_reads(connection: MySQLConnectionAbstract, query: PageQuery) -> tuple[int, int]:
    """Rows returned and index entries read (``Handler_read_*``) by one page query."""
    sql, params = page_sql(MYSQL, query)
    cursor = connection.cursor()
    cursor.execute("FLUSH STATUS")
    cursor.execute(sql, params)
    returned = len(cursor.fetchall())
    cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%'")
    reads = sum(int(str(value)) for _, value in cursor.fetchall())
    cursor.close()
    return returned, reads


def sqlite_plan(database: SQLiteDatabase, query: PageQuery) -> list[str]:
    """The steps of SQLite's ``EXPLAIN QUERY PLAN`` for ``query``."""
    sql, params = page_sql(SQLITE, query)
    with database.context() as db:
        return [str(row[3]) for row in db.cursor.execute("EXPLAIN QUERY PLAN " + sql, params)]
