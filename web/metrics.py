"""HTTP metrics and the ``GET /metrics`` exposition (CONTRACT.md §6 "Metrics").

- ``pixyproxy_http_requests_total{method, route, status}`` and
  ``pixyproxy_http_request_duration_seconds{method, route}``: every request, counted
  by the route *template* that matched (``/image/{guid}/content``; ``unmatched`` when
  none did), never by the raw path or its query string, so neither a guid nor a search
  lands in a label. Methods outside the usual set count as ``other``.
- ``pixyproxy_blob_bytes_streamed_total{route}``: body bytes of stored content sent to
  clients, by the route that streamed them.

Every metric has labels, so none writes to the multiprocess folder before it is used.
- The service's metrics are defined in ``service/metrics.py``.

Several workers: with ``PROMETHEUS_MULTIPROC_DIR`` set before prometheus-client is first
imported (``pixyproxy serve --workers N`` does it with a fresh folder), each worker
writes its values to files there and ``/metrics``, answered by any worker, adds up all
of them. A worker that stops (or crashed) is pruned from the live gauges.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import Scope

from service.metrics_dir import multiprocess_dir, prune_dead_workers

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

HTTP_REQUESTS = Counter(
    "pixyproxy_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "pixyproxy_http_request_duration_seconds",
    "Time to answer an HTTP request (until its last body byte), by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BLOB_BYTES_STREAMED = Counter(
    "pixyproxy_blob_bytes_streamed",
    "Bytes of stored image content streamed to clients, by route template.",
    ["route"],
)


def route_label(scope: Scope) -> str:
    """The template of the route that matched ``scope`` (``unmatched`` if none did)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


def record_request(scope: Scope, status: int, seconds: float) -> None:
    """Count and time one answered HTTP request by method, route template and status.

    Called by ``RequestContextMiddleware`` (``web/middleware.py``), which already sees
    every request, its status (the last-resort 500 included) and its duration.
    """
    method = scope.get("method", "")
    method = method if method in METHODS else "other"
    route = route_label(scope)
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The Prometheus text of every metric (of all workers), and its content type."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    prune_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
