"""The pure HTTP helpers behind ``/content``."""

from datetime import UTC, datetime

import pytest

from core.models import ByteRange, RangeRequest
from web.http_content import (
    content_disposition,
    content_range,
    etag_matches,
    http_date,
    if_range_allows,
    parse_range_header,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", RangeRequest(start=0, end=99)),
        ("bytes=100-", RangeRequest(start=100)),
        ("bytes=-500", RangeRequest(suffix=500)),
        (" bytes = 5 - 9 ", RangeRequest(start=5, end=9)),
    ],
)
def test_single_ranges_are_parsed(header: str, expected: RangeRequest) -> None:
    assert parse_range_header(header) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=", "bytes=-", "items=0-9", "bytes=9-0", "bytes=0-1,5-9", "bytes=a-b"],
)
def test_absent_multi_or_malformed_ranges_mean_the_whole_body(header: str | None) -> None:
    assert parse_range_header(header) is None


@pytest.mark.parametrize(
    ("request_range", "size", "expected"),
    [
        (RangeRequest(start=0, end=99), 1000, ByteRange(start=0, end=99)),
        (RangeRequest(start=990, end=5000), 1000, ByteRange(start=990, end=999)),
        (RangeRequest(start=10), 1000, ByteRange(start=10, end=999)),
        (RangeRequest(suffix=10), 1000, ByteRange(start=990, end=999)),
        (RangeRequest(suffix=5000), 1000, ByteRange(start=0, end=999)),
        (RangeRequest(start=1000), 1000, None),
        (RangeRequest(suffix=0), 1000, None),
    ],
)
def test_ranges_resolve_against_the_size(
    request_range: RangeRequest, size: int, expected: ByteRange | None
) -> None:
    assert request_range.resolve(size) == expected


def test_etag_matching_handles_lists_weak_tags_and_star() -> None:
    etag = '"abc"'
    assert etag_matches('"abc"', etag)
    assert etag_matches('"x", W/"abc"', etag)
    assert etag_matches("*", etag)
    assert not etag_matches('"abcd"', etag)
    assert not etag_matches(None, etag)


def test_if_range_honours_only_a_current_validator() -> None:
    modified = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
    assert if_range_allows(None, '"a"', modified)
    assert if_range_allows('"a"', '"a"', modified)
    assert not if_range_allows('"b"', '"a"', modified)
    assert not if_range_allows('W/"a"', '"a"', modified)
    assert if_range_allows(http_date(modified), '"a"', modified)
    assert not if_range_allows("Mon, 01 Jan 2024 00:00:00 GMT", '"a"', modified)
    assert not if_range_allows("not a date", '"a"', modified)


def test_content_disposition_is_inline_or_attachment() -> None:
    assert content_disposition("fox-1.png", download=False) == 'inline; filename="fox-1.png"'
    assert content_disposition("fox-1.png", download=True) == 'attachment; filename="fox-1.png"'


def test_non_ascii_filenames_get_an_rfc6266_extended_name() -> None:
    value = content_disposition("füchse-1.png", download=False)
    assert value == "inline; filename=\"f_chse-1.png\"; filename*=UTF-8''f%C3%BCchse-1.png"


def test_content_range_and_http_date_formats() -> None:
    assert content_range(ByteRange(start=0, end=99), 1000) == "bytes 0-99/1000"
    moment = datetime(2026, 11, 28, 13, 5, 9, tzinfo=UTC)
    assert http_date(moment) == "Sat, 28 Nov 2026 13:05:09 GMT"
