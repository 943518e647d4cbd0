"""``BlobStreamingResponse`` as an ASGI app: chunks off the event loop, body always closed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from starlette.requests import ClientDisconnect
from starlette.types import Message, Scope

from core.models import ImageContent
from storage.blob_store import CHUNK_SIZE, BlobStream
from web.content_response import BlobStreamingResponse

DATA = bytes(range(256)) * (4 * CHUNK_SIZE // 256)  # four chunks


class RecordingBody:
    """Stands in for an S3 body: chunks, the threads that read them, and ``close``."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.reader_threads: set[int] = set()

    def chunks(self) -> Iterator[bytes]:
        for offset in range(0, len(DATA), CHUNK_SIZE):
            self.reader_threads.add(threading.get_ident())
            yield DATA[offset : offset + CHUNK_SIZE]

    def close(self) -> None:
        self.closed.set()


def content_of(body: RecordingBody) -> ImageContent:
    now = datetime.now(UTC)
    return ImageContent(
        guid=str(uuid.uuid4()),
        prompt="a fox",
        filename="a-fox.png",
        content_type="image/png",
        size_bytes=len(DATA),
        sha256=hashlib.sha256(DATA).hexdigest(),
        created_at=now,
        updated_at=now,
        chunks=BlobStream(body.chunks(), closer=body),
    )


def scope(spec_version: str) -> Scope:
    return {"type": "http", "method": "GET", "asgi": {"spec_version": spec_version}}


def run(body: RecordingBody, spec_version: str, *, fail_after: int | None) -> bool:
    """Serve the response, ``send`` raising ``OSError`` after ``fail_after`` body messages.

    Returns whether the body was closed when the response returned (or raised), while the
    response and its iterators are still alive: garbage collection cannot have done it.
    """
    sent: list[bytes] = []

    async def receive() -> Message:
        await asyncio.Event().wait()  # the client never sends anything more
        raise AssertionError

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if fail_after is not None and len(sent) >= fail_after:
                raise OSError("connection reset by peer")
            sent.append(message["body"])

    response = BlobStreamingResponse(content_of(body), status_code=200, headers={})
    closed_on_return: list[bool] = []

    async def serve() -> None:
        try:
            await response(scope(spec_version), receive, send)
        finally:
            closed_on_return.append(body.closed.is_set())

    with contextlib.suppress(ClientDisconnect):
        asyncio.run(serve())
    assert threading.get_ident() not in body.reader_threads  # read off the event loop
    if fail_after is None:
        assert b"".join(sent) == DATA
        assert {len(chunk) for chunk in sent if chunk} == {CHUNK_SIZE}
    else:
        assert len(sent) == fail_after
    return closed_on_return == [True]


def test_a_complete_response_sends_64_kib_chunks_read_off_the_loop_and_closes() -> None:
    assert run(RecordingBody(), "2.4", fail_after=None)


def test_a_client_gone_mid_stream_closes_the_body_at_once() -> None:
    # ASGI 2.4 servers raise OSError from send; uvicorn (2.3) reports a disconnect through
    # receive instead, which tests/e2e/test_content_delivery.py covers over real sockets.
    body = RecordingBody()
    assert run(body, "2.4", fail_after=1)
