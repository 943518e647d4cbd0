"""``docker-compose.yml`` and the ``Dockerfile``: what ``docker compose up`` relies on.

``docker compose config`` (or Debian's ``docker-compose``) must accept the file with
``.env.example``; no Docker engine is needed for that. Without either client the test
is skipped, except under ``CI``, where that fails. The rest reads the files: every
long-running service has a health check, the app waits for healthy dependencies, MySQL
gets every ``sql/`` script, and the image is slim, non-root and runs ``pixyproxy serve``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli_process import clean_env, require_tool

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
INITDB = "/docker-entrypoint-initdb.d/"


def compose_command() -> list[str] | None:
    """``docker compose`` when the plugin answers, else ``docker-compose``, else None."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def run_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    """``<compose> -f docker-compose.yml --env-file <env_file> config``, in a clean env."""
    command = compose_command()
    require_tool(command is not None, "`docker compose` or `docker-compose`")
    assert command is not None
    variables = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    env = {k: v for k, v in clean_env().items() if k not in variables and k != "COMPOSE_FILE"}
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``services`` mapping."""
    found: dict[str, dict[str, Any]] = spec["services"]
    return found


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The file as the compose client resolves it with ``.env.example``."""
    result = run_config(ROOT / ".env.example")
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr, result.stderr  # a variable .env lacks
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


@pytest.fixture(scope="module")
def written() -> dict[str, Any]:
    """The file as written."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def test_compose_config_accepts_the_file_with_env_example(resolved: dict[str, Any]) -> None:
    app = services(resolved)["app"]["environment"]
    assert app["DB_HOST"] == "mysql"
    assert app["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert app["S3_PUBLIC_ENDPOINT_URL"] == "http://localhost:9000"
    assert app["AWS_ACCESS_KEY_ID"] == services(resolved)["minio"]["environment"]["MINIO_ROOT_USER"]
    assert app["DB_PASSWORD"] == services(resolved)["mysql"]["environment"]["PIXY_DB_PASSWORD"]


def test_compose_config_refuses_to_run_without_the_passwords(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = run_config(empty)
    assert result.returncode != 0
    assert "MYSQL_ROOT_PASSWORD" in result.stderr or "DB_PASSWORD" in result.stderr


def test_every_service_has_a_health_check_or_runs_once(written: dict[str, Any]) -> None:
    specs = services(written)
    for name, spec in specs.items():
        if "healthcheck" in spec:
            assert spec["healthcheck"]["test"], name
            continue
        # A one-shot: never restarted, and whoever waits for it waits for its success.
        assert spec.get("restart") == "no", f"{name}: no health check and not a one-shot"
        waits = [
            other["depends_on"][name]["condition"]
            for other in specs.values()
            if isinstance(other.get("depends_on"), dict) and name in other["depends_on"]
        ]
        assert waits and set(waits) == {"service_completed_successfully"}, name


def test_the_app_waits_for_healthy_mysql_and_minio_and_the_bucket(
    written: dict[str, Any],
) -> None:
    depends = services(written)["app"]["depends_on"]
    assert depends["mysql"]["condition"] == "service_healthy"
    assert depends["minio"]["condition"] == "service_healthy"
    assert depends["create-bucket"]["condition"] == "service_completed_successfully"
    assert services(written)["create-bucket"]["depends_on"]["minio"] == {
        "condition": "service_healthy"
    }


def test_minio_health_check_uses_a_binary_the_image_ships(written: dict[str, Any]) -> None:
    # minio/minio images dropped curl (minio/minio#18371); `mc` ships with the server.
    test = services(written)["minio"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "mc"]
    assert "curl" not in str(test) and "wget" not in str(test)


def test_mysql_8_gets_every_sql_script_in_order(written: dict[str, Any]) -> None:
    mysql = services(written)["mysql"]
    assert re.fullmatch(r"mysql:8(\.\d+)*", mysql["image"])
    mounts = [volume.split(":") for volume in mysql["volumes"] if INITDB in volume]
    for host, _, *_ in mounts:
        assert (ROOT / host).is_file(), host
    by_target = sorted((target, host) for host, target, *_ in mounts)
    expected = sorted(f"./sql/{path.name}" for path in (ROOT / "sql").glob("*.sql"))
    shell = {f"./sql/docker/{path.name}" for path in (ROOT / "sql" / "docker").glob("*.sh")}
    assert shell <= {host for _, host in by_target}
    # every sql/*.sql is mounted, and they run first, in their own order
    assert [host for _, host in by_target][: len(expected)] == expected
    assert [Path(target).name for target, _ in by_target] == [
        Path(host).name for _, host in by_target
    ]


def test_init_shell_scripts_are_sourced_not_executed() -> None:
    """The MySQL entrypoint runs an executable ``*.sh`` in a child process, where its
    ``docker_process_sql`` function does not exist; a plain file is sourced instead."""
    for script in (ROOT / "sql" / "docker").glob("*.sh"):
        assert not os.access(script, os.X_OK), f"chmod -x {script}"
        listed = subprocess.run(
            ["git", "ls-files", "-s", str(script)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        assert not listed.startswith("100755"), f"git update-index --chmod=-x {script}"


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
        else:
            instructions.append(pending)
            pending = ""
    return instructions


def test_dockerfile_is_slim_non_root_deps_first_and_serves() -> None:
    lines = dockerfile_instructions()
    assert re.fullmatch(r"FROM python:3\.1[1-9]-slim(-\w+)?", lines[0])
    instructions = [line.split()[0].upper() for line in lines]
    first_code_copy = next(i for i, line in enumerate(lines) if line.startswith("COPY core"))
    deps_install = next(i for i, line in enumerate(lines) if "pip install -r" in line)
    assert deps_install < first_code_copy
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in {"root", "0"}
    assert instructions.index("USER") < instructions.index("CMD")
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert '"pixyproxy", "serve"' in cmd and '"0.0.0.0"' in cmd
    # the classic builder (docker-compose 1.x) knows no heredocs
    assert not any("<<" in line for line in lines)


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".venv", "var", ".git"):
        assert entry in ignored
