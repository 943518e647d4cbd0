"""Validation rules on the core models (CONTRACT.md §1 "Models")."""

import pytest
from pydantic import ValidationError

from core.exceptions import (
    ConstraintViolationError,
    DBConnectionError,
    ImageException,
    PixyProxyException,
    PromptException,
    RecordNotFoundError,
)
from core.models import ImageDetailCreate, slugify


def test_prompt_is_stripped_and_tags_lowered_and_deduplicated() -> None:
    created = ImageDetailCreate(prompt="  a fox  ", tags=["Fox", "fox", "snow_1", "a-b"])
    assert created.prompt == "a fox"
    assert created.tags == ["fox", "snow_1", "a-b"]


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": ""},
        {"prompt": "   "},
        {"prompt": "x" * 4001},
        {"prompt": "ok", "tags": ["has space"]},
        {"prompt": "ok", "tags": ["x" * 65]},
        {"prompt": "ok", "tags": [f"t{i}" for i in range(21)]},
        {"prompt": "ok", "unknown": 1},
        {},
    ],
)
def test_bad_create_bodies_are_rejected(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ImageDetailCreate.model_validate(body)


def test_seed_exceptions_keep_their_names_messages_and_family() -> None:
    assert RecordNotFoundError().message == "The requested record was not found."
    assert DBConnectionError().message == "Failed to connect to the database."
    assert ConstraintViolationError().message == "A database constraint was violated."
    for cls in (RecordNotFoundError, DBConnectionError, ConstraintViolationError):
        assert issubclass(cls, ImageException)
        assert issubclass(cls, PixyProxyException)
    assert issubclass(PromptException, PixyProxyException)


def test_error_codes_are_stable_snake_case_from_the_class() -> None:
    assert RecordNotFoundError.code == "record_not_found"
    assert ConstraintViolationError.code == "constraint_violation"
    assert DBConnectionError.code == "db_connection"


@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("A red fox in snow!", "a-red-fox-in-snow"),
        ("???", "image"),
        ("Ünïcode  café", "unicode-cafe"),
    ],
)
def test_slugify_makes_ascii_filenames(prompt: str, slug: str) -> None:
    assert slugify(prompt) == slug
