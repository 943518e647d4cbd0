"""The MySQL/MariaDB backend: pool, unit of work (the seed's ``DatabaseContext``), repositories."""

from data.mysql.context import DatabaseContext, get_current_db_context, set_db_context
from data.mysql.database import MySQLDatabase, PoolStats
from data.mysql.repository import MySQLImageRepository
from data.mysql.user_repository import MySQLUserRepository

__all__ = [
    "DatabaseContext",
    "MySQLDatabase",
    "MySQLImageRepository",
    "MySQLUserRepository",
    "PoolStats",
    "get_current_db_context",
    "set_db_context",
]
