"""``SQLiteImageRepository``: the embedded twin of ``MySQLImageRepository``.

Same queries in SQLite's dialect (named parameters ``:guid``), same behaviour, checked
by the same contract tests. Datetimes are stored as fixed-width UTC text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from core.exceptions import RecordNotFoundError
from core.models import NewImage, StoredImage, StoredRendition
from data.repository import (
    ImageFactsUpdate,
    ImageRepository,
    PageQuery,
    RenditionWork,
    StorageRef,
    Visibility,
)
from data.row_mapping import metadata_from_row, metadata_params
from data.sqlite.errors import translated

IMAGE_COLUMNS = (
    "i.id, i.guid, i.prompt, i.filename, i.content_type, i.size_bytes, i.sha256,"
    " i.author, i.is_private, i.storage_key, i.created_at, i.updated_at,"
    " i.model, i.size, i.quality, i.revised_prompt, i.input_tokens, i.output_tokens,"
    " i.total_tokens, i.width, i.height, i.blurhash"
)
INSERT_IMAGE = (
    "INSERT INTO images (guid, prompt, filename, content_type, size_bytes, sha256,"
    " author, is_private, storage_key, created_at, updated_at, model, size, quality,"
    " revised_prompt, input_tokens, output_tokens, total_tokens, width, height, blurhash)"
    " VALUES (:guid, :prompt, :filename, :content_type, :size_bytes, :sha256,"
    " :author, :is_private, :storage_key, :created_at, :updated_at, :model, :size, :quality,"
    " :revised_prompt, :input_tokens, :output_tokens, :total_tokens, :width, :height, :blurhash)"
)
INSERT_TAG = (
    "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at)"
    " VALUES (:image_id, :tag, :ordinal, :is_private, :created_at)"
)
SELECT_IMAGES = "SELECT " + IMAGE_COLUMNS + " FROM images AS i WHERE "  # noqa: S608 - constants
# CROSS JOIN makes SQLite keep image_tags as the outer loop (the keyset order's index).
SELECT_IMAGES_BY_TAG = (
    "SELECT " + IMAGE_COLUMNS + " FROM image_tags AS t0"  # noqa: S608 - constants
    " CROSS JOIN images AS i WHERE i.id = t0.image_id AND "
)
SELECT_STORAGE_REFS = (
    "SELECT id, guid, storage_key FROM images WHERE id > :after_id ORDER BY id LIMIT :limit"
)
SELECT_TAGS = "SELECT image_id, tag FROM image_tags WHERE image_id IN ({ids}) ORDER BY ordinal"
DELETE_IMAGE = "DELETE FROM images WHERE id = :id"
COUNT_IMAGES = "SELECT COUNT(*) AS n FROM images"
SELECT_STORAGE_KEYS = (
    "SELECT storage_key FROM images WHERE storage_key IN ({keys})"
    " UNION ALL SELECT storage_key FROM image_renditions WHERE storage_key IN ({keys})"
)
RENDITION_COLUMNS = "kind, storage_key, content_type, size_bytes, sha256, width, height, created_at"
SELECT_RENDITION = (
    "SELECT " + RENDITION_COLUMNS + " FROM image_renditions"  # noqa: S608 - constants
    " WHERE image_id = :image_id AND kind = :kind"
)
SAVE_RENDITION = (
    "INSERT INTO image_renditions (image_id, kind, storage_key, content_type, size_bytes,"
    " sha256, width, height, created_at)"
    " VALUES (:image_id, :kind, :storage_key, :content_type, :size_bytes, :sha256,"
    " :width, :height, :created_at)"
    " ON CONFLICT (image_id, kind) DO UPDATE SET storage_key = excluded.storage_key,"
    " content_type = excluded.content_type, size_bytes = excluded.size_bytes,"
    " sha256 = excluded.sha256, width = excluded.width, height = excluded.height,"
    " created_at = excluded.created_at"
)
UPDATE_FACTS = (
    "UPDATE images SET width = :width, height = :height, blurhash = :blurhash WHERE id = :id"
)
SELECT_RENDITION_WORK = (
    "SELECT i.id, i.guid, i.storage_key, i.width IS NOT NULL AS has_facts,"
    " (SELECT group_concat(r.kind) FROM image_renditions AS r WHERE r.image_id = i.id) AS kinds"
    " FROM images AS i WHERE i.id > :after_id ORDER BY i.id LIMIT :limit"
)

WHERE_PUBLIC = "i.is_private = 0"
WHERE_PRIVATE = "i.is_private = 1 AND i.author = :owner"
WHERE_GUID = "i.guid = :guid"
WHERE_AUTHOR = "i.author = :author"
WHERE_OLDER = (
    "(i.created_at < :after_created_at OR (i.created_at = :after_created_at AND i.id < :after_id))"
)
WHERE_TAG = "EXISTS (SELECT 1 FROM image_tags AS t WHERE t.image_id = i.id AND t.tag = :{})"
NEWEST_FIRST = " ORDER BY i.created_at DESC, i.id DESC LIMIT :limit"
# Search: the FTS5 table images_fts yields the matches (CROSS JOIN keeps it the outer
# loop), each joined to its row by id, then filtered and sorted.
SELECT_IMAGES_BY_SEARCH = (
    "SELECT " + IMAGE_COLUMNS + " FROM images_fts AS f"  # noqa: S608 - constants
    " CROSS JOIN images AS i WHERE images_fts MATCH :match AND i.id = f.rowid AND "
)
WHERE_FIRST_TAG = "t0.tag = :tag0 AND t0.is_private = 0"
WHERE_OLDER_BY_TAG = (
    "(t0.created_at < :after_created_at"
    " OR (t0.created_at = :after_created_at AND t0.image_id < :after_id))"
)
NEWEST_FIRST_BY_TAG = " ORDER BY t0.created_at DESC, t0.image_id DESC LIMIT :limit"
ONE_ROW = " LIMIT 1"

KEYS_PER_QUERY = 500  # below SQLite's default limit of bound parameters
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def time_text(value: datetime) -> str:
    """Datetime → fixed-width UTC text (naive values are taken as UTC)."""
    utc = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return utc.strftime(TIME_FORMAT)


def image_params(image: NewImage) -> dict[str, Any]:
    """NewImage → the named parameters of ``INSERT_IMAGE``."""
    created = time_text(image.created_at)
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
        **metadata_params(image),
    }


def image_from_row(row: Mapping[str, Any], tags: Sequence[str]) -> StoredImage:
    """A row of ``IMAGE_COLUMNS`` plus its tags → StoredImage (aware UTC datetimes)."""
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
        created_at=datetime.strptime(row["created_at"], TIME_FORMAT).replace(tzinfo=UTC),
        updated_at=datetime.strptime(row["updated_at"], TIME_FORMAT).replace(tzinfo=UTC),
        **metadata_from_row(row),
    )


def _visibility(visibility: Visibility, params: dict[str, Any]) -> str:
    """The WHERE fragment for a visibility scope (adds its parameters)."""
    if not visibility.private:
        return WHERE_PUBLIC
    params["owner"] = visibility.owner
    return WHERE_PRIVATE


def list_page_sql(query: PageQuery) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one listing page (as ``MySQLImageRepository`` builds it)."""
    params: dict[str, Any] = {"limit": query.limit}
    tags = list(dict.fromkeys(tag.lower() for tag in query.tags))
    by_tag = (
        bool(tags) and not query.visibility.private and query.author is None and not query.words
    )
    if query.words:
        select, older, order = SELECT_IMAGES_BY_SEARCH, WHERE_OLDER, NEWEST_FIRST
        where = [_visibility(query.visibility, params)]
        params["match"] = fts_query(query.words)
    elif by_tag:
        select, older, order = SELECT_IMAGES_BY_TAG, WHERE_OLDER_BY_TAG, NEWEST_FIRST_BY_TAG
        where = [WHERE_FIRST_TAG, WHERE_PUBLIC]
        params["tag0"] = tags[0]
    else:
        select, older, order = SELECT_IMAGES, WHERE_OLDER, NEWEST_FIRST
        where = [_visibility(query.visibility, params)]
    if query.author is not None:
        where.append(WHERE_AUTHOR)
        params["author"] = query.author
    for index in range(1 if by_tag else 0, len(tags)):
        where.append(WHERE_TAG.format(f"tag{index}"))
        params[f"tag{index}"] = tags[index]
    if query.after is not None:
        where.append(older)
        params["after_created_at"] = time_text(query.after[0])
        params["after_id"] = query.after[1]
    return select + " AND ".join(where) + order, params


