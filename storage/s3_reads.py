"""Object reads for ``S3BlobStore.open``: a presigned GET sent on botocore's HTTP session.

Why not ``get_object``: for a 256 KiB image, the client's machinery (event hooks,
signing, response parsing) cost about 1.3 ms of CPU per read, more than moving the
bytes; a URL presigned locally by the same client and sent on botocore's own
``URLLib3Session`` (its urllib3 pool classes, TLS verification, proxies from the
environment, timeouts) costs about 0.8 ms, and reusing the URL saves another 0.16 ms
(bench/README.md, "Content"). Keys are immutable, so a signed URL may be reused for a
while: each is signed for ``URL_LIFETIME`` seconds and reused for at most
``URL_REUSE`` of them.

What ``get_object`` did that this keeps: the same answers as core exceptions; one
retry, after a jittered pause, of a connection error, throttling or a 5xx
(``max_attempts=2``); the whole-object checksum (``x-amz-checksum-mode: ENABLED``,
checked with botocore's checksum classes as the body streams). An answer only
``get_object`` can take (see :meth:`PresignedReads.open`) is handed back to the store.

The store's presigned uploads (``storage/s3_writes.py``) share the HTTP session, the
retries and the error parsing defined here.

A signed URL is a credential until it expires, and urllib3's and botocore's errors name
it: every error here is raised outside the handler that caught the original, so it
carries neither a ``__cause__`` nor a ``__context__``.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.exceptions import BotoCoreError, HTTPClientError, SSLError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.httpchecksum import BaseChecksum, Crc32Checksum, Sha1Checksum, Sha256Checksum
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies
from urllib3.exceptions import HTTPError

from core.exceptions import BlobNotFoundError, BlobStoreUnavailableError, RangeNotSatisfiableError
from storage.blob_store import CHUNK_SIZE, BlobStream

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from urllib3 import BaseHTTPResponse

logger = logging.getLogger(__name__)

URL_LIFETIME = 300  # seconds a signed URL is valid
URL_REUSE = 60  # seconds a signed URL is reused: valid for 240 s more when it is dropped
URL_CACHE_SIZE = 4096  # signed URLs kept (about 600 bytes each)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_BODY = 64 * 1024
CHECKSUM_MODE = {"x-amz-checksum-mode": "ENABLED"}  # signed into the URL, sent with it
# What botocore checks without its CRT extra (CRC32C, CRC64NVME need it): the same here.
# A composite checksum of a multipart upload (``…-<parts>``) cannot be checked at all.
CHECKSUMS: dict[str, Callable[[], BaseChecksum]] = {
    "crc32": Crc32Checksum,
    "sha1": Sha1Checksum,
    "sha256": Sha256Checksum,
}


def safe_code(code: str) -> str:
    """An S3 error code reduced to safe characters, for a message."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", code)[:64] or "unknown"


def unavailable(operation: str, detail: str) -> BlobStoreUnavailableError:
    """``BlobStoreUnavailableError`` for ``operation`` with a credential-free ``detail``."""
    return BlobStoreUnavailableError(f"The blob store is unavailable ({operation}: {detail}).")


def http_session(
    client: S3Client, *, connect_timeout: float, read_timeout: float, max_pool_connections: int
) -> URLLib3Session:
    """botocore's HTTP session, set up as ``client``'s own: CA bundle, proxies, timeouts.

    For the presigned requests of the store (these reads, and the uploads of
    ``storage/s3_writes.py``), which share its connection pool.
    """
    # botocore's stubs are narrower than botocore: its clients pass a CA bundle path as
    # ``verify`` and a (connect, read) pair as ``timeout``, as here. A bundle set only in
    # an AWS config profile is not seen here: the TLS error sends the request to boto3's
    # own call (``get_object``, ``put_object``).
    return URLLib3Session(
        verify=os.environ.get("AWS_CA_BUNDLE") or True,  # type: ignore[arg-type]
        proxies=get_environ_proxies(client.meta.endpoint_url),
        timeout=(connect_timeout, read_timeout),  # type: ignore[arg-type]
        max_pool_connections=max_pool_connections,
    )


