"""``GET /metrics``: Prometheus text exposition (CONTRACT.md §6 "Metrics")."""

from __future__ import annotations

from fastapi import APIRouter, Response

from web.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
def metrics() -> Response:
    """Every metric of every worker, for Prometheus to scrape (no auth, no secrets)."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