def fts_query(words: Sequence[str]) -> str:
    """``"fox"* "red"*``: every word required, each as a prefix (FTS5 query syntax)."""
    return " ".join(f'"{word}"*' for word in words)


def _placeholders(prefix: str, values: Iterable[Any], params: dict[str, Any]) -> str:
    """``:prefix0, :prefix1, …`` for ``values``, added to ``params``."""
    names = []
    for index, value in enumerate(values):
        params[f"{prefix}{index}"] = value
        names.append(f":{prefix}{index}")
    return ", ".join(names)


class SQLiteImageRepository(ImageRepository):
    """Image rows in the embedded SQLite file, on the connection of one ``SQLiteContext``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Bind to ``connection`` (rows as ``sqlite3.Row``); the context owns the transaction."""
        self._connection = connection

    @translated
    def add(self, image: NewImage) -> StoredImage:
        """Insert a row and its tags; ``ConstraintViolationError`` on a duplicate guid."""
        params = image_params(image)
        cursor = self._connection.execute(INSERT_IMAGE, params)
        image_id = int(cursor.lastrowid or 0)
        tags = list(dict.fromkeys(tag.lower() for tag in image.tags))  # as ImageDetail has them
        if tags:
            same = {"image_id": image_id, "is_private": params["is_private"]}
            self._connection.executemany(
                INSERT_TAG,
                [
                    {**same, "tag": tag, "ordinal": n, "created_at": params["created_at"]}
                    for n, tag in enumerate(tags)
                ],
            )
        return image_from_row({**params, "id": image_id}, tags)

    @translated
    def find_by_guid(self, guid: str, visibility: Visibility) -> StoredImage | None:
        """Return the row with ``guid`` if ``visibility`` may see it, else ``None``."""
        params: dict[str, Any] = {"guid": guid}
        sql = SELECT_IMAGES + WHERE_GUID + " AND " + _visibility(visibility, params) + ONE_ROW
        found = self._fetch_images(sql, params)
        return found[0] if found else None

    @translated
    def list_page(self, query: PageQuery) -> list[StoredImage]:
        """Up to ``query.limit`` rows newest first, strictly older than ``query.after``."""
        return self._fetch_images(*list_page_sql(query))

    @translated
    def delete(self, guid: str, visibility: Visibility, *, author: str) -> StoredImage:
        """Delete ``author``'s row with ``guid`` in ``visibility``; else ``RecordNotFoundError``."""
        params: dict[str, Any] = {"guid": guid, "author": author}
        where = [WHERE_GUID, _visibility(visibility, params), WHERE_AUTHOR]
        found = self._fetch_images(SELECT_IMAGES + " AND ".join(where) + ONE_ROW, params)
        if not found:
            raise RecordNotFoundError
        self._connection.execute(DELETE_IMAGE, {"id": found[0].id})  # tags: ON DELETE CASCADE
        return found[0]

    @translated
    def count(self) -> int:
        """Number of image rows, public and private."""
        row = self._connection.execute(COUNT_IMAGES).fetchone()
        return int(row["n"]) if row else 0

    @translated
    def storage_keys(self, keys: Sequence[str]) -> set[str]:
        """Return which of ``keys`` some row references (queried in batches)."""
        unique = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(unique), KEYS_PER_QUERY):
            params: dict[str, Any] = {}
            marks = _placeholders("k", unique[start : start + KEYS_PER_QUERY], params)
            rows = self._connection.execute(SELECT_STORAGE_KEYS.format(keys=marks), params)
            found.update(str(row["storage_key"]) for row in rows)
        return found

    @translated
    def list_storage_refs(self, *, after_id: int = 0, limit: int = 500) -> list[StorageRef]:
        """Up to ``limit`` rows (public and private) with ``id > after_id``, by id."""
        rows = self._connection.execute(SELECT_STORAGE_REFS, {"after_id": after_id, "limit": limit})
        return [
            StorageRef(int(row["id"]), str(row["guid"]), str(row["storage_key"])) for row in rows
        ]

    @translated
    def find_rendition(self, image_id: int, kind: str) -> StoredRendition | None:
        """The row of rendition ``kind`` of image ``image_id``, or ``None``."""
        row = self._connection.execute(
            SELECT_RENDITION, {"image_id": image_id, "kind": kind}
        ).fetchone()
        if row is None:
            return None
        values = dict(row)
        values["created_at"] = datetime.strptime(row["created_at"], TIME_FORMAT).replace(tzinfo=UTC)
        return StoredRendition.model_validate(values)

    @translated
    def save_rendition(self, image_id: int, rendition: StoredRendition) -> None:
        """Insert or replace a rendition; ``ConstraintViolationError`` if the image is gone."""
        params = {**rendition.model_dump(), "image_id": image_id}
        params["created_at"] = time_text(rendition.created_at)
        self._connection.execute(SAVE_RENDITION, params)

    @translated
    def set_facts(self, image_id: int, facts: ImageFactsUpdate) -> None:
        """Record width, height and BlurHash of an older image."""
        self._connection.execute(UPDATE_FACTS, {**vars(facts), "id": image_id})

    @translated
    def list_rendition_work(self, *, after_id: int = 0, limit: int = 100) -> list[RenditionWork]:
        """Up to ``limit`` rows with ``id > after_id``, with their facts and renditions."""
        rows = self._connection.execute(
            SELECT_RENDITION_WORK, {"after_id": after_id, "limit": limit}
        )
        return [
            RenditionWork(
                id=int(row["id"]),
                guid=str(row["guid"]),
                storage_key=str(row["storage_key"]),
                has_facts=bool(row["has_facts"]),
                kinds=frozenset(str(row["kinds"]).split(",") if row["kinds"] else ()),
            )
            for row in rows
        ]

    def _fetch_images(self, sql: str, params: dict[str, Any]) -> list[StoredImage]:
        """Run an image SELECT, then one query for all the rows' tags."""
        rows = self._connection.execute(sql, params).fetchall()
        if not rows:
            return []
        tags: dict[int, list[str]] = {int(row["id"]): [] for row in rows}
        tag_params: dict[str, Any] = {}
        marks = _placeholders("id", tags, tag_params)
        for tag_row in self._connection.execute(SELECT_TAGS.format(ids=marks), tag_params):
            tags[int(tag_row["image_id"])].append(str(tag_row["tag"]))
        return [image_from_row(row, tags[int(row["id"])]) for row in rows]
