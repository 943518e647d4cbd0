"""The embedded SQLite backend: database, unit of work, repository."""

from data.sqlite.database import SQLiteContext, SQLiteDatabase
from data.sqlite.repository import SQLiteImageRepository

__all__ = ["SQLiteContext", "SQLiteDatabase", "SQLiteImageRepository"]
