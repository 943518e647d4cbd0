"""``pixyproxy user add|list|remove|passwd`` through the real CLI, on SQLite and MySQL.

Each test runs the command with ``typer``'s ``CliRunner`` and an environment that
points at a fresh SQLite file (``DB_HOST`` unset, the working directory a temporary
folder so no ``.env`` is read) or at the MySQL test database.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from core.exceptions import AuthenticationError
from core.settings import Settings
from service.init import build_user_service
from tests.support.mysql_fixtures import make_mysql_settings

Env = dict[str, str | None]
UNSET: Env = dict.fromkeys(("DB_HOST", "S3_BUCKET", "OPENAI_API_KEY", "LOG_FORMAT"))


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    """The environment of one backend, its users table empty."""
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        return {**UNSET, "SQLITE_PATH": str(tmp_path / "pixy.db")}
    settings: Settings = request.getfixturevalue("mysql_settings")
    request.getfixturevalue("mysql_clean")
    return {
        **UNSET,
        "DB_HOST": settings.db_host,
        "DB_PORT": str(settings.db_port),
        "DB_USER": settings.db_user,
        "DB_PASSWORD": settings.db_password.get_secret_value() if settings.db_password else None,
        "DB_NAME": settings.db_name,
    }


def run(env: Env, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["user", *args], env=env, input=stdin)


def can_log_in(env: Env, user: str, password: str) -> bool:
    """Whether ``user`` logs in with ``password``, asked behind the CLI's back."""
    if env.get("DB_HOST"):
        settings = make_mysql_settings(str(env["DB_NAME"]))
    else:
        settings = Settings(_env_file=None, sqlite_path=str(env["SQLITE_PATH"]))
    users = build_user_service(settings)
    try:
        return users.authenticate(user, password) == user
    except AuthenticationError:
        return False
    finally:
        users.close()


def name() -> str:
    return f"user-{uuid.uuid4().hex[:6]}"


def test_add_reads_the_password_from_stdin_and_the_user_can_log_in(env: Env) -> None:
    user, password = name(), f"pw {uuid.uuid4().hex} ✓"
    result = run(env, "add", user, "--password-stdin", stdin=f"{password}\n")
    assert result.exit_code == 0, result.output
    assert f"user {user} added" in result.stdout
    assert password not in result.output
    assert can_log_in(env, user, password)
    listed = run(env, "list")
    assert listed.exit_code == 0 and user in listed.stdout


def test_add_asks_twice_at_the_prompt(env: Env) -> None:
    user = name()
    result = run(env, "add", user, stdin="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    assert can_log_in(env, user, "s3cret")
    assert "s3cret" not in result.stdout


def test_a_duplicate_name_is_a_clear_error(env: Env) -> None:
    user = name()
    assert run(env, "add", user, "--password-stdin", stdin="one\n").exit_code == 0
    again = run(env, "add", user, "--password-stdin", stdin="two\n")
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert can_log_in(env, user, "one")  # unchanged


@pytest.mark.parametrize("stdin", ["\n", ""])
def test_an_empty_password_is_refused(env: Env, stdin: str) -> None:
    user = name()
    result = run(env, "add", user, "--password-stdin", stdin=stdin)
    assert result.exit_code == 1
    assert "password: it must not be empty" in result.stderr
    assert user not in run(env, "list").stdout


def test_an_invalid_name_is_refused(env: Env) -> None:
    result = run(env, "add", "no spaces allowed", "--password-stdin", stdin="pw\n")
    assert result.exit_code == 1
    assert "Invalid username" in result.stderr


def test_passwd_changes_the_password(env: Env) -> None:
    user = name()
    run(env, "add", user, "--password-stdin", stdin="old\n")
    result = run(env, "passwd", user, "--password-stdin", stdin="new\n")
    assert result.exit_code == 0, result.output
    assert can_log_in(env, user, "new")
    assert not can_log_in(env, user, "old")


def test_passwd_to_an_empty_password_is_refused(env: Env) -> None:
    user = name()
    run(env, "add", user, "--password-stdin", stdin="old\n")
    result = run(env, "passwd", user, "--password-stdin", stdin="\n")
    assert result.exit_code == 1
    assert "password: it must not be empty" in result.stderr
    assert can_log_in(env, user, "old")


@pytest.mark.parametrize("command", ["remove", "passwd"])
def test_a_missing_user_is_a_clear_error(env: Env, command: str) -> None:
    user = name()
    extra = ["--password-stdin"] if command == "passwd" else []
    result = run(env, command, user, *extra, stdin="pw\n")
    assert result.exit_code == 1
    assert f"No user named {user}" in result.stderr


def test_remove_deletes_the_user(env: Env) -> None:
    user, other = name(), name()
    run(env, "add", user, "--password-stdin", stdin="pw\n")
    run(env, "add", other, "--password-stdin", stdin="pw\n")
    result = run(env, "remove", user)
    assert result.exit_code == 0 and f"user {user} removed" in result.stdout
    listed = run(env, "list").stdout
    assert user not in listed and other in listed
    assert not can_log_in(env, user, "pw")
