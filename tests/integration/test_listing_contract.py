"""The listing paths beyond the plain one, on every database backend.

A public tag listing is driven by the tag index (with copies of ``is_private`` and
``created_at`` in ``image_tags``), other filtered listings by the images indexes; all of
them must page the same way: newest first, every matching row exactly once, ties on
``created_at`` broken by id, and nothing outside the caller's scope.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.models import StoredImage
from data.database import Database
from tests.integration.test_image_repository_contract import (
    BASE_TIME,
    add_committed,
    guids,
    new_image,
    page,
    private_of,
)


def walk(database: Database, limit: int = 2, **query: Any) -> list[StoredImage]:
    """Every row of a listing, page by page through the keyset cursor."""
    seen: list[StoredImage] = []
    after = None
    while True:
        rows = page(database, limit=limit, after=after, **query)
        seen += rows
        if len(rows) < limit:
            return seen
        after = (rows[-1].created_at, rows[-1].id)


def newest_first(images: list[StoredImage]) -> list[StoredImage]:
    return sorted(images, key=lambda image: (image.created_at, image.id), reverse=True)


def test_tag_paging_visits_every_tagged_public_image_once_including_ties(
    database: Database,
) -> None:
    offsets = [0, 1, 1, 1, 2, 2, 3, 4, 4]
    tagged = add_committed(
        database,
        *(new_image(tags=["fox"], created_at=BASE_TIME + timedelta(seconds=s)) for s in offsets),
    )
    add_committed(
        database,
        new_image(tags=["fox"], private=True, author="alice", created_at=BASE_TIME),
        new_image(tags=["owl"], created_at=BASE_TIME + timedelta(seconds=1)),
    )
    assert guids(walk(database, tags=["fox"])) == guids(newest_first(tagged))
    assert guids(walk(database, limit=4, tags=["FOX"])) == guids(newest_first(tagged))


def test_several_tags_page_through_the_images_having_all_of_them(database: Database) -> None:
    both = add_committed(
        database,
        *(
            new_image(tags=["snow", "fox", "x"], created_at=BASE_TIME + timedelta(seconds=s))
            for s in (0, 1, 1, 2, 5)
        ),
    )
    add_committed(
        database,
        new_image(tags=["fox"], created_at=BASE_TIME + timedelta(seconds=3)),
        new_image(tags=["snow"], created_at=BASE_TIME + timedelta(seconds=4)),
    )
    assert guids(walk(database, tags=["fox", "snow"])) == guids(newest_first(both))
    assert guids(walk(database, tags=["snow", "fox", "x"])) == guids(newest_first(both))


def test_tag_and_author_together_page_through_that_authors_tagged_images(
    database: Database,
) -> None:
    mine = add_committed(
        database,
        *(
            new_image(tags=["fox"], author="alice", created_at=BASE_TIME + timedelta(seconds=s))
            for s in (0, 1, 1, 2)
        ),
    )
    add_committed(
        database,
        new_image(tags=["fox"], author="bob"),
        new_image(tags=["owl"], author="alice"),
        new_image(tags=["fox"], author="alice", private=True),
    )
    assert guids(walk(database, tags=["fox"], author="alice")) == guids(newest_first(mine))


def test_a_private_tag_listing_shows_only_the_owners_tagged_images(database: Database) -> None:
    mine = add_committed(
        database,
        *(
            new_image(
                tags=["cat"],
                author="alice",
                private=True,
                created_at=BASE_TIME + timedelta(seconds=s),
            )
            for s in (0, 1, 1, 3)
        ),
    )
    add_committed(
        database,
        new_image(tags=["cat"], author="bob", private=True),
        new_image(tags=["cat"], author="alice"),
        new_image(tags=["dog"], author="alice", private=True),
    )
    listed = walk(database, visibility=private_of("alice"), tags=["cat"])
    assert guids(listed) == guids(newest_first(mine))
    assert walk(database, tags=["cat"], visibility=private_of("carol")) == []


def test_storage_refs_page_through_every_row_by_id(database: Database) -> None:
    stored = add_committed(
        database,
        new_image(),
        new_image(private=True, author="alice"),
        new_image(tags=["fox"]),
        new_image(),
        new_image(private=True, author="bob"),
    )
    seen = []
    after_id = 0
    while True:
        with database.context() as db:
            refs = db.images.list_storage_refs(after_id=after_id, limit=2)
        if not refs:
            break
        assert len(refs) <= 2
        seen += refs
        after_id = refs[-1].id
    assert [(ref.guid, ref.storage_key) for ref in seen] == [
        (image.guid, image.storage_key) for image in sorted(stored, key=lambda i: i.id)
    ]
