"""``in_thread``, ``in_blob_thread`` and ``in_create_thread``: a route's one hop to a worker."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from web.threads import in_blob_thread, in_create_thread, in_thread

HOPS = pytest.mark.parametrize(
    "hop", [in_thread, in_blob_thread, in_create_thread], ids=["db", "blob", "create"]
)

Hop = Callable[..., Coroutine[Any, Any, Any]]
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def seen_from_worker(suffix: str, *, twice: bool = False) -> tuple[str, int]:
    """What a worker thread sees: the context variable, and which thread it is."""
    value = request_id.get() + suffix
    return (value * 2 if twice else value), threading.get_ident()


@HOPS
def test_runs_off_the_event_loop_with_the_callers_context_and_arguments(hop: Hop) -> None:
    async def main() -> tuple[str, int]:
        request_id.set("req-42")
        seen: tuple[str, int] = await hop(seen_from_worker, "!", twice=True)
        return seen

    value, worker = asyncio.run(main())
    assert value == "req-42!req-42!"
    assert worker != threading.get_ident()


@HOPS
def test_the_callees_exception_reaches_the_caller(hop: Hop) -> None:
    def fail() -> None:
        raise LookupError("not here")

    with pytest.raises(LookupError, match="not here"):
        asyncio.run(hop(fail))


def test_blob_reads_do_not_wait_for_busy_database_threads() -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(1))
        release = threading.Event()
        busy = in_thread(release.wait, 10)  # the only database thread, held
        task = asyncio.ensure_future(busy)
        await asyncio.sleep(0.05)  # the task has taken the thread
        try:
            value, _ = await asyncio.wait_for(in_blob_thread(seen_from_worker, "blob"), 5)
        finally:
            release.set()
            await task
        return value

    assert asyncio.run(main()) == "-blob"


def test_creations_and_reads_never_wait_for_each_others_threads() -> None:
    async def main() -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(1))
        release = threading.Event()
        # The only database thread, and a creation waiting on its image generator.
        busy = [asyncio.ensure_future(in_thread(release.wait, 10))]
        busy.append(asyncio.ensure_future(in_create_thread(release.wait, 10)))
        await asyncio.sleep(0.05)  # the tasks have taken their threads
        try:
            created, _ = await asyncio.wait_for(in_create_thread(seen_from_worker, "new"), 5)
            read, _ = await asyncio.wait_for(in_blob_thread(seen_from_worker, "blob"), 5)
        finally:
            release.set()
            await asyncio.gather(*busy)
        return created, read

    assert asyncio.run(main()) == ("-new", "-blob")
