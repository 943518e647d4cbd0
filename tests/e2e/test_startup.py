"""Startup through the real ``pixyproxy`` command (CONTRACT.md §2).

A present but invalid setting stops ``serve`` and ``init-db`` with a message naming
the variable and no traceback, whether it comes from the environment or from ``.env``;
``serve`` logs one line naming the backends in the configured log format, and no secret;
both commands honour ``SQLITE_PATH`` and ``BLOB_DIR``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.cli_process import ServerProcess, clean_env, free_port

pytestmark = pytest.mark.e2e

PIXYPROXY = str(Path(sys.executable).with_name("pixyproxy"))
SECRET = "canary-secret-3b7a"  # must never be printed

INVALID = [
    ("serve", "DB_PORT", "abc"),
    ("init-db", "DB_PORT", "abc"),
    ("serve", "DB_POOL_SIZE", "0"),
    ("serve", "LOG_FORMAT", "xml"),
    ("init-db", "CONTENT_REDIRECT", "maybe"),
]


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pixyproxy <args>`` in ``cwd`` with ``env``, output captured."""
    return subprocess.run(
        [PIXYPROXY, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("command", "name", "value"), INVALID)
def test_an_invalid_setting_stops_startup_naming_the_variable(
    tmp_path: Path, command: str, name: str, value: str
) -> None:
    env = clean_env({name: value, "SQLITE_PATH": str(tmp_path / "pixy.db")})
    args = [command, "--port", str(free_port())] if command == "serve" else [command]
    result = run_cli(args, tmp_path, env)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert name in output
    assert "Traceback" not in output
    assert not (tmp_path / "pixy.db").exists()


def test_an_invalid_setting_in_dot_env_is_named_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# from the working directory\nDB_PORT=not-a-port\n")
    result = run_cli(["serve", "--port", str(free_port())], tmp_path, clean_env())
    assert result.returncode == 2
    assert "DB_PORT" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_the_environment_wins_over_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SQLITE_PATH=from-dot-env.db\nDB_PORT=not-a-port\n")
    env = clean_env({"SQLITE_PATH": str(tmp_path / "from-env.db"), "DB_PORT": "3306"})
    result = run_cli(["init-db"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").is_file()
    assert not (tmp_path / "from-dot-env.db").exists()


def test_serve_logs_the_backends_once_in_the_configured_format_without_secrets(
    tmp_path: Path,
) -> None:
    sqlite_path = tmp_path / "meta" / "pixy.db"
    blob_dir = tmp_path / "bytes"
    env = clean_env(
        {
            "LOG_FORMAT": "text",
            "SQLITE_PATH": str(sqlite_path),
            "BLOB_DIR": str(blob_dir),
            "DB_PASSWORD": SECRET,  # set, but no DB_HOST: SQLite, and never printed
            "AWS_SECRET_ACCESS_KEY": SECRET,
        }
    )
    init = run_cli(["init-db"], tmp_path, env)
    assert init.returncode == 0, init.stderr
    assert sqlite_path.is_file()
    port = free_port()
    server = ServerProcess(
        [PIXYPROXY, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        log=tmp_path / "serve.log",
        port=port,
    )
    with server:
        created = httpx.post(f"{server.url}/image", json={"prompt": "startup"}, timeout=30)
        assert created.status_code == 201, created.text
    output = init.stdout + init.stderr + server.output()
    backends = [line for line in output.splitlines() if "backends:" in line]
    assert len(backends) == 1, output
    assert backends[0].endswith(
        " INFO service.init [-] backends: database=sqlite blob_store=local generator=offline"
    )
    assert not any(line.startswith("{") for line in output.splitlines())  # text, not JSON
    assert SECRET not in output
    assert any(path.is_file() for path in blob_dir.rglob("*"))
