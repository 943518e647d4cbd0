"""The benchmark's arithmetic: scenarios grouped with their references, rounds combined."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bench.load import LoadResult, LoadSpec
from bench.processes import ServerProcess
from bench.run import (
    BARE_DETAIL,
    CONTENT,
    CREATE,
    DETAIL,
    PLAIN_CREATE,
    PLAIN_DETAIL,
    S3_GET,
    Sample,
    combined,
    groups,
    round_ratio,
)


def result(rps: float, *, p99: float = 10.0, errors: int = 0) -> LoadResult:
    return LoadResult(requests=int(rps * 5), rps=rps, p50_ms=1.0, p99_ms=p99, errors=errors)


def step(name: str) -> tuple[str, ServerProcess, LoadSpec]:
    return (name, cast(Any, None), LoadSpec(f"http://bench/{name}"))


def test_each_group_ends_with_the_project_scenario_its_references_came_before() -> None:
    plan = [step(n) for n in (BARE_DETAIL, PLAIN_DETAIL, DETAIL, S3_GET, CONTENT)]
    plan += [step(n) for n in (PLAIN_CREATE, CREATE)]
    names = [[name for name, _, _ in group] for group in groups(plan)]
    assert names == [
        [BARE_DETAIL, PLAIN_DETAIL, DETAIL],
        [S3_GET, CONTENT],
        [PLAIN_CREATE, CREATE],
    ]


def test_rounds_combine_into_medians_with_the_highest_peak_and_every_error() -> None:
    samples = [
        Sample(result(900, p99=30.0, errors=1), peak_rss_mib=110, cpu_ms=0.7),
        Sample(result(1500, p99=20.0), peak_rss_mib=120, cpu_ms=0.5),
        Sample(result(1000, p99=25.0, errors=2), peak_rss_mib=115, cpu_ms=0.6),
    ]
    combined_result, peak, cpu_ms = combined(samples)
    assert combined_result.rps == 1000
    assert combined_result.p99_ms == 25.0
    assert combined_result.errors == 3
    assert combined_result.requests == sum(s.result.requests for s in samples)
    assert peak == 120
    assert cpu_ms == pytest.approx(0.6)


def test_a_ratio_is_the_median_of_each_round_against_the_reference_beside_it() -> None:
    # A slow second round hits both sides: per round 2.0, 2.0 and 1.5.
    ours = [Sample(result(rps), 100, 0.5) for rps in (2000, 1000, 1500)]
    theirs = [Sample(result(rps), 100, 1.0) for rps in (1000, 500, 1000)]
    assert round_ratio(ours, theirs) == (2.0, 1.5, 2.0)


def test_a_reference_that_answered_nothing_gives_no_ratio() -> None:
    assert round_ratio([Sample(result(100), 100, 1.0)], [Sample(result(0), 100, 1.0)]) is None
