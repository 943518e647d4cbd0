"""Generation metadata and renditions in ``ImageRepository``, on every database backend."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from core.exceptions import ConstraintViolationError
from core.models import StoredRendition, TokenUsage
from core.records import ImageFacts
from data.database import Database
from tests.integration.test_image_repository_contract import PUBLIC, add_committed, new_image

MADE_AT = datetime(2024, 5, 2, 8, 30, 0, 654321, tzinfo=UTC)


def rendition(guid: str, kind: str = "thumbnail", *, data: bytes = b"webp") -> StoredRendition:
    return StoredRendition(
        kind=kind,
        storage_key=f"images/{guid}.{kind}.webp",
        content_type="image/webp",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=256,
        height=171,
        created_at=MADE_AT,
    )


def save(database: Database, image_id: int, *renditions: StoredRendition) -> None:
    with database.context() as db:
        db.begin_transaction()
        for item in renditions:
            db.images.save_rendition(image_id, item)
        db.commit_transaction()


def test_metadata_round_trips(database: Database) -> None:
    usage = TokenUsage(input_tokens=6, output_tokens=408, total_tokens=414)
    [added] = add_committed(
        database,
        new_image(
            model="gpt-image-1",
            size="1536x1024",
            quality="low",
            revised_prompt="A detailed fox.",
            usage=usage,
            width=1536,
            height=1024,
            blurhash="L2Eyb[_3fi_3~qoMa|oMjsfQfPfj",
        ),
    )
    with database.context() as db:
        found = db.images.get_by_guid(added.guid, PUBLIC)
    assert found == added
    assert (found.model, found.size, found.quality) == ("gpt-image-1", "1536x1024", "low")
    assert found.usage == usage and found.revised_prompt == "A detailed fox."
    assert (found.width, found.height, found.blurhash) == (1536, 1024, added.blurhash)


def test_metadata_may_be_absent(database: Database) -> None:
    [added] = add_committed(database, new_image())
    with database.context() as db:
        found = db.images.get_by_guid(added.guid, PUBLIC)
    assert (found.model, found.usage, found.width, found.blurhash) == (None, None, None, None)


def test_a_rendition_is_saved_found_and_replaced(database: Database) -> None:
    [image] = add_committed(database, new_image())
    with database.context() as db:
        assert db.images.find_rendition(image.id, "thumbnail") is None
    save(database, image.id, rendition(image.guid), rendition(image.guid, "preview"))
    replacement = rendition(image.guid, data=b"webp, again")
    save(database, image.id, replacement)
    with database.context() as db:
        assert db.images.find_rendition(image.id, "thumbnail") == replacement
        assert db.images.find_rendition(image.id, "preview") == rendition(image.guid, "preview")


def test_a_rendition_of_a_missing_image_is_a_constraint_violation(database: Database) -> None:
    [image] = add_committed(database, new_image())
    with pytest.raises(ConstraintViolationError), database.context() as db:
        db.begin_transaction()
        db.images.save_rendition(image.id + 1000, rendition(image.guid))


def test_renditions_go_with_their_image_and_count_as_referenced_keys(database: Database) -> None:
    [image, other] = add_committed(database, new_image(author="ann"), new_image())
    save(database, image.id, rendition(image.guid))
    key = f"images/{image.guid}.thumbnail.webp"
    with database.context() as db:
        assert db.images.storage_keys([key, image.storage_key, "images/x.png"]) == {
            key,
            image.storage_key,
        }
    with database.context() as db:
        db.begin_transaction()
        db.images.delete(image.guid, PUBLIC, author="ann")
        db.commit_transaction()
    with database.context() as db:
        assert db.images.find_rendition(image.id, "thumbnail") is None
        assert db.images.storage_keys([key]) == set()
        assert db.images.find_rendition(other.id, "thumbnail") is None


def test_rendition_work_lists_what_each_image_has_and_facts_can_be_set(
    database: Database,
) -> None:
    first, second = add_committed(database, new_image(), new_image(width=8, height=8, blurhash="x"))
    save(database, first.id, rendition(first.guid), rendition(first.guid, "preview"))
    with database.context() as db:
        work = db.images.list_rendition_work(after_id=0, limit=10)
        assert [(w.id, w.has_facts, w.kinds) for w in work] == [
            (first.id, False, frozenset({"thumbnail", "preview"})),
            (second.id, True, frozenset()),
        ]
        assert [w.id for w in db.images.list_rendition_work(after_id=first.id)] == [second.id]
        db.begin_transaction()
        db.images.set_facts(first.id, ImageFacts(width=64, height=32, blurhash="LKO2"))
        db.commit_transaction()
    with database.context() as db:
        found = db.images.get_by_guid(first.guid, PUBLIC)
    assert (found.width, found.height, found.blurhash) == (64, 32, "LKO2")
