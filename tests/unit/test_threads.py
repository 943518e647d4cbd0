"""``in_thread``: the read routes' one hop to a worker thread."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from web.threads import in_thread

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def seen_from_worker(suffix: str, *, twice: bool = False) -> tuple[str, int]:
    """What a worker thread sees: the context variable, and which thread it is."""
    value = request_id.get() + suffix
    return (value * 2 if twice else value), threading.get_ident()


def test_runs_off_the_event_loop_with_the_callers_context_and_arguments() -> None:
    async def main() -> tuple[str, int]:
        request_id.set("req-42")
        return await in_thread(seen_from_worker, "!", twice=True)

    value, worker = asyncio.run(main())
    assert value == "req-42!req-42!"
    assert worker != threading.get_ident()


def test_the_callees_exception_reaches_the_caller() -> None:
    def fail() -> None:
        raise LookupError("not here")

    with pytest.raises(LookupError, match="not here"):
        asyncio.run(in_thread(fail))
