"""Object reads for ``S3BlobStore.open``: a presigned GET sent on botocore's HTTP session.

Why not ``get_object``: for a 256 KiB image, the client's machinery (event hooks,
signing, response parsing) cost about 1.3 ms of CPU per read, more than moving the
bytes; a URL presigned locally by the same client and sent on botocore's own
``URLLib3Session`` (its urllib3 pool classes, TLS verification, proxies from the
environment, timeouts) costs about 0.8 ms, and reusing the URL saves another 0.16 ms
(bench/README.md, "Content"). Keys are immutable, so a signed URL may be reused for a
while: each is signed for ``URL_LIFETIME`` seconds and reused for at most
``URL_REUSE`` of them.

What ``get_object`` did that this keeps: one retry, after a jittered pause, of a
connection error, throttling or a 5xx (``max_attempts=2``); the whole-object checksum
(``x-amz-checksum-mode: ENABLED``, checked as the body streams: :class:`BodyChecksum`).
botocore's errors pass through unchanged, for ``storage/s3.py`` to translate.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import random
import time
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol
from xml.etree import ElementTree

from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError, SSLError
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

URL_LIFETIME = 300  # seconds a signed URL is valid
URL_REUSE = 60  # seconds a signed URL is reused: valid for 240 s more when it is dropped
URL_CACHE_SIZE = 4096  # signed URLs kept (about 600 bytes each)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_BODY = 64 * 1024
CHECKSUM_MODE = {"x-amz-checksum-mode": "ENABLED"}  # signed into the URL, sent with it


class S3Error(NamedTuple):
    """What an S3 error answer says: its ``Code`` and, for ``InvalidRange``, the size."""

    code: str
    actual_size: str


class PresignedReads:
    """GETs of one bucket's objects through URLs ``client`` signs, with retries.

    ``attempts`` counts tries of a connection failure or a retryable status (throttling
    and 5xx), as botocore's ``max_attempts`` does.
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        attempts: int,
        max_pool_connections: int,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._attempts = max(1, attempts)
        # botocore's stubs are narrower than botocore: its clients pass a CA bundle path
        # as ``verify`` and a (connect, read) pair as ``timeout``, as here. A bundle set
        # only in an AWS config profile is not seen here: the TLS error sends the read to
        # ``get_object`` (storage/s3.py).
        self._http = URLLib3Session(
            verify=os.environ.get("AWS_CA_BUNDLE") or True,  # type: ignore[arg-type]
            proxies=get_environ_proxies(client.meta.endpoint_url),
            timeout=(connect_timeout, read_timeout),  # type: ignore[arg-type]
            max_pool_connections=max_pool_connections,
        )
        self._signed = functools.lru_cache(maxsize=URL_CACHE_SIZE)(self._sign)

    def _sign(self, key: str, period: int) -> str:
        """A GET URL for ``key``; ``period`` only keys the cache (see ``URL_REUSE``)."""
        params = {"Bucket": self._bucket, "Key": key, "ChecksumMode": "ENABLED"}
        return self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=URL_LIFETIME
        )

    def get(self, key: str, byte_range: str | None = None, *, fresh: bool = False) -> AWSResponse:
        """Send the GET (``Range: byte_range`` if given); the body is left unread.

        ``fresh`` signs a new URL instead of reusing one. The response may be an error:
        see :func:`error_of`. Raises botocore's connection errors once ``attempts`` are
        used up.
        """
        # Wall-clock periods: a URL's expiry is wall-clock, and a monotonic clock stops
        # while the machine sleeps.
        period = int(time.time() // URL_REUSE)
        url = self._sign(key, period) if fresh else self._signed(key, period)
        headers = {**CHECKSUM_MODE, "Range": byte_range} if byte_range else CHECKSUM_MODE
        unprepared = AWSRequest("GET", url, headers)
        unprepared.stream_output = True
        request = unprepared.prepare()
        attempt = 1
        while True:
            try:
                response = self._http.send(request)
            except SSLError:
                raise  # the same certificate again would fail the same way
            except (BotoConnectionError, HTTPClientError):
                if attempt >= self._attempts:
                    raise
            else:
                if response.status_code not in RETRYABLE_STATUSES or attempt >= self._attempts:
                    return response
                response.raw.close()
            # botocore's standard mode: a random pause of up to 2**attempt seconds.
            time.sleep(random.uniform(0, 2**attempt))  # noqa: S311 - jitter, not secrets
            attempt += 1

    def close(self) -> None:
        """Release the pooled connections."""
        self._http.close()


def error_of(response: AWSResponse) -> S3Error:
    """The S3 error of an error answer (its status when the body has no ``Code``).

    Reads at most ``MAX_ERROR_BODY`` bytes of the body and closes it; urllib3's errors
    while reading pass through.
    """
    try:
        body = response.raw.read(MAX_ERROR_BODY)
    finally:
        response.raw.close()
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own configured endpoint
    except ElementTree.ParseError:
        return S3Error(str(response.status_code), "")
    code = root.findtext("Code") or str(response.status_code)
    return S3Error(code, root.findtext("ActualObjectSize") or "")


class _Digest(Protocol):
    """hashlib's interface, which the CRC32 below follows too."""

    def update(self, data: bytes, /) -> None:
        """Add bytes."""

    def digest(self) -> bytes:
        """The digest of the bytes added so far."""


class _Crc32:
    """zlib's CRC32 as a hashlib-like digest (S3 sends it big-endian, base64)."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes, /) -> None:
        """Add bytes."""
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        """The CRC32 so far, four bytes big-endian."""
        return self._value.to_bytes(4, "big")


_ALGORITHMS: dict[str, Callable[[], _Digest]] = {
    "crc32": _Crc32,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}


class BodyChecksum:
    """The object's checksum as S3 reported it, checked against the bytes as they pass.

    Only a whole-object checksum can be checked (a composite one of a multipart upload
    ends in ``-<parts>``); algorithms the standard library lacks (CRC32C, CRC64NVME) are
    not checked, as botocore without its CRT extra does not either.
    """

    def __init__(self, algorithm: str, expected: str) -> None:
        self.algorithm = algorithm
        self._expected = expected
        self._digest = _ALGORITHMS[algorithm]()

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> BodyChecksum | None:
        """The checksum a full-object answer's ``headers`` carry, if we can check one."""
        for algorithm in _ALGORITHMS:
            value = headers.get(f"x-amz-checksum-{algorithm}")
            if value and "-" not in value:
                return cls(algorithm, value)
        return None

    def update(self, chunk: bytes) -> None:
        """Add the next chunk of the body."""
        self._digest.update(chunk)

    def matches(self) -> bool:
        """Whether the bytes seen so far are the object S3 described."""
        return base64.b64encode(self._digest.digest()).decode("ascii") == self._expected
