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
