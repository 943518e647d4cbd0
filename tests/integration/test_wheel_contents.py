"""The wheel carries the gallery: its templates and static assets render from an install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Run from an installed copy (not the checkout): render the gallery and fetch its assets.
RENDER = textwrap.dedent(
    """
    import re, sys
    from pathlib import Path
    from fastapi.testclient import TestClient
    import web.pages
    from core.settings import Settings
    from service.init import build_services, initialise_database
    from web.app import create_app

    root = Path(sys.argv[1])
    settings = Settings(_env_file=None, sqlite_path=root / "pixy.db", blob_dir=root / "blobs")
    initialise_database(settings)
    with TestClient(create_app(services=build_services(settings))) as client:
        page = client.get("/")
        css = re.search(r'href="(/static/gallery[.]css[?]v=[0-9a-f]+)"', page.text).group(1)
        print(web.pages.__file__, page.status_code, client.get(css).status_code)
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel built from the checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    yield next(folder.glob("pixyproxy-*.whl"))


def test_the_wheel_ships_every_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder in ("web/templates", "web/static")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
    }
    assert expected, "no gallery files found"
    assert expected <= names, sorted(expected - names)
    assert "web/routes/gallery.py" in names


def test_the_installed_gallery_renders_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "-t", str(target), wheel],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", RENDER, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    module, page_status, css_status = result.stdout.split()
    assert module.startswith(str(target))
    assert (page_status, css_status) == ("200", "200")
