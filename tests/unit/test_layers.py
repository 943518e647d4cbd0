"""Imports go one way (STYLE.md): web/cli → service → data, storage, generation → core."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "core": {"core"},
    "data": {"core", "data"},
    "storage": {"core", "storage"},
    "service": {"core", "data", "storage", "service"},
    "web": {"core", "service", "web"},
    "cli": {"core", "service", "cli"},
}
DRIVERS = {"mysql": {"data"}, "sqlite3": {"data"}, "boto3": {"storage"}, "botocore": {"storage"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    ours = set(ALLOWED)
    for path in sorted((ROOT / layer).rglob("*.py")):
        imported = _imports(path)
        assert (imported & ours) <= ALLOWED[layer], f"{path} imports {imported & ours}"
        for driver, owners in DRIVERS.items():
            assert driver not in imported or layer in owners, f"{path} imports {driver}"


def _dotted_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("backend", "driver"), [("mysql", "mysql"), ("sqlite", "sqlite3")])
def test_only_its_backend_folder_imports_a_driver_or_the_backend(backend: str, driver: str) -> None:
    """Backend-neutral data modules (ports, repositories, migrations) know no backend.

    ``data/init.py``, which chooses the backend, is the one exception.
    """
    for path in sorted((ROOT / "data").rglob("*.py")):
        if path.parent.name == backend or path.name == "init.py":
            continue
        imported = _dotted_imports(path)
        bad = {name for name in imported if name.split(".")[0] == driver}
        bad |= {name for name in imported if name.startswith(f"data.{backend}")}
        assert not bad, f"{path} imports {bad}"
