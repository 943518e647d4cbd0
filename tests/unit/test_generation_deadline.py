"""The generation deadline: one wait in all, retries only of refused connections."""

from __future__ import annotations

import threading
import time

import pytest

from core.exceptions import GeneratorTimeoutError
from service.generation.deadline import Deadline, is_refused_connection

PAUSES = (0.01, 0.02, 0.03)


class Flaky:
    """An attempt that fails with ``errors`` in turn, then answers ``"image"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> str:
        self.seconds.append(seconds)
        if self.errors:
            raise self.errors.pop(0)
        return "image"


def refused() -> Exception:
    """An error shaped like openai's: a wrapper caused by a refused connection."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            raise OSError("connect failed") from exc
    except OSError as wrapped:
        try:
            raise RuntimeError("Connection error.") from wrapped
        except RuntimeError as outer:
            return outer


def test_the_attempt_gets_the_time_left_and_its_answer_comes_back() -> None:
    attempt = Flaky()
    assert Deadline(5.0, pauses=PAUSES).run(attempt) == "image"
    [seconds] = attempt.seconds
    assert 4.5 < seconds <= 5.0


def test_a_refused_connection_is_retried_with_less_time_each_round() -> None:
    attempt = Flaky(refused(), refused())
    assert Deadline(5.0, pauses=PAUSES).run(attempt) == "image"
    assert len(attempt.seconds) == 3
    assert attempt.seconds == sorted(attempt.seconds, reverse=True)


def test_refusals_are_retried_a_few_times_only_then_raised() -> None:
    attempt = Flaky(*(refused() for _ in range(10)))
    with pytest.raises(RuntimeError, match="Connection error"):
        Deadline(5.0, pauses=PAUSES).run(attempt)
    assert len(attempt.seconds) == len(PAUSES) + 1


def test_a_refusal_is_not_retried_when_the_pause_would_pass_the_deadline() -> None:
    attempt = Flaky(refused())
    with pytest.raises(RuntimeError):
        Deadline(0.5, pauses=(1.0,)).run(attempt)
    assert len(attempt.seconds) == 1


@pytest.mark.parametrize(
    "error", [TimeoutError("read timed out"), ValueError("bad json"), GeneratorTimeoutError()]
)
def test_any_other_failure_is_raised_at_once_without_retry(error: Exception) -> None:
    attempt = Flaky(error)
    with pytest.raises(type(error)):
        Deadline(5.0, pauses=PAUSES).run(attempt)
    assert len(attempt.seconds) == 1


def test_an_attempt_still_waiting_at_the_deadline_is_abandoned_and_its_answer_dropped() -> None:
    release = threading.Event()
    calls: list[float] = []

    def hangs(seconds: float) -> str:
        calls.append(seconds)
        release.wait(10)  # as a server that drips its answer: every read in time
        return "too late"

    started = time.monotonic()
    with pytest.raises(GeneratorTimeoutError):
        Deadline(0.3, pauses=PAUSES).run(hangs)
    elapsed = time.monotonic() - started
    release.set()
    assert 0.25 < elapsed < 1.0
    assert len(calls) == 1


def test_when_every_slot_is_held_by_a_straggler_the_next_call_times_out() -> None:
    release = threading.Event()
    deadline = Deadline(0.2, pauses=PAUSES, max_in_flight=1)
    with pytest.raises(GeneratorTimeoutError):
        deadline.run(lambda _: release.wait(10))
    never: list[float] = []
    with pytest.raises(GeneratorTimeoutError):
        deadline.run(never.append)
    assert never == []  # not even started
    release.set()
    time.sleep(0.05)  # the straggler returns its slot
    assert deadline.run(lambda seconds: seconds > 0) is True


def test_refused_connections_are_recognised_anywhere_in_the_chain() -> None:
    assert is_refused_connection(refused())
    assert is_refused_connection(ConnectionRefusedError())
    assert not is_refused_connection(ConnectionResetError())
    assert not is_refused_connection(TimeoutError())
    looped = RuntimeError("a")
    looped.__context__ = RuntimeError("b")
    looped.__context__.__context__ = looped
    assert not is_refused_connection(looped)
