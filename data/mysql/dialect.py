"""The MySQL/MariaDB dialect: ``%(name)s`` placeholders, naive UTC ``DATETIME(6)``."""

from __future__ import annotations

from datetime import UTC, datetime

from data.dialect import Dialect
from data.mysql.errors import DRIVER_ERRORS, translate


def naive_utc(value: datetime) -> datetime:
    """Aware (or UTC naive) datetime → UTC naive, as ``DATETIME(6)`` stores it."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def aware_utc(value: datetime) -> datetime:
    """A naive UTC ``DATETIME`` from the driver, made aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


MYSQL = Dialect(
    name="mysql",
    pyformat=True,
    to_db_time=naive_utc,
    from_db_time=aware_utc,
    upsert="ON DUPLICATE KEY UPDATE",
    author_index=" FORCE INDEX (ix_images_author_newest)",
    join="STRAIGHT_JOIN",
    for_update=" FOR UPDATE",
    # group_concat_max_len is raised per session (connection_args) for 20 tags of 64.
    tags_folded=(
        "(SELECT GROUP_CONCAT(t.tag ORDER BY t.ordinal SEPARATOR ',')"
        " FROM image_tags AS t WHERE t.image_id = i.id)"
    ),
    limited_delete=True,
    driver_errors=DRIVER_ERRORS,
    translate=translate,
)
