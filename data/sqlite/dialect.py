"""SQLite: ``:name``, datetimes as fixed-width UTC text (data/README.md, "Driver errors")."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

from core.exceptions import ConstraintViolationError, DBConnectionError, PixyProxyException
from data.dialect import Dialect
from data.migrations import without_comments

logger = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # fixed width, so text order is time order
DRIVER_ERRORS = (sqlite3.Error, OSError)


def time_text(value: datetime) -> str:
    """Datetime → fixed-width UTC text (naive values are taken as UTC)."""
    utc = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return utc.strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Stored UTC text → aware datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def translate(exc: BaseException) -> PixyProxyException:
    """Return the core exception for a ``sqlite3`` error (raise it ``from exc``)."""
    logger.debug("sqlite error %s", type(exc).__name__)
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
        return ConstraintViolationError()
    if isinstance(exc, sqlite3.OperationalError | OSError):
        return DBConnectionError()
    return PixyProxyException()


def sqlite_statements(text: str) -> list[str]:
    """Split a SQLite script into complete statements (``CREATE TRIGGER … END;`` included)."""
    statements: list[str] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if without_comments(pending).strip():
                statements.append(pending.strip())
            pending = ""
    if without_comments(pending).strip():
        raise ValueError("a SQLite migration ends inside a statement (missing ';')")
    return statements


# SQLite keeps the left table of a CROSS JOIN as the outer loop, picks
# ix_images_author_newest by itself, and its DELETE's writer lock serialises writers.
SQLITE = Dialect(
    name="sqlite",
    to_db_time=time_text,
    from_db_time=parse_time,
    tags_folded=(  # group_concat follows the subquery's order
        "(SELECT group_concat(tag, ',') FROM"
        " (SELECT t.tag FROM image_tags AS t WHERE t.image_id = i.id ORDER BY t.ordinal))"
    ),
    # The FTS5 table images_fts (external content, kept by triggers) is the outer loop.
    search_from=" FROM images_fts AS f CROSS JOIN images AS i ON i.id = f.rowid",
    search_where="images_fts MATCH :match",
    search_terms=lambda words: " ".join(f'"{word}"*' for word in words),  # prefixes
    driver_errors=DRIVER_ERRORS,
    translate=translate,
    split_script=sqlite_statements,
    no_such_table=lambda exc: "no such table" in str(exc),
)
