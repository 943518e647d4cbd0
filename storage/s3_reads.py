"""Object reads for ``S3BlobStore.open``: a presigned GET sent on botocore's HTTP session.

Why not ``get_object``: for a 256 KiB image, the client's machinery (event hooks,
signing, response parsing) cost about 1.3 ms of CPU per read, more than moving the
bytes; a URL presigned locally by the same client and sent on botocore's own
``URLLib3Session`` (its urllib3 pool classes, TLS verification, proxies from the
environment, timeouts) costs about 0.8 ms, and reusing the URL saves another 0.16 ms
(bench/README.md, "Content"). Keys are immutable, so a signed URL may be reused for a
while: each is signed for ``URL_LIFETIME`` seconds and reused for at most
``URL_REUSE`` of them. botocore's errors pass through unchanged, for ``storage/s3.py`` to
translate as it does every other call's.
"""

from __future__ import annotations

import functools
import os
import time
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

URL_LIFETIME = 300  # seconds a signed URL is valid
URL_REUSE = 60  # seconds a signed URL is reused: valid for 240 s more when it is dropped
URL_CACHE_SIZE = 4096  # signed URLs kept (about 600 bytes each)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_BODY = 64 * 1024


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
        # as ``verify`` and a (connect, read) pair as ``timeout``, as here.
        self._http = URLLib3Session(
            verify=os.environ.get("AWS_CA_BUNDLE") or True,  # type: ignore[arg-type]
            proxies=get_environ_proxies(client.meta.endpoint_url),
            timeout=(connect_timeout, read_timeout),  # type: ignore[arg-type]
            max_pool_connections=max_pool_connections,
        )
        self._signed = functools.lru_cache(maxsize=URL_CACHE_SIZE)(self._sign)

    def _sign(self, key: str, period: int) -> str:
        """A GET URL for ``key``; ``period`` only keys the cache (see ``URL_REUSE``)."""
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=URL_LIFETIME
        )

    def get(self, key: str, byte_range: str | None = None) -> AWSResponse:
        """Send the GET (``Range: byte_range`` if given); the body is left unread.

        The response may be an error: see :func:`error_of`. Raises botocore's
        connection errors once ``attempts`` are used up.
        """
        url = self._signed(key, int(time.monotonic() // URL_REUSE))
        headers = {"Range": byte_range} if byte_range else {}
        unprepared = AWSRequest("GET", url, headers)
        unprepared.stream_output = True
        request = unprepared.prepare()
        attempt = 1
        while True:
            try:
                response = self._http.send(request)
            except (BotoConnectionError, HTTPClientError):
                if attempt >= self._attempts:
                    raise
            else:
                if response.status_code not in RETRYABLE_STATUSES or attempt >= self._attempts:
                    return response
                response.raw.close()
            attempt += 1

    def close(self) -> None:
        """Release the pooled connections."""
        self._http.close()


def error_of(response: AWSResponse) -> tuple[str, str]:
    """The S3 error ``Code`` of an error response (else its status) and ``ActualObjectSize``.

    Reads at most ``MAX_ERROR_BODY`` bytes of the body and closes it.
    """
    try:
        body = response.raw.read(MAX_ERROR_BODY)
    finally:
        response.raw.close()
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own configured endpoint
    except ElementTree.ParseError:
        return str(response.status_code), ""
    return root.findtext("Code") or str(response.status_code), root.findtext(
        "ActualObjectSize"
    ) or ""
