"""``MySQLImageRepository``: image rows and their tags on a ``DatabaseContext`` cursor.

SQL lives in the named constants below, with explicit column lists and named
parameters only (``%(guid)s``). Filters are assembled from these fixed fragments;
values never enter the SQL text (generated parameter *names* such as ``%(tag0)s`` do).
A read by guid is one query, its tags folded in by ``GROUP_CONCAT`` (tags are letters,
digits, ``-`` and ``_``, so a comma separates them safely); a page costs two queries
whatever its size: the rows, then their tags.

Every listing is an index range scan in keyset order, never a filesort (checked with
``EXPLAIN`` in tests/integration/test_listing_plans.py): public rows by
``ix_images_visibility_newest``, an author's or owner's rows by ``ix_images_author_newest``,
and a public tag listing from ``ix_image_tags_tag`` (which carries copies of the image's
``is_private`` and ``created_at``), joined to ``images`` by primary key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from mysql.connector.cursor import MySQLCursorBufferedDict

from core.exceptions import RecordNotFoundError
from core.models import NewImage, StoredImage
from data.mysql.errors import translated
from data.repository import ImageRepository, PageQuery, StorageRef, Visibility

IMAGE_COLUMNS = (
    "i.id, i.guid, i.prompt, i.filename, i.content_type, i.size_bytes, i.sha256,"
    " i.author, i.is_private, i.storage_key, i.created_at, i.updated_at"
)
INSERT_IMAGE = (
    "INSERT INTO images (guid, prompt, filename, content_type, size_bytes, sha256,"
    " author, is_private, storage_key, created_at, updated_at)"
    " VALUES (%(guid)s, %(prompt)s, %(filename)s, %(content_type)s, %(size_bytes)s,"
    " %(sha256)s, %(author)s, %(is_private)s, %(storage_key)s, %(created_at)s, %(updated_at)s)"
)
INSERT_TAG = (
    "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at)"
    " VALUES (%(image_id)s, %(tag)s, %(ordinal)s, %(is_private)s, %(created_at)s)"
)
SELECT_IMAGES = "SELECT " + IMAGE_COLUMNS + " FROM images AS i WHERE "  # noqa: S608 - constants
TAGS_FOLDED = (
    "(SELECT GROUP_CONCAT(t.tag ORDER BY t.ordinal SEPARATOR ',')"
    " FROM image_tags AS t WHERE t.image_id = i.id) AS tags"
)
SELECT_IMAGE_WITH_TAGS = (
    "SELECT " + IMAGE_COLUMNS + ", " + TAGS_FOLDED + " FROM images AS i WHERE "  # noqa: S608
)
# The listing's sources: STRAIGHT_JOIN keeps the written order, so the first table's
# index yields the keyset order and every other table is one primary-key lookup per row.
FROM_IMAGES = " FROM images AS i"
FROM_AUTHOR_INDEX = " FROM images AS i FORCE INDEX (ix_images_author_newest)"
FROM_TAG_INDEX = " FROM image_tags AS t0 STRAIGHT_JOIN images AS i ON i.id = t0.image_id"
JOIN_TAG = " STRAIGHT_JOIN image_tags AS t{n} ON t{n}.image_id = i.id AND t{n}.tag = %(tag{n})s"
SELECT_STORAGE_REFS = (
    "SELECT id, guid, storage_key FROM images WHERE id > %(after_id)s ORDER BY id LIMIT %(limit)s"
)
SELECT_TAGS = "SELECT image_id, tag FROM image_tags WHERE image_id IN ({ids}) ORDER BY ordinal"
DELETE_IMAGE = "DELETE FROM images WHERE id = %(id)s"
COUNT_IMAGES = "SELECT COUNT(*) AS n FROM images"
SELECT_STORAGE_KEYS = "SELECT storage_key FROM images WHERE storage_key IN ({keys})"

WHERE_PUBLIC = "i.is_private = 0"
WHERE_PRIVATE = "i.is_private = 1 AND i.author = %(owner)s"
WHERE_GUID = "i.guid = %(guid)s"
WHERE_AUTHOR = "i.author = %(author)s"
WHERE_OLDER = (
    "(i.created_at < %(after_created_at)s"
    " OR (i.created_at = %(after_created_at)s AND i.id < %(after_id)s))"
)
NEWEST_FIRST = " ORDER BY i.created_at DESC, i.id DESC LIMIT %(limit)s"
WHERE_FIRST_TAG = "t0.tag = %(tag0)s AND t0.is_private = 0"
WHERE_OLDER_BY_TAG = (
    "(t0.created_at < %(after_created_at)s"
    " OR (t0.created_at = %(after_created_at)s AND t0.image_id < %(after_id)s))"
)
NEWEST_FIRST_BY_TAG = " ORDER BY t0.created_at DESC, t0.image_id DESC LIMIT %(limit)s"
ONE_ROW = " LIMIT 1"
FOR_UPDATE = " LIMIT 1 FOR UPDATE"

KEYS_PER_QUERY = 500


def naive_utc(value: datetime) -> datetime:
    """Aware (or UTC naive) datetime → UTC naive, as DATETIME(6) stores it."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def image_params(image: NewImage) -> dict[str, Any]:
    """NewImage → the named parameters of ``INSERT_IMAGE``."""
    created = naive_utc(image.created_at)
    return {
        "guid": image.guid,
        "prompt": image.prompt,
        "filename": image.filename,
        "content_type": image.content_type,
        "size_bytes": image.size_bytes,
        "sha256": image.sha256,
        "author": image.author,
        "is_private": int(image.private),
        "storage_key": image.storage_key,
        "created_at": created,
        "updated_at": created,
    }


