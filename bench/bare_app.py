"""The framework's ceiling: bare FastAPI routes that answer a constant body.

The bodies are the service's own answers (read from the files named by
``BENCH_DETAIL_BODY`` and ``BENCH_LIST_BODY``), so the bytes on the wire have the same
shape and size. Routes are plain ``def`` like the service's (FastAPI runs them in its
thread pool), and uvicorn runs with the same options as ``pixyproxy serve``.

Run: ``python -m bench.bare_app --port 8001``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response


def create_bare_app() -> FastAPI:
    """A FastAPI app with ``GET /image/{guid}`` and ``GET /image`` answering constants."""
    detail = Path(os.environ["BENCH_DETAIL_BODY"]).read_bytes()
    listing = Path(os.environ["BENCH_LIST_BODY"]).read_bytes()
    app = FastAPI()

    @app.get("/image/{guid}")
    def get_image(guid: str) -> Response:
        return Response(detail, media_type="application/json")

    @app.get("/image")
    def list_images() -> Response:
        return Response(listing, media_type="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app


def main() -> None:
    """Serve the bare app with ``pixyproxy serve``'s uvicorn options."""
    parser = argparse.ArgumentParser(description="bare FastAPI ceiling for the benchmark")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "bench.bare_app:create_bare_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
