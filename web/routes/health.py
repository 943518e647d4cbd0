"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from web.dependencies import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers; touches nothing."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A backend is down"}})
def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: 200 when the database and the blob store answer, else 503 naming which."""
    status = services.public().status(include_count=False)
    body = {
        "status": "ok" if status.ready else "unavailable",
        "database": status.database.model_dump(),
        "blob_store": status.blob_store.model_dump(),
    }
    return JSONResponse(body, status_code=200 if status.ready else 503)
