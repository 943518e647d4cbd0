"""``SQLiteDatabase``: the embedded backend on stdlib ``sqlite3`` (data/README.md, "SQLite")."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from core.settings import Settings
from data.database import Database
from data.migrations import Migration, SchemaStatus, apply_pending, schema_status
from data.sqlite.dialect import SQLITE
from data.sqlite.unit_of_work import SQLiteContext

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 5.0  # seconds
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
        connection = self._connect(self._path)
        with SQLITE.errors(), _closed_on_error(connection):
            connection.execute(WARM_FTS).fetchall()
        return SQLiteContext(connection)

    def ping(self) -> None:
        """Raise ``DBConnectionError`` unless the file opens and answers ``SELECT 1``."""
        with self.context() as db, SQLITE.errors():
            db.cursor.execute("SELECT 1").fetchall()

    def close(self) -> None:
        """Nothing is held between units of work; kept for the port."""

    @staticmethod
    def _connect(path: Path | str) -> sqlite3.Connection:
        """Open a connection with rows by name, foreign keys on and a busy timeout."""
        with SQLITE.errors():
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False)
            with _closed_on_error(connection):
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA synchronous = NORMAL")
            return connection

    def migrate(self) -> list[Migration]:
        """Create the file if missing and apply pending migrations (``init-db``)."""
        applied = self.ensure_schema()
        logger.info("schema applied to %s", self._path)
        return applied

    def ensure_schema(self) -> list[Migration]:
        """Create the folder, switch to WAL, migrate in one ``BEGIN IMMEDIATE`` (once only)."""
        if self._ready:  # every unit of work asks: no lock once the schema is there
            return []
        with self._lock, SQLITE.errors():
            if self._ready:
                return []
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect(self._path)) as connection:
                connection.isolation_level = None  # the migration runs its own transaction
                connection.execute("PRAGMA journal_mode = WAL")
                cursor = connection.execute("BEGIN IMMEDIATE")
                try:
                    applied = apply_pending(cursor, SQLITE, where=str(self._path))
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
            self._ready = True
            logger.info("sqlite database ready: %s", self._path)
            return applied

    def schema_status(self) -> SchemaStatus:
        """Where the file's schema stands (nothing is changed; a missing file: nothing applied)."""
        with (
            SQLITE.errors(),
            closing(self._connect(self._path if self._path.exists() else ":memory:")) as connection,
        ):
            return schema_status(connection.cursor(), SQLITE, where=str(self._path))


@contextmanager
def _closed_on_error(connection: sqlite3.Connection) -> Iterator[None]:
    """Close ``connection`` if the block raises (the caller does not get it then)."""
    try:
        yield
    except BaseException:
        connection.close()
        raise
