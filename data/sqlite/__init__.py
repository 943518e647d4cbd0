"""The embedded SQLite backend: database, unit of work, repositories."""

from data.sqlite.database import SQLiteContext, SQLiteDatabase
from data.sqlite.repository import SQLiteImageRepository
from data.sqlite.user_repository import SQLiteUserRepository

__all__ = [
    "SQLiteContext",
    "SQLiteDatabase",
    "SQLiteImageRepository",
    "SQLiteUserRepository",
]
