"""``SQLiteDatabase``: the embedded backend on stdlib ``sqlite3`` (``SQLITE_PATH``).

One connection per unit of work (opening a SQLite file is cheap), WAL journal so
readers do not block the writer, and a busy timeout so writers wait for each other
instead of failing at once. The parent folder and the schema are created on first use,
not at construction, so a bad path surfaces as ``DBConnectionError`` at use.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from core.settings import Settings
from data.database import Database
from data.migrations import Migration, SchemaStatus, load_migrations
from data.sqlite import migrate
from data.sqlite.dialect import sqlite_errors
from data.sqlite.unit_of_work import SQLiteContext

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 5.0


class SQLiteDatabase(Database):
    """The embedded backend: a SQLite file, its schema created on first use."""

    backend = "sqlite"

    def __init__(self, settings: Settings) -> None:
        """Remember the path; nothing is opened or created until first use."""
        self._path = Path(settings.sqlite_path)
        self._lock = threading.Lock()
        self._ready = False

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def describe(self) -> str:
        """A one-line description for the startup log."""
        return f"sqlite://{self._path}"

    def context(self) -> SQLiteContext:
        """Open a unit of work on a new connection (``DBConnectionError`` if impossible)."""
        self.ensure_schema()
        return SQLiteContext(self._connect())

    def ping(self) -> None:
        """Raise ``DBConnectionError`` unless the file opens and answers ``SELECT 1``."""
        with self.context() as db, sqlite_errors():
            db.cursor.execute("SELECT 1").fetchall()

    def close(self) -> None:
        """Nothing is held between units of work; kept for the port."""

    def _connect(self) -> sqlite3.Connection:
        """Open a connection with rows by name, foreign keys on and a busy timeout."""
        with sqlite_errors():
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
        logger.info("schema applied to %s", self.describe())
        return applied

    def ensure_schema(self) -> list[Migration]:
        """Create the folder, switch to WAL and apply pending migrations (once per object).

        The embedded file upgrades itself: a file written by an earlier release gets the
        migrations it lacks; one written by a newer release raises ``SchemaVersionError``.
        Returns the migrations applied now.
        """
        if self._ready:
            return []
        with self._lock, sqlite_errors():
            if self._ready:
                return []
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = self._connect()
            try:
                connection.isolation_level = None  # the migration runs its own transaction
                connection.execute("PRAGMA journal_mode = WAL")
                applied = migrate.migrate(connection, where=str(self._path))
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
        with sqlite_errors():
            connection = self._connect()
            try:
                return migrate.schema_status(connection, where=str(self._path))
            finally:
                connection.close()
