"""Build the blob store the settings ask for (CONTRACT.md §2); nothing runs at import."""

from __future__ import annotations

from core.settings import Settings
from storage.blob_store import BlobStore
from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore


def build_blob_store(settings: Settings) -> BlobStore:
    """An ``S3BlobStore`` when ``S3_BUCKET`` is set, else a ``LocalBlobStore`` on ``BLOB_DIR``.

    No network call and no folder is created here: an unreachable bucket or a missing
    folder shows up in ``ping()`` (``/readyz``), not at startup.
    """
    if settings.uses_s3:
        return S3BlobStore(settings)
    return LocalBlobStore(settings.blob_dir)
