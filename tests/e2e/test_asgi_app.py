"""The module-level ``web.app:app`` (CONTRACT.md §6 "Install, run, upgrade").

Importing it reads no settings (a broken ``.env`` in the working directory does not
stop the import), and ``uvicorn web.app:app`` started outside the checkout reads them
at startup and serves: create, list, download.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.cli_process import ServerProcess, clean_env, free_port

pytestmark = pytest.mark.e2e

UVICORN = str(Path(sys.executable).with_name("uvicorn"))


def test_importing_web_app_reads_no_settings_and_gives_an_asgi_app(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DB_PORT=not-a-port\n")  # would fail if read on import
    result = subprocess.run(
        [sys.executable, "-c", "import web.app; print(type(web.app.app).__name__)"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FastAPI"


def test_uvicorn_serves_web_app_app_with_settings_read_at_startup(tmp_path: Path) -> None:
    env = clean_env(
        {"SQLITE_PATH": str(tmp_path / "meta" / "pixy.db"), "BLOB_DIR": str(tmp_path / "blobs")}
    )
    port = free_port()
    command = [UVICORN, "web.app:app", "--host", "127.0.0.1", "--port", str(port)]
    with ServerProcess(command, cwd=tmp_path, env=env, log=tmp_path / "uvicorn.log", port=port):
        base = f"http://127.0.0.1:{port}"
        created = httpx.post(f"{base}/image", json={"prompt": "asgi entry point"}, timeout=30)
        assert created.status_code == 201, created.text
        guid = created.json()["guid"]
        listed = httpx.get(f"{base}/image", timeout=10).json()
        assert [item["guid"] for item in listed] == [guid]
        content = httpx.get(f"{base}/image/{guid}/content", timeout=10)
        assert content.status_code == 200
        assert content.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "meta" / "pixy.db").is_file()
