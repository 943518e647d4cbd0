"""``/content`` like a CDN origin, over real sockets (CONTRACT.md "Content delivery").

The app runs under a real uvicorn (``live_server``) on MariaDB + moto's S3 server, and
is called with httpx, curl and a raw socket. Expected bytes are read straight from the
bucket with boto3, never from the service under test.
"""

from __future__ import annotations

import logging
import secrets
import socket
import struct
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest

from core.models import ImageDetail, ImageDetailCreate
from core.settings import Settings
from data.mysql.database import apply_mysql_schema
from service.generation.offline import OfflineImageGenerator
from service.init import Services, build_services
from storage.blob_store import CHUNK_SIZE
from tests.support.live_server import LiveServer
from tests.support.live_server_fixtures import StartServer, assert_no_500
from tests.support.mysql_fixtures import admin_connect, make_mysql_settings
from tests.support.s3_fixtures import StoppableS3, create_bucket, drop_bucket, make_s3_settings
from tests.support.tcp_relay import TcpRelay
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.mysql, pytest.mark.s3]

CURL = "/usr/bin/curl"
IMAGE_PIXELS = 300  # an offline PNG of about 260 KiB: one chunk, sent as a plain response
PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, max-age=0, must-revalidate"
ServeWith = Callable[..., tuple[Services, str]]
# Headers that legitimately differ between two responses to the same request.
PER_RESPONSE = {"date", "x-request-id", "server"}


@dataclass(frozen=True)
class Stored:
    """An image as the service described it, and its bytes as the bucket holds them."""

    detail: ImageDetail
    data: bytes

    @property
    def etag(self) -> str:
        return f'"{self.detail.sha256}"'

    @property
    def size(self) -> int:
        return len(self.data)


def stack_settings(database: Settings, s3: Settings, **overrides: object) -> Settings:
    """MySQL from one settings object, S3 from the other, no OpenAI, ``overrides`` on top."""
    return database.model_copy(
        update={
            "s3_bucket": s3.s3_bucket,
            "s3_endpoint_url": s3.s3_endpoint_url,
            "aws_region": s3.aws_region,
            "aws_access_key_id": s3.aws_access_key_id,
            "aws_secret_access_key": s3.aws_secret_access_key,
            "openai_api_key": None,
            **overrides,
        }
    )


def bucket_bytes(settings: Settings, key: str) -> bytes:
    """The object as S3 holds it, read with a plain boto3 client."""
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region)
    return s3.get_object(Bucket=str(settings.s3_bucket), Key=key)["Body"].read()


def store_image(services: Services, *, owner: str | None = None) -> Stored:
    """Create a public image (or ``owner``'s private one) through the service."""
    scope = services.private(owner) if owner else services.public()
    detail = scope.create_image(ImageDetailCreate(prompt=f"a fox {secrets.token_hex(4)}"))
    key = f"images/{detail.guid}.png"
    return Stored(detail=detail, data=bucket_bytes(services.settings, key))


def comparable(headers: httpx.Headers) -> dict[str, str]:
    """Headers minus the ones that change from one response to the next."""
    return {name: value for name, value in headers.items() if name not in PER_RESPONSE}


