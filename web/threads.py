"""One hop to a worker thread for a blocking call, with less machinery than anyio's.

FastAPI runs a plain ``def`` route through ``anyio.to_thread.run_sync``: a checkpoint
(an extra turn of the event loop), a capacity limiter, a cancel scope and a future per
call. The database and blob calls of the read routes are short, so that machinery cost
as much CPU as the call itself (bench/README.md). ``in_thread`` hands the call to the
event loop's executor with ``run_in_executor`` instead, carrying the context variables
(the request id of the log lines) along, as anyio does.

Only for the database reads (detail and list), which the pool bounds (a checkout waits
at most ``DB_POOL_TIMEOUT``): the loop's default executor has few threads, so calls that
may wait long on something else (generation, blob reads) stay on FastAPI's thread pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func(*args, **kwargs)`` in a worker thread and return its result."""
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)
