"""``pixyproxy renditions`` backfills older images: idempotent, resumable, with progress."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract
from typer.testing import CliRunner

from cli.main import app
from core.models import ImageDetailCreate
from core.settings import Settings
from service.init import Services
from service.renditions import image_keys
from tests.integration.test_reconcile_cli import UNSET, _services

ANONYMISED = "UPDATE images SET width = NULL, height = NULL, blurhash = NULL"


def run(env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["renditions", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _older_images(services: Services, count: int) -> list[str]:
    """``count`` images that look made before renditions: no renditions, no facts."""
    guids = [
        services.public()
        .create_image(ImageDetailCreate(prompt=f"an old fox {n}", size="auto"))
        .guid
        for n in range(count)
    ]
    if services.backends.renditions is not None:
        services.backends.renditions.drain()
    for guid in guids:
        for key in image_keys(guid, "")[1:]:
            services.backends.blobs.delete(key)
    return guids


def _check(services: Services, env: dict[str, str | None], guids: list[str]) -> None:
    code, out, err = run(env, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["images_scanned"], first["images_done"], first["renditions_made"]) == (3, 3, 6)
    keys = {info.key for info in services.backends.blobs.list_blobs()}
    for guid in guids:
        assert set(image_keys(guid, f"images/{guid}.png")) <= keys
        detail = services.public().get_image_by_guid(guid)
        assert (detail.width, detail.height) == (1024, 1024) and detail.blurhash
    code, out, err = run(env)  # again: nothing left to do
    assert code == 0, err
    assert "3 already complete, 0 done now (0 renditions made)" in out
    assert "renditions: checking images (3)" in err


def test_backfill_on_sqlite_and_a_local_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(UNSET)
    env |= {"SQLITE_PATH": str(tmp_path / "pixy.db"), "BLOB_DIR": str(tmp_path / "blobs")}
    with _services(env) as services:
        guids = _older_images(services, 3)
        connection = sqlite3.connect(tmp_path / "pixy.db")
        with connection:
            connection.execute("DELETE FROM image_renditions")
            connection.execute(ANONYMISED)
        connection.close()
        _check(services, env, guids)


@pytest.mark.mysql
@pytest.mark.s3
def test_backfill_on_mysql_and_s3(
    mysql_settings: Settings,
    mysql_admin: MySQLConnectionAbstract,
    mysql_clean: None,
    s3_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    password = mysql_settings.db_password
    secret = s3_settings.aws_secret_access_key
    env: dict[str, Any] = {
        **dict.fromkeys(UNSET),
        "DB_HOST": mysql_settings.db_host,
        "DB_PORT": str(mysql_settings.db_port),
        "DB_USER": mysql_settings.db_user,
        "DB_PASSWORD": password.get_secret_value() if password else None,
        "DB_NAME": mysql_settings.db_name,
        "S3_BUCKET": s3_settings.s3_bucket,
        "S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
        "AWS_REGION": s3_settings.aws_region,
        "AWS_ACCESS_KEY_ID": s3_settings.aws_access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret.get_secret_value() if secret else None,
    }
    with _services(env) as services:
        guids = _older_images(services, 3)
        cursor = mysql_admin.cursor()
        cursor.execute("DELETE FROM image_renditions")
        cursor.execute(ANONYMISED)
        cursor.close()
        _check(services, env, guids)
