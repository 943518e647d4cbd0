"""Build the ``/content`` response for either scope (CONTRACT.md "Content delivery")."""

from __future__ import annotations

import itertools

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
from web.metrics import BLOB_BYTES_STREAMED, route_label
from web.threads import in_blob_thread


class BlobStreamingResponse(StreamingResponse):
    """Streams ``content`` and closes its blob body as soon as the exchange ends.

    When the client goes away mid-download, Starlette cancels the streaming task but
    never closes the iterator it was reading, so the S3 connection would stay open until
    garbage collection reached it. Closing here is prompt.
    It is safe: the cancelled task waits for a chunk being read in a worker thread.
    ``first`` is a chunk already read from ``content`` (sent before the rest).
    """

    def __init__(
        self,
        content: ImageContent,
        *,
        status_code: int,
        headers: dict[str, str],
        first: bytes = b"",
    ) -> None:
        chunks = itertools.chain((first,), content.chunks) if first else content.chunks
        super().__init__(
            chunks,
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
            BLOB_BYTES_STREAMED.labels(route_label(scope)).inc(sent)


class BlobBytesResponse(Response):
    """A blob read whole (it fits in one chunk), sent as a plain response; bytes counted."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the response, then count its body in the streamed-bytes metric."""
        await super().__call__(scope, receive, send)
        BLOB_BYTES_STREAMED.labels(route_label(scope)).inc(len(self.body))


def representation_headers(detail: ImageDetail, *, download: bool) -> dict[str, str]:
    """Headers shared by 200, 206, 304 and HEAD answers."""
    return {
        "ETag": detail.etag,
        "Last-Modified": http_date(detail.updated_at),
        "Cache-Control": PRIVATE_CACHE if detail.private else PUBLIC_CACHE,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(detail.filename, download=download),
    }


async def content_response(
    images: ImageService,
    guid: str,
    request: Request,
    *,
    download: bool,
    rendition: RenditionKind | None = None,
) -> Response:
    """Answer GET or HEAD of ``/content`` (or of a rendition): redirect, 304, 206 or 200.

    The row read and the blob's first chunk block: they run in one hop to the blob
    threads (``web/threads.py``).
    """
    return await in_blob_thread(
        _content_response, images, guid, request, download=download, rendition=rendition
    )


def _content_response(
    images: ImageService,
    guid: str,
    request: Request,
    *,
    download: bool,
    rendition: RenditionKind | None,
) -> Response:
    """:func:`content_response`, in a worker thread.

    One unit of work per request: the row (and the rendition's) is read once
    (``find_image_content``), and the conditional headers are decided from it before
    the blob is touched.
    """
    redirect_url = images.get_content_url(guid, rendition)
    if redirect_url is not None:
        # The signed URL expires: no cache (a CDN's default TTL included) may keep it.
        return RedirectResponse(
            redirect_url, status_code=307, headers={"Cache-Control": "no-store"}
        )
    byte_range = parse_range_header(request.headers.get("range"))
    if_none_match = request.headers.get("if-none-match")
    if_range = request.headers.get("if-range")
    source = images.find_image_content(guid, rendition)
    if if_none_match or (if_range and byte_range):
        # Conditional requests are answered from the row alone: no blob round trip.
        detail = source.detail
        if etag_matches(if_none_match, detail.etag):
            return Response(
                status_code=304, headers=representation_headers(detail, download=download)
            )
        if not if_range_allows(if_range, detail.etag, detail.updated_at):
            byte_range = None
    is_head = request.method == "HEAD"
    content = source.open(byte_range, include_body=not is_head)
    headers = representation_headers(content, download=download)
    headers["Content-Length"] = str(content.content_length)
    status = 200
    if content.byte_range is not None:
        status = 206
        headers["Content-Range"] = content_range(content.byte_range, content.size_bytes)
    if is_head:
        content.close()
        return Response(status_code=status, headers=headers, media_type=content.content_type)
    # The first chunk is read here, in the route's worker thread: a blob that fits in one
    # chunk (most images, at CHUNK_SIZE) is sent as a plain response, with no streaming
    # task and no further thread hop; a bigger one streams the rest.
    try:
        first = next(content.chunks, b"")
    except BaseException:
        content.close()
        raise
    if len(first) >= content.content_length:
        content.close()
        return BlobBytesResponse(
            first, status_code=status, headers=headers, media_type=content.content_type
        )
    return BlobStreamingResponse(content, status_code=status, headers=headers, first=first)
