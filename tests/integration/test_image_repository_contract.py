"""One contract for ``ImageRepository`` and its unit of work, run on every backend.

The in-memory fake, embedded SQLite and MySQL/MariaDB must behave the same; the
``database`` fixture that runs each test on each of them is in ``conftest.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.exceptions import ConstraintViolationError, DBConnectionError, RecordNotFoundError
from core.models import NewImage, StoredImage
from core.records import PageQuery, Visibility
from data.database import Database
from tests.fakes.database import InMemoryDatabase

PUBLIC = Visibility()
BASE_TIME = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def suffix() -> str:
    """A short random suffix so test data never collides."""
    return uuid.uuid4().hex[:8]


def new_image(**overrides: Any) -> NewImage:
    """A valid ``NewImage``; any field can be overridden."""
    guid = str(uuid.uuid4())
    values: dict[str, Any] = {
        "guid": guid,
        "prompt": f"a red fox in snow {suffix()}",
        "tags": [],
        "filename": f"a-red-fox-in-snow-{guid[:8]}.png",
        "author": None,
        "private": False,
        "content_type": "image/png",
        "size_bytes": 1234,
        "sha256": uuid.uuid4().hex * 2,
        "storage_key": f"images/{guid}.png",
        "created_at": BASE_TIME,
        **overrides,
    }
    return NewImage(**values)


def private_of(owner: str) -> Visibility:
    """The private scope of ``owner``."""
    return Visibility(private=True, owner=owner)


def add_committed(database: Database, *images: NewImage) -> list[StoredImage]:
    """Add ``images`` in one committed unit of work."""
    with database.context() as db:
        db.begin_transaction()
        stored = [db.images.add(image) for image in images]
        db.commit_transaction()
    return stored


def find(database: Database, guid: str, visibility: Visibility = PUBLIC) -> StoredImage | None:
    """Look ``guid`` up in a fresh unit of work."""
    with database.context() as db:
        return db.images.find_by_guid(guid, visibility)


def page(database: Database, **query: Any) -> list[StoredImage]:
    """One listing page in a fresh unit of work."""
    with database.context() as db:
        return db.images.list_page(PageQuery(**query))


def guids(images: list[StoredImage]) -> list[str]:
    """The guids, in order."""
    return [image.guid for image in images]


def test_finds_an_image_it_added(database: Database) -> None:
    [added] = add_committed(database, new_image(tags=["fox", "snow"], author="alice"))
    found = find(database, added.guid)
    assert found == added
    assert found.created_at == BASE_TIME and found.updated_at == BASE_TIME
    assert found.created_at.tzinfo is not None


def test_find_by_guids_returns_the_rows_the_scope_may_see_with_their_tags(
    database: Database,
) -> None:
    public = add_committed(database, new_image(tags=["fox", "snow"]), new_image(tags=["owl"]))
    alices, bobs = add_committed(
        database,
        new_image(private=True, author="alice", tags=["mine"]),
        new_image(private=True, author="bob"),
    )
    unknown = str(uuid.uuid4())
    everything = [*guids(public), alices.guid, bobs.guid, unknown, public[0].guid]
    with database.context() as db:
        assert db.images.find_by_guids(everything, PUBLIC) == {i.guid: i for i in public}
        assert db.images.find_by_guids(everything, private_of("alice")) == {alices.guid: alices}
        assert db.images.find_by_guids([unknown], PUBLIC) == {}
        assert db.images.find_by_guids([], PUBLIC) == {}


def test_find_by_guids_reads_more_guids_than_one_query_holds(database: Database) -> None:
    [first, last] = add_committed(database, new_image(), new_image())
    asked = [first.guid, *(str(uuid.uuid4()) for _ in range(600)), last.guid]
    with database.context() as db:
        assert db.images.find_by_guids(asked, PUBLIC) == {first.guid: first, last.guid: last}


def test_get_by_guid_raises_record_not_found_for_an_unknown_guid(database: Database) -> None:
    with database.context() as db, pytest.raises(RecordNotFoundError):
        db.images.get_by_guid(str(uuid.uuid4()), PUBLIC)


def test_rejects_a_duplicate_guid_as_a_constraint_violation(database: Database) -> None:
    [first] = add_committed(database, new_image())
    with database.context() as db:
        db.begin_transaction()
        with pytest.raises(ConstraintViolationError):
            db.images.add(new_image(guid=first.guid))
    assert page(database) == [first]


def test_rolls_back_uncommitted_work_by_default(database: Database) -> None:
    with database.context() as db:
        db.begin_transaction()
        image = db.images.add(new_image())
        assert db.images.find_by_guid(image.guid, PUBLIC) is not None
    assert find(database, image.guid) is None
    with database.context() as db:
        assert db.images.count() == 0


def test_rolls_back_writes_made_without_an_explicit_begin(database: Database) -> None:
    with database.context() as db:
        image = db.images.add(new_image())
    assert find(database, image.guid) is None


def test_explicit_rollback_discards_the_work_and_the_context_stays_usable(
    database: Database,
) -> None:
    with database.context() as db:
        db.begin_transaction()
        discarded = db.images.add(new_image())
        db.rollback_transaction()
        db.begin_transaction()
        kept = db.images.add(new_image())
        db.commit_transaction()
    assert find(database, discarded.guid) is None
    assert find(database, kept.guid) == kept


def test_public_scope_never_sees_private_rows(database: Database) -> None:
    [secret] = add_committed(database, new_image(private=True, author="alice"))
    assert find(database, secret.guid) is None
    assert page(database) == []
    assert page(database, author="alice") == []


def test_private_scope_sees_only_the_owners_private_rows(database: Database) -> None:
    public, mine, theirs = add_committed(
        database,
        new_image(author="alice"),
        new_image(private=True, author="alice"),
        new_image(private=True, author="bob"),
    )
    assert find(database, mine.guid, private_of("alice")) == mine
    assert find(database, theirs.guid, private_of("alice")) is None
    assert find(database, public.guid, private_of("alice")) is None
    assert page(database, visibility=private_of("alice")) == [mine]
    assert page(database, visibility=Visibility(private=True, owner=None)) == []


def test_lists_newest_first(database: Database) -> None:
    images = [new_image(created_at=BASE_TIME + timedelta(seconds=n)) for n in (2, 0, 3, 1)]
    add_committed(database, *images)
    listed = page(database)
    assert [image.created_at for image in listed] == sorted(
        (image.created_at for image in images), reverse=True
    )


def test_keyset_paging_visits_every_row_exactly_once_including_ties(database: Database) -> None:
    offsets = [0, 1, 1, 1, 2, 2, 3, 4, 4]  # equal created_at values, broken by id
    stored = add_committed(
        database, *(new_image(created_at=BASE_TIME + timedelta(seconds=s)) for s in offsets)
    )
    seen: list[StoredImage] = []
    after = None
    while True:
        rows = page(database, limit=2, after=after)
        if not rows:
            break
        seen += rows
        after = (rows[-1].created_at, rows[-1].id)
    expected = sorted(stored, key=lambda image: (image.created_at, image.id), reverse=True)
    assert guids(seen) == guids(expected)


def test_tag_filter_lists_images_having_all_given_tags(database: Database) -> None:
    both, fox_only, _ = add_committed(
        database,
        new_image(tags=["fox", "snow"], created_at=BASE_TIME),
        new_image(tags=["fox"], created_at=BASE_TIME + timedelta(seconds=1)),
        new_image(tags=["snow", "owl"]),
    )
    assert guids(page(database, tags=["fox", "snow"])) == [both.guid]
    assert guids(page(database, tags=["fox"])) == [fox_only.guid, both.guid]
    assert page(database, tags=["fox", "owl"]) == []


def test_author_filter_lists_only_that_authors_images(database: Database) -> None:
    alice, _, _ = add_committed(
        database, new_image(author="alice"), new_image(author="bob"), new_image()
    )
    assert page(database, author="alice") == [alice]
    assert page(database, author="Alice") == []


def test_delete_removes_the_authors_row_and_returns_it(database: Database) -> None:
    [image] = add_committed(database, new_image(author="alice", tags=["fox"]))
    with database.context() as db:
        db.begin_transaction()
        deleted = db.images.delete(image.guid, PUBLIC, author="alice")
        db.commit_transaction()
    assert deleted == image
    assert find(database, image.guid) is None
    assert page(database, tags=["fox"]) == []


def test_delete_by_another_author_raises_not_found_and_keeps_the_row(database: Database) -> None:
    public, private, anonymous = add_committed(
        database,
        new_image(author="alice"),
        new_image(author="alice", private=True),
        new_image(),
    )
    with database.context() as db:
        db.begin_transaction()
        with pytest.raises(RecordNotFoundError):
            db.images.delete(public.guid, PUBLIC, author="bob")
        with pytest.raises(RecordNotFoundError):
            db.images.delete(private.guid, private_of("bob"), author="bob")
        with pytest.raises(RecordNotFoundError):
            db.images.delete(private.guid, PUBLIC, author="alice")
        with pytest.raises(RecordNotFoundError):
            db.images.delete(anonymous.guid, PUBLIC, author="alice")
        db.commit_transaction()
    assert find(database, public.guid) == public
    assert find(database, private.guid, private_of("alice")) == private


def test_tags_round_trip_lower_case_in_the_given_order(database: Database) -> None:
    [image] = add_committed(database, new_image(tags=["Snow", "fox", "SNOW", "a-b_c"]))
    assert image.tags == ["snow", "fox", "a-b_c"]
    found = find(database, image.guid)
    assert found is not None and found.tags == ["snow", "fox", "a-b_c"]
    assert guids(page(database, tags=["snow", "a-b_c"])) == [image.guid]


def test_storage_keys_returns_only_the_referenced_keys(database: Database) -> None:
    first, second = add_committed(database, new_image(), new_image(private=True, author="a"))
    missing = f"images/{suffix()}.png"
    with database.context() as db:
        assert db.images.storage_keys([first.storage_key, second.storage_key, missing]) == {
            first.storage_key,
            second.storage_key,
        }
        assert db.images.storage_keys([]) == set()


def test_count_includes_public_and_private_rows(database: Database) -> None:
    add_committed(database, new_image(), new_image(private=True, author="alice"))
    with database.context() as db:
        assert db.images.count() == 2


def test_in_memory_fake_fails_the_next_commit_when_asked() -> None:
    database = InMemoryDatabase()
    database.fail_next_commit = True
    with database.context() as db:
        db.begin_transaction()
        image = db.images.add(new_image())
        with pytest.raises(DBConnectionError):
            db.commit_transaction()
    assert find(database, image.guid) is None
    assert add_committed(database, new_image())  # only the next commit fails
    assert database.open_contexts == 0


def test_in_memory_fake_fails_the_next_add_when_asked() -> None:
    database = InMemoryDatabase()
    database.fail_next_add = ConstraintViolationError()
    with database.context() as db, pytest.raises(ConstraintViolationError):
        db.images.add(new_image())
    database.available = False
    with pytest.raises(DBConnectionError):
        database.ping()
