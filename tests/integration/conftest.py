"""Fixtures shared by the integration contract suites.

``database`` runs a test once per database backend: the in-memory fake, embedded
SQLite and MySQL/MariaDB (marked ``mysql``), each empty. The SQLite and MySQL
databases come from ``tests/support/mysql_fixtures.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from data.database import Database
from tests.fakes.database import InMemoryDatabase

DATABASE_BACKENDS = ["memory", "sqlite", pytest.param("mysql", marks=pytest.mark.mysql)]


@pytest.fixture(params=DATABASE_BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """Each database backend in turn, empty."""
    if request.param == "memory":
        yield InMemoryDatabase()
    else:
        yield request.getfixturevalue(f"{request.param}_database")
