"""The listing query and its ``Link`` header, shared by the public and private lists."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response
from pydantic import BaseModel, Field

from core.models import MAX_PAGE_SIZE
from service.image_service import ImageService
from web.json_body import details_response
from web.threads import in_thread


class ListParams(BaseModel):
    """``?limit=&cursor=&tag=&author=&q=`` of a listing."""

    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, max_length=128)
    tag: list[str] = Field(default_factory=list, max_length=20)
    author: str | None = Field(default=None, max_length=64)
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Search: for each of its words, a prompt word starting with it.",
    )


async def list_response(images: ImageService, params: ListParams, request: Request) -> Response:
    """Run the listing (in a worker thread) and answer a JSON array with a ``Link`` to
    the next page."""
    page = await in_thread(
        images.list_images,
        limit=params.limit,
        cursor=params.cursor,
        tags=params.tag,
        author=params.author,
        q=params.q,
    )
    headers: dict[str, str] = {}
    if page.next_cursor is not None:
        query: dict[str, object] = {"limit": params.limit, "cursor": page.next_cursor}
        if params.tag:
            query["tag"] = params.tag
        if params.author:
            query["author"] = params.author
        if params.q:
            query["q"] = params.q
        headers["Link"] = f'<{request.url.path}?{urlencode(query, doseq=True)}>; rel="next"'
    return details_response(page.items, headers=headers)
