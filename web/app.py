"""The FastAPI application: :func:`create_app`, and the module-level ``app`` built by it.

``app`` is what ``uvicorn web.app:app``, ``fastapi run web/app.py`` and ``pixyproxy
serve`` run. Building it reads no settings and opens nothing: the lifespan reads the
settings and builds the services when the server starts, so importing this module is
cheap and safe anywhere (tests use the factory with their own settings or services).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from core.log import configure_logging
from core.settings import Settings, load_settings
from service.init import Services, build_services, check_schema
from service.metrics import initialise_labels
from service.metrics_dir import worker_stopped
from web.dependencies import log_route_context
from web.detail_reads import DetailReads
from web.errors import install_error_handlers
from web.middleware import RequestContextMiddleware
from web.pages import STATIC_DIR
from web.routes import gallery, health, metrics, private_images, public_images

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Services are built in the lifespan unless given (tests pass them)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        if services is None:
            resolved = settings or load_settings()
            configure_logging(resolved.effective_log_format, resolved.log_level)
            check_schema(resolved)
            app.state.services = build_services(resolved)
        else:
            app.state.services = services
        initialise_labels()
        app.state.detail_reads = DetailReads()
        # The database reads of the detail and list routes run on the loop's executor
        # (web/threads.py): one thread per pooled connection, not asyncio's default of
        # CPUs + 4, so every connection of the pool can be busy at once.
        pool_size = app.state.services.settings.db_pool_size
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(pool_size, thread_name_prefix="db-read")
        )
        # Everything built so far (modules, models, routes, clients) lives as long as the
        # process: move it out of the collector's sight, so that the collections that
        # request garbage triggers stop re-walking it (a tenth of a request's CPU before).
        gc.freeze()
        try:
            yield
        finally:
            worker_stopped()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="PixyProxy",
        summary="Generated images: OpenAI Images API, S3-compatible blobs, MySQL metadata.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(log_route_context)],
        # FastAPI's native OpenTelemetry asks the OpenTelemetry API on every request
        # whether a provider is configured (three environment look-ups, each a caught
        # KeyError): 2-6 % of a read's time under the GIL (bench/README.md). This
        # service reports through /metrics and its JSON log lines, and ships no
        # OpenTelemetry SDK.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(public_images.router)
    app.include_router(private_images.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(gallery.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
"""The application for ASGI servers; settings are read when it starts, not on import."""
