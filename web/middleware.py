"""Request id, the access log line, HTTP metrics and the last-resort 500: one ASGI middleware.

Why a middleware and not only a dependency: an app-wide dependency runs only for
matched routes whose parameters parsed, so it never sees a 404 for an unknown path, a
422 raised before the route, or a crash. This middleware sees every request. The
app-wide dependency in ``web/dependencies.py`` (the request's "universal logging
dependency") adds what only the router knows — the route template — to the same line.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.log import request_id_var
from web.errors import GENERIC_MESSAGE, error_response
from web.metrics import record_request

access_logger = logging.getLogger("pixyproxy.access")
logger = logging.getLogger(__name__)

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# New ids: a random per-process prefix and a counter, unique across processes without a
# ``getrandom`` system call per request (``uuid4`` makes one).
_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNTER = itertools.count(1)


def pick_request_id(header_value: str | None) -> str:
    """Keep the client's ``X-Request-ID`` when it is sane, else make a new one."""
    if header_value and _SANE_REQUEST_ID.fullmatch(header_value):
        return header_value
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


class RequestContextMiddleware:
    """Set the request id, echo it in ``X-Request-ID``, log and count every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_id = headers.get(b"x-request-id", b"").decode("latin-1") or None
        request_id = pick_request_id(raw_id)
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        status = 500
        started = False
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error")
            if not started:
                response = error_response(500, "internal_error", GENERIC_MESSAGE)
                await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            record_request(scope, status, seconds)
            access_logger.info(
                "%s %s %d",
                scope.get("method", "-"),
                scope.get("path", "-"),
                status,
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "route": state.get("route"),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "user": state.get("user"),
                },
            )
            request_id_var.reset(token)
