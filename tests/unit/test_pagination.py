"""Opaque keyset cursors."""

from datetime import UTC, datetime

import pytest

from core.exceptions import ValidationFailedError
from service.pagination import decode_cursor, encode_cursor


def test_a_cursor_round_trips_to_the_microsecond() -> None:
    moment = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)


@pytest.mark.parametrize(
    "cursor", ["", "!!!", "bm9wZQ", "djE6MQ", "djI6MTIzOjQ1", "djE6LTE6NQ", "x" * 200]
)
def test_malformed_cursors_are_validation_errors(cursor: str) -> None:
    with pytest.raises(ValidationFailedError):
        decode_cursor(cursor)
