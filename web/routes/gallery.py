"""The gallery: HTML pages over the same services as the JSON API.

``/`` and ``/view/{guid}`` show public images; ``/private/`` and ``/private/view/{guid}``
the caller's private ones, behind HTTP Basic (the browser shows its own prompt, then
sends the same credentials to ``/private/image/…`` for thumbnails and the API). Routes
are tagged ``gallery``, so ``web/errors.py`` answers their failures with HTML pages.
Search and tag filter are plain links and forms; the JavaScript in ``web/static`` only
adds infinite scroll, blurhash placeholders, creation, copy-link and delete.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from core.exceptions import AuthenticationError, RecordNotFoundError
from core.settings import Settings
from service.image_service import ImageService
from web.dependencies import (
    OptionalCaller,
    PrivateImages,
    PublicImages,
    RequiredCaller,
    ServicesDep,
)
from web.gallery_views import (
    PRIVATE,
    PUBLIC,
    QUALITY_LABELS,
    SIZE_LABELS,
    GalleryScope,
    grid_heading,
    image_view,
    option_list,
)
from web.pages import render_page

PAGE_SIZE = 24

router = APIRouter(tags=["gallery"], include_in_schema=False)


class GalleryQuery(BaseModel):
    """``?q=&tag=&cursor=`` of a gallery page (``cursor``: the no-JavaScript "more" link)."""

    q: str | None = Field(default=None, max_length=200)
    tag: str | None = Field(default=None, max_length=64)
    cursor: str | None = Field(default=None, max_length=128)


GalleryParams = Annotated[GalleryQuery, Query()]


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def public_gallery(
    request: Request,
    images: PublicImages,
    caller: OptionalCaller,
    services: ServicesDep,
    params: GalleryParams,
) -> HTMLResponse:
    """Public images, newest first, as a grid of thumbnails with search and a prompt form."""
    return gallery_page(request, images, PUBLIC, params, services.settings, caller=caller)


@router.api_route("/view/{guid}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def public_image_page(
    request: Request,
    guid: str,
    images: PublicImages,
    caller: OptionalCaller,
    signin: bool = False,
) -> HTMLResponse:
    """One public image; ``?signin=1`` asks for credentials so its author may delete it."""
    if signin and caller is None:
        raise AuthenticationError
    return image_page(request, images, PUBLIC, guid, caller)


@router.api_route("/private/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def private_gallery(
    request: Request,
    images: PrivateImages,
    caller: RequiredCaller,
    services: ServicesDep,
    params: GalleryParams,
) -> HTMLResponse:
    """The caller's private images (the browser's Basic prompt asks who the caller is)."""
    return gallery_page(request, images, PRIVATE, params, services.settings, caller=caller)


@router.api_route("/private/view/{guid}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def private_image_page(
    request: Request, guid: str, images: PrivateImages, caller: RequiredCaller
) -> HTMLResponse:
    """One of the caller's private images."""
    return image_page(request, images, PRIVATE, guid, caller)


def gallery_page(
    request: Request,
    images: ImageService,
    scope: GalleryScope,
    params: GalleryQuery,
    settings: Settings,
    *,
    caller: str | None,
) -> HTMLResponse:
    """List one page of ``scope`` with the filters of ``params`` and render the grid."""
    q = (params.q or "").strip() or None
    tag = (params.tag or "").strip() or None
    page = images.list_images(limit=PAGE_SIZE, cursor=params.cursor, tags=[tag] if tag else [], q=q)
    next_api = next_page = None
    if page.next_cursor is not None:
        next_api = scope.api_list_url(limit=PAGE_SIZE, cursor=page.next_cursor, tag=tag, q=q)
        next_page = scope.gallery_url(q=q, tag=tag, cursor=page.next_cursor)
    context = {
        "scope": scope,
        "caller": caller,
        "images": [image_view(item, scope) for item in page.items],
        "q": q,
        "tag": tag,
        "first_page": params.cursor is None,
        "first_page_url": scope.gallery_url(q=q, tag=tag),
        "grid_heading": grid_heading(q, tag),
        "clear_tag_url": scope.gallery_url(q=q),
        "clear_search_url": scope.gallery_url(tag=tag),
        "next_api": next_api,
        "next_page": next_page,
        "size_options": option_list(SIZE_LABELS, settings.openai_image_size),
        "quality_options": option_list(QUALITY_LABELS, settings.openai_image_quality),
    }
    return render_page(request, "gallery.html", context)


def image_page(
    request: Request, images: ImageService, scope: GalleryScope, guid: str, caller: str | None
) -> HTMLResponse:
    """Render one image's page; a guid that is not a UUID is as unknown as a missing one."""
    try:
        canonical = str(uuid.UUID(guid))
    except ValueError:
        raise RecordNotFoundError from None
    image = image_view(images.get_image_by_guid(canonical), scope)
    context = {
        "scope": scope,
        "caller": caller,
        "image": image,
        "can_delete": caller is not None and caller == image.author,
        "signin_url": f"{image.href}?signin=1",
    }
    return render_page(request, "view.html", context)
