"""Build the data layer from settings: the request's ``data/init.py``.

Nothing is built at import time; ``service/init.py`` calls :func:`build_database` once.
The backend is chosen here and only here: MySQL when ``DB_HOST`` is set, else SQLite.
"""

from __future__ import annotations

from contextlib import closing

from core.settings import Settings
from data.database import Database
from data.migrations import Migration, SchemaStatus
from data.mysql.database import MySQLDatabase
from data.mysql.unit_of_work import DatabaseContext
from data.sqlite.database import SQLiteDatabase

__all__ = ["DatabaseContext", "apply_schema", "build_database", "schema_status"]


def build_database(settings: Settings) -> Database:
    """MySQL (pooled, connected lazily) when ``DB_HOST`` is set, else embedded SQLite."""
    if settings.uses_mysql:
        return MySQLDatabase(settings)
    return SQLiteDatabase(settings)


def apply_schema(settings: Settings) -> list[Migration]:
    """Create the configured database if missing and apply pending migrations (idempotent)."""
    with closing(build_database(settings)) as database:
        return database.migrate()


def schema_status(settings: Settings) -> SchemaStatus:
    """Where the configured database's schema stands against this release."""
    with closing(build_database(settings)) as database:
        return database.schema_status()
