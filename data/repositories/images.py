"""``SQLImageRepository``: images and tags (data/README.md, "Images: queries and listing plans")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.exceptions import RecordNotFoundError
from core.models import NewImage, StoredImage, StoredRendition, TokenUsage
from core.records import ImageFacts, PageQuery, RenditionWork, StorageRef, Visibility
from data.dialect import Dialect, Row, Session, placeholders
from data.image_repository import ImageRepository

# Columns that hold a field of NewImage/StoredImage as it is; the rest are converted.
PLAIN_FIELDS = (
    "guid", "prompt", "filename", "content_type", "size_bytes", "sha256", "author", "storage_key",
    "model", "size", "quality", "revised_prompt", "width", "height", "blurhash",
)  # fmt: skip
# ``usage``: three columns, all set, or all NULL when the generator reported none.
USAGE_FIELDS = ("input_tokens", "output_tokens", "total_tokens")
STORED_FIELDS = (*PLAIN_FIELDS, *USAGE_FIELDS, "is_private", "created_at", "updated_at")
IMAGE_COLUMNS = ", ".join(f"i.{column}" for column in ("id", *STORED_FIELDS))
INSERT_IMAGE = (
    f"INSERT INTO images ({', '.join(STORED_FIELDS)})"  # noqa: S608 - constants
    f" VALUES ({', '.join(':' + column for column in STORED_FIELDS)})"
)
INSERT_TAG = (
    "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at)"
    " VALUES (:image_id, :tag, :ordinal, :is_private, :created_at)"
)
SELECT_IMAGES = "SELECT " + IMAGE_COLUMNS + " FROM images AS i WHERE "  # noqa: S608 - constants
FROM_IMAGES = " FROM images AS i"
FROM_TAG_INDEX = " FROM image_tags AS t0 {join} images AS i ON i.id = t0.image_id"
JOIN_TAG = " {join} image_tags AS t{n} ON t{n}.image_id = i.id AND t{n}.tag = :tag{n}"
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
RENDITION_FIELDS = (
    "kind", "storage_key", "content_type", "size_bytes", "sha256", "width", "height", "created_at"
)  # fmt: skip
SELECT_RENDITION = (
    f"SELECT {', '.join(RENDITION_FIELDS)} FROM image_renditions"  # noqa: S608 - constants
    " WHERE image_id = :image_id AND kind = :kind"
)
SAVE_RENDITION = (
    f"INSERT INTO image_renditions (image_id, {', '.join(RENDITION_FIELDS)})"  # noqa: S608
    f" VALUES (:image_id, {', '.join(':' + field for field in RENDITION_FIELDS)}) {{upsert}} "
)
UPDATE_FACTS = (
    "UPDATE images SET width = :width, height = :height, blurhash = :blurhash WHERE id = :id"
)
SELECT_RENDITION_WORK = (
    "SELECT i.id, i.guid, i.storage_key, i.width IS NOT NULL AS has_facts,"
    " (SELECT GROUP_CONCAT(r.kind) FROM image_renditions AS r WHERE r.image_id = i.id) AS kinds"
    " FROM images AS i WHERE i.id > :after_id ORDER BY i.id LIMIT :limit"
)

WHERE_PUBLIC = "i.is_private = 0"
WHERE_PRIVATE = "i.is_private = 1 AND i.author = :owner"
WHERE_GUID = "i.guid = :guid"
WHERE_AUTHOR = "i.author = :author"
WHERE_OLDER = (
    "(i.created_at < :after_created_at OR (i.created_at = :after_created_at AND i.id < :after_id))"
)
NEWEST_FIRST = " ORDER BY i.created_at DESC, i.id DESC LIMIT :limit"
WHERE_FIRST_TAG = "t0.tag = :tag0 AND t0.is_private = 0"
WHERE_OLDER_BY_TAG = (
    "(t0.created_at < :after_created_at"
    " OR (t0.created_at = :after_created_at AND t0.image_id < :after_id))"
)
NEWEST_FIRST_BY_TAG = " ORDER BY t0.created_at DESC, t0.image_id DESC LIMIT :limit"
ONE_ROW = " LIMIT 1"
SELECT_FOLDED = (
    "SELECT " + IMAGE_COLUMNS + ", {tags} AS tags FROM images AS i WHERE "  # noqa: S608
)  # rows with their tags folded in: a read by guid is one query
WHERE_GUID_IN = "i.guid IN ({guids})"

KEYS_PER_QUERY = 500  # below SQLite's default limit of bound parameters


def normal_tags(tags: Sequence[str]) -> list[str]:
    """Tags as ``ImageDetail`` keeps them: lower-cased, first occurrence only."""
    return list(dict.fromkeys(tag.lower() for tag in tags))


def folded(value: object) -> list[str]:
    """The items of a ``GROUP_CONCAT`` (comma-separated; ``NULL`` for none)."""
    return str(value).split(",") if value else []


def image_params(dialect: Dialect, image: NewImage) -> dict[str, Any]:
    """NewImage → the named parameters of ``INSERT_IMAGE``."""
    created = dialect.to_db_time(image.created_at)
    params = {field: getattr(image, field) for field in PLAIN_FIELDS}
    params |= image.usage.model_dump() if image.usage else dict.fromkeys(USAGE_FIELDS)
    return params | {"is_private": int(image.private), "created_at": created, "updated_at": created}


def image_from_row(dialect: Dialect, row: Row, tags: Sequence[str]) -> StoredImage:
    """A row of ``IMAGE_COLUMNS`` plus its tags → StoredImage (datetimes aware UTC)."""
    return StoredImage(
        id=row["id"],
        tags=list(tags),
        private=bool(row["is_private"]),
        created_at=dialect.from_db_time(row["created_at"]),
        updated_at=dialect.from_db_time(row["updated_at"]),
        usage=TokenUsage(**{field: int(row[field]) for field in USAGE_FIELDS})
        if row["total_tokens"] is not None
        else None,
        **{field: row[field] for field in PLAIN_FIELDS},
    )


def _visibility(visibility: Visibility, params: dict[str, Any]) -> str:
    """The WHERE fragment for a visibility scope (adds its parameters)."""
    if not visibility.private:
        return WHERE_PUBLIC
    params["owner"] = visibility.owner
    return WHERE_PRIVATE


def list_page_sql(dialect: Dialect, query: PageQuery) -> tuple[str, dict[str, Any]]:
    """The SQL (``:name`` placeholders) and parameters of one listing page."""
    params: dict[str, Any] = {"limit": query.limit}
    tags = normal_tags(query.tags)
    public_only = not query.visibility.private and query.author is None
    by_tag = bool(tags) and public_only and not query.words
    if query.words:  # the full-text index yields the matches, then filtered and sorted
        source, older, order = dialect.search_from, WHERE_OLDER, NEWEST_FIRST
        where = [dialect.search_where, _visibility(query.visibility, params)]
        params["match"] = dialect.search_terms(query.words)
    elif by_tag:
        source = FROM_TAG_INDEX.format(join=dialect.join)
        older, order = WHERE_OLDER_BY_TAG, NEWEST_FIRST_BY_TAG
        where = [WHERE_FIRST_TAG, WHERE_PUBLIC]
        params["tag0"] = tags[0]
    else:
        by_author = query.visibility.private or query.author is not None
        source = FROM_IMAGES + (dialect.author_index if by_author else "")
        older, order = WHERE_OLDER, NEWEST_FIRST
        where = [_visibility(query.visibility, params)]
    if query.author is not None:
        where.append(WHERE_AUTHOR)
        params["author"] = query.author
    for index in range(1 if by_tag else 0, len(tags)):
        source += JOIN_TAG.format(join=dialect.join, n=index)
        params[f"tag{index}"] = tags[index]
    if query.after is not None:
        where.append(older)
        params["after_created_at"] = dialect.to_db_time(query.after[0])
        params["after_id"] = query.after[1]
    sql = "SELECT " + IMAGE_COLUMNS + source + " WHERE " + " AND ".join(where) + order
    return sql, params


class SQLImageRepository(ImageRepository):
    """Image rows on the session of one unit of work (MySQL/MariaDB or SQLite)."""

    def __init__(self, session: Session) -> None:
        """Bind to ``session``; the unit of work owns the transaction."""
        self._db = session
        self._dialect = session.dialect
        self._select_folded = SELECT_FOLDED.format(tags=self._dialect.tags_folded)
        self._save_rendition = SAVE_RENDITION.format(
            upsert=self._dialect.upsert_all("image_id, kind", RENDITION_FIELDS[1:])
        )

    def add(self, image: NewImage) -> StoredImage:
        """Insert a row and its tags; ``ConstraintViolationError`` on a duplicate guid."""
        params = image_params(self._dialect, image)
        image_id = self._db.insert(INSERT_IMAGE, params)
        tags = normal_tags(image.tags)
        if tags:
            same = {"image_id": image_id, "is_private": params["is_private"]}
            self._db.run_many(
                INSERT_TAG,
                [
                    {**same, "tag": tag, "ordinal": n, "created_at": params["created_at"]}
                    for n, tag in enumerate(tags)
                ],
            )
        return image_from_row(self._dialect, {**params, "id": image_id}, tags)

    def find_by_guid(self, guid: str, visibility: Visibility) -> StoredImage | None:
        """Return the row with ``guid`` if ``visibility`` may see it, else ``None``."""
        params: dict[str, Any] = {"guid": guid}
        where = WHERE_GUID + " AND " + _visibility(visibility, params)
        rows = self._db.rows(self._select_folded + where + ONE_ROW, params)
        if not rows:
            return None
        return image_from_row(self._dialect, rows[0], folded(rows[0]["tags"]))

    def find_by_guids(self, guids: Sequence[str], visibility: Visibility) -> dict[str, StoredImage]:
        """The rows among ``guids`` that ``visibility`` may see, by guid (one query per
        ``KEYS_PER_QUERY`` distinct guids)."""
        unique = list(dict.fromkeys(guids))
        found: dict[str, StoredImage] = {}
        for start in range(0, len(unique), KEYS_PER_QUERY):
            params: dict[str, Any] = {}
            marks = placeholders("guid", unique[start : start + KEYS_PER_QUERY], params)
            where = WHERE_GUID_IN.format(guids=marks) + " AND " + _visibility(visibility, params)
            for row in self._db.rows(self._select_folded + where, params):
                found[str(row["guid"])] = image_from_row(self._dialect, row, folded(row["tags"]))
        return found

    def list_page(self, query: PageQuery) -> list[StoredImage]:
        """Up to ``query.limit`` rows newest first, strictly older than ``query.after``."""
        return self._fetch_images(*list_page_sql(self._dialect, query))

    def delete(self, guid: str, visibility: Visibility, *, author: str) -> StoredImage:
        """Delete ``author``'s row with ``guid`` in ``visibility``; else ``RecordNotFoundError``."""
        params: dict[str, Any] = {"guid": guid, "author": author}
        where = " AND ".join([WHERE_GUID, _visibility(visibility, params), WHERE_AUTHOR])
        sql = SELECT_IMAGES + where + ONE_ROW + self._dialect.for_update
        found = self._fetch_images(sql, params)
        if not found:
            raise RecordNotFoundError
        self._db.run(DELETE_IMAGE, {"id": found[0].id})  # tags go by ON DELETE CASCADE
        return found[0]

    def count(self) -> int:
        """Number of image rows, public and private."""
        return int(self._db.rows(COUNT_IMAGES)[0]["n"])  # COUNT(*) always yields one row

    def storage_keys(self, keys: Sequence[str]) -> set[str]:
        """Return which of ``keys`` some row references (queried in batches)."""
        unique = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(unique), KEYS_PER_QUERY):
            params: dict[str, Any] = {}
            marks = placeholders("k", unique[start : start + KEYS_PER_QUERY], params)
            rows = self._db.rows(SELECT_STORAGE_KEYS.format(keys=marks), params)
            found.update(str(row["storage_key"]) for row in rows)
        return found

    def list_storage_refs(self, *, after_id: int = 0, limit: int = 500) -> list[StorageRef]:
        """Up to ``limit`` rows (public and private) with ``id > after_id``, by id."""
        rows = self._db.rows(SELECT_STORAGE_REFS, {"after_id": after_id, "limit": limit})
        return [StorageRef(int(r["id"]), str(r["guid"]), str(r["storage_key"])) for r in rows]

    def find_rendition(self, image_id: int, kind: str) -> StoredRendition | None:
        """The row of rendition ``kind`` of image ``image_id``, or ``None``."""
        rows = self._db.rows(SELECT_RENDITION, {"image_id": image_id, "kind": kind})
        if not rows:
            return None
        created = self._dialect.from_db_time(rows[0]["created_at"])
        return StoredRendition.model_validate({**rows[0], "created_at": created})

    def save_rendition(self, image_id: int, rendition: StoredRendition) -> None:
        """Insert or replace a rendition; ``ConstraintViolationError`` if the image is gone."""
        params = {**rendition.model_dump(), "image_id": image_id}
        params["created_at"] = self._dialect.to_db_time(rendition.created_at)
        self._db.run(self._save_rendition, params)

    def set_facts(self, image_id: int, facts: ImageFacts) -> None:
        """Record width, height and BlurHash of an older image."""
        self._db.run(UPDATE_FACTS, {**vars(facts), "id": image_id})

    def list_rendition_work(self, *, after_id: int = 0, limit: int = 100) -> list[RenditionWork]:
        """Up to ``limit`` rows with ``id > after_id``, with their facts and renditions."""
        work: list[RenditionWork] = []
        for r in self._db.rows(SELECT_RENDITION_WORK, {"after_id": after_id, "limit": limit}):
            ref = int(r["id"]), str(r["guid"]), str(r["storage_key"])
            work.append(RenditionWork(*ref, bool(r["has_facts"]), frozenset(folded(r["kinds"]))))
        return work

    def _fetch_images(self, sql: str, params: dict[str, Any]) -> list[StoredImage]:
        """Run an image SELECT, then one query for all the rows' tags."""
        rows = self._db.rows(sql, params)
        if not rows:
            return []
        tags: dict[int, list[str]] = {int(row["id"]): [] for row in rows}
        tag_params: dict[str, Any] = {}
        marks = placeholders("id", list(tags), tag_params)
        for tag_row in self._db.rows(SELECT_TAGS.format(ids=marks), tag_params):
            tags[int(tag_row["image_id"])].append(str(tag_row["tag"]))
        return [image_from_row(self._dialect, row, tags[int(row["id"])]) for row in rows]
