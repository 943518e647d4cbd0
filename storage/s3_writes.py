"""Object uploads for ``S3BlobStore.put``: a presigned PUT sent on botocore's HTTP session.

Why not ``put_object``: the client's machinery (event hooks, checksum and signing
handlers, response parsing) cost about 1.9 ms of CPU per 200 KB upload, more than
moving the bytes; a URL signed locally by the same client and sent on the HTTP session
of the presigned reads (``storage/s3_reads.py``) costs about 1.2 ms. Under the create
load of ``make bench`` that took 1.0 to 1.5 ms of server CPU off each create, a rendition's
two uploads included (bench/README.md, "Uploads as presigned PUTs").

What ``put_object`` did that this keeps: the body's CRC32, computed here and signed
into the URL with the content type (``x-amz-checksum-crc32``,
``x-amz-sdk-checksum-algorithm``), so that S3 refuses bytes changed on the way and
stores the checksum the reads check; one retry, after a jittered pause, of a connection
error, throttling or a 5xx (``max_attempts=2``); the same errors. An answer only
``put_object`` can take (see :meth:`PresignedWrites.put`) is handed back to the store.

As for the reads, every error here is raised outside the handler that caught the
original, so that the signed URL never travels with it.
"""

from __future__ import annotations

import base64
import zlib
from typing import TYPE_CHECKING

from botocore.awsrequest import AWSRequest
from botocore.httpsession import URLLib3Session

from storage.s3_reads import (
    RETRYABLE_STATUSES,
    URL_LIFETIME,
    error_of,
    safe_code,
    send,
    unavailable,
)

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


def _crc32_base64(data: bytes) -> str:
    """The CRC32 of ``data`` as S3 writes it: four big-endian bytes, base64."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode("ascii")


class PresignedWrites:
    """PUTs of one bucket's objects through URLs ``client`` signs, with retries."""

    def __init__(
        self, client: S3Client, bucket: str, http: URLLib3Session, *, attempts: int
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._http = http
        self._attempts = max(1, attempts)

    def put(self, key: str, data: bytes, *, content_type: str) -> str | None:
        """Upload ``data`` whole; ``None`` once S3 has it.

        Raises ``BlobStoreUnavailableError`` for a connection error, throttling or a 5xx
        after the retry. Returns a reason instead, for the log, when the answer is one
        only ``put_object`` can take: a refusal of presigned URLs (``403``), a redirect
        to the bucket's region, a TLS error, any other 3xx/4xx.
        """
        checksum = _crc32_base64(data)
        headers = {
            "Content-Type": content_type,
            "x-amz-checksum-crc32": checksum,
            "x-amz-sdk-checksum-algorithm": "CRC32",
        }
        url = self._client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ContentType": content_type,
                "ChecksumAlgorithm": "CRC32",
                "ChecksumCRC32": checksum,
            },
            ExpiresIn=URL_LIFETIME,
        )
        unprepared = AWSRequest("PUT", url, headers, data=data)
        unprepared.stream_output = True
        response = send(self._http, unprepared.prepare(), attempts=self._attempts, operation="put")
        if isinstance(response, str):
            return response
        if response.status_code == 200:
            response.raw.read()
            response.raw.release_conn()
            return None
        code, _ = error_of(response, "put")
        if response.status_code in RETRYABLE_STATUSES:
            raise unavailable("put", f"error {safe_code(code)}")
        return f"{response.status_code} {safe_code(code)}"
