"""Every setting the app reads is documented in ``.env.example`` and reaches the app
under docker compose; ``.env.example`` explains each one and holds no real secret.

The settings are read from ``core.settings.Settings``' fields, so a new setting fails
here until it is documented and passed through.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings
from tests.support.cli_process import setting_env_names

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_FILE = ROOT / "docker-compose.yml"

# Settings that only choose or place an embedded backend; compose runs MySQL and MinIO.
EMBEDDED_ONLY = {"SQLITE_PATH", "BLOB_DIR"}

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|API_KEY")
_REAL_LOOKING_SECRETS = {
    "OpenAI key": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
}


def env_example() -> list[tuple[int, str, str]]:
    """``(line index, name, value)`` for every assignment in ``.env.example``."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        match = _ASSIGNMENT.match(line)
        if match:
            found.append((index, match.group(1), match.group(2)))
    return found


def compose() -> dict[str, Any]:
    """``docker-compose.yml`` as written (no interpolation)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def app_environment() -> dict[str, str]:
    """The app service's ``environment`` mapping."""
    environment: dict[str, str] = compose()["services"]["app"]["environment"]
    assert isinstance(environment, dict), "write the app's environment as a mapping"
    return environment


def test_env_example_lists_every_setting() -> None:
    documented = {name for _, name, _ in env_example()}
    assert setting_env_names() - documented == set()


def test_env_example_names_each_variable_once_and_only_known_ones() -> None:
    names = [name for _, name, _ in env_example()]
    assert len(names) == len(set(names))
    compose_only = set(_INTERPOLATION.findall(COMPOSE_FILE.read_text())) - set(app_environment())
    unknown = set(names) - setting_env_names() - compose_only
    assert unknown == set(), "not read by the app nor by docker-compose.yml"


def test_every_setting_reaches_the_app_under_compose() -> None:
    environment = set(app_environment())
    assert environment - setting_env_names() == set(), "the app reads no such setting"
    missing = setting_env_names() - environment - EMBEDDED_ONLY
    assert missing == set(), "pass these through in docker-compose.yml's app environment"


def test_every_variable_compose_interpolates_is_in_env_example() -> None:
    used = set(_INTERPOLATION.findall(COMPOSE_FILE.read_text(encoding="utf-8")))
    documented = {name for _, name, _ in env_example()}
    assert used - documented == set()


def test_each_variable_in_env_example_has_a_comment_above_it() -> None:
    """A comment line heads the paragraph (lines without a blank) of every variable."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    uncommented = []
    for index, name, _ in env_example():
        above = index - 1
        while above >= 0 and _ASSIGNMENT.match(lines[above]):
            above -= 1
        if above < 0 or not lines[above].startswith("#"):
            uncommented.append(name)
    assert uncommented == []


def test_env_example_holds_no_real_secret() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for kind, pattern in _REAL_LOOKING_SECRETS.items():
        assert not pattern.search(text), f"{kind} in .env.example"
    for _, name, value in env_example():
        if _SECRET_NAME.search(name):
            assert value == "" or value.startswith("change-me"), f"{name} looks real"


def test_compose_takes_every_secret_from_the_environment() -> None:
    for service, spec in compose()["services"].items():
        for name, value in (spec.get("environment") or {}).items():
            if _SECRET_NAME.search(name):
                assert str(value).startswith("${"), f"{service}: {name} is written inline"


def test_the_values_in_env_example_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in setting_env_names():
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert not settings.uses_mysql
    assert not settings.uses_s3
    assert not settings.uses_openai
