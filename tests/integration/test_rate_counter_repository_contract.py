"""One contract for ``RateCounterRepository``, run on the fake, SQLite and MySQL.

The ``database`` fixture that runs each test on each backend is in ``conftest.py``.
Concurrency: hits from many threads on one bucket are never lost, and on the real
databases each hit sees its own exact count (the upsert's row lock lasts until commit).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from core.records import RateCount
from data.database import Database

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def bucket() -> str:
    """A bucket name with a random suffix."""
    return f"login-ip:test-{uuid.uuid4().hex[:8]}"


def hit(database: Database, name: str, now: datetime, window: timedelta = MINUTE) -> RateCount:
    """One committed hit."""
    with database.context() as db:
        db.begin_transaction()
        count = db.rate_counters.hit(name, now=now, window=window)
        db.commit_transaction()
    return count


def current(database: Database, name: str, now: datetime) -> RateCount | None:
    """The bucket's window from a fresh unit of work."""
    with database.context() as db:
        return db.rate_counters.current(name, now=now)


def test_a_first_hit_opens_a_window_with_one_hit(database: Database) -> None:
    name = bucket()
    assert hit(database, name, T0) == RateCount(name, 1, T0, T0 + MINUTE)
    assert current(database, name, T0 + timedelta(seconds=59)) == RateCount(
        name, 1, T0, T0 + MINUTE
    )


def test_hits_inside_the_window_add_up_and_keep_its_bounds(database: Database) -> None:
    name = bucket()
    counts = [hit(database, name, T0 + timedelta(seconds=s)).hits for s in (0, 10, 59)]
    assert counts == [1, 2, 3]
    found = current(database, name, T0 + timedelta(seconds=30))
    assert found is not None
    assert (found.hits, found.window_start, found.expires_at) == (3, T0, T0 + MINUTE)


def test_a_hit_at_or_after_expiry_starts_a_new_window(database: Database) -> None:
    name = bucket()
    hit(database, name, T0)
    hit(database, name, T0 + timedelta(seconds=1))
    later = T0 + MINUTE
    assert hit(database, name, later, timedelta(seconds=30)) == RateCount(
        name, 1, later, later + timedelta(seconds=30)
    )


def test_current_is_none_for_an_unknown_or_expired_bucket(database: Database) -> None:
    name = bucket()
    assert current(database, name, T0) is None
    hit(database, name, T0)
    assert current(database, name, T0 + MINUTE) is None


def test_buckets_are_independent_and_case_sensitive(database: Database) -> None:
    name = bucket()
    hit(database, name, T0)
    hit(database, name, T0)
    assert hit(database, name.upper(), T0).hits == 1
    assert hit(database, name + "x", T0).hits == 1


def test_rolls_back_uncommitted_hits_by_default(database: Database) -> None:
    name = bucket()
    with database.context() as db:
        db.begin_transaction()
        assert db.rate_counters.hit(name, now=T0, window=MINUTE).hits == 1
    assert current(database, name, T0) is None


def test_purge_deletes_only_expired_rows_up_to_the_limit(database: Database) -> None:
    old = sorted(bucket() for _ in range(3))
    live = bucket()
    for name in old:
        hit(database, name, T0 - timedelta(hours=1))
    hit(database, live, T0)
    with database.context() as db:
        db.begin_transaction()
        assert db.rate_counters.purge_expired(T0, limit=2) == 2
        db.commit_transaction()
    with database.context() as db:
        db.begin_transaction()
        assert db.rate_counters.purge_expired(T0) == 1
        assert db.rate_counters.purge_expired(T0) == 0
        db.commit_transaction()
    assert current(database, live, T0) is not None
    assert hit(database, old[0], T0 - timedelta(minutes=59, seconds=30)).hits == 1  # gone


def test_concurrent_hits_are_never_lost(database: Database) -> None:
    name, threads = bucket(), 16
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: hit(database, name, T0).hits, range(threads)))
    found = current(database, name, T0)
    assert found is not None and found.hits == threads
    if database.backend != "memory":  # the fake stages; the databases lock the row
        assert sorted(counts) == list(range(1, threads + 1))


@pytest.mark.parametrize("window", [timedelta(seconds=1), timedelta(days=1)])
def test_windows_of_any_length_round_trip(database: Database, window: timedelta) -> None:
    name = bucket()
    start = T0 + timedelta(microseconds=123456)
    assert hit(database, name, start, window).expires_at == start + window
