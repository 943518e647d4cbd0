"""A TCP relay that watches each connection: bytes carried back and when the client hung up.

Put it between the app and moto's S3 server to see, at the socket level, what happens to
an S3 read: how much of an object the app really pulled, and whether the app closed the
connection (a closed S3 body) rather than leaving it open or draining it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self


@dataclass
class RelayedConnection:
    """One client connection: bytes sent back to the client, and an event for its close."""

    bytes_to_client: int = 0
    client_closed: threading.Event = field(default_factory=threading.Event)


class TcpRelay:
    """Forward ``127.0.0.1:<port>`` to ``target``, recording every connection.

    Small socket buffers on the relay's side keep what it holds in flight small, so
    ``bytes_to_client`` stays close to what the client actually read.
    """

    BUFFER = 64 * 1024

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[RelayedConnection] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="tcp-relay", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._thread.join(timeout=5)

    def busiest(self) -> RelayedConnection:
        """The connection that carried the most bytes back to its client."""
        with self._lock:
            return max(self.connections, key=lambda conn: conn.bytes_to_client)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for sock, option in ((client, socket.SO_SNDBUF), (upstream, socket.SO_RCVBUF)):
                sock.setsockopt(socket.SOL_SOCKET, option, self.BUFFER)
            record = RelayedConnection()
            with self._lock:
                self.connections.append(record)
                self._sockets += [client, upstream]
            threading.Thread(target=self._up, args=(client, upstream, record), daemon=True).start()
            threading.Thread(
                target=self._down, args=(upstream, client, record), daemon=True
            ).start()

    @staticmethod
    def _up(client: socket.socket, upstream: socket.socket, record: RelayedConnection) -> None:
        """Client → target; EOF or an error here means the client closed the connection."""
        try:
            while data := client.recv(TcpRelay.BUFFER):
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            record.client_closed.set()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _down(upstream: socket.socket, client: socket.socket, record: RelayedConnection) -> None:
        """Target → client, counting the bytes."""
        try:
            while data := upstream.recv(TcpRelay.BUFFER):
                client.sendall(data)
                record.bytes_to_client += len(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)
