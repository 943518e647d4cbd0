"""Fixtures for the S3 and local blob stores (registered in ``tests/conftest.py``).

``moto_server`` runs moto's standalone S3 server over HTTP for the whole session;
``s3_settings`` gives each test a fresh bucket on it; ``stoppable_s3`` puts a TCP
proxy in front of moto that a test can stop and restart on the same port, to play an
S3 endpoint going away and coming back. (Stopping a ``ThreadedMotoServer`` itself
would not do: its handler threads keep serving pooled keep-alive connections.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from core.settings import Settings
from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore

TEST_REGION = "us-east-1"
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"
_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
    "AWS_SESSION_TOKEN": None,
    "AWS_SECURITY_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_DEFAULT_REGION": TEST_REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def make_s3_settings(endpoint_url: str, bucket: str | None = None, **overrides: Any) -> Settings:
    """Settings for an S3 store on ``endpoint_url`` with a random bucket; ``.env`` is not read."""
    values: dict[str, Any] = {
        "s3_bucket": bucket or f"pixy-test-{secrets.token_hex(6)}",
        "s3_endpoint_url": endpoint_url,
        "aws_region": TEST_REGION,
        "aws_access_key_id": TEST_ACCESS_KEY,
        "aws_secret_access_key": TEST_SECRET_KEY,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def create_bucket(settings: Settings) -> bool:
    """Create the bucket of ``settings`` unless it exists; True when it was created."""
    store = S3BlobStore(settings)
    client, region = store._client, store.region
    try:
        client.head_bucket(Bucket=store.bucket)
        return False
    except ClientError:
        if region and region != "us-east-1":
            client.create_bucket(
                Bucket=store.bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        else:
            client.create_bucket(Bucket=store.bucket)
        return True
    finally:
        store.close()


def drop_bucket(settings: Settings) -> None:
    """Best effort: empty and delete the bucket of ``settings``."""
    store = S3BlobStore(settings)
    with contextlib.suppress(Exception):
        for info in store.list_blobs():
            store.delete(info.key)
        store._client.delete_bucket(Bucket=store.bucket)
    store.close()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint URL."""
    saved = {name: os.environ.get(name) for name in _FAKE_AWS_ENV}
    for name, value in _FAKE_AWS_ENV.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@pytest.fixture
def s3_settings(moto_server: str) -> Iterator[Settings]:
    """Settings pointing at a fresh, existing bucket on moto; dropped afterwards."""
    settings = make_s3_settings(moto_server)
    create_bucket(settings)
    yield settings
    drop_bucket(settings)


@pytest.fixture
def s3_blob_store(s3_settings: Settings) -> Iterator[S3BlobStore]:
    """An ``S3BlobStore`` on its own bucket."""
    store = S3BlobStore(s3_settings)
    yield store
    store.close()


@pytest.fixture
def local_blob_store(tmp_path: Path) -> LocalBlobStore:
    """A ``LocalBlobStore`` in a fresh temporary folder (not created yet)."""
    return LocalBlobStore(tmp_path / "blobs")


class TcpProxy:
    """Forward a loopback port to ``target``; ``stop()`` refuses and cuts every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen again (on the same port after the first start)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        """Close the listening socket and every open connection."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        if self._accepting is not None:
            self._accepting.join()  # exits within one accept timeout
        listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class StoppableS3:
    """An S3 endpoint (moto behind a ``TcpProxy``) that a test can take down and back."""

    def __init__(self, moto_url: str) -> None:
        host, _, port = moto_url.removeprefix("http://").partition(":")
        self._proxy = TcpProxy((host, int(port)))
        self._proxy.start()
        self.endpoint_url = f"http://127.0.0.1:{self._proxy.port}"
        self.settings = make_s3_settings(self.endpoint_url)

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        self._proxy.stop()

    def start(self) -> None:
        """Serve again on the same port, with the same bucket and objects."""
        self._proxy.start()


@pytest.fixture
def stoppable_s3(moto_server: str) -> Iterator[StoppableS3]:
    """A running ``StoppableS3`` whose ``settings`` name an existing fresh bucket."""
    endpoint = StoppableS3(moto_server)
    create_bucket(endpoint.settings)
    yield endpoint
    endpoint.stop()
    drop_bucket(endpoint.settings.model_copy(update={"s3_endpoint_url": moto_server}))
