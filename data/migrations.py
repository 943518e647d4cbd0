"""Versioned schema migrations (CONTRACT.md §6), backend-neutral part.

See data/README.md, "Migrations".
"""

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
DIALECTS = ("mysql", "sqlite")
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


def load_migrations(dialect: str) -> list[Migration]:
    """Every migration of ``dialect``, in order; ``ValueError`` for a packaging mistake."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    folder = resources.files("sql").joinpath("migrations", dialect)
    migrations: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise ValueError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in migrations:
            raise ValueError(f"two {dialect} migrations have version {version}")
        text = entry.read_text(encoding="utf-8")
        migrations[version] = Migration(version=version, name=match.group(2), text=text)
    ordered = [migrations[v] for v in sorted(migrations)]
    if [m.version for m in ordered] != list(range(1, len(ordered) + 1)):
        raise ValueError(f"{dialect} migrations are not numbered 1, 2, 3, … without gaps")
    return ordered


def without_comments(text: str) -> str:
    """``text`` with its ``-- …`` comments removed (migrations quote no ``--``)."""
    return "\n".join(_COMMENT.sub("", line) for line in text.splitlines())


def pending_migrations(
    migrations: list[Migration], applied: dict[int, str], *, where: str
) -> list[Migration]:
    """The migrations not in ``applied``; ``SchemaVersionError`` if it knows a newer one."""
    known = {m.version for m in migrations}
    newer = sorted(v for v in applied if v not in known)
    if newer:
        raise SchemaVersionError(
            f"The database {where} has schema version {newer[-1]}, newer than this "
            f"release knows ({max(known)}). Run a newer PixyProxy release."
        )
    return [m for m in migrations if m.version not in applied]


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


def applied_versions(cursor: Any, dialect: Dialect) -> dict[int, str]:
    """Version → checksum of what the database records (empty: no ``schema_migrations``)."""
    try:
        cursor.execute(SELECT_APPLIED)
    except dialect.driver_errors as exc:
        if dialect.no_such_table(exc):
            return {}
        raise
    return {int(row[0]): str(row[1]) for row in cursor.fetchall()}


def schema_status(cursor: Any, dialect: Dialect, *, where: str) -> SchemaStatus:
    """Where the schema stands; ``SchemaVersionError`` if it is newer than this release."""
    migrations = load_migrations(dialect.name)
    applied = applied_versions(cursor, dialect)
    pending = pending_migrations(migrations, applied, where=where)
    return SchemaStatus(
        current=max(applied, default=0),
        latest=migrations[-1].version,
        pending=tuple(m.label for m in pending),
    )


def apply_pending(cursor: Any, dialect: Dialect, *, where: str) -> list[Migration]:
    """Create ``schema_migrations`` if missing, then apply what it lacks, in order.

    The caller holds the migration lock (MySQL ``GET_LOCK``, SQLite ``BEGIN IMMEDIATE``).
    """
    table = resources.files("sql").joinpath("migrations", f"schema_migrations.{dialect.name}.sql")
    for statement in dialect.split_script(table.read_text(encoding="utf-8")):
        cursor.execute(statement)
    migrations = load_migrations(dialect.name)
    applied = applied_versions(cursor, dialect)
    for migration in migrations:
        if applied.get(migration.version, migration.checksum) != migration.checksum:
            logger.warning("migration %s changed after it was applied", migration.label)
    pending = pending_migrations(migrations, applied, where=where)
    for migration in pending:
        for statement in dialect.split_script(migration.text):
            cursor.execute(statement)
        cursor.execute(
            dialect.sql(INSERT_APPLIED),
            {
                "version": migration.version,
                "name": migration.name,
                "checksum": migration.checksum,
                "applied_at": dialect.to_db_time(datetime.now(UTC)),
            },
        )
        logger.info("applied migration %s to %s", migration.label, where)
    return pending
