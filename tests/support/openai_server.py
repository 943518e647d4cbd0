"""A small local server that speaks the OpenAI Images API, for tests and benchmarks.

``POST /v1/images/generations`` answers like OpenAI does, with a real PNG from the
offline generator. Every call is recorded, and the behaviour of the next calls can be
switched to a failure mode (content policy, 429, timeout, malformed answers, ...).
Like the real API it refuses ``response_format`` and unknown sizes for GPT image models,
answers GPT image models with ``usage`` token counts (and the ``size``/``quality`` it
drew) and DALL·E 3 with a ``revised_prompt``, and its 401 message shows the key masked,
never whole. With ``image_size=None`` it draws at the requested size (``auto``:
1024x1024); with a number, every image is that small square (fast tests).

Run by hand: ``python -m tests.support.openai_server --port 8089``.
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, get_args

from core.models import IMAGE_SIZES, size_pixels
from service.generation.offline import OfflineImageGenerator

Mode = Literal[
    "ok",
    "content_policy",
    "moderation_blocked",
    "rate_limit",
    "timeout",
    "malformed",
    "missing_b64",
    "not_image",
    "server_error",
    "unauthorized",
]
MODES: tuple[str, ...] = get_args(Mode)
GENERATIONS_PATH = "/v1/images/generations"
RETRY_AFTER_SECONDS = 7
Answer = tuple[int, Any, dict[str, str]]
# gpt-image-1's output tokens per quality for a square image (OpenAI's pricing table);
# a 3:2 image costs about 1.5 times as many.
_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "auto": 1056}

# mode -> status, message, error type, error code: the bodies OpenAI sends for these.
_FAILURES: dict[str, tuple[int, str, str, str | None]] = {
    "content_policy": (
        400,
        "Your request was rejected as a result of our safety system.",
        "invalid_request_error",
        "content_policy_violation",
    ),
    "moderation_blocked": (
        400,
        "Your request was rejected by the safety system.",
        "image_generation_user_error",
        "moderation_blocked",
    ),
    "rate_limit": (
        429,
        "Rate limit reached for images per minute.",
        "requests",
        "rate_limit_exceeded",
    ),
    "server_error": (500, "The server had an error processing your request.", "server_error", None),
}


@dataclass(frozen=True)
class RecordedCall:
    """One request the server received: path, parsed JSON body, headers (lower-case)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(repr=False)


def _error(message: str, type_: str, code: str | None) -> dict[str, Any]:
    """The OpenAI error body shape."""
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _mask(authorization: str) -> str:
    """Mask a bearer key as OpenAI does in its 401 message: ``sk-test-****-key``."""
    key = authorization.removeprefix("Bearer ").strip()
    return f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}" if len(key) > 12 else "****"


