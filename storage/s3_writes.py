"""Object uploads for ``S3BlobStore.put``: a presigned PUT sent on botocore's HTTP session.

Why not ``put_object``: the client's machinery (event hooks, checksum and signing
handlers, response parsing) cost about 1.9 ms of CPU per 200 KB upload, more than
moving the bytes; a URL signed locally by the same client and sent on the HTTP session
of the presigned reads (``storage/s3_reads.py``) costs about 1.2 ms. Under the create
load of ``make bench`` that took 1.0 to 1.5 ms of server CPU off each create, a rendition's
two uploads included (bench/README.md, "Uploads as presigned PUTs").

Each URL is signed as ``generate_presigned_url`` would sign it, but without the
client's request pipeline (0.18 ms of CPU per URL, against 0.07): the client is asked
once where the bucket's objects live and which region it signs for, and each upload's
URL is that place and its key, signed by botocore's own SigV4 query signer with the
credentials the client uses (:class:`UploadSigner`).

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
from urllib.parse import parse_qs, quote, urlsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError
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


PROBE_KEY = "pixyproxy-probe"  # a key signed once, to learn where the bucket's objects live


class UploadSigner:
    """PUT URLs of one bucket's objects, signed as ``client.generate_presigned_url`` signs.

    The client signs one URL for :data:`PROBE_KEY`: its path up to the key is where every
    key of the bucket lives (the endpoint, path or virtual-host addressing) and its
    credential scope names the region the client signs for. Each URL after that is the
    place, the quoted key and botocore's ``S3SigV4QueryAuth`` with ``credentials`` (the
    client's own: refreshable ones are frozen per URL, as the client does). When the
    probe does not look like that (another signature version), or there are no
    credentials, every URL is the client's own.
    """

    def __init__(self, client: S3Client, bucket: str, credentials: Credentials | None) -> None:
        self._client = client
        self._bucket = bucket
        self._credentials = credentials
        self._place: tuple[str, str] | None = None  # (URL up to the key, signing region)
        self._probed = False

    def url(self, key: str, headers: dict[str, str]) -> str:
        """A URL for a PUT of ``key`` with ``headers`` (all signed), valid ``URL_LIFETIME`` s.

        Raises botocore's errors (no credentials, say).
        """
        place = self._learn_place() if not self._probed else self._place
        if place is None or self._credentials is None:
            return self._client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self._bucket, "Key": key, **_put_params(headers)},
                ExpiresIn=URL_LIFETIME,
            )
        prefix, region = place
        request = AWSRequest("PUT", prefix + quote(key, safe="/~"), headers)
        auth = S3SigV4QueryAuth(
            self._credentials.get_frozen_credentials(), "s3", region, expires=URL_LIFETIME
        )
        auth.add_auth(request)
        return str(request.url)

    def _learn_place(self) -> tuple[str, str] | None:
        """Where the bucket's objects live and the signing region, from one URL the
        client signs; ``None`` if its URL does not show them."""
        try:
            probe = urlsplit(
                self._client.generate_presigned_url(
                    "put_object", Params={"Bucket": self._bucket, "Key": PROBE_KEY}
                )
            )
        except BotoCoreError:
            return None  # not learned: tried again with the next URL
        self._probed = True
        scope = parse_qs(probe.query).get("X-Amz-Credential", [""])[0].split("/")
        if not probe.path.endswith("/" + PROBE_KEY) or len(scope) != 5 or scope[3] != "s3":
            return None
        path = probe.path[: -len(PROBE_KEY)]
        self._place = (f"{probe.scheme}://{probe.netloc}{path}", scope[2])
        return self._place


def _put_params(headers: dict[str, str]) -> dict[str, str]:
    """``put_object``'s parameters for the signed ``headers`` of an upload."""
    return {
        "ContentType": headers["Content-Type"],
        "ChecksumAlgorithm": headers["x-amz-sdk-checksum-algorithm"],
        "ChecksumCRC32": headers["x-amz-checksum-crc32"],
    }


class PresignedWrites:
    """PUTs of one bucket's objects through URLs ``signer`` signs, with retries."""

    def __init__(self, signer: UploadSigner, http: URLLib3Session, *, attempts: int) -> None:
        self._signer = signer
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
        try:
            url = self._signer.url(key, headers)
        except BotoCoreError as exc:
            return f"signing failed: {type(exc).__name__}"  # put_object says it better
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
