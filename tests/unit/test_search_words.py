"""Which words of ``q`` a search looks for."""

from __future__ import annotations

import pytest

from core.exceptions import ValidationFailedError
from service.search import search_words


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("fox", ["fox"]),
        ("Red FOX", ["red", "fox"]),
        ("the red fox in the snow", ["red", "fox", "snow"]),
        ("fox, fox! FOX?", ["fox"]),
        ("a-red_fox", ["red", "fox"]),
        ("Füchse im Schnee", ["füchse", "schnee"]),
        ("2024 photos", ["2024", "photos"]),
    ],
)
def test_words_are_lower_case_letters_and_digits_of_three_or_more(q: str, words: list[str]) -> None:
    assert search_words(q) == words


@pytest.mark.parametrize("q", ["", "x" * 201, "a an to", "the of is with", "!?", "ox ab"])
def test_nothing_left_to_search_for_is_a_validation_error(q: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        search_words(q)
    assert caught.value.details[0]["loc"] == ["query", "q"]


def test_at_most_sixteen_words_are_searched() -> None:
    assert len(search_words(" ".join(f"w{n:02d}" for n in range(40)))) == 16
