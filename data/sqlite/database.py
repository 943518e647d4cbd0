"""``SQLiteDatabase``: the embedded backend on stdlib ``sqlite3`` (``SQLITE_PATH``).

See data/README.md, "SQLite".
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from core.settings import Settings
from data.database import Database
from data.migrations import Migration, SchemaStatus, apply_pending, load_migrations, schema_status
from data.sqlite.dialect import SQLITE
from data.sqlite.unit_of_work import SQLiteContext

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 5.0
WARM_FTS = "SELECT rowid FROM images_fts LIMIT 0"


class SQLiteDatabase(Database):
    """The embedded backend: a SQLite file, its schema created on first use."""

    backend = "sqlite"

    def __init__(self, settings: Settings) -> None:
        """Remember the path; nothing is opened or created until first use."""
        self._path = Path(settings.sqlite_path)
        self._lock = threading.Lock()
        self._ready = False

    def context(self) -> SQLiteContext:
        """Open a unit of work on a new connection, its FTS5 table touched (data/README.md)."""
        self.ensure_schema()
        connection = self._connect()
        with SQLITE.errors():
            try:
                connection.execute(WARM_FTS).fetchall()
            except BaseException:
                connection.close()
                raise
        return SQLiteContext(connection)

    def ping(self) -> None:
        """Raise ``DBConnectionError`` unless the file opens and answers ``SELECT 1``."""
        with self.context() as db, SQLITE.errors():
            db.cursor.execute("SELECT 1").fetchall()

    def close(self) -> None:
        """Nothing is held between units of work; kept for the port."""

    def _connect(self) -> sqlite3.Connection:
        """Open a connection with rows by name, foreign keys on and a busy timeout."""
        with SQLITE.errors():
            connection = sqlite3.connect(
                self._path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )
            try:
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA synchronous = NORMAL")
            except BaseException:
                connection.close()
                raise
            return connection

    def migrate(self) -> list[Migration]:
        """Create the file if missing and apply pending migrations (``init-db``)."""
        applied = self.ensure_schema()
        logger.info("schema applied to %s", self._path)
        return applied

    def ensure_schema(self) -> list[Migration]:
        """Create the folder, switch to WAL and apply pending migrations (once per object)."""
        if self._ready:
            return []
        with self._lock, SQLITE.errors():
            if self._ready:
                return []
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = self._connect()
            try:
                connection.isolation_level = None  # the migration runs its own transaction
                connection.execute("PRAGMA journal_mode = WAL")
                applied = _migrate(connection, where=str(self._path))
            finally:
                connection.close()
            self._ready = True
            logger.info("sqlite database ready: %s", self._path)
            return applied

    def schema_status(self) -> SchemaStatus:
        """Where the file's schema stands against this release (nothing is changed)."""
        if not self._path.exists():
            migrations = load_migrations("sqlite")
            labels = tuple(m.label for m in migrations)
            return SchemaStatus(current=0, latest=migrations[-1].version, pending=labels)
        with SQLITE.errors():
            connection = self._connect()
            try:
                return schema_status(connection.cursor(), SQLITE, where=str(self._path))
            finally:
                connection.close()


def _migrate(connection: sqlite3.Connection, *, where: str) -> list[Migration]:
    """Apply the pending migrations in one ``BEGIN IMMEDIATE`` transaction."""
    cursor = connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        applied = apply_pending(cursor, SQLITE, where=where)
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    return applied
