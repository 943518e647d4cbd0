"""An HTTP endpoint that answers S3 GETs and PUTs from a script: what moto cannot show."""

from __future__ import annotations

import base64
import contextlib
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DENIED = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"


def crc32_of(data: bytes) -> str:
    """The CRC32 S3 keeps for ``data`` (four big-endian bytes, base64), computed here
    rather than by the code under test."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode("ascii")


def presigned(paths: list[str]) -> list[bool]:
    """For each request, whether it was presigned (else signed in headers by boto3)."""
    return ["X-Amz-Signature=" in path for path in paths]


@dataclass(frozen=True)
class Answer:
    """One scripted answer; ``stall`` seconds pass between the headers and the body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0
    length: int | None = None  # the Content-Length sent; default the body's

    @property
    def content_length(self) -> int:
        """The length the answer claims."""
        return len(self.body) if self.length is None else self.length


@dataclass(frozen=True)
class Upload:
    """One PUT as the endpoint received it."""

    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedS3(ThreadingHTTPServer):
    """Answers each GET or PUT with the next scripted :class:`Answer`.

    Requests signed in the URL (presigned) take from ``script``, those signed in headers
    (boto3's ``get_object``, ``put_object``) from ``header_script``; ``requests`` records
    every path, ``uploads`` every PUT.
    """

    def __init__(self, script: list[Answer], header_script: list[Answer] | None = None) -> None:
        self.script = script
        self.header_script = header_script or []
        self.requests: list[str] = []
        self.uploads: list[Upload] = []
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)

    @property
    def url(self) -> str:
        """The endpoint's base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedS3

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.uploads.append(Upload(self.path, dict(self.headers.items()), body))
        self.do_GET()

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        presigned = "X-Amz-Signature=" in self.path
        answer = (self.server.script if presigned else self.server.header_script).pop(0)
        self.send_response(answer.status)
        self.send_header("Content-Length", str(answer.content_length))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        time.sleep(answer.stall)
        with contextlib.suppress(OSError):  # the client may have given up meanwhile
            self.wfile.write(answer.body)
        if answer.content_length != len(answer.body):
            self.close_connection = True  # a truncated body: hang up, as a dying server does

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextlib.contextmanager
def scripted_s3(
    script: list[Answer], header_script: list[Answer] | None = None
) -> Iterator[ScriptedS3]:
    """Serve the scripts in a thread for the block."""
    server = ScriptedS3(script, header_script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
