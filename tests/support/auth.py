"""Helpers for tests of accounts, HTTP Basic and rate limits.

- :func:`basic` builds an ``Authorization`` header value (UTF-8, as curl sends it).
- :func:`cheap_hash` is a real scrypt hash in the stored format with a tiny cost, so
  tests that log in hundreds of times stay fast; ``verify_password`` reads the cost
  from the hash itself.
- :class:`FakeClock` is a settable clock for ``RateLimits`` (``build_services(clock=)``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

CHEAP_N = 2**4


def basic(username: str, password: str) -> str:
    """The ``Authorization`` value for ``username:password``."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def cheap_hash(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` for ``password`` at a test-only cost."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=CHEAP_N, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${CHEAP_N}$8$1${b64(salt).decode()}${b64(digest).decode()}"


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)
