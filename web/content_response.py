"""Build the ``/content`` response for either scope (CONTRACT.md "Content delivery")."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from core.models import ImageContent, ImageDetail
from service.image_service import ImageService
from service.imaging import RenditionKind
from web.http_content import (
    PRIVATE_CACHE,
    PUBLIC_CACHE,
    content_disposition,
    content_range,
    etag_matches,
    http_date,
    if_range_allows,
    parse_range_header,
)
from web.metrics import BLOB_BYTES_STREAMED


class BlobStreamingResponse(StreamingResponse):
    """Streams ``content`` and closes its blob body as soon as the exchange ends.

    When the client goes away mid-download, Starlette cancels the streaming task but
    never closes the iterator it was reading, so the S3 connection would stay open until
    garbage collection reached it. Closing here is prompt.
    It is safe: the cancelled task waits for a chunk being read in a worker thread.
    """

    def __init__(self, content: ImageContent, *, status_code: int, headers: dict[str, str]) -> None:
        super().__init__(
            content.chunks,
            status_code=status_code,
            headers=headers,
            media_type=content.content_type,
        )
        self._content = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the response; close the blob body however that ends; count the bytes."""
        sent = 0

        async def send_counting(message: Message) -> None:
            nonlocal sent
            await send(message)
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))

        try:
            await super().__call__(scope, receive, send_counting)
        finally:
            self._content.close()
            BLOB_BYTES_STREAMED.inc(sent)


def representation_headers(detail: ImageDetail, *, download: bool) -> dict[str, str]:
    """Headers shared by 200, 206, 304 and HEAD answers."""
    return {
        "ETag": detail.etag,
        "Last-Modified": http_date(detail.updated_at),
        "Cache-Control": PRIVATE_CACHE if detail.private else PUBLIC_CACHE,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(detail.filename, download=download),
    }


def content_response(
    images: ImageService,
    guid: str,
    request: Request,
    *,
    download: bool,
    rendition: RenditionKind | None = None,
) -> Response:
    """Answer GET or HEAD of ``/content`` (or of a rendition): redirect, 304, 206 or 200."""
    redirect_url = images.get_content_url(guid, rendition)
    if redirect_url is not None:
        # The signed URL expires: no cache (a CDN's default TTL included) may keep it.
        return RedirectResponse(
            redirect_url, status_code=307, headers={"Cache-Control": "no-store"}
        )
    byte_range = parse_range_header(request.headers.get("range"))
    if_none_match = request.headers.get("if-none-match")
    if_range = request.headers.get("if-range")
    if if_none_match or (if_range and byte_range):
        # Conditional requests are answered from the row alone: no blob round trip.
        detail = images.get_content_detail(guid, rendition)
        if etag_matches(if_none_match, detail.etag):
            return Response(
                status_code=304, headers=representation_headers(detail, download=download)
            )
        if not if_range_allows(if_range, detail.etag, detail.updated_at):
            byte_range = None
    is_head = request.method == "HEAD"
    content = images.get_image_content(
        guid, byte_range, include_body=not is_head, rendition=rendition
    )
    headers = representation_headers(content, download=download)
    headers["Content-Length"] = str(content.content_length)
    status = 200
    if content.byte_range is not None:
        status = 206
        headers["Content-Range"] = content_range(content.byte_range, content.size_bytes)
    if is_head:
        content.close()
        return Response(status_code=status, headers=headers, media_type=content.content_type)
    return BlobStreamingResponse(content, status_code=status, headers=headers)
