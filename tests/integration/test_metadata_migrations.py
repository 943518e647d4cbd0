"""Migrations 0002 and 0003 on a first release's database: nothing lost, rows searchable."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.records import PageQuery, Visibility
from core.settings import Settings
from data.database import Database
from data.init import apply_schema
from data.mysql.database import MySQLDatabase, apply_mysql_schema
from data.sqlite.database import SQLiteDatabase
from tests.integration.test_migrations import fresh_mysql, sqlite_settings  # noqa: F401
from tests.support.first_release import (
    OldImage,
    old_images,
    write_mysql_database,
    write_sqlite_database,
)


def _check_upgraded(database: Database, images: list[OldImage]) -> None:
    """Old rows have NULL metadata, are found by their prompt words, and new rows too."""
    with database.context() as db:
        for image in images:
            stored = db.images.get_by_guid(image.guid, Visibility())
            assert (stored.model, stored.size, stored.usage, stored.width) == (None,) * 4
        found = db.images.list_page(PageQuery(words=["lighthouse"]))
        assert {row.guid for row in found} == {image.guid for image in images}
        assert db.images.list_page(PageQuery(words=["old", "light"])) == found
        assert db.images.find_rendition(found[0].id, "thumbnail") is None


def test_a_first_release_sqlite_file_gets_metadata_columns_and_a_filled_fts5_index(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    images = old_images(3)
    write_sqlite_database(path, images)
    apply_schema(sqlite_settings(path))
    database = SQLiteDatabase(sqlite_settings(path))
    try:
        _check_upgraded(database, images)
    finally:
        database.close()


@pytest.mark.mysql
def test_a_first_release_mysql_database_gets_metadata_columns_and_a_fulltext_index(
    fresh_mysql: Settings,  # noqa: F811 - the fixture imported above
) -> None:
    images = old_images(3)
    write_mysql_database(fresh_mysql, images)
    apply_mysql_schema(fresh_mysql)
    database = MySQLDatabase(fresh_mysql)
    try:
        _check_upgraded(database, images)
    finally:
        database.close()
