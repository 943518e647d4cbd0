"""One generation's deadline: ``OPENAI_TIMEOUT`` is the whole wait, retries included.

The openai client's own retries are off (``max_retries=0``): it retried a read timeout,
which doubled the wait and could bill the same generation twice (the first call may
still be running upstream). :class:`Deadline` replaces them:

* each attempt gets the time that is left as its timeout;
* only a refused connection is retried (the request never left, so nothing was
  billed), after a short pause, at most ``len(RETRY_PAUSES)`` times and only while the
  deadline leaves room; a read timeout, a 5xx or anything else is never retried;
* the attempts run on a thread of their own and the caller waits for them until the
  deadline at most, so a server that drips its answer (each read within its timeout)
  cannot stretch the wait either. Past the deadline the caller gets
  ``GeneratorTimeoutError`` (504); a straggler finishes on its own and its answer is
  dropped, so nothing is stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import TypeVar

from core.exceptions import GeneratorTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_PAUSES: tuple[float, ...] = (0.25, 0.5, 1.0)  # seconds before each retry of a refusal
MAX_IN_FLIGHT = 64  # generation threads at once per process (stragglers included)


def is_refused_connection(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a refused TCP connection (the request never left)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Deadline:
    """Runs a generation's attempts within ``seconds`` in all (see the module docstring)."""

    def __init__(
        self,
        seconds: float,
        *,
        pauses: tuple[float, ...] = RETRY_PAUSES,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        """``seconds`` is the whole wait; ``pauses`` the waits before each retry of a refusal."""
        self.seconds = seconds
        self._pauses = pauses
        self._slots = threading.BoundedSemaphore(max_in_flight)

    def run(self, attempt: Callable[[float], T]) -> T:
        """``attempt(seconds_left)``'s result, its exception, or ``GeneratorTimeoutError``."""
        deadline = time.monotonic() + self.seconds
        if not self._slots.acquire(timeout=self.seconds):
            raise GeneratorTimeoutError  # every slot held by a call still waiting upstream
        future: Future[T] = Future()
        thread = threading.Thread(
            target=self._work, args=(future, attempt, deadline), name="generation", daemon=True
        )
        try:
            thread.start()
        except BaseException:
            self._slots.release()
            raise
        try:  # wait without raising the attempt's own error (a TimeoutError, maybe)
            future.exception(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeoutError:
            raise GeneratorTimeoutError from None
        return future.result()

    def _work(self, future: Future[T], attempt: Callable[[float], T], deadline: float) -> None:
        """Thread body: run the attempts and hand their outcome to ``future``."""
        try:
            future.set_running_or_notify_cancel()
            try:
                future.set_result(self._attempts(attempt, deadline))
            except BaseException as exc:  # handed to the caller, who re-raises it
                future.set_exception(exc)
        finally:
            self._slots.release()

    def _attempts(self, attempt: Callable[[float], T], deadline: float) -> T:
        """Call ``attempt`` with the time left; retry only refused connections, in time."""
        for retry, pause in enumerate((*self._pauses, None)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise GeneratorTimeoutError
            try:
                return attempt(left)
            except Exception as exc:
                if pause is None or not is_refused_connection(exc):
                    raise
                if time.monotonic() + pause >= deadline:
                    raise
                logger.info("generator refused the connection; retry %d in %.2fs", retry + 1, pause)
                time.sleep(pause)
        raise AssertionError("unreachable: the last round has no pause and raises")
