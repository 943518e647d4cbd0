"""Versioned schema migrations (CONTRACT.md §6), backend-neutral (data/README.md, "Migrations")."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from core.exceptions import SchemaVersionError
from data.dialect import Dialect

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_COMMENT = re.compile(r"(^|\s)--(\s.*)?$")  # "-- text" comments (migrations quote no "--")
SELECT_APPLIED = "SELECT version, checksum FROM schema_migrations"
INSERT_APPLIED = (
    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
    " VALUES (:version, :name, :checksum, :applied_at)"
)


@dataclass(frozen=True)
class Migration:
    """One numbered migration file of one dialect."""

    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file, recorded when applied (an edited migration is noticed)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def label(self) -> str:
        """``0002_image_metadata``: how the migration is named in logs and the CLI."""
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against this release."""

    current: int  # newest applied version; 0 for a database with no schema_migrations
    latest: int
    pending: tuple[str, ...]  # labels of the migrations still to apply

    @property
    def up_to_date(self) -> bool:
        """Whether nothing is pending."""
        return not self.pending


def load_migrations(dialect: str) -> list[Migration]:
    """The migrations of ``dialect``: ``NNNN_name.sql`` from 0001, no gaps; else ``ValueError``."""
    if dialect not in ("mysql", "sqlite"):
        raise ValueError(f"unknown dialect {dialect!r}")
    folder = resources.files("sql").joinpath("migrations", dialect)
    files = sorted((e for e in folder.iterdir() if e.name.endswith(".sql")), key=lambda e: e.name)
    migrations: list[Migration] = []
    for version, entry in enumerate(files, start=1):
        match = _FILE_NAME.match(entry.name)
        if match is None or int(match.group(1)) != version:
            raise ValueError(f"{dialect} migration {entry.name!r}: expected {version:04d}_name.sql")
        migrations.append(Migration(version, match.group(2), entry.read_text(encoding="utf-8")))
    return migrations


def without_comments(text: str) -> str:
    """``text`` with its ``-- …`` comments removed (migrations quote no ``--``)."""
    return "\n".join(_COMMENT.sub("", line) for line in text.splitlines())


def _pending(cursor: Any, dialect: Dialect, where: str) -> tuple[SchemaStatus, list[Migration]]:
    """Where the schema stands, and the migrations it lacks, in order.

    ``SchemaVersionError`` if it records a version newer than this release knows.
    """
    try:
        cursor.execute(SELECT_APPLIED)
        applied = {int(row[0]): str(row[1]) for row in cursor.fetchall()}
    except dialect.driver_errors as exc:
        if not dialect.no_such_table(exc):
            raise
        applied = {}  # a database made before migrations existed (or an empty one)
    migrations = load_migrations(dialect.name)
    newer = sorted(set(applied) - {m.version for m in migrations})
    if newer:
        raise SchemaVersionError(
            f"The database {where} has schema version {newer[-1]}, newer than this "
            f"release knows ({len(migrations)}). Run a newer PixyProxy release."
        )
    for migration in migrations:
        if applied.get(migration.version, migration.checksum) != migration.checksum:
            logger.warning("migration %s changed after it was applied", migration.label)
    pending = [m for m in migrations if m.version not in applied]
    labels = tuple(m.label for m in pending)
    return SchemaStatus(max(applied, default=0), len(migrations), labels), pending


def schema_status(cursor: Any, dialect: Dialect, *, where: str) -> SchemaStatus:
    """Where the schema stands; ``SchemaVersionError`` if it is newer than this release."""
    return _pending(cursor, dialect, where)[0]


def apply_pending(cursor: Any, dialect: Dialect, *, where: str) -> list[Migration]:
    """Create ``schema_migrations`` if missing, then apply what it lacks, in order.

    The caller holds the migration lock (MySQL ``GET_LOCK``, SQLite ``BEGIN IMMEDIATE``).
    """
    table = resources.files("sql").joinpath("migrations", f"schema_migrations.{dialect.name}.sql")
    for statement in dialect.split_script(table.read_text(encoding="utf-8")):
        cursor.execute(statement)
    _, pending = _pending(cursor, dialect, where)
    for migration in pending:
        for statement in dialect.split_script(migration.text):
            cursor.execute(statement)
        applied_at = dialect.to_db_time(datetime.now(UTC))
        params = {"version": migration.version, "name": migration.name}
        params |= {"checksum": migration.checksum, "applied_at": applied_at}
        cursor.execute(dialect.sql(INSERT_APPLIED), params)
        logger.info("applied migration %s to %s", migration.label, where)
    return pending
