"""Upgrading from the first release: its database and blob folder keep working.

A database (embedded SQLite, or MariaDB) and a local blob folder are written as the
first release wrote them; ``pixyproxy migrate`` (or, for the embedded file, the app
itself) upgrades them; then the app lists and serves the old images, creates new ones,
and a second ``migrate`` has nothing to do. ``serve`` refuses an un-migrated MySQL
database and says how to upgrade it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from cli.main import app as cli
from core.settings import Settings
from tests.support.first_release import (
    OldImage,
    old_images,
    write_blobs,
    write_mysql_database,
    write_sqlite_database,
)
from tests.support.mysql_fixtures import admin_connect, make_mysql_settings
from web.app import create_app

pytestmark = pytest.mark.e2e

Env = dict[str, str | None]
UNSET: Env = dict.fromkeys(("DB_HOST", "S3_BUCKET", "OPENAI_API_KEY", "LOG_FORMAT"))


def env_of(settings: Settings) -> Env:
    """The environment the CLI reads for ``settings``'s database and blob folder."""
    env: Env = {
        **UNSET,
        "SQLITE_PATH": str(settings.sqlite_path),
        "BLOB_DIR": str(settings.blob_dir),
    }
    if settings.uses_mysql:
        password = settings.db_password.get_secret_value() if settings.db_password else ""
        env |= {
            "DB_HOST": settings.db_host,
            "DB_PORT": str(settings.db_port),
            "DB_USER": settings.db_user,
            "DB_PASSWORD": password,
            "DB_NAME": settings.db_name,
        }
    return env


def run(settings: Settings, *args: str) -> Result:
    """``pixyproxy <args>`` with ``settings``'s environment."""
    return CliRunner().invoke(cli, list(args), env=env_of(settings))


def assert_serves_old_and_new(settings: Settings, images: list[OldImage]) -> None:
    """The app lists and serves ``images``, creates a new one, and keeps it on restart."""
    with TestClient(create_app(settings=settings)) as client:
        listed = {item["guid"] for item in client.get("/image", params={"limit": 200}).json()}
        assert {image.guid for image in images} <= listed
        for image in images:
            detail = client.get(f"/image/{image.guid}").json()
            assert (detail["prompt"], detail["tags"]) == (image.prompt, list(image.tags))
            content = client.get(f"/image/{image.guid}/content")
            assert content.status_code == 200
            assert content.content == image.data
        created = client.post("/image", json={"prompt": "a new lighthouse", "tags": ["new"]})
        assert created.status_code == 201, created.text
    with TestClient(create_app(settings=settings)) as client:
        again = client.get(f"/image/{created.json()['guid']}/content")
        assert again.status_code == 200
        assert client.get("/image", params={"tag": "old"}).json()[-1]["guid"] in {
            image.guid for image in images
        }


def test_a_first_release_embedded_database_and_blob_folder_keep_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        _env_file=None, sqlite_path=tmp_path / "var/pixyproxy.db", blob_dir=tmp_path / "var/blobs"
    )
    images = old_images(3)
    write_sqlite_database(settings.sqlite_path, images)
    write_blobs(settings.blob_dir, images)

    assert_serves_old_and_new(settings, images)  # the embedded file upgrades itself

    second = run(settings, "migrate")
    assert second.exit_code == 0, second.output
    assert "already up to date" in second.output


@pytest.fixture
def old_mysql(mysql_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a first-release MySQL database of its own; dropped afterwards."""
    settings = make_mysql_settings(
        f"pixyproxy_upgrade_{uuid.uuid4().hex[:8]}", blob_dir=tmp_path / "blobs"
    )
    yield settings
    admin = admin_connect(settings)
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.db_name}`")
    finally:
        admin.close()


@pytest.mark.mysql
def test_a_first_release_mysql_database_is_migrated_then_keeps_working(
    old_mysql: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    images = old_images(3)
    write_mysql_database(old_mysql, images)
    write_blobs(old_mysql.blob_dir, images)

    refused = run(old_mysql, "serve")
    assert refused.exit_code == 1
    assert "pixyproxy migrate" in refused.output

    status = run(old_mysql, "migrate", "--status")
    assert "schema version 0" in status.output, status.output
    migrated = run(old_mysql, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert "applied 0001_initial" in migrated.output

    assert_serves_old_and_new(old_mysql, images)

    second = run(old_mysql, "migrate")
    assert second.exit_code == 0, second.output
    assert "already up to date" in second.output
