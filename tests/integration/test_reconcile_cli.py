"""``pixyproxy reconcile`` through the real CLI: SQLite + local folder, MySQL + moto S3.

Each test plants old and fresh orphan blobs and a row whose blob is gone, then checks
that exactly the old orphans go, the fresh one stays, the row is reported (exit 3),
and that ``--dry-run`` changes nothing.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.models import ImageDetail, ImageDetailCreate
from core.settings import Settings
from service.init import Services, build_services
from service.renditions import image_keys
from storage.blob_store import BlobStore
from storage.local import LocalBlobStore

EXIT_DANGLING = 3
UNSET = ("DB_HOST", "S3_BUCKET", "S3_ENDPOINT_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")


def reconcile(env: dict[str, str | None], *args: str) -> tuple[int, str]:
    """Run ``pixyproxy reconcile ARGS`` with ``env``; return exit code and stdout."""
    result = CliRunner().invoke(app, ["reconcile", *args], env=env)
    return result.exit_code, result.stdout


def report(env: dict[str, str | None], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = reconcile(env, "--json", *args)
    return code, json.loads(out)


class Planted:
    """Two images (one of which loses its blob), two old orphans and a fresh one."""

    def __init__(self, services: Services, make_old: Callable[[BlobStore, str], None]) -> None:
        blobs = services.backends.blobs
        public = services.public()
        self.kept: ImageDetail = public.create_image(ImageDetailCreate(prompt="a kept fox"))
        self.dangling: ImageDetail = services.private("alice").create_image(
            ImageDetailCreate(prompt="a lost owl")
        )
        if services.backends.renditions is not None:
            services.backends.renditions.drain()
        self.dangling_key = f"images/{self.dangling.guid}.png"
        blobs.delete(self.dangling_key)  # its renditions stay, and so does their row
        self.old = sorted(f"images/{uuid.uuid4()}.png" for _ in range(2))
        for key in self.old:
            blobs.put(key, b"orphan", content_type="image/png")
            make_old(blobs, key)
        self.fresh = f"images/{uuid.uuid4()}.png"
        blobs.put(self.fresh, b"fresh", content_type="image/png")
        self.blobs = blobs

    def keys(self) -> set[str]:
        return {info.key for info in self.blobs.list_blobs()}

    def referenced(self) -> set[str]:
        """Every key of the kept image, and the renditions of the one that lost its blob."""
        return {
            *image_keys(self.kept.guid, f"images/{self.kept.guid}.png"),
            *image_keys(self.dangling.guid, self.dangling_key)[1:],
        }

    def check(self, env: dict[str, str | None], grace: str) -> None:
        """The dry run, the real run and a second run, as the module docstring says."""
        before = self.keys()
        assert before == {*self.referenced(), *self.old, self.fresh}

        code, dry = report(env, "--dry-run", "--grace", grace)
        assert code == EXIT_DANGLING
        assert self.keys() == before  # nothing changed
        assert (dry["dry_run"], sorted(dry["orphan_blobs"]), dry["deleted_blobs"]) == (
            True,
            self.old,
            0,
        )

        code, done = report(env, "--grace", grace)
        assert code == EXIT_DANGLING
        assert self.keys() == {*self.referenced(), self.fresh}
        assert sorted(done["orphan_blobs"]) == self.old and done["deleted_blobs"] == 2
        assert done["fresh_orphan_blobs"] == [self.fresh]
        assert done["dangling_rows"] == [
            {"guid": self.dangling.guid, "storage_key": self.dangling_key}
        ]
        assert (done["blobs_scanned"], done["rows_scanned"]) == (8, 2)

        code, text = reconcile(env, "--grace", grace)
        assert code == EXIT_DANGLING
        assert f"missing: guid {self.dangling.guid}" in text
        assert "orphan blobs older than" in text and ": 0" in text


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """SQLite + local folder under ``tmp_path``; no .env is read (cwd is ``tmp_path``)."""
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(UNSET)
    env |= {"SQLITE_PATH": str(tmp_path / "pixy.db"), "BLOB_DIR": str(tmp_path / "blobs")}
    return env


@contextmanager
def _services(env: dict[str, str | None]) -> Iterator[Services]:
    """The services the app would build from ``env`` (offline generator)."""
    values: dict[str, Any] = {k.lower(): v for k, v in env.items() if v is not None}
    services = build_services(Settings(_env_file=None, **values))
    yield services
    services.close()


def _backdate(store: BlobStore, key: str) -> None:
    """Make a local blob an hour old (its mtime is its ``last_modified``)."""
    assert isinstance(store, LocalBlobStore)
    hour_ago = time.time() - 3600
    os.utime(store.path_for(key), (hour_ago, hour_ago))


def test_reconcile_on_sqlite_and_a_local_folder(local_env: dict[str, str | None]) -> None:
    with _services(local_env) as services:
        Planted(services, _backdate).check(local_env, "10m")


def test_a_bad_grace_is_a_usage_error_and_touches_nothing(
    local_env: dict[str, str | None],
) -> None:
    for bad in ("10x", "-1", "soon"):
        result = CliRunner().invoke(app, ["reconcile", "--grace", bad], env=local_env)
        assert result.exit_code == 2
        assert "--grace" in result.output


def test_a_consistent_store_exits_0_with_plain_progress_lines(
    local_env: dict[str, str | None],
) -> None:
    with _services(local_env) as services:
        services.public().create_image(ImageDetailCreate(prompt="a fox"))
    result = CliRunner().invoke(app, ["reconcile"], env=local_env)
    assert result.exit_code == 0, result.output
    assert "reconcile: checking blobs" in result.stderr
    assert "rows whose blob is missing: 0" in result.stdout


@pytest.mark.mysql
@pytest.mark.s3
def test_reconcile_on_mysql_and_s3(
    mysql_settings: Settings, mysql_clean: None, s3_settings: Settings, local_env: dict[str, Any]
) -> None:
    env: dict[str, str | None] = {
        **dict.fromkeys(UNSET),
        "DB_HOST": mysql_settings.db_host,
        "DB_PORT": str(mysql_settings.db_port),
        "DB_USER": mysql_settings.db_user,
        "DB_PASSWORD": (
            mysql_settings.db_password.get_secret_value() if mysql_settings.db_password else None
        ),
        "DB_NAME": mysql_settings.db_name,
        "S3_BUCKET": s3_settings.s3_bucket,
        "S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
        "AWS_REGION": s3_settings.aws_region,
        "AWS_ACCESS_KEY_ID": s3_settings.aws_access_key_id,
        "AWS_SECRET_ACCESS_KEY": (
            s3_settings.aws_secret_access_key.get_secret_value()
            if s3_settings.aws_secret_access_key
            else None
        ),
    }
    # S3 sets LastModified itself (whole seconds), so "old" means uploaded 4 s before the
    # fresh one, with a grace of 3 s: 1 s of margin for the old ones, 2 s for the fresh.
    planted_at: list[float] = []
    with _services(env) as services:
        planted = Planted(services, lambda store, key: planted_at.append(time.time()))
        time.sleep(max(0.0, 4.0 - (time.time() - planted_at[0])))
        planted.blobs.put(planted.fresh, b"fresh", content_type="image/png")  # fresh again
        planted.check(env, "3s")
