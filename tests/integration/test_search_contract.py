"""Search by prompt words in ``ImageRepository.list_page``, the same on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.records import PageQuery, Visibility
from data.database import Database
from tests.integration.test_image_repository_contract import (
    BASE_TIME,
    PUBLIC,
    add_committed,
    new_image,
    private_of,
)

PROMPTS = ("a foxglove flower", "Fox cubs playing", "a red fox in deep snow", "a red barn")


def seed(database: Database, **overrides: object) -> dict[str, str]:
    """The four prompts, a minute apart in that order; prompt -> guid."""
    images = [
        new_image(prompt=prompt, created_at=BASE_TIME + timedelta(minutes=n), **overrides)
        for n, prompt in enumerate(PROMPTS)
    ]
    return {image.prompt: image.guid for image in add_committed(database, *images)}


def search(database: Database, *words: str, **query: object) -> list[str]:
    with database.context() as db:
        rows = db.images.list_page(PageQuery(words=words, **query))  # type: ignore[arg-type]
    return [row.prompt for row in rows]


def test_a_word_matches_the_start_of_any_prompt_word_newest_first(database: Database) -> None:
    seed(database)
    assert search(database, "fox") == [
        "a red fox in deep snow",
        "Fox cubs playing",
        "a foxglove flower",
    ]
    assert search(database, "foxg") == ["a foxglove flower"]
    assert search(database, "glove") == []  # prefixes, not infixes


def test_every_word_is_needed(database: Database) -> None:
    seed(database)
    assert search(database, "red", "fox") == ["a red fox in deep snow"]
    assert search(database, "red") == ["a red barn", "a red fox in deep snow"]
    assert search(database, "red", "cubs") == []


def test_search_is_case_insensitive(database: Database) -> None:
    seed(database)
    add_committed(database, new_image(prompt="A FOXY LADY in RED"))
    assert search(database, "foxy", "red") == ["A FOXY LADY in RED"]


def test_search_combines_with_tags_author_visibility_and_the_cursor(database: Database) -> None:
    seed(database, tags=["wild"])
    ann = seed(database, tags=["pet"], author="ann")
    mine = seed(database, author="bob", private=True)
    assert search(database, "fox", tags=["pet"]) == search(database, "fox", author="ann")
    assert len(search(database, "fox", tags=["pet"])) == 3
    assert search(database, "fox", tags=["pet", "wild"]) == []
    assert search(database, "red", "fox", visibility=private_of("bob")) == [
        "a red fox in deep snow"
    ]
    assert search(database, "barn", visibility=private_of("ann")) == []
    with database.context() as db:
        first = db.images.list_page(PageQuery(words=["fox"], author="ann", limit=2))
        after = (first[-1].created_at, first[-1].id)
        rest = db.images.list_page(PageQuery(words=["fox"], author="ann", limit=2, after=after))
    assert [row.guid for row in first + rest] == [
        ann["a red fox in deep snow"],
        ann["Fox cubs playing"],
        ann["a foxglove flower"],
    ]
    assert mine  # private rows never show in the public search
    assert len(search(database, "fox", visibility=PUBLIC)) == 6


def test_a_deleted_image_is_no_longer_found(database: Database) -> None:
    guids = seed(database, author="ann")
    with database.context() as db:
        db.begin_transaction()
        db.images.delete(guids["Fox cubs playing"], Visibility(), author="ann")
        db.commit_transaction()
    assert search(database, "cubs") == []
    assert search(database, "fox") == ["a red fox in deep snow", "a foxglove flower"]


@pytest.mark.parametrize("prompt", ["a fox-cub, asleep", "fox/cub asleep", "(fox) cub!"])
def test_punctuation_separates_words(database: Database, prompt: str) -> None:
    add_committed(database, new_image(prompt=prompt))
    assert search(database, "cub", "fox") == [prompt]
