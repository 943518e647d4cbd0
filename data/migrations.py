"""Versioned schema migrations (CONTRACT.md §6), backend-neutral part.

Migrations are numbered files in the ``sql`` package, one folder per dialect:
``sql/migrations/mysql/0002_image_metadata.sql`` and its SQLite twin
``sql/migrations/sqlite/0002_image_metadata.sql``. They are applied in order and
recorded in a ``schema_migrations`` table (version, name, checksum, applied_at).
``0001_initial`` is the first release's schema, written with ``IF NOT EXISTS``, so a
database made by that release (which has the tables but no ``schema_migrations``) is
recognised and upgraded in place.

This module loads and splits the files and decides what is pending; the runners that
execute them live beside each backend (``data/mysql/migrate.py``,
``data/sqlite/migrate.py``).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from core.exceptions import SchemaVersionError

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_COMMENT = re.compile(r"(^|\s)--(\s.*)?$")  # "-- text" comments (migrations quote no "--")
DIALECTS = ("mysql", "sqlite")


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
    """Every migration of ``dialect`` (``mysql`` or ``sqlite``), in version order.

    Raises ``ValueError`` for an unknown dialect, a misnamed file or a repeated version:
    those are packaging mistakes, found by the tests.
    """
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


def latest_version(dialect: str) -> int:
    """The newest schema version this release knows for ``dialect``."""
    return load_migrations(dialect)[-1].version


def mysql_statements(text: str) -> list[str]:
    """Split a MySQL migration on ``;`` after ``--`` comments are removed.

    MySQL migrations hold no compound statements (procedures, triggers), so a plain
    split is exact.
    """
    lines = [_COMMENT.sub("", line) for line in text.splitlines()]
    return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]


def sqlite_statements(text: str) -> list[str]:
    """Split a SQLite migration into complete statements (``CREATE TRIGGER … END;`` included)."""
    statements: list[str] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            pending = ""
            if _has_sql(statement):
                statements.append(statement)
    if _has_sql(pending):
        raise ValueError("a SQLite migration ends inside a statement (missing ';')")
    return statements


def _has_sql(text: str) -> bool:
    """Whether ``text`` holds anything but comments and whitespace."""
    return any(_COMMENT.sub("", line).strip() for line in text.splitlines())


def pending_migrations(
    migrations: list[Migration], applied: dict[int, str], *, where: str
) -> list[Migration]:
    """The migrations not yet in ``applied`` (version → checksum), in order.

    Raises ``SchemaVersionError`` when the database records a version newer than any
    this release knows: it was upgraded by a newer release, and this one must not run
    on it. ``where`` names the database in that message.
    """
    known = {m.version for m in migrations}
    newer = sorted(v for v in applied if v not in known)
    if newer:
        raise SchemaVersionError(
            f"The database {where} has schema version {newer[-1]}, newer than this "
            f"release knows ({max(known)}). Run a newer PixyProxy release."
        )
    return [m for m in migrations if m.version not in applied]


def changed_migrations(migrations: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """Applied migrations whose file changed since (recorded checksum differs)."""
    return [m for m in migrations if m.version in applied and applied[m.version] != m.checksum]


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
