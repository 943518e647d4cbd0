"""The benchmark's load client asks for ``LoadSpec.paths`` in turn (the detail scenario
over 200 guids rests on it), here with the httpx client against a small local server."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bench.load import LoadSpec, run_load


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 to every GET and counts the paths asked for."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[Counter[str]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.seen[self.path] += 1
        self.send_response(200 if self.path != "/missing" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = Counter()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_paths_are_requested_in_turn_and_each_answer_is_counted(server: str) -> None:
    paths = ("/image/a", "/image/b", "/image/c")
    result = run_load(LoadSpec(f"{server}/", connections=2, duration=1.0, paths=paths), "httpx")
    assert set(Recorder.seen) == set(paths)
    counts = [Recorder.seen[path] for path in paths]
    assert max(counts) - min(counts) <= 2  # in turn: evenly, give or take those in flight
    assert result.requests == sum(counts) and result.errors == 0


def test_a_path_that_fails_is_counted_as_an_error(server: str) -> None:
    spec = LoadSpec(f"{server}/", connections=1, duration=0.5, paths=("/ok", "/missing"))
    result = run_load(spec, "httpx")
    assert Recorder.seen["/missing"] >= 1
    assert result.errors == Recorder.seen["/missing"]
