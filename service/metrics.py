"""The service's Prometheus metrics (CONTRACT.md §6 "Metrics"), defined once, here.

Labels are closed sets chosen by the code (an outcome, a result), never a prompt, a
guid, a user or anything a client sent. With ``PROMETHEUS_MULTIPROC_DIR`` set before
this module is first imported, prometheus-client keeps every value in that folder, so
several uvicorn workers add up; ``web/metrics.py`` reads them for ``GET /metrics``.

- ``pixyproxy_generations_total{outcome}`` and ``pixyproxy_generation_duration_seconds
  {outcome}``: every creation the service attempted, by what became of its generation
  (``ok``, ``rejected``, ``rate_limited``, ``timeout``, ``error``), and how long it took.
  A creation refused by our own rate limit counts as ``rate_limited`` too.
- ``pixyproxy_blob_compensating_deletes_total{result}``: blobs deleted because their row
  did not commit (``ok``, or ``failed``: left for ``pixyproxy reconcile``).
- ``pixyproxy_renditions_after_create_total{result}``: what became of each new image's
  renditions right after its commit: ``queued`` (handed to the pool, or made inline) or
  ``deferred`` (the pool was full: they are made on the image's first request).
- ``pixyproxy_db_connections_in_use{backend}``: database units of work open right now
  (each holds one pooled connection), summed over the live workers.

Every metric here has labels, so nothing is written to the multiprocess folder until a
metric is used (importing this module, as every ``pixyproxy`` command does, creates no
file).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

from core.exceptions import (
    GeneratorRateLimitError,
    GeneratorTimeoutError,
    PromptRejectedError,
    RateLimitedError,
)

OUTCOMES = ("ok", "rejected", "rate_limited", "timeout", "error")

GENERATIONS = Counter(
    "pixyproxy_generations",
    "Image generations attempted, by outcome.",
    ["outcome"],
)
GENERATION_SECONDS = Histogram(
    "pixyproxy_generation_duration_seconds",
    "Time from a creation's admission check to the generator's answer, by outcome.",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)
COMPENSATING_DELETES = Counter(
    "pixyproxy_blob_compensating_deletes",
    "Blobs deleted because the row of their image did not commit, by result.",
    ["result"],
)
RENDITIONS_AFTER_CREATE = Counter(
    "pixyproxy_renditions_after_create",
    "New images' renditions after the commit: queued, or deferred to the first request.",
    ["result"],
)
DB_CONNECTIONS_IN_USE = Gauge(
    "pixyproxy_db_connections_in_use",
    "Database connections held by open units of work (all live workers), by backend.",
    ["backend"],
    multiprocess_mode="livesum",
)


def initialise_labels() -> None:
    """Export every outcome and result at 0 from the start, so dashboards see them."""
    for outcome in OUTCOMES:
        GENERATIONS.labels(outcome)
        GENERATION_SECONDS.labels(outcome)
    for result in ("ok", "failed"):
        COMPENSATING_DELETES.labels(result)
    for result in ("queued", "deferred"):
        RENDITIONS_AFTER_CREATE.labels(result)


def generation_outcome(exc: BaseException | None) -> str:
    """The ``outcome`` label for a generation that raised ``exc`` (``None``: it worked)."""
    if exc is None:
        return "ok"
    if isinstance(exc, PromptRejectedError):
        return "rejected"
    if isinstance(exc, RateLimitedError | GeneratorRateLimitError):
        return "rate_limited"
    if isinstance(exc, GeneratorTimeoutError):
        return "timeout"
    return "error"


@contextmanager
def observed_generation() -> Iterator[None]:
    """Count and time the block (admission and generation) by its outcome."""
    began = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except BaseException as exc:
        outcome = generation_outcome(exc)
        raise
    finally:
        GENERATIONS.labels(outcome).inc()
        GENERATION_SECONDS.labels(outcome).observe(time.perf_counter() - began)


def record_compensating_delete(*, deleted: bool) -> None:
    """Count one compensating blob delete (``deleted=False``: it failed)."""
    COMPENSATING_DELETES.labels("ok" if deleted else "failed").inc()


def record_renditions_after_create(*, deferred: bool) -> None:
    """Count one new image's renditions as queued, or deferred to its first request."""
    RENDITIONS_AFTER_CREATE.labels("deferred" if deferred else "queued").inc()


@contextmanager
def connection_in_use(backend: str) -> Iterator[None]:
    """Count the block as holding one connection of the ``backend`` database."""
    gauge = DB_CONNECTIONS_IN_USE.labels(backend)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()
