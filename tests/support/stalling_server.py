"""An HTTP endpoint that accepts connections and reads requests but never really answers.

For the generation deadline (CONTRACT.md §6): point ``OPENAI_BASE_URL`` at
``server.base_url``. ``"silent"`` never sends a byte; ``"drip"`` sends a 200's headers
and then one byte of body every ``drip_interval`` seconds, so every single read of the
client finishes well within its timeout while the answer never completes.
``requests`` counts the requests received (headers and body read).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

StallMode = Literal["silent", "drip"]
_DRIP_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"


def _read_request(conn: socket.socket) -> bool:
    """Read one request's head and body; ``False`` if the client left first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


class StallingServer:
    """A loopback TCP server that stalls every request (see the module docstring)."""

    def __init__(self, mode: StallMode = "silent", *, drip_interval: float = 0.2) -> None:
        self.mode = mode
        self.drip_interval = drip_interval
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._requests = 0
        self._threads: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        """The ``OPENAI_BASE_URL`` that reaches this server."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    @property
    def requests(self) -> int:
        """How many requests arrived so far."""
        with self._lock:
            return self._requests

    def start(self) -> Self:
        """Accept connections on a daemon thread."""
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Stop stalling: close the listening socket and let every connection go."""
        self._stop.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=1)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by stop()
                return
            self._spawn(self._stall, conn)

    def _stall(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        with conn:
            try:
                if not _read_request(conn):
                    return
                with self._lock:
                    self._requests += 1
                if self.mode == "drip":
                    conn.sendall(_DRIP_HEAD)
                    while not self._stop.wait(self.drip_interval):
                        conn.sendall(b" ")
                else:
                    self._stop.wait()
            except OSError:  # the client gave up: that is the point
                return
