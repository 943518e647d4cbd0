"""The wheel, installed outside the checkout, works on its own (issue 13, CONTRACT.md §6).

A clean copy of the project's files is built into a wheel (``pip wheel --no-deps``), the
copy is deleted, and the wheel goes into a new venv in a temporary folder. From an
empty folder, with none of PixyProxy's settings in the environment: ``pixyproxy
init-db``, ``pixyproxy serve`` (embedded SQLite, local blobs, offline generator), a
create, a list and a download, a restart, and the image is still there with the same
bytes. ``import web.app; web.app.app`` works there too, and every module and SQL
script comes from the venv, none from a source tree. With MySQL reachable, ``init-db``
from the wheel also applies the packaged ``sql/`` scripts to a new database.

The venv: by default it gets the wheel alone (``pip --python … install --no-deps``)
and sees the dependencies of the developer's venv through a ``.pth`` file, so
``make test`` downloads nothing but the build backend. With
``PIXYPROXY_WHEEL_FRESH_VENV=1`` (CI) it is a venv of its own, and ``pip install -c
constraints.txt <wheel>`` installs every dependency from the package index, as a user's
``pip install`` would.

Run it alone with ``pytest -m wheel``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import mysql.connector
import pytest

from tests.support.cli_process import ServerProcess, clean_env, free_port
from tests.support.mysql_fixtures import admin_connect, make_mysql_settings
from tests.support.project_files import ROOT, copy_project

pytestmark = [pytest.mark.e2e, pytest.mark.wheel, pytest.mark.slow]

FRESH_VENV = os.environ.get("PIXYPROXY_WHEEL_FRESH_VENV", "").lower() in {"1", "true", "yes"}
PROMPT = {"prompt": "a kingfisher over a wheel", "tags": ["bird"]}


@dataclass(frozen=True)
class Installed:
    """The venv the wheel went into, and an empty folder to run it from."""

    venv: Path
    workdir: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run a command of the venv in the empty folder; its output (exit 0 asserted)."""
        result = subprocess.run(
            list(args),
            cwd=self.workdir,
            env=env or clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def _pip(*args: str) -> None:
    """Run the current interpreter's pip (output shown only on failure)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _build_wheel(root: Path) -> Path:
    """A wheel of a clean copy of the project; the copy is gone afterwards."""
    source, dist = root / "source", root / "dist"
    copy_project(source)
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(source))
    shutil.rmtree(source)
    (wheel,) = dist.glob("pixyproxy-*.whl")
    return wheel


def _install(wheel: Path, venv: Path) -> None:
    """The wheel in a new venv: with its dependencies, or seeing the current ones."""
    if FRESH_VENV:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = str(venv / "bin" / "pip")
        constraints = str(ROOT / "constraints.txt")
        result = subprocess.run(
            [pip, "install", "--quiet", "-c", constraints, str(wheel)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Only the dependencies: a .pth line is not a site folder, so the developer venv's
    # own .pth files (its editable PixyProxy finder) are not run in the new venv.
    paths = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    Path(purelib, "_pixyproxy_dependencies.pth").write_text("\n".join(paths) + "\n")
    _pip("--python", python, "install", "--quiet", "--no-deps", str(wheel))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(root)
    _install(wheel, root / "venv")
    workdir = root / "empty"
    workdir.mkdir()
    return Installed(venv=root / "venv", workdir=workdir)


def test_every_module_and_sql_script_comes_from_the_venv(installed: Installed) -> None:
    code = (
        "import importlib.resources, cli.main, core, data.mysql.database\n"
        "import web.app, web.routes.health\n"
        "web.app.app\n"
        "for module in (cli.main, core, data.mysql.database, web.app, web.routes.health):\n"
        "    print(module.__file__)\n"
        "print(sorted(p.name for p in importlib.resources.files('sql').iterdir()))\n"
        "print(data.mysql.database.script_statements('003_tables.sql', db_name='x')[0])\n"
    )
    lines = installed.run(installed.bin("python"), "-c", code).splitlines()
    *files, scripts, statement = lines
    for file in files:
        assert Path(file).is_relative_to(installed.venv), file
    for name in ("001_database.sql", "002_app_user.sql", "003_tables.sql"):
        assert name in scripts
    assert statement == "USE `x`"  # the packaged script, with the database renamed
    for absent in ("tests", "bench"):
        probe = f"import importlib.util; print(importlib.util.find_spec({absent!r}))"
        assert installed.run(installed.bin("python"), "-c", probe).strip() == "None"


def _serve(installed: Installed, log: Path) -> ServerProcess:
    port = free_port()
    command = [installed.bin("pixyproxy"), "serve", "--port", str(port)]
    return ServerProcess(command, cwd=installed.workdir, env=clean_env(), log=log, port=port)


def _content(client: httpx.Client, guid: str) -> bytes:
    response = client.get(f"/image/{guid}/content")
    assert response.status_code == 200, response.text
    return response.content


def test_init_db_serve_create_list_download_restart(installed: Installed) -> None:
    output = installed.run(installed.bin("pixyproxy"), "init-db")
    assert "var/pixyproxy.db" in output
    logs = installed.workdir.parent
    with (
        _serve(installed, logs / "serve-1.log") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        created = client.post("/image", json=PROMPT)
        assert created.status_code == 201, created.text
        detail = created.json()
        assert [item["guid"] for item in client.get("/image").json()] == [detail["guid"]]
        first = _content(client, detail["guid"])
        assert hashlib.sha256(first).hexdigest() == detail["sha256"]
        assert 'pixyproxy_generations_total{outcome="ok"} 1.0' in client.get("/metrics").text
    with (
        _serve(installed, logs / "serve-2.log") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        listed = client.get("/image", params={"tag": "bird"}).json()
        assert [item["guid"] for item in listed] == [detail["guid"]]
        assert _content(client, detail["guid"]) == first
    assert (installed.workdir / "var" / "pixyproxy.db").is_file()


@pytest.mark.mysql
def test_init_db_from_the_wheel_applies_the_packaged_sql_to_mysql(installed: Installed) -> None:
    settings = make_mysql_settings(f"pixyproxy_wheel_{uuid.uuid4().hex[:8]}")
    try:
        admin_connect(settings).close()
    except mysql.connector.Error as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and MySQL is not reachable: {exc}", pytrace=False)
        pytest.skip(f"MySQL is not reachable: {exc}")
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    env = clean_env(
        {
            "DB_HOST": str(settings.db_host),
            "DB_PORT": str(settings.db_port),
            "DB_USER": str(settings.db_user),
            "DB_PASSWORD": password,
            "DB_NAME": settings.db_name,
        }
    )
    connection = admin_connect(settings)
    try:
        installed.run(installed.bin("pixyproxy"), "init-db", env=env)
        installed.run(installed.bin("pixyproxy"), "init-db", env=env)  # idempotent
        cursor = connection.cursor()
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (settings.db_name,),
        )
        tables = {str(row[0]) for row in cursor.fetchall()}  # type: ignore[index]
        assert {"images", "image_tags", "users"} <= tables
    finally:
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.db_name}`")
        connection.close()