def image_from_row(row: Mapping[str, Any], tags: Sequence[str]) -> StoredImage:
    """A row of ``IMAGE_COLUMNS`` plus its tags → StoredImage (datetimes become aware UTC)."""
    return StoredImage(
        id=row["id"],
        guid=row["guid"],
        prompt=row["prompt"],
        tags=list(tags),
        filename=row["filename"],
        author=row["author"],
        private=bool(row["is_private"]),
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        storage_key=row["storage_key"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _visibility(visibility: Visibility, params: dict[str, Any]) -> str:
    """The WHERE fragment for a visibility scope (adds its parameters)."""
    if not visibility.private:
        return WHERE_PUBLIC
    params["owner"] = visibility.owner
    return WHERE_PRIVATE


def list_page_sql(query: PageQuery) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one listing page (also what the EXPLAIN tests check).

    A public listing filtered by tag and no author is driven by the first tag's index
    entries; one with an owner or author by ``ix_images_author_newest`` (forced: the
    optimizer may otherwise prefer the scope index and filter the author row by row);
    the plain public listing by ``ix_images_visibility_newest``. Further tags are joins
    on ``image_tags``' primary key, so no plan needs a sort or a temporary table.
    """
    params: dict[str, Any] = {"limit": query.limit}
    tags = list(dict.fromkeys(tag.lower() for tag in query.tags))
    by_tag = bool(tags) and not query.visibility.private and query.author is None
    if by_tag:
        source, older, order = FROM_TAG_INDEX, WHERE_OLDER_BY_TAG, NEWEST_FIRST_BY_TAG
        where = [WHERE_FIRST_TAG, WHERE_PUBLIC]
        params["tag0"] = tags[0]
    else:
        by_author = query.visibility.private or query.author is not None
        source = FROM_AUTHOR_INDEX if by_author else FROM_IMAGES
        older, order = WHERE_OLDER, NEWEST_FIRST
        where = [_visibility(query.visibility, params)]
    if query.author is not None:
        where.append(WHERE_AUTHOR)
        params["author"] = query.author
    for index in range(1 if by_tag else 0, len(tags)):
        source += JOIN_TAG.format(n=index)
        params[f"tag{index}"] = tags[index]
    if query.after is not None:
        where.append(older)
        params["after_created_at"] = naive_utc(query.after[0])
        params["after_id"] = query.after[1]
    sql = "SELECT " + IMAGE_COLUMNS + source + " WHERE " + " AND ".join(where) + order
    return sql, params


def _placeholders(prefix: str, values: Iterable[Any], params: dict[str, Any]) -> str:
    """``%(prefix0)s, %(prefix1)s, …`` for ``values``, added to ``params``."""
    names = []
    for index, value in enumerate(values):
        params[f"{prefix}{index}"] = value
        names.append(f"%({prefix}{index})s")
    return ", ".join(names)


class MySQLImageRepository(ImageRepository):
    """Image rows in MySQL/MariaDB, on the cursor of one ``DatabaseContext``."""

    def __init__(self, cursor: MySQLCursorBufferedDict) -> None:
        """Bind to ``cursor`` (a dictionary cursor); the context owns the transaction."""
        self._cursor = cursor

    @translated
    def add(self, image: NewImage) -> StoredImage:
        """Insert a row and its tags; ``ConstraintViolationError`` on a duplicate guid."""
        params = image_params(image)
        self._cursor.execute(INSERT_IMAGE, params)
        image_id = int(self._cursor.lastrowid or 0)
        tags = list(dict.fromkeys(tag.lower() for tag in image.tags))  # as ImageDetail has them
        if tags:
            same = {"image_id": image_id, "is_private": params["is_private"]}
            self._cursor.executemany(
                INSERT_TAG,
                [
                    {**same, "tag": tag, "ordinal": n, "created_at": params["created_at"]}
                    for n, tag in enumerate(tags)
                ],
            )
        row = {**params, "id": image_id, "is_private": image.private}
        return image_from_row(row, tags)

    @translated
    def find_by_guid(self, guid: str, visibility: Visibility) -> StoredImage | None:
        """Return the row with ``guid`` if ``visibility`` may see it, else ``None``."""
        params: dict[str, Any] = {"guid": guid}
        where = WHERE_GUID + " AND " + _visibility(visibility, params)
        self._cursor.execute(SELECT_IMAGE_WITH_TAGS + where + ONE_ROW, params)
        rows = self._fetchall()
        if not rows:
            return None
        folded = rows[0]["tags"]
        return image_from_row(rows[0], str(folded).split(",") if folded else [])

    @translated
    def list_page(self, query: PageQuery) -> list[StoredImage]:
        """Up to ``query.limit`` rows newest first, strictly older than ``query.after``."""
        return self._fetch_images(*list_page_sql(query))

    @translated
    def delete(self, guid: str, visibility: Visibility, *, author: str) -> StoredImage:
        """Delete ``author``'s row with ``guid`` in ``visibility``; else ``RecordNotFoundError``."""
        params: dict[str, Any] = {"guid": guid, "author": author}
        where = [WHERE_GUID, _visibility(visibility, params), WHERE_AUTHOR]
        found = self._fetch_images(SELECT_IMAGES + " AND ".join(where) + FOR_UPDATE, params)
        if not found:
            raise RecordNotFoundError
        self._cursor.execute(DELETE_IMAGE, {"id": found[0].id})  # tags go by ON DELETE CASCADE
        return found[0]

    @translated
    def count(self) -> int:
        """Number of image rows, public and private."""
        self._cursor.execute(COUNT_IMAGES)
        rows = self._fetchall()
        return int(rows[0]["n"]) if rows else 0

    @translated
    def storage_keys(self, keys: Sequence[str]) -> set[str]:
        """Return which of ``keys`` some row references (queried in batches)."""
        unique = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(unique), KEYS_PER_QUERY):
            params: dict[str, Any] = {}
            marks = _placeholders("k", unique[start : start + KEYS_PER_QUERY], params)
            self._cursor.execute(SELECT_STORAGE_KEYS.format(keys=marks), params)
            found.update(str(row["storage_key"]) for row in self._fetchall())
        return found

    @translated
    def list_storage_refs(self, *, after_id: int = 0, limit: int = 500) -> list[StorageRef]:
        """Up to ``limit`` rows (public and private) with ``id > after_id``, by id."""
        self._cursor.execute(SELECT_STORAGE_REFS, {"after_id": after_id, "limit": limit})
        return [
            StorageRef(int(row["id"]), str(row["guid"]), str(row["storage_key"]))
            for row in self._fetchall()
        ]

    def _fetch_images(self, sql: str, params: dict[str, Any]) -> list[StoredImage]:
        """Run an image SELECT, then one query for all the rows' tags."""
        self._cursor.execute(sql, params)
        rows = self._fetchall()
        if not rows:
            return []
        tags: dict[int, list[str]] = {int(row["id"]): [] for row in rows}
        tag_params: dict[str, Any] = {}
        marks = _placeholders("id", tags, tag_params)
        self._cursor.execute(SELECT_TAGS.format(ids=marks), tag_params)
        for tag_row in self._fetchall():
            tags[int(tag_row["image_id"])].append(str(tag_row["tag"]))
        return [image_from_row(row, tags[int(row["id"])]) for row in rows]

    def _fetchall(self) -> list[dict[str, Any]]:
        """The rows of the last query (a dictionary cursor returns dicts)."""
        return cast("list[dict[str, Any]]", self._cursor.fetchall())
