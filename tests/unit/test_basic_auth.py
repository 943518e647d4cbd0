"""Strict parsing of the ``Authorization: Basic …`` header (web/basic_auth.py)."""

from __future__ import annotations

import base64

import pytest

from core.exceptions import AuthenticationError
from web.basic_auth import parse_basic


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_header_means_no_credentials(header: str | None) -> None:
    assert parse_basic(header) is None


@pytest.mark.parametrize(
    ("raw", "username", "password"),
    [
        (b"alice:s3cret", "alice", "s3cret"),
        (b"alice:with:colons", "alice", "with:colons"),
        (b"alice:", "alice", ""),
        (b":pw", "", "pw"),
        ("jürgen:pässwörd ✓".encode(), "jürgen", "pässwörd ✓"),
    ],
)
def test_well_formed_credentials_are_decoded_as_utf8(
    raw: bytes, username: str, password: str
) -> None:
    creds = parse_basic(f"Basic {b64(raw)}")
    assert creds is not None
    assert (creds.username, creds.password) == (username, password)


def test_the_scheme_is_case_insensitive() -> None:
    creds = parse_basic(f"bAsIc {b64(b'a:b')}")
    assert creds is not None and creds.username == "a"


@pytest.mark.parametrize(
    "header",
    [
        "Basic",  # no credentials at all
        "Basic !!!not-base64!!!",
        "Basic YWxpY2U6cw",  # bad padding
        f"Basic {b64(b'no-colon-here')}",
        f"Basic {b64(bytes([0xFF, 0xFE, 0x3A, 0x80]))}",  # not UTF-8
        f"Basic {b64(b'alice:pw')} trailing",
        "Bearer abc.def.ghi",
        "Digest username=alice",
    ],
)
def test_anything_else_is_an_authentication_error(header: str) -> None:
    with pytest.raises(AuthenticationError):
        parse_basic(header)