def send(
    http: URLLib3Session, request: AWSPreparedRequest, *, attempts: int, operation: str
) -> AWSResponse | str:
    """``request``'s answer, its body unread, with botocore's standard retries.

    A connection error, or a throttling or 5xx answer, is tried again after a jittered
    pause, ``attempts`` tries in all; then ``BlobStoreUnavailableError`` (no status left
    to answer) or the last answer. A TLS error comes back as a reason to leave the
    request to boto3's own call.
    """
    failure = "unknown"
    for attempt in range(1, attempts + 1):
        if attempt > 1:  # botocore's standard mode: a random pause of up to 2**n s
            time.sleep(random.uniform(0, 2 ** (attempt - 1)))  # noqa: S311 - jitter
        try:
            response = http.send(request)
        except SSLError:
            return "TLS error"  # the same certificate again would fail the same way
        except (BotoConnectionError, HTTPClientError) as exc:
            failure = type(exc).__name__
            continue
        if response.status_code in RETRYABLE_STATUSES and attempt < attempts:
            response.raw.close()
            continue
        return response
    raise unavailable(operation, failure)


class PresignedReads:
    """GETs of one bucket's objects through URLs ``client`` signs, with retries.

    ``attempts`` counts tries of a connection failure or a retryable status (throttling
    and 5xx), as botocore's ``max_attempts`` does.
    """

    def __init__(
        self, client: S3Client, bucket: str, http: URLLib3Session, *, attempts: int
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._http = http
        self._attempts = max(1, attempts)
        self._signed = functools.lru_cache(maxsize=URL_CACHE_SIZE)(self._sign)

    def open(
        self, key: str, byte_range: str | None, *, size: Callable[[], int]
    ) -> BlobStream | str:
        """The object (or ``byte_range`` of it) as a checked chunk stream.

        Raises what ``get_object`` would: ``BlobNotFoundError``,
        ``RangeNotSatisfiableError`` (with the object's size, from S3's answer or else
        from ``size()``), ``BlobStoreUnavailableError`` (a connection error, throttling
        or a 5xx after the retry). Returns a reason instead, for the log, when the answer
        is one only ``get_object`` can take: a refusal of presigned URLs (a ``403`` even
        with a freshly signed URL), a redirect to the bucket's region, a TLS error (a CA
        bundle set only in an AWS profile), any other 3xx/4xx.
        """
        response = self._send(key, byte_range)
        if isinstance(response, AWSResponse) and response.status_code == 403:
            # Perhaps a reused URL whose credentials were rotated: sign afresh, once.
            response.raw.close()
            response = self._send(key, byte_range, fresh=True)
        if isinstance(response, str):
            return response
        status = response.status_code
        if status in (200, 206):
            header = response.headers.get("Content-Length")
            length = int(header) if header is not None and header.isdecimal() else None
            checksum = BodyChecksum.of(response.headers) if status == 200 else None
            return BlobStream(_chunks(response.raw, length, checksum), closer=response.raw)
        code, actual_size = error_of(response)
        if code == "InvalidRange":
            raise RangeNotSatisfiableError(int(actual_size) if actual_size.isdecimal() else size())
        if status == 404 and code == "NoSuchKey":
            raise BlobNotFoundError()
        if status in RETRYABLE_STATUSES:
            raise unavailable("open", f"error {safe_code(code)}")
        return f"{status} {safe_code(code)}"

    def _sign(self, key: str, period: int) -> str:
        """A GET URL for ``key``; ``period`` only keys the cache (see ``URL_REUSE``)."""
        params = {"Bucket": self._bucket, "Key": key, "ChecksumMode": "ENABLED"}
        return self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=URL_LIFETIME
        )

    def _send(self, key: str, byte_range: str | None, *, fresh: bool = False) -> AWSResponse | str:
        """The GET's answer, its body unread (``fresh``: a newly signed URL), with retries.

        A TLS error comes back as a reason to try ``get_object``.
        """
        # Wall-clock periods: a URL's expiry is wall-clock, and a monotonic clock stops
        # while the machine sleeps.
        period = int(time.time() // URL_REUSE)
        url = self._sign(key, period) if fresh else self._signed(key, period)
        headers = {**CHECKSUM_MODE, "Range": byte_range} if byte_range else CHECKSUM_MODE
        unprepared = AWSRequest("GET", url, headers)
        unprepared.stream_output = True
        return send(self._http, unprepared.prepare(), attempts=self._attempts, operation="open")


def error_of(response: AWSResponse, operation: str = "open") -> tuple[str, str]:
    """An error answer's S3 ``Code`` (else its status) and ``ActualObjectSize`` (or "").

    Reads at most ``MAX_ERROR_BODY`` bytes of the body and closes it; a body that cannot
    be read makes ``operation`` unavailable.
    """
    failure = None
    try:
        body = response.raw.read(MAX_ERROR_BODY)
    except (HTTPError, OSError) as exc:
        failure = type(exc).__name__
    finally:
        response.raw.close()
    if failure is not None:
        raise unavailable(operation, failure)
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own configured endpoint
    except ElementTree.ParseError:
        return str(response.status_code), ""
    code = root.findtext("Code") or str(response.status_code)
    return code, root.findtext("ActualObjectSize") or ""


class BodyChecksum:
    """The object's checksum as S3 reported it, checked against the bytes as they pass."""

    def __init__(self, algorithm: str, expected: str) -> None:
        self.algorithm = algorithm
        self._expected = expected
        self._checksum = CHECKSUMS[algorithm]()

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> BodyChecksum | None:
        """The checksum a full-object answer's ``headers`` carry, if we can check one."""
        for algorithm in CHECKSUMS:
            value = headers.get(f"x-amz-checksum-{algorithm}")
            if value and "-" not in value:
                return cls(algorithm, value)
        return None

    def update(self, chunk: bytes) -> None:
        """Add the next chunk of the body."""
        self._checksum.update(chunk)

    def matches(self) -> bool:
        """Whether the bytes seen so far are the object S3 described."""
        return bool(self._checksum.b64digest() == self._expected)


def _chunks(
    raw: BaseHTTPResponse, length: int | None, checksum: BodyChecksum | None
) -> Iterator[bytes]:
    """An object's body in chunks, checked: its ``Content-Length``, and its checksum.

    The checks run before the last chunk is handed on, so a reader that stops at the
    last chunk (an image that fits in one) gets an error rather than bad bytes. A body
    read to its end gives its connection back to the pool; one closed or failed midway
    closes it (unread bytes must not reach the next request).
    """
    received = 0
    checked = complete = False
    failure = None
    try:
        for chunk in raw.stream(CHUNK_SIZE, decode_content=False):
            received += len(chunk)
            if checksum is not None:
                checksum.update(chunk)
            if received == length:
                _check_body(checksum)
                checked = True
            yield chunk
        if length is not None and received != length:
            raise unavailable("read", f"{received} of {length} bytes")
        if not checked:
            _check_body(checksum)
        complete = True
    except (BotoCoreError, HTTPError, OSError) as exc:
        failure = type(exc).__name__
    finally:
        if complete:
            raw.release_conn()
        else:
            raw.close()
    if failure is not None:
        raise unavailable("read", failure)


def _check_body(checksum: BodyChecksum | None) -> None:
    """``BlobStoreUnavailableError`` if the body is not the object S3 described."""
    if checksum is not None and not checksum.matches():
        logger.error("S3 object body failed its %s checksum", checksum.algorithm)
        raise unavailable("read", f"{checksum.algorithm} checksum mismatch")
