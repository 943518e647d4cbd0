"""The local-folder blob store: one file per key under ``BLOB_DIR``.

Keys are checked before they become paths (no ``..``, absolute paths, backslashes or
hidden segments), so a key can never escape the folder. Writes go to a temp file in
the target folder, are fsynced and then renamed over the real name, so a crash never
leaves half an image under a real key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from core.exceptions import (
    BlobNotFoundError,
    BlobStoreUnavailableError,
    RangeNotSatisfiableError,
    ValidationFailedError,
)
from storage.blob_store import CHUNK_SIZE, BlobInfo, BlobStore, BlobStream

TEMP_SUFFIX = ".tmp"


def _unavailable(operation: str, exc: OSError) -> BlobStoreUnavailableError:
    """A message naming the failed operation and errno, not the full path."""
    reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
    return BlobStoreUnavailableError(f"The blob store is unavailable ({operation}: {reason}).")


def _read_range(handle: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    """Chunks of ``handle`` from ``start`` to ``end`` inclusive; closes it when done."""
    try:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    except OSError as exc:
        raise _unavailable("read", exc) from exc
    finally:
        handle.close()


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root`` (created on first use)."""

    backend = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        """The file for ``key``; raise ``ValidationFailedError`` for an unsafe key."""
        parts = key.split("/")
        unsafe = (
            not key
            or "\\" in key
            or "\x00" in key
            or key.startswith("/")
            or any(not part or part.startswith(".") for part in parts)
        )
        if unsafe:
            raise ValidationFailedError("Invalid blob key.")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Write ``data`` atomically: temp file, fsync, then rename over the real name."""
        path = self.path_for(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX
            )
        except OSError as exc:
            raise _unavailable("put", exc) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
            self._fsync_dir(path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise _unavailable("put", exc) from exc

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        """Make the rename durable (best effort where folders cannot be opened)."""
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def open(self, key: str, *, start: int | None = None, end: int | None = None) -> BlobStream:
        """Stream the file, or bytes ``start``..``end`` inclusive, in ``CHUNK_SIZE`` chunks."""
        if (start is not None and start < 0) or (end is not None and end < (start or 0)):
            raise ValueError(f"invalid byte range {start}-{end}")
        path = self.path_for(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise BlobNotFoundError() from exc
        except OSError as exc:
            raise _unavailable("open", exc) from exc
        try:
            size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            handle.close()
            raise _unavailable("open", exc) from exc
        first = start or 0
        if first >= size and (first > 0 or end is not None):
            handle.close()
            raise RangeNotSatisfiableError(size)
        last = size - 1 if end is None else min(end, size - 1)
        return BlobStream(_read_range(handle, first, last), closer=handle)

    def stat(self, key: str) -> BlobInfo:
        """Size and modification time of the file."""
        path = self.path_for(key)
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise BlobNotFoundError() from exc
        except OSError as exc:
            raise _unavailable("stat", exc) from exc
        if not path.is_file():
            raise BlobNotFoundError()
        return BlobInfo(key=key, size=info.st_size, last_modified=_utc(info.st_mtime))

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is fine."""
        path = self.path_for(key)
        try:
            path.unlink(missing_ok=True)
        except NotADirectoryError:
            return
        except OSError as exc:
            raise _unavailable("delete", exc) from exc

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield every complete file whose key starts with ``prefix``, folder by folder."""
        head, _, _ = prefix.rpartition("/")
        top = self.root.joinpath(*head.split("/")) if head else self.root
        if ".." in head.split("/") or not top.is_dir():
            return
        try:
            for folder, dirs, files in os.walk(top, onerror=_raise):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith("."):  # temp files of writes in progress
                        continue
                    path = Path(folder, name)
                    key = path.relative_to(self.root).as_posix()
                    if not key.startswith(prefix):
                        continue
                    try:
                        info = path.stat()
                    except FileNotFoundError:  # deleted while we walked
                        continue
                    yield BlobInfo(key, info.st_size, _utc(info.st_mtime))
        except OSError as exc:
            raise _unavailable("list", exc) from exc

    def ping(self) -> None:
        """Create the folder if needed and prove it is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=".ping.", suffix=TEMP_SUFFIX):
                pass
        except OSError as exc:
            raise _unavailable("ping", exc) from exc


def _utc(timestamp: float) -> datetime:
    """A POSIX timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, UTC)


def _raise(exc: OSError) -> None:
    """``os.walk`` error hook: surface errors instead of silently skipping folders."""
    if not isinstance(exc, FileNotFoundError):  # a folder removed while we walked
        raise exc
