"""The MySQL/MariaDB backend: pool, unit of work (the seed's ``DatabaseContext``), repository."""

from data.mysql.context import DatabaseContext, get_current_db_context, set_db_context
from data.mysql.database import MySQLDatabase, PoolStats
from data.mysql.repository import MySQLImageRepository

__all__ = [
    "DatabaseContext",
    "MySQLDatabase",
    "MySQLImageRepository",
    "PoolStats",
    "get_current_db_context",
    "set_db_context",
]
