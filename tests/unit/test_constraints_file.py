"""``constraints.txt`` pins what CI (``make install``) and the image install (issue 13).

Every dependency ``pyproject.toml`` names (and ``[dev]``) is pinned to one exact version
that its range allows, so a new release upstream changes nothing we ship until
``make constraints`` is run and committed; and both install paths use the file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$")


def pins() -> dict[str, Version]:
    """Name → pinned version of every line of ``constraints.txt``."""
    found: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = _PIN.match(line.strip())
        assert match, f"not an exact pin: {line!r}"
        found[canonicalize_name(match.group(1))] = Version(match.group(2))
    return found


def declared() -> list[Requirement]:
    """The project's dependencies and its ``dev`` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(name) for name in names]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in constraints.txt: run `make constraints`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{name}=={pinned[name]} is outside {requirement.specifier}: run `make constraints`"
        )


def test_the_project_itself_is_not_pinned() -> None:
    assert "pixyproxy" not in pins()


def test_mysql_connector_is_the_release_whose_c_extension_loads_on_debian_12() -> None:
    version = pins()["mysql-connector-python"]
    assert (version.major, version.minor) == (9, 5)


def test_make_install_and_the_image_install_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -c constraints.txt -e '.[dev]'" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-c /src/constraints.txt" in dockerfile