@pytest.fixture(scope="module")
def backing(mysql_settings: Settings, moto_server: str) -> Iterator[Settings]:
    """This module's own database and bucket (so no other test's clean-up touches them)."""
    database = make_mysql_settings(f"{mysql_settings.db_name}_content")
    apply_mysql_schema(database)
    s3 = make_s3_settings(moto_server)
    create_bucket(s3)
    yield stack_settings(database, s3)
    drop_bucket(s3)
    admin = admin_connect(database)
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{database.db_name}`")
    finally:
        admin.close()


@dataclass(frozen=True)
class Stack:
    """Services on ``backing``, a live uvicorn serving them, and one public image."""

    services: Services
    url: str
    image: Stored


@pytest.fixture(scope="module")
def stack(backing: Settings) -> Iterator[Stack]:
    """One server for the read-only tests: they never change what it serves."""
    services = build_services(backing, generator=OfflineImageGenerator(size=IMAGE_PIXELS))
    with LiveServer(create_app(services=services)) as server:
        yield Stack(services=services, url=server.url, image=store_image(services))
    services.close()


@pytest.fixture
def image(stack: Stack) -> Stored:
    return stack.image


@pytest.fixture
def http(stack: Stack, caplog: pytest.LogCaptureFixture) -> Iterator[httpx.Client]:
    """httpx on the module's live server; the test fails if any response was a 500."""
    caplog.set_level(logging.INFO, logger="pixyproxy.access")
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        yield client
    assert_no_500(caplog)


@pytest.fixture
def serve(backing: Settings, live_server: StartServer) -> Iterator[ServeWith]:
    """``serve(**overrides)``: services on ``backing`` with ``overrides``, live; (services, url)."""
    built: list[Services] = []

    def start(**overrides: object) -> tuple[Services, str]:
        services = build_services(
            backing.model_copy(update=overrides),
            generator=OfflineImageGenerator(size=IMAGE_PIXELS),
        )
        built.append(services)
        return services, live_server(services)

    yield start
    for services in built:
        services.close()


def url_of(stored: Stored) -> str:
    return f"/image/{stored.detail.guid}/content"


# -- full, ranged and conditional reads ------------------------------------------------


def test_a_full_get_is_byte_exact_with_every_representation_header(
    http: httpx.Client, image: Stored
) -> None:
    response = http.get(url_of(image))
    assert response.status_code == 200
    assert response.content == image.data
    assert response.headers["content-length"] == str(image.size)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["etag"] == image.etag
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == PUBLIC_CACHE
    assert response.headers["content-disposition"] == f'inline; filename="{image.detail.filename}"'
    last_modified = image.detail.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert response.headers["last-modified"] == last_modified
    assert "content-range" not in response.headers


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=65530-131080", 65530, 131080),  # across two chunk boundaries
        ("bytes=1000-", 1000, None),
        ("bytes=-500", -500, None),
        ("bytes=-999999999", 0, None),  # a suffix longer than the image: all of it
        ("bytes=10-999999999", 10, None),  # an end past the image: up to the last byte
        ("bytes=0-0", 0, 0),
    ],
)
def test_a_single_range_is_206_with_exactly_those_bytes(
    http: httpx.Client, image: Stored, header: str, first: int, last: int | None
) -> None:
    start = first % image.size
    end = image.size - 1 if last is None else last
    response = http.get(url_of(image), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == image.data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{image.size}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["etag"] == image.etag


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "bytes=5-3", "items=0-9", "bytes=x-y"])
def test_multi_reversed_or_foreign_ranges_get_the_whole_200(
    http: httpx.Client, image: Stored, header: str
) -> None:
    response = http.get(url_of(image), headers={"Range": header})
    assert response.status_code == 200
    assert response.content == image.data
    assert "content-range" not in response.headers


@pytest.mark.parametrize("suffix", ["{size}-", "{size}-{beyond}", "-0"])
def test_an_unsatisfiable_range_is_416_with_the_size(
    http: httpx.Client, image: Stored, suffix: str
) -> None:
    header = "bytes=" + suffix.format(size=image.size, beyond=image.size + 10)
    response = http.get(url_of(image), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{image.size}"
    assert response.json()["error"] == "range_not_satisfiable"


@pytest.mark.parametrize("template", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_matching_if_none_match_is_304_with_the_etag_and_no_body(
    http: httpx.Client, image: Stored, template: str, method: str
) -> None:
    headers = {"If-None-Match": template.format(etag=image.etag), "Range": "bytes=0-9"}
    response = http.request(method, url_of(image), headers=headers)
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == image.etag
    assert response.headers["cache-control"] == PUBLIC_CACHE
    assert "content-range" not in response.headers


def test_a_stale_if_none_match_gets_the_bytes(http: httpx.Client, image: Stored) -> None:
    response = http.get(url_of(image), headers={"If-None-Match": '"not-the-etag"'})
    assert response.status_code == 200
    assert response.content == image.data


def test_a_304_is_answered_from_the_row_without_touching_the_blob_store(
    serve: ServeWith, stoppable_s3: StoppableS3
) -> None:
    services, base_url = serve(
        s3_endpoint_url=stoppable_s3.endpoint_url, s3_bucket=stoppable_s3.settings.s3_bucket
    )
    stored = store_image(services)
    stoppable_s3.stop()
    with httpx.Client(base_url=base_url, timeout=10) as http:
        conditional = http.get(url_of(stored), headers={"If-None-Match": stored.etag})
        assert conditional.status_code == 304
        assert conditional.headers["etag"] == stored.etag
        # The same request without the condition needs the bucket, which is down.
        assert http.get(url_of(stored)).status_code == 503


@pytest.mark.parametrize(
    ("validator", "status"),
    [("etag", 206), ("last_modified", 206), ("stale_etag", 200), ("weak", 200), ("old", 200)],
)
def test_if_range_keeps_the_range_only_while_the_validator_is_current(
    http: httpx.Client, image: Stored, validator: str, status: int
) -> None:
    last_modified = http.head(url_of(image)).headers["last-modified"]
    value = {
        "etag": image.etag,
        "last_modified": last_modified,
        "stale_etag": '"0123abcd"',
        "weak": f"W/{image.etag}",
        "old": "Mon, 01 Jan 2024 00:00:00 GMT",
    }[validator]
    response = http.get(url_of(image), headers={"Range": "bytes=100-199", "If-Range": value})
    assert response.status_code == status
    assert response.content == (image.data[100:200] if status == 206 else image.data)


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {}), ("", {"Range": "bytes=5-50"}), ("?download=1", {}), ("", {"Range": "bytes=-7"})],
)
def test_head_answers_the_headers_of_get_without_a_body(
    http: httpx.Client, image: Stored, query: str, headers: dict[str, str]
) -> None:
    got = http.get(url_of(image) + query, headers=headers)
    head = http.head(url_of(image) + query, headers=headers)
    assert head.status_code == got.status_code
    assert head.content == b""
    assert comparable(head.headers) == comparable(got.headers)


def test_download_1_makes_it_an_attachment(http: httpx.Client, image: Stored) -> None:
    response = http.get(url_of(image), params={"download": "1"})
    assert response.status_code == 200
    disposition = f'attachment; filename="{image.detail.filename}"'
    assert response.headers["content-disposition"] == disposition
    assert response.content == image.data


def test_a_row_whose_blob_is_gone_is_404_blob_not_found_and_logged_as_an_error(
    http: httpx.Client, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    image = store_image(stack.services)
    settings = stack.services.settings
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
    s3.delete_object(Bucket=str(settings.s3_bucket), Key=f"images/{image.detail.guid}.png")
    for method, headers in [("GET", {}), ("GET", {"Range": "bytes=0-9"}), ("HEAD", {})]:
        response = http.request(method, url_of(image), headers=headers)
        assert response.status_code == 404, (method, headers)
        if method == "GET":
            assert response.json()["error"] == "blob_not_found"
    inconsistencies = [
        record
        for record in caplog.records
        if record.levelno == logging.ERROR and image.detail.guid in record.getMessage()
    ]
    assert len(inconsistencies) == 3


# -- curl ------------------------------------------------------------------------------


def curl(*args: str, fail: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real curl binary (with ``--fail`` unless told not to); expect exit 0."""
    options = ["--silent", "--show-error", "--max-time", "20", *(["--fail"] if fail else [])]
    result = subprocess.run(
        [CURL, *options, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_curl_r_writes_exactly_the_first_100_bytes(
    http: httpx.Client, stack: Stack, image: Stored, tmp_path: Path
) -> None:
    target = tmp_path / "head.png"
    curl("-r", "0-99", "-o", str(target), f"{stack.url}{url_of(image)}")
    assert target.read_bytes() == image.data[:100]


def test_curl_c_resumes_a_partial_download_to_the_exact_file(
    http: httpx.Client, stack: Stack, image: Stored, tmp_path: Path
) -> None:
    target = tmp_path / "partial.png"
    target.write_bytes(image.data[:123_457])  # cut mid-chunk, as a dropped connection would
    url = f"{stack.url}{url_of(image)}"
    curl("-C", "-", "-o", str(target), url)
    assert target.read_bytes() == image.data
    # Resuming a complete file: curl reads the 416 as "nothing left" and keeps the file
    # (curl 7.x still reports a 416 as an error under --fail, hence fail=False).
    curl("-C", "-", "-o", str(target), url, fail=False)
    assert target.read_bytes() == image.data


# -- private images and redirects -----------------------------------------------------


def make_owner(services: Services) -> tuple[str, str]:
    username, password = f"owner-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    services.users.add_user(username, password)
    return username, password


@pytest.mark.parametrize("public_endpoint", ["http://localhost:{port}", None])
def test_public_content_redirects_to_a_presigned_url_that_serves_the_same_bytes(
    serve: ServeWith, backing: Settings, public_endpoint: str | None
) -> None:
    port = str(backing.s3_endpoint_url).rpartition(":")[2]
    public = public_endpoint.format(port=port) if public_endpoint else None
    services, base_url = serve(content_redirect=True, s3_public_endpoint_url=public)
    stored = store_image(services)
    with httpx.Client(base_url=base_url, timeout=10) as http:
        response = http.get(url_of(stored))
        head = http.head(url_of(stored))
    assert response.status_code == head.status_code == 307
    assert response.headers["cache-control"] == "no-store"  # the URL expires
    location = httpx.URL(response.headers["location"])
    signed_for = public or backing.s3_endpoint_url
    assert f"{location.scheme}://{location.netloc.decode()}" == signed_for
    assert location.path == f"/{backing.s3_bucket}/images/{stored.detail.guid}.png"
    assert "X-Amz-Signature" in location.params and location.params["X-Amz-Expires"] == "300"
    followed = httpx.get(location, timeout=10)
    assert followed.status_code == 200
    assert followed.content == stored.data


def test_private_content_is_private_and_never_redirected(serve: ServeWith) -> None:
    services, base_url = serve(content_redirect=True)
    owner = f"owner-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    services.users.add_user(*owner)
    stored = store_image(services, owner=owner[0])
    path = f"/private/image/{stored.detail.guid}/content"
    with httpx.Client(base_url=base_url, timeout=10, auth=owner) as http:
        full = http.get(path)
        ranged = http.get(path, headers={"Range": "bytes=-10"})
        not_modified = http.get(path, headers={"If-None-Match": stored.etag})
    assert full.status_code == 200
    assert full.content == stored.data
    assert ranged.status_code == 206
    assert ranged.content == stored.data[-10:]
    assert not_modified.status_code == 304
    for response in (full, ranged, not_modified):
        assert response.headers["cache-control"] == PRIVATE_CACHE
        assert "location" not in response.headers


# -- streaming -------------------------------------------------------------------------


BIG_PIXELS = 1700  # an uncompressed offline PNG of about 8.3 MiB


def test_an_image_of_several_chunks_streams_byte_exact_whole_and_ranged(
    serve: ServeWith, backing: Settings
) -> None:
    creating = build_services(
        backing, generator=OfflineImageGenerator(size=900, compression_level=0)
    )
    stored = store_image(creating)
    creating.close()
    assert stored.detail.size_bytes > 4 * CHUNK_SIZE
    _, base_url = serve()
    with httpx.Client(base_url=base_url, timeout=10) as http:
        whole = http.get(url_of(stored))
        start = CHUNK_SIZE - 10  # across a chunk boundary
        ranged = http.get(url_of(stored), headers={"Range": f"bytes={start}-"})
    assert whole.status_code == 200 and whole.content == stored.data
    assert whole.headers["content-length"] == str(len(stored.data))
    assert ranged.status_code == 206 and ranged.content == stored.data[start:]


def test_a_client_going_away_mid_download_closes_the_s3_read(
    serve: ServeWith, backing: Settings
) -> None:
    """The app reads S3 through a relay that sees its connection; the client leaves early.

    If the app drained the rest of the object, the relay would carry all of it; if it
    left the S3 body open, the relay would never see the app's side close.
    """
    big_images = OfflineImageGenerator(size=BIG_PIXELS, compression_level=0)
    creating = build_services(backing, generator=big_images)
    stored = store_image(creating)
    creating.close()
    assert stored.size > 8 * 2**20
    host, _, port = str(backing.s3_endpoint_url).removeprefix("http://").partition(":")
    with TcpRelay((host, int(port))) as relay:
        _, base_url = serve(s3_endpoint_url=relay.url)
        received = read_a_little_then_hang_up(httpx.URL(base_url), url_of(stored))
        assert received >= 256 * 1024
        download = relay.busiest()
        assert download.client_closed.wait(timeout=10), "the S3 body was never closed"
        assert download.bytes_to_client < stored.size // 2


def test_a_range_is_read_from_s3_as_that_range_only(
    serve: ServeWith, backing: Settings, stack: Stack
) -> None:
    host, _, port = str(backing.s3_endpoint_url).removeprefix("http://").partition(":")
    with TcpRelay((host, int(port))) as relay:
        _, base_url = serve(s3_endpoint_url=relay.url)
        with httpx.Client(base_url=base_url, timeout=10) as http:
            response = http.get(url_of(stack.image), headers={"Range": "bytes=-100"})
        assert response.content == stack.image.data[-100:]
        carried = sum(connection.bytes_to_client for connection in relay.connections)
        assert carried < 2000  # 100 bytes and S3's response headers, not the whole image


def read_a_little_then_hang_up(base: httpx.URL, path: str) -> int:
    """GET over a raw socket with a small window, read about 256 KiB, close; bytes read."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.settimeout(10)
        sock.connect((base.host, base.port or 80))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {base.host}\r\n\r\n".encode())
        received = 0
        while received < 256 * 1024:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection first"
            received += len(chunk)
        # Linger 0: close with a reset, as a client that gives up does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return received
