"""HTTP Basic credentials, parsed strictly (RFC 7617, UTF-8).

FastAPI's ``HTTPBasic`` decodes the credentials as ASCII, so a password with a
non-ASCII character could never log in, and with ``auto_error=False`` it ignores a
header of another scheme, so a request meant to be authenticated silently became
anonymous. Here any ``Authorization`` header that is present must be well-formed Basic
credentials, or the request is a 401 with the ``WWW-Authenticate`` challenge (via
``AuthenticationError`` and ``web/errors.py``): another scheme, a value that is not
strict base64, bytes that are not UTF-8, no colon. An empty username still reaches
the service (which answers it like a wrong password). Without the header: ``None``.
"""

from __future__ import annotations

import base64
import binascii

from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection

from core.exceptions import AuthenticationError

MALFORMED = "Malformed Basic credentials."


def parse_basic(header: str | None) -> HTTPBasicCredentials | None:
    """The credentials in an ``Authorization`` value; ``None`` if it is absent or blank.

    Raises ``AuthenticationError`` when a value is present but not usable Basic.
    """
    if header is None or not header.strip():
        return None
    scheme, _, param = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise AuthenticationError("Only Basic authentication is supported.")
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        raise AuthenticationError(MALFORMED) from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise AuthenticationError(MALFORMED)
    return HTTPBasicCredentials(username=username, password=password)


class StrictHTTPBasic(HTTPBasic):
    """``HTTPBasic`` for OpenAPI's security scheme, with :func:`parse_basic` behind it."""

    async def __call__(  # type: ignore[override]
        self, request: HTTPConnection
    ) -> HTTPBasicCredentials | None:
        """The request's credentials, ``None`` without any; 401 when malformed."""
        return parse_basic(request.headers.get("Authorization"))
