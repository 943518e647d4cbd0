"""One hop to a worker thread for a blocking call, with less machinery than anyio's.

FastAPI runs a plain ``def`` route through ``anyio.to_thread.run_sync``: a checkpoint
(an extra turn of the event loop), a capacity limiter, a cancel scope and a future per
call. The database and blob calls of the read routes are short, so that machinery cost
as much CPU as the call itself (bench/README.md). These hand the call to an executor
with ``run_in_executor`` instead, carrying the context variables (the request id of the
log lines) along, as anyio does. Three executors, so that no kind of wait can take
every thread from another:

- :func:`in_thread`, the event loop's default executor, for the database reads (list
  pages, and the batches of detail reads of ``web/detail_reads.py``): one thread per
  pooled connection (set in ``web/app.py``), and the pool bounds every wait
  (``DB_POOL_TIMEOUT``);
- :func:`in_blob_thread`, ``BLOB_THREADS`` threads, for the content routes, which read
  the row and then wait on the blob store (an S3 read may wait ``read_timeout``), and
  make a missing rendition there when one is asked for: as many threads as the S3
  store's connection pool holds by default (``max_pool_connections`` in
  ``storage/s3.py``);
- :func:`in_create_thread`, ``CREATE_THREADS`` threads (as many as FastAPI's thread
  pool), for ``POST /image`` and ``POST /private/image``: a generation may wait minutes
  on the image API, and must not hold the threads of the reads.

The other writes stay on FastAPI's thread pool (``def`` routes).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

BLOB_THREADS = 32
CREATE_THREADS = 40  # anyio's default limit for FastAPI's thread pool, which had them
# Threads start on demand, so an idle process holds none.
_blob_executor = ThreadPoolExecutor(BLOB_THREADS, thread_name_prefix="blob-read")
_create_executor = ThreadPoolExecutor(CREATE_THREADS, thread_name_prefix="create")


async def _run(executor: Executor | None, call: Callable[[], T]) -> T:
    """``call()`` on ``executor`` (``None``: the loop's default), in this context."""
    in_context = functools.partial(contextvars.copy_context().run, call)
    return await asyncio.get_running_loop().run_in_executor(executor, in_context)


async def in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func(*args, **kwargs)`` on the database-read threads and return its result."""
    return await _run(None, functools.partial(func, *args, **kwargs))


async def in_blob_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func(*args, **kwargs)`` on the blob threads and return its result."""
    return await _run(_blob_executor, functools.partial(func, *args, **kwargs))


async def in_create_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func(*args, **kwargs)`` on the creation threads and return its result."""
    return await _run(_create_executor, functools.partial(func, *args, **kwargs))
