"""Build the data layer from settings: the request's ``data/init.py``.

Nothing is built at import time; ``service/init.py`` calls :func:`build_database` once.
The backend is chosen here and only here: MySQL when ``DB_HOST`` is set, else SQLite.
"""

from __future__ import annotations

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
    database = build_database(settings)
    try:
        return database.migrate()
    finally:
        database.close()


def schema_status(settings: Settings) -> SchemaStatus:
    """Where the configured database's schema stands against this release."""
    database = build_database(settings)
    try:
        return database.schema_status()
    finally:
        database.close()
