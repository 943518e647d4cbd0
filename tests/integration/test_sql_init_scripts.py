"""``sql/`` as docker compose's MySQL applies it from ``/docker-entrypoint-initdb.d``.

The image's entrypoint feeds each ``*.sql`` file to the ``mysql`` client as root with no
default database (``docker_process_sql < file``) and sources each non-executable
``*.sh`` file in its own shell, where ``docker_process_sql [mysql args]`` is a function.
Here a small bash harness does the same against the test server, on a copy of the
scripts whose database and user ``pixyproxy`` are renamed to a unique name, then checks
that the app user logs in with the password from ``.env`` (quotes and backslashes
included) and has DML, and nothing more, on its own schema.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mysql.connector
import pytest

from core.settings import Settings
from tests.support.cli_process import require_tool
from tests.support.mysql_fixtures import admin_connect, make_mysql_settings

pytestmark = pytest.mark.mysql

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = 'it\'s a \\ "tricky" $pa`ss`'

# What the entrypoint does with /docker-entrypoint-initdb.d (docker-library/mysql).
HARNESS = r"""
set -eo pipefail
docker_process_sql() {
  mysql --protocol=tcp --host="$TEST_DB_HOST" --port="$TEST_DB_PORT" --user="$TEST_DB_USER" \
        --comments "$@"
}
for f in "$INITDB"/*; do
  case "$f" in
    *.sh)  if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
    *.sql) docker_process_sql < "$f" ;;
  esac
done
"""


def first_column(cursor: Any) -> list[str]:
    """The first column of every remaining row, as text."""
    return [str(row[0]) for row in cursor.fetchall()]


@pytest.fixture
def server() -> Iterator[Settings]:
    """The test server's admin settings; skipped (failed under CI) when unreachable."""
    settings = make_mysql_settings("mysql")
    try:
        admin_connect(settings).close()
    except mysql.connector.Error as exc:
        message = f"MySQL is not reachable at {settings.db_host}:{settings.db_port}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield settings


@pytest.fixture
def initdb(tmp_path: Path) -> tuple[Path, str]:
    """The compose init scripts, renamed to a unique database and user."""
    name = f"pixyinit_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "docker-entrypoint-initdb.d"
    folder.mkdir()
    scripts = sorted((ROOT / "sql").glob("*.sql")) + sorted((ROOT / "sql" / "docker").glob("*.sh"))
    for script in scripts:
        target = folder / script.name
        target.write_text(script.read_text(encoding="utf-8").replace("pixyproxy", name))
        target.chmod(script.stat().st_mode & 0o777)
    return folder, name


def test_compose_init_scripts_create_schema_and_least_privilege_user(
    server: Settings, initdb: tuple[Path, str]
) -> None:
    require_tool(shutil.which("mysql") is not None, "the mysql client")
    folder, name = initdb
    env = {
        **os.environ,
        "INITDB": str(folder),
        "PIXY_DB_PASSWORD": PASSWORD,
        "TEST_DB_HOST": str(server.db_host),
        "TEST_DB_PORT": str(server.db_port),
        "TEST_DB_USER": str(server.db_user),
        "MYSQL_PWD": server.db_password.get_secret_value() if server.db_password else "",
    }
    admin = admin_connect(server)
    try:
        result = subprocess.run(
            ["bash", "-c", HARNESS],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        app = mysql.connector.connect(
            host=server.db_host, port=server.db_port, user=name, password=PASSWORD, database=name
        )
        try:
            cursor = app.cursor()
            cursor.execute("SELECT COUNT(*) FROM images")
            assert cursor.fetchall() == [(0,)]
            cursor.execute("SHOW GRANTS")
            grants = " ".join(first_column(cursor))
            assert "SELECT, INSERT, UPDATE, DELETE ON" in grants
            assert "ON *.*" not in grants.replace("GRANT USAGE ON *.*", "")
            with pytest.raises(mysql.connector.Error):
                cursor.execute("CREATE TABLE intruder (id INT)")
        finally:
            app.close()
        tables = admin.cursor()
        tables.execute(f"SHOW TABLES FROM `{name}`")
        assert {"images", "image_tags", "users"} <= set(first_column(tables))
    finally:
        cleanup = admin.cursor()
        cleanup.execute(f"DROP USER IF EXISTS '{name}'@'%'")
        cleanup.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
