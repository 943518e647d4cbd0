"""The README's first command, ``make run``, on a clean copy of the project (issue 5).

A copy of the working tree's project files (what ``git ls-files`` lists, without
``.venv``, ``var/`` or a developer's ``.env``) goes into a temporary folder, and
``make run PORT=<free port>`` runs there with none of PixyProxy's settings in the
environment: so SQLite in ``./var``, blobs in ``./var/blobs`` and the offline generator,
all under the copy. The test creates, lists, fetches and downloads images over HTTP,
stops the service with Ctrl-C (``SIGINT`` to the process group), starts it again and
finds every image, metadata and bytes. It reads the startup line from the output.

The virtual environment: by default a throwaway one that sees the developer's installed
packages through a ``.pth`` file and has the copy installed in it (editable, by hand:
a ``.pth`` line and the ``pixyproxy`` console script from ``[project.scripts]``), with
the Makefile's stamp in place, so ``make run``'s ``install`` step is a checked no-op and
the developer's ``.venv`` is never touched. With ``PIXYPROXY_QUICKSTART_FRESH_VENV=1``
nothing is prepared: ``make run`` creates ``.venv`` in the copy and installs into it
from the package index, exactly as on a newcomer's machine (about 30 s more).

Run it alone with ``pytest -m quickstart``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli_process import ServerProcess, clean_env, free_port, require_tool
from tests.support.project_files import copy_project

pytestmark = [pytest.mark.e2e, pytest.mark.quickstart]

ROOT = Path(__file__).resolve().parents[2]
FRESH_VENV = os.environ.get("PIXYPROXY_QUICKSTART_FRESH_VENV", "").lower() in {"1", "true", "yes"}
BACKENDS_LINE = "backends: database=sqlite blob_store=local generator=offline"
# Set in the service's environment with no backend that uses them: must never be printed.
CANARIES = {
    "DB_PASSWORD": "canary-db-password-5f1d",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-secret-9c2e",
}
PROMPTS = [
    {"prompt": "a red fox in snow", "tags": ["fox"]},
    {"prompt": "a lighthouse at dusk", "tags": ["sea", "Light", "sea"]},
]


def overlay_venv(venv: Path, project: Path) -> None:
    """A new venv with the current one's packages and ``project`` installed (editable).

    Nothing is downloaded and the current venv is only read: ``<venv>/site-packages``
    gets a ``.pth`` naming the project copy first and the current site-packages after
    it, and ``bin/pixyproxy`` is written from ``[project.scripts]``, as an editable
    install would. Then the Makefile's stamp, newer than the copy's ``pyproject.toml``.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    paths = [str(project), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    Path(purelib, "_pixyproxy_quickstart.pth").write_text("\n".join(dict.fromkeys(paths)) + "\n")
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    for name, target in scripts.items():
        module, _, attribute = target.partition(":")
        script = venv / "bin" / name
        script.write_text(
            f"#!{python}\nimport sys\nfrom {module} import {attribute}\nsys.exit({attribute}())\n"
        )
        script.chmod(0o755)
    (venv / ".installed").touch()


def create_image(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /image`` as in the README; returns the ``ImageDetail``."""
    response = client.post("/image", json=body)
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/image/{detail['guid']}"
    assert detail["author"] is None
    assert detail["private"] is False
    return detail


def fetch_all(client: httpx.Client, guids: list[str]) -> dict[str, tuple[Any, bytes]]:
    """For each guid: its ``ImageDetail`` and its bytes, checked against each other."""
    found: dict[str, tuple[Any, bytes]] = {}
    for guid in guids:
        detail = client.get(f"/image/{guid}")
        assert detail.status_code == 200, detail.text
        meta = detail.json()
        content = client.get(f"/image/{guid}/content")
        download = client.get(f"/image/{guid}/content", params={"download": "1"})
        for response in (content, download):
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == meta["content_type"]
            assert int(response.headers["content-length"]) == meta["size_bytes"]
            assert hashlib.sha256(response.content).hexdigest() == meta["sha256"]
        assert content.headers["content-disposition"].startswith("inline;")
        assert download.headers["content-disposition"] == (
            f'attachment; filename="{meta["filename"]}"'
        )
        assert download.content == content.content
        found[guid] = (meta, content.content)
    return found


def startup_lines(output: str) -> list[dict[str, Any]]:
    """The JSON log records that announce the backends (JSON: stderr is not a TTY)."""
    records = []
    for line in output.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if "backends:" in record.get("message", ""):
                records.append(record)
    return records


def test_make_run_on_a_clean_copy_serves_images_and_keeps_them_across_a_restart(
    tmp_path: Path,
) -> None:
    require_tool(shutil.which("make") is not None, "make")
    require_tool(shutil.which("git") is not None and (ROOT / ".git").exists(), "a git checkout")
    project = tmp_path / "pixyproxy"
    copy_project(project)
    assert not (project / ".env").exists()
    assert not (project / "var").exists()
    env = clean_env(CANARIES)
    if not FRESH_VENV:
        venv = tmp_path / "venv"
        overlay_venv(venv, project)
        env["VENV"] = str(venv)
        up_to_date = subprocess.run(["make", "-q", "install"], cwd=project, env=env, check=False)
        assert up_to_date.returncode == 0, "`make install` would reinstall"

    def make_run(log: Path) -> ServerProcess:
        port = free_port()
        return ServerProcess(
            ["make", "run", f"PORT={port}"],
            cwd=project,
            env=env,
            log=log,
            port=port,
            startup_timeout=300 if FRESH_VENV else 30,
        )

    first = make_run(tmp_path / "first.log")
    with first, httpx.Client(base_url=first.url, timeout=30) as client:
        created = [create_image(client, body) for body in PROMPTS]
        assert created[1]["tags"] == ["sea", "light"]
        listing = client.get("/image", params={"limit": 10})
        assert listing.status_code == 200
        guids = [image["guid"] for image in listing.json()]
        assert guids == [created[1]["guid"], created[0]["guid"]]  # newest first
        before = fetch_all(client, guids)
        assert [meta for meta, _ in before.values()] == listing.json()
    assert (project / "var" / "pixyproxy.db").is_file()
    blobs = [path for path in (project / "var" / "blobs").rglob("*") if path.is_file()]
    originals = [path for path in blobs if not path.name.endswith(".webp")]  # not renditions
    assert sorted(path.read_bytes() for path in originals) == sorted(b for _, b in before.values())
    assert len(blobs) <= 3 * len(originals)  # thumbnails and previews (unless still queued)

    second = make_run(tmp_path / "second.log")
    with second, httpx.Client(base_url=second.url, timeout=30) as client:
        listing = client.get("/image", params={"limit": 10})
        assert [image["guid"] for image in listing.json()] == guids
        assert fetch_all(client, guids) == before

    for run in (first, second):
        output = run.output()
        assert "schema applied to var/pixyproxy.db" in output  # `pixyproxy init-db` ran
        lines = startup_lines(output)
        assert [line["message"] for line in lines] == [BACKENDS_LINE], output
        assert lines[0]["level"] == "INFO"
        for secret in CANARIES.values():
            assert secret not in output
        assert "Traceback" not in output
