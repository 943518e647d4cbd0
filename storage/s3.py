"""The S3 blob store (AWS, MinIO or any S3-compatible endpoint) on boto3.

The client is built without a network call, so an unreachable bucket never stops
startup; every botocore error is translated here into the core exceptions, chained
``from`` the original except on the presigned reads and uploads
(``storage/s3_reads.py``, ``storage/s3_writes.py``), whose errors name a signed URL.
Messages carry the S3 error code only, never credentials.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.exceptions import (
    BlobNotFoundError,
    BlobStoreUnavailableError,
    ConfigurationError,
    PixyProxyException,
    RangeNotSatisfiableError,
)
from core.settings import Settings
from storage.blob_store import CHUNK_SIZE, BlobInfo, BlobStore, BlobStream
from storage.s3_reads import PresignedReads, http_session, safe_code, unavailable
from storage.s3_writes import PresignedWrites, UploadSigner

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from types_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

PRESIGNED_PAUSE = 300  # seconds get_object and put_object are used after S3 refused a presigned URL

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _error_code(exc: ClientError) -> str:
    """The S3 error code of ``exc``, reduced to safe characters."""
    return safe_code(str(exc.response.get("Error", {}).get("Code", "unknown")))


def _unavailable(operation: str, exc: Exception) -> BlobStoreUnavailableError:
    """A credential-free ``BlobStoreUnavailableError`` describing ``exc``."""
    detail = f"error {_error_code(exc)}" if isinstance(exc, ClientError) else type(exc).__name__
    return unavailable(operation, detail)


def _translate(operation: str, exc: Exception) -> PixyProxyException:
    """Map a botocore error to a core exception (ranges are handled by the caller)."""
    if isinstance(exc, ClientError) and _error_code(exc) in _NOT_FOUND_CODES:
        return BlobNotFoundError()
    return _unavailable(operation, exc)


def _check_range(start: int | None, end: int | None) -> None:
    """Reject ranges no caller should build (negative, or ending before they start)."""
    if (start is not None and start < 0) or (end is not None and end < (start or 0)):
        raise ValueError(f"invalid byte range {start}-{end}")


def _body_chunks(body: StreamingBody) -> Iterator[bytes]:
    """Chunks of a ``get_object`` body; the body is closed on exhaustion, error or close."""
    try:
        yield from body.iter_chunks(CHUNK_SIZE)
    except (BotoCoreError, OSError) as exc:
        raise _unavailable("read", exc) from exc
    finally:
        body.close()


class S3BlobStore(BlobStore):
    """Blobs as objects in one S3 bucket.

    Built from settings without contacting the endpoint. Calls are bounded by the
    connect/read timeouts and ``max_attempts`` (botocore's "standard" retry mode; the
    presigned reads and uploads retry the same way, without its retry quota:
    ``s3_reads.py``); ``s3_public_endpoint_url``, when set, is used only to sign the
    presigned URLs handed to clients.
    """

    backend = "s3"

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 2,
        max_pool_connections: int = 32,
    ) -> None:
        if not settings.s3_bucket:
            raise ConfigurationError("Invalid setting: S3_BUCKET")
        self.bucket = settings.s3_bucket
        self.region = settings.aws_region
        secret = settings.aws_secret_access_key
        session = boto3.session.Session(
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            region_name=settings.aws_region,
        )
        endpoint = settings.s3_endpoint_url
        public_endpoint = settings.s3_public_endpoint_url or endpoint
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "auto"},
        )
        self._client: S3Client = session.client("s3", endpoint_url=endpoint, config=config)
        self._presigned_off_until = 0.0  # monotonic time; see ``presigned_on``
        self._http = http_session(
            self._client,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
        )
        self._reads = PresignedReads(self._client, self.bucket, self._http, attempts=max_attempts)
        # The session's credentials are the client's own (resolved when it was built).
        signer = UploadSigner(self._client, self.bucket, session.get_credentials())
        self._writes = PresignedWrites(signer, self._http, attempts=max_attempts)
        self._presign_client: S3Client = session.client(
            "s3",
            endpoint_url=public_endpoint,
            config=config.merge(
                Config(s3={"addressing_style": "path" if public_endpoint else "auto"})
            ),
        )

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Upload ``data`` in one PUT, which S3 applies whole or not at all.

        Sent as a presigned PUT with its CRC32 (``storage/s3_writes.py``); an answer it
        cannot take is left to ``put_object``, as :meth:`open` leaves one to
        ``get_object``, and both use boto3's calls for ``PRESIGNED_PAUSE`` seconds.
        """
        if self.presigned_on:
            refused = self._writes.put(key, data, content_type=content_type)
            if refused is None:
                return
            self._put_object(key, data, content_type)
            self._presigned_off(f"S3 refused a presigned upload ({refused}) that put_object made")
            return
        self._put_object(key, data, content_type)

    def _put_object(self, key: str, data: bytes, content_type: str) -> None:
        """:meth:`put` through boto3's ``put_object``."""
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("put", exc) from exc

    def open(self, key: str, *, start: int | None = None, end: int | None = None) -> BlobStream:
        """Stream the object, or bytes ``start``..``end`` inclusive, in ``CHUNK_SIZE`` chunks.

        Sent as a presigned GET (``storage/s3_reads.py``): the answers of ``get_object``
        for less CPU. One it cannot take as it is (a bucket policy that refuses presigned
        URLs, a redirect to the bucket's region, a CA bundle only boto3's profile knows,
        any other 3xx/4xx) is left to ``get_object``; when that works, reads use it for
        ``PRESIGNED_PAUSE`` seconds before trying presigned GETs again.
        """
        _check_range(start, end)
        byte_range = None
        if start or end is not None:
            byte_range = f"bytes={start or 0}-{'' if end is None else end}"
        if not self.presigned_on:
            return self._get_object(key, byte_range)
        answer = self._reads.open(key, byte_range, size=lambda: self.stat(key).size)
        if isinstance(answer, BlobStream):
            return answer
        stream = self._get_object(key, byte_range)
        self._presigned_off(f"S3 refused a presigned read ({answer}) that get_object made")
        return stream

    @property
    def presigned_on(self) -> bool:
        """Whether reads and uploads go as presigned requests now (``False`` for a while
        after S3 refused one that boto3's own call then made)."""
        return time.monotonic() >= self._presigned_off_until

    def _presigned_off(self, why: str) -> None:
        """Use boto3's calls for ``PRESIGNED_PAUSE`` seconds, and say why."""
        self._presigned_off_until = time.monotonic() + PRESIGNED_PAUSE
        logger.warning("%s: boto3's calls for %d s", why, PRESIGNED_PAUSE)

    def _get_object(self, key: str, byte_range: str | None) -> BlobStream:
        """:meth:`open` through boto3's ``get_object``."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if byte_range:
            params["Range"] = byte_range
        try:
            response = self._client.get_object(**params)
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":
                size = str(exc.response.get("Error", {}).get("ActualObjectSize", ""))
                raise RangeNotSatisfiableError(
                    int(size) if size.isdecimal() else self.stat(key).size
                ) from exc
            raise _translate("open", exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("open", exc) from exc
        body = response["Body"]
        return BlobStream(_body_chunks(body), closer=body)

    def stat(self, key: str) -> BlobInfo:
        """Size and modification time from a HEAD request."""
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _translate("stat", exc) from exc
        return BlobInfo(key=key, size=head["ContentLength"], last_modified=head["LastModified"])

    def delete(self, key: str) -> None:
        """Delete the object; S3 answers success for a missing key too."""
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) == "NoSuchKey":
                return
            raise _unavailable("delete", exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("delete", exc) from exc

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield every object under ``prefix``, one ListObjectsV2 page at a time."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield BlobInfo(
                        key=item["Key"], size=item["Size"], last_modified=item["LastModified"]
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("list", exc) from exc

    def ping(self) -> None:
        """HEAD the bucket; a missing bucket counts as unavailable."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("ping", exc) from exc

    def presigned_url(self, key: str, *, expires: int) -> str | None:
        """A GET URL signed locally (no network call) for the public endpoint."""
        try:
            return self._presign_client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("presign", exc) from exc

    def close(self) -> None:
        """Release both clients' connection pools and the presigned requests'."""
        self._http.close()
        self._client.close()
        self._presign_client.close()
