"""Opaque keyset cursors."""

import base64
import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def test_an_edited_cursor_is_a_validation_error_not_a_page_from_elsewhere() -> None:
    cursor = encode_cursor(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 42)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    version, micros, row_id, check = raw.split(":")
    tampered = [
        _b64(f"{version}:{micros}:43:{check}"),  # another id
        _b64(f"{version}:{int(micros) - 1}:{row_id}:{check}"),  # another time
        _b64(f"{version}:{micros}:{row_id}"),  # the check dropped
        _b64(f"{version}:{micros}:{row_id}:{check}:x"),
        _b64(f"{version}:{micros}:+{row_id}:{check}"),
        cursor[:-2],  # truncated
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),  # one character changed
    ]
    for bad in tampered:
        with pytest.raises(ValidationFailedError):
            decode_cursor(bad)


def test_a_padded_cursor_is_the_same_cursor() -> None:
    moment = datetime(2026, 11, 28, 12, 0, 0, 1, tzinfo=UTC)
    cursor = encode_cursor(moment, 7)
    assert decode_cursor(cursor + "=" * (-len(cursor) % 4)) == (moment, 7)


@settings(max_examples=200)
@given(st.text(max_size=90))
def test_no_text_makes_the_decoder_fail_other_than_with_a_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationFailedError):
        decode_cursor(text)
