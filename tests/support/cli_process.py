"""Run PixyProxy as a real process (``make run``, ``pixyproxy serve``) for the e2e tests.

- :func:`setting_env_names`: every environment variable ``Settings`` reads, found from
  its fields, so settings added later are covered without editing the tests.
- :func:`clean_env`: ``os.environ`` without any of them (and without make's own
  variables), so a developer's or CI's ``DB_HOST`` cannot leak into a test process.
- :class:`ServerProcess`: start a command in its own process group with its output in
  a file, wait until ``/healthz`` answers, and stop the whole group with ``SIGINT``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import pytest

from core.settings import Settings
from tests.support.live_server import free_port

__all__ = ["ServerProcess", "clean_env", "free_port", "require_tool", "setting_env_names"]

# make passes these to sub-makes; a test run under `make test` must not hand them on.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def setting_env_names() -> set[str]:
    """The environment variable of every ``Settings`` field (its alias, else its name)."""
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        names.add((alias or field.alias or name).upper())
    return names


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without PixyProxy's settings and make's variables, plus ``extra``."""
    drop = setting_env_names() | set(MAKE_VARIABLES) | {"VENV", "VIRTUAL_ENV", "PYTHONPATH"}
    env = {key: value for key, value in os.environ.items() if key.upper() not in drop}
    env.update(extra or {})
    return env


def require_tool(found: bool, what: str) -> None:
    """Skip when ``what`` is missing, except under ``CI``, where that fails."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {what} is missing", pytrace=False)
    pytest.skip(f"{what} is missing")


def _group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists (zombies of other parents count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ServerProcess:
    """``command`` in its own process group, output to ``log``; ``url`` once healthy."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: Path,
        port: int,
        startup_timeout: float = 30.0,
    ) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.env = dict(env)
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def start(self) -> Self:
        """Start the command and return once ``GET /healthz`` answers 200."""
        with self.log.open("ab") as sink:
            process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: make, pixyproxy, uvicorn
            )
        self._process = process
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                code = self.stop()
                pytest.fail(
                    f"{' '.join(self.command)} exited with {code} "
                    f"before /healthz answered:\n{self.output()}",
                    pytrace=False,
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"/healthz did not answer within {self.startup_timeout:.0f} s:\n{self.output()}",
            pytrace=False,
        )

    def stop(self, timeout: float = 15.0) -> int | None:
        """``SIGINT`` to the process group (Ctrl-C), ``SIGKILL`` if it lingers; the code."""
        process = self._process
        if process is None:
            return None
        self._process = None
        if not _group_alive(process.pid):
            process.wait(5)
            return process.returncode
        os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        # Wait for the whole group, not only the leader: the server must have let go
        # of the port and the SQLite file before the caller goes on.
        while _group_alive(process.pid) and time.monotonic() < deadline:
            process.poll()
            time.sleep(0.05)
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
        return process.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
