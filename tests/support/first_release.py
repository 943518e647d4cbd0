"""A database and blob folder as the first release (0.1.0, no migrations) wrote them.

The first release created its tables with ``sql/003_tables.sql`` (MySQL) or the same
tables in SQLite's dialect, and had no ``schema_migrations`` table. Rows are written
here with that release's own column list, by plain SQL, so the upgrade tests do not
depend on today's repositories.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.settings import Settings
from data.migrations import load_migrations
from data.mysql.database import DATABASE_SCRIPT, TABLES_SCRIPT, script_statements
from tests.support.mysql_fixtures import admin_connect

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
    b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)
INSERT_IMAGE = (
    "INSERT INTO images (guid, prompt, filename, content_type, size_bytes, sha256, author,"
    " is_private, storage_key, created_at, updated_at) VALUES ({p})"
)
INSERT_TAG = "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at) VALUES ({p})"


@dataclass(frozen=True)
class OldImage:
    """One image the first release stored: its row values and blob bytes."""

    guid: str
    prompt: str
    tags: tuple[str, ...]
    data: bytes = PNG
    private: bool = False
    author: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    @property
    def storage_key(self) -> str:
        """Where that release put the blob."""
        return f"images/{self.guid}.png"

    def row(self) -> tuple[Any, ...]:
        """The values of ``INSERT_IMAGE``."""
        return (
            self.guid,
            self.prompt,
            f"old-{self.guid[:8]}.png",
            "image/png",
            len(self.data),
            hashlib.sha256(self.data).hexdigest(),
            self.author,
            int(self.private),
            self.storage_key,
            self.created_at,
            self.created_at,
        )


def old_images(count: int = 3) -> list[OldImage]:
    """``count`` public images with two tags each."""
    return [
        OldImage(guid=str(uuid.uuid4()), prompt=f"an old lighthouse {i}", tags=("old", f"n{i}"))
        for i in range(count)
    ]


def write_blobs(blob_dir: Path, images: list[OldImage]) -> None:
    """The local blob folder as the first release laid it out."""
    for image in images:
        path = blob_dir.joinpath(*image.storage_key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image.data)


def write_mysql_database(settings: Settings, images: list[OldImage]) -> None:
    """Create ``DB_NAME`` with the first release's scripts and store ``images``."""
    admin = admin_connect(settings)
    try:
        cursor = admin.cursor()
        for script in (DATABASE_SCRIPT, TABLES_SCRIPT):
            for statement in script_statements(script, db_name=settings.db_name):
                cursor.execute(statement)
        marks = ", ".join(["%s"] * 11)
        for image in images:
            cursor.execute(INSERT_IMAGE.format(p=marks), image.row())
            image_id = cursor.lastrowid
            for ordinal, tag in enumerate(image.tags):
                cursor.execute(
                    INSERT_TAG.format(p="%s, %s, %s, %s, %s"),
                    (image_id, tag, ordinal, int(image.private), image.created_at),
                )
        cursor.close()
    finally:
        admin.close()


def write_sqlite_database(path: Path, images: list[OldImage]) -> None:
    """Create the first release's embedded file at ``path`` and store ``images``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(load_migrations("sqlite")[0].text)
        marks = ", ".join(["?"] * 11)
        for image in images:
            values = [*image.row()]
            values[9] = values[10] = image.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")
            cursor = connection.execute(INSERT_IMAGE.format(p=marks), values)
            for ordinal, tag in enumerate(image.tags):
                connection.execute(
                    INSERT_TAG.format(p="?, ?, ?, ?, ?"),
                    (cursor.lastrowid, tag, ordinal, int(image.private), values[9]),
                )
        connection.commit()
    finally:
        connection.close()
