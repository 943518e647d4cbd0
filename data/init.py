"""Build the data layer from settings: the request's ``data/init.py``.

Nothing is built at import time; ``service/init.py`` calls :func:`build_database` once.
"""

from __future__ import annotations

from core.settings import Settings
from data.context import Database
from data.mysql.context import DatabaseContext, get_current_db_context, set_db_context
from data.mysql.database import MySQLDatabase
from data.sqlite.database import SQLiteDatabase

__all__ = [
    "DatabaseContext",
    "build_database",
    "get_current_db_context",
    "set_db_context",
]


def build_database(settings: Settings) -> Database:
    """MySQL (pooled, connected lazily) when ``DB_HOST`` is set, else embedded SQLite."""
    if settings.uses_mysql:
        return MySQLDatabase(settings)
    return SQLiteDatabase(settings)