class FakeImagesAPI:
    """The fake Images API: ``base_url``, ``set_mode``, ``reset``, ``calls``, ``start``/``stop``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        image_size: int | None = 32,
        hang_seconds: float = 30.0,
    ) -> None:
        self._generator = OfflineImageGenerator(size=image_size)
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._default: Mode = "ok"
        self._queued: deque[Mode] = deque()
        self._wake = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The ``OPENAI_BASE_URL`` that reaches this server, ending in ``/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def calls(self) -> list[RecordedCall]:
        """A copy of the calls received since the last ``reset``."""
        with self._lock:
            return list(self._calls)

    def set_mode(self, mode: Mode, times: int | None = None) -> None:
        """Answer the next ``times`` calls with ``mode``, or every call when ``times`` is None."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
        with self._lock:
            self._queued.clear()
            if times is None:
                self._default = mode
            else:
                self._queued.extend([mode] * times)

    def reset(self) -> None:
        """Back to "ok", forget the calls and wake any request still hanging."""
        with self._lock:
            self._default = "ok"
            self._queued.clear()
            self._calls.clear()
            self._wake.set()
            self._wake = threading.Event()

    def start(self) -> FakeImagesAPI:
        """Serve in a daemon thread; returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-openai",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Wake hanging requests, stop serving and close the socket."""
        self._wake.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeImagesAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, call: RecordedCall) -> tuple[Mode, threading.Event]:
        """Store a call; return the mode that answers it and the current wake event."""
        with self._lock:
            self._calls.append(call)
            mode = self._queued.popleft() if self._queued else self._default
            return mode, self._wake

    def _answer(self, mode: Mode, body: dict[str, Any], auth: str) -> Answer:
        """Return status, JSON-able body (or raw bytes) and extra headers for one call."""
        if mode == "unauthorized":
            message = f"Incorrect API key provided: {_mask(auth)}."
            return 401, _error(message, "invalid_request_error", "invalid_api_key"), {}
        if mode in _FAILURES:
            status, message, type_, code = _FAILURES[mode]
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 429 else {}
            return status, _error(message, type_, code), headers
        if mode == "malformed":
            return 200, b'{"created": 1, "data": [{"b64_json": ', {}
        return self._generation(mode, body)

    def _generation(self, mode: Mode, body: dict[str, Any]) -> Answer:
        """Answer a generation: a 400 for a bad request, else the image and its metadata."""
        prompt, model = body.get("prompt"), str(body.get("model", "dall-e-2"))
        if not isinstance(prompt, str) or not prompt:
            message = "Missing required parameter: 'prompt'."
            return 400, _error(message, "invalid_request_error", "missing_required_parameter"), {}
        if model.startswith("gpt-image") and "response_format" in body:
            message = "Unknown parameter: 'response_format'."
            return 400, _error(message, "invalid_request_error", "unknown_parameter"), {}
        gpt_image = model.startswith("gpt-image")
        size, quality = str(body.get("size") or "auto"), str(body.get("quality") or "auto")
        if gpt_image and size not in IMAGE_SIZES:
            message = f"Invalid value: '{size}'. Supported values are: {', '.join(IMAGE_SIZES)}."
            return 400, _error(message, "invalid_request_error", "invalid_value"), {}
        image = b"this is not an image" if mode == "not_image" else self._draw(prompt, size)
        item: dict[str, Any] = {}
        if mode != "missing_b64":
            item["b64_json"] = base64.b64encode(image).decode()
        answer: dict[str, Any] = {"created": int(time.time()), "data": [item]}
        if gpt_image:
            answer.update(
                background="opaque",
                output_format="png",
                size="1024x1024" if size == "auto" else size,
                quality="medium" if quality == "auto" else quality,
                usage=usage_of(prompt, size, quality),
            )
        elif model == "dall-e-3":
            item["revised_prompt"] = f"A detailed picture of {prompt.strip().rstrip('.')}."
        return 200, answer, {}

    def _draw(self, prompt: str, size: str) -> bytes:
        """The PNG for ``prompt``: at ``size``, or the fixed small square."""
        if self._generator.size is not None:
            return self._generator.generate(prompt).data
        width, height = size_pixels(size if size in IMAGE_SIZES else "auto")
        return self._generator.draw_png(prompt, width, height)


def usage_of(prompt: str, size: str, quality: str) -> dict[str, Any]:
    """The ``usage`` object gpt-image-1 sends: text input tokens, image output tokens."""
    input_tokens = max(1, len(prompt.split()))
    output = _OUTPUT_TOKENS.get(quality, _OUTPUT_TOKENS["auto"])
    if size in ("1536x1024", "1024x1536"):
        output = output * 3 // 2
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": input_tokens},
        "output_tokens": output,
        "total_tokens": input_tokens + output,
    }


def _make_handler(api: FakeImagesAPI) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``api``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            """Handle ``POST /v1/images/generations``; anything else is a 404."""
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != GENERATIONS_PATH:
                self._send(
                    404,
                    _error(f"Invalid URL (POST {self.path})", "invalid_request_error", None),
                    {},
                )
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(
                    400,
                    _error("We could not parse the JSON body.", "invalid_request_error", None),
                    {},
                )
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            mode, wake = api._record(RecordedCall(self.path, body, headers))
            if mode == "timeout":
                wake.wait(api.hang_seconds)  # the client gives up first; reset/stop wake us
                mode = "ok"  # a patient client just sees a slow generation
            self._send(*api._answer(mode, body, headers.get("authorization", "")))

        def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
            """Write one JSON response; a client that already left is not an error."""
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: ``python -m tests.support.openai_server --port N``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument(
        "--image-size", type=int, default=None, help="fixed PNG side (default: as requested)"
    )
    parser.add_argument("--mode", choices=MODES, default="ok")
    args = parser.parse_args(argv)
    server = FakeImagesAPI(args.host, args.port, image_size=args.image_size)
    server.set_mode(args.mode)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
        signal.signal(signum, lambda *_: stopping.set())
    server.start()
    print(f"fake OpenAI Images API on {server.base_url} (mode {args.mode})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
