"""Versioned migrations: files, runners on MariaDB and SQLite, upgrades in place, locking."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.exceptions import SchemaVersionError
from core.records import Visibility
from core.settings import Settings
from data.init import apply_schema
from data.migrations import load_migrations
from data.mysql.database import TABLES_SCRIPT, MySQLDatabase, apply_mysql_schema, script_statements
from data.mysql.dialect import mysql_statements
from data.sqlite.database import SQLiteDatabase
from data.sqlite.dialect import sqlite_statements
from service.init import check_schema
from tests.support.first_release import old_images, write_mysql_database, write_sqlite_database
from tests.support.mysql_fixtures import admin_connect, make_mysql_settings

ALL_VERSIONS = [m.version for m in load_migrations("mysql")]


def test_both_dialects_have_the_same_numbered_migrations() -> None:
    mysql = [(m.version, m.name) for m in load_migrations("mysql")]
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    assert mysql == sqlite
    assert mysql[0] == (1, "initial")


def test_the_first_mysql_migration_is_the_first_release_tables_script() -> None:
    script = [s for s in script_statements(TABLES_SCRIPT, db_name="pixyproxy") if "USE" not in s]
    assert mysql_statements(load_migrations("mysql")[0].text) == script


def test_sqlite_statements_keep_a_trigger_body_whole() -> None:
    text = """
    CREATE TABLE t (a INTEGER); -- a comment; with a semicolon
    CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN
        INSERT INTO t (a) SELECT 1 WHERE 0;
    END;
    """
    statements = sqlite_statements(text)
    assert len(statements) == 2
    assert statements[1].endswith("END;")


# --- SQLite -----------------------------------------------------------------------


def sqlite_settings(path: Path) -> Settings:
    """Embedded settings for ``path``."""
    return Settings(_env_file=None, sqlite_path=path, blob_dir=path.parent / "blobs")


def recorded_sqlite_versions(path: Path) -> list[int]:
    """What the file's ``schema_migrations`` holds."""
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
    finally:
        connection.close()


def test_a_first_release_sqlite_file_is_upgraded_in_place_with_every_row_and_tag(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    images = old_images(3)
    write_sqlite_database(path, images)

    applied = apply_schema(sqlite_settings(path))

    assert [m.version for m in applied] == ALL_VERSIONS
    assert recorded_sqlite_versions(path) == ALL_VERSIONS
    database = SQLiteDatabase(sqlite_settings(path))
    with database.context() as db:
        for image in images:
            stored = db.images.get_by_guid(image.guid, visibility=Visibility())
            assert (stored.prompt, stored.tags, stored.sha256) == (
                image.prompt,
                list(image.tags),
                image.row()[5],
            )
    assert apply_schema(sqlite_settings(path)) == []  # the second run is a no-op


def test_an_embedded_file_upgrades_itself_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_sqlite_database(path, old_images(1))
    with SQLiteDatabase(sqlite_settings(path)).context() as db:
        assert db.images.find_by_guid(str(uuid.uuid4()), visibility=Visibility()) is None
    assert recorded_sqlite_versions(path) == ALL_VERSIONS


def test_a_sqlite_file_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    apply_schema(sqlite_settings(path))
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO schema_migrations VALUES (999, 'future', 'x', '2030-01-01 00:00:00.000000')"
    )
    connection.commit()
    connection.close()
    with pytest.raises(SchemaVersionError, match="newer than this release"):
        check_schema(sqlite_settings(path))
    with pytest.raises(SchemaVersionError):
        SQLiteDatabase(sqlite_settings(path)).context()


def test_sqlite_processes_migrating_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    write_sqlite_database(path, old_images(1))
    results: list[list[int]] = []

    def run() -> None:
        results.append([m.version for m in apply_schema(sqlite_settings(path))])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v for applied in results for v in applied) == ALL_VERSIONS
    assert recorded_sqlite_versions(path) == ALL_VERSIONS


# --- MariaDB ----------------------------------------------------------------------


@pytest.fixture
def fresh_mysql(mysql_settings: Settings) -> Iterator[Settings]:
    """Settings for a database that does not exist yet; dropped afterwards."""
    settings = make_mysql_settings(f"pixyproxy_migrate_{uuid.uuid4().hex[:8]}")
    yield settings
    admin = admin_connect(settings)
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.db_name}`")
    finally:
        admin.close()


def recorded_mysql_versions(settings: Settings) -> list[int]:
    """What the database's ``schema_migrations`` holds."""
    admin = admin_connect(settings, database=settings.db_name)
    try:
        cursor = admin.cursor()
        cursor.execute("SELECT version FROM schema_migrations ORDER BY version")
        versions = [int(str(row[0])) for row in cursor.fetchall()]  # type: ignore[index]
        cursor.close()
        return versions
    finally:
        admin.close()


@pytest.mark.mysql
def test_a_first_release_mysql_database_is_upgraded_in_place_with_every_row_and_tag(
    fresh_mysql: Settings,
) -> None:
    images = old_images(3)
    write_mysql_database(fresh_mysql, images)
    with pytest.raises(SchemaVersionError, match="pixyproxy migrate"):
        check_schema(fresh_mysql)  # serve refuses, and says how to upgrade

    applied = apply_mysql_schema(fresh_mysql)

    assert [m.version for m in applied] == ALL_VERSIONS
    assert recorded_mysql_versions(fresh_mysql) == ALL_VERSIONS
    check_schema(fresh_mysql)
    database = MySQLDatabase(fresh_mysql)
    try:
        with database.context() as db:
            for image in images:
                stored = db.images.get_by_guid(image.guid, visibility=Visibility())
                assert (stored.prompt, stored.tags) == (image.prompt, list(image.tags))
    finally:
        database.close()
    assert apply_mysql_schema(fresh_mysql) == []


@pytest.mark.mysql
def test_a_mysql_database_from_a_newer_release_is_refused(fresh_mysql: Settings) -> None:
    apply_mysql_schema(fresh_mysql)
    admin = admin_connect(fresh_mysql, database=fresh_mysql.db_name)
    try:
        admin.cursor().execute(
            "INSERT INTO schema_migrations VALUES (999, 'future', 'x', '2030-01-01')"
        )
    finally:
        admin.close()
    with pytest.raises(SchemaVersionError, match="newer than this release"):
        check_schema(fresh_mysql)
    with pytest.raises(SchemaVersionError):
        apply_mysql_schema(fresh_mysql)


@pytest.mark.mysql
def test_replicas_migrating_at_once_apply_each_migration_once(fresh_mysql: Settings) -> None:
    write_mysql_database(fresh_mysql, old_images(1))
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append([m.version for m in apply_mysql_schema(fresh_mysql)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(v for applied in results for v in applied) == ALL_VERSIONS
    assert recorded_mysql_versions(fresh_mysql) == ALL_VERSIONS
