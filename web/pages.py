"""HTML rendering for the gallery: the Jinja2 environment, page responses, error pages.

Templates live in ``web/templates`` and assets in ``web/static`` (both package data, so
they ship in the wheel). The environment is built on first use, not at import time.
Pages get a few security headers: a strict Content-Security-Policy (scripts and
styles only from ``/static``; ``style-src 'unsafe-inline'`` for the one placeholder
colour set per thumbnail), no framing, no sniffing, no referrer to other sites.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# Paths that belong to the JSON API (and tools): their errors stay JSON for everyone.
API_PREFIXES = ("/image", "/private/image", "/healthz", "/readyz", "/metrics", "/docs", "/openapi")

ERROR_TITLES = {
    401: "Sign in to continue",
    404: "Image not found",
    422: "That request did not work",
    429: "Slow down a little",
    503: "The service is busy",
}


@cache
def templates() -> Jinja2Templates:
    """The gallery's templates, built once on first use."""
    env = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env.env.globals["asset"] = asset_url
    env.env.trim_blocks = True
    env.env.lstrip_blocks = True
    return env


@cache
def asset_url(name: str) -> str:
    """``/static/<name>?v=<hash of its bytes>``: cacheable, and new after every change."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def render_page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with ``context`` as an HTML response with the security headers."""
    response = templates().TemplateResponse(
        request, template, dict(context), status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    # A page shows live data (and, under /private/, one user's data): never cache it.
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def wants_html_error(request: Request) -> bool:
    """True when a failure should be shown as a page rather than the JSON error body.

    Gallery routes (tagged ``gallery``) always get pages. A request that matched no
    route gets one when a browser asked for HTML for a path outside the JSON API.
    """
    route = request.scope.get("route")
    if route is not None:
        return "gallery" in getattr(route, "tags", ())
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.url.path
    if path.startswith(API_PREFIXES) or path.startswith("/static/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request,
    status: int,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A friendly HTML page for a failed gallery request, with the API's status."""
    title = ERROR_TITLES.get(status, "Something went wrong")
    if status == 404:
        message = "There is no image here. It may have been deleted, or the link is wrong."
    private = request.url.path.startswith("/private/")
    search = any(list(item.get("loc", ()))[-1:] == ["q"] for item in details or [])
    if search:
        title = "Nothing to search for"
        message = (
            "Search for words of at least three letters; common words such as "
            "“the” or “of” are left out."
        )
    context = {
        "title": title,
        "status": status,
        "message": message,
        "search": search,
        "search_home": "/private/" if private else "/",
        "details": [
            str(item.get("msg", ""))
            for item in details or []
            if not search and item.get("msg") != message
        ],
        "retry_after": (headers or {}).get("Retry-After"),
        "home": "/private/" if private and status != 401 else "/",
        "private": private,
    }
    return render_page(request, "error.html", context, status_code=status, headers=headers)
