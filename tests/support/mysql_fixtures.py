"""Fixtures for the database backends (registered in ``tests/conftest.py``).

- ``mysql_settings`` (session): ``Settings`` for a fresh database ``pixyproxy_test_<hex>``
  on ``DB_HOST``/``DB_PORT``/``DB_USER``/``DB_PASSWORD`` (default 127.0.0.1:3306, root,
  no password), created with ``apply_mysql_schema`` and dropped at the end. MySQL
  unreachable: skip, or fail when ``CI`` is set.
- ``mysql_admin`` (session): a raw autocommit connector connection to that database,
  for test set-up and inspection (``SHOW STATUS``, ``KILL``, triggers).
- ``mysql_clean``: empties the tables (for tests that build their own objects).
- ``mysql_database``: a ``MySQLDatabase`` on those settings, tables emptied first,
  closed after.
- ``sqlite_database``: a ``SQLiteDatabase`` in ``tmp_path``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mysql.connector
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from data.mysql.database import MySQLDatabase, apply_mysql_schema, script_statements
from data.sqlite.database import SQLiteDatabase

TABLES_CHILD_FIRST = (
    "image_tags",
    "image_renditions",
    "images",
    "users",
    "idempotency_keys",
    "rate_counters",
)


def _server_args() -> dict[str, Any]:
    """Where the test server is, from the environment (the contract's names)."""
    return {
        "db_host": os.environ.get("DB_HOST") or "127.0.0.1",
        "db_port": int(os.environ.get("DB_PORT") or 3306),
        "db_user": os.environ.get("DB_USER") or "root",
        "db_password": os.environ.get("DB_PASSWORD") or None,
    }


def make_mysql_settings(db_name: str, **overrides: Any) -> Settings:
    """Settings for the test server and ``db_name``, with explicit pool values."""
    values: dict[str, Any] = {
        **_server_args(),
        "db_name": db_name,
        "db_pool_size": 4,
        "db_pool_timeout": 2.0,
        "db_connect_timeout": 3,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # a developer's .env must not leak in


def create_app_user(settings: Settings, user: str, password: str, host: str = "%") -> None:
    """Run ``sql/002_app_user.sql`` for ``settings.db_name`` as ``user``@``host``.

    The script's quoted user, host and placeholder password are bound as parameters
    (the placeholder in the file is never used).
    """
    params: dict[str, Any] = {"app_user": user, "app_host": host, "app_password": password}
    admin = admin_connect(settings)
    try:
        cursor = admin.cursor()
        for script in script_statements("002_app_user.sql", db_name=settings.db_name):
            named = script.replace("'pixyproxy'@'%'", "%(app_user)s@%(app_host)s")
            cursor.execute(named.replace("'change-me-placeholder'", "%(app_password)s"), params)
        cursor.close()
    finally:
        admin.close()


def admin_connect(settings: Settings, *, database: str | None = None) -> MySQLConnectionAbstract:
    """A plain autocommit connection with ``settings``' credentials."""
    password = settings.db_password.get_secret_value() if settings.db_password else ""
    connection = mysql.connector.connect(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_user,
        password=password,
        database=database,
        connection_timeout=settings.db_connect_timeout,
        autocommit=True,
    )
    assert isinstance(connection, MySQLConnectionAbstract)
    return connection


@pytest.fixture(scope="session")
def mysql_settings() -> Iterator[Settings]:
    """Settings for a fresh test database with the schema applied; dropped afterwards."""
    settings = make_mysql_settings(f"pixyproxy_test_{uuid.uuid4().hex[:8]}")
    try:
        admin_connect(settings).close()
    except mysql.connector.Error as exc:
        message = (
            f"MySQL is not reachable at {settings.db_host}:{settings.db_port} "
            f"as {settings.db_user!r} ({type(exc).__name__}, errno {exc.errno}); "
            "set DB_HOST/DB_PORT/DB_USER/DB_PASSWORD"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)
    apply_mysql_schema(settings)
    yield settings
    connection = admin_connect(settings)
    try:
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.db_name}`")
    finally:
        connection.close()


@pytest.fixture(scope="session")
def mysql_admin(mysql_settings: Settings) -> Iterator[MySQLConnectionAbstract]:
    """An autocommit admin connection to the test database."""
    connection = admin_connect(mysql_settings, database=mysql_settings.db_name)
    yield connection
    connection.close()


def empty_tables(connection: MySQLConnectionAbstract) -> None:
    """Delete every row of the PixyProxy tables."""
    if not connection.is_connected():
        connection.reconnect()
    cursor = connection.cursor()
    for table in TABLES_CHILD_FIRST:
        cursor.execute(f"DELETE FROM {table}")
    cursor.close()


@pytest.fixture
def mysql_clean(mysql_admin: MySQLConnectionAbstract) -> None:
    """Empty the test database's tables before the test."""
    empty_tables(mysql_admin)


@pytest.fixture
def mysql_database(mysql_settings: Settings, mysql_clean: None) -> Iterator[MySQLDatabase]:
    """A ``MySQLDatabase`` on the test database, emptied before the test."""
    database = MySQLDatabase(mysql_settings)
    yield database
    database.close()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[SQLiteDatabase]:
    """A ``SQLiteDatabase`` in a fresh folder (created on first use)."""
    database = SQLiteDatabase(Settings(db_host=None, sqlite_path=tmp_path / "var" / "pixy.db"))
    yield database
    database.close()
