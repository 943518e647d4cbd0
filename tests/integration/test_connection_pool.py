"""Our connection pool and units of work against a real MariaDB/MySQL, on both drivers.

Round trips are counted from outside, by a TCP proxy between the pool and the server
(tests/support/counting_proxy.py), so the figures hold for the C extension too.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import mysql.connector
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.exceptions import DBConnectionError, RecordNotFoundError
from core.models import NewImage
from core.records import Visibility
from core.settings import Settings
from data.mysql.database import MySQLDatabase
from data.mysql.unit_of_work import DatabaseContext
from service.transaction import transaction
from tests.support.counting_proxy import CountingProxy
from tests.support.mysql_fixtures import empty_tables, make_mysql_settings
from tests.support.pool_stats import pool_stats

pytestmark = pytest.mark.mysql

DRIVERS = ["c-extension", "pure"]


def new_image(*tags: str) -> NewImage:
    """A valid public image row."""
    guid = str(uuid.uuid4())
    return NewImage(
        guid=guid,
        prompt="a lantern in fog",
        tags=list(tags),
        filename=f"a-lantern-in-fog-{guid[:8]}.png",
        content_type="image/png",
        size_bytes=10,
        sha256=uuid.uuid4().hex * 2,
        storage_key=f"images/{guid}.png",
        created_at=datetime.now(UTC),
    )


def kill(admin: MySQLConnectionAbstract, session: int | None) -> None:
    """KILL one server session from the admin connection."""
    cursor = admin.cursor()
    cursor.execute(f"KILL {int(session or 0)}")
    cursor.close()


def count_rows(admin: MySQLConnectionAbstract, table: str) -> int:
    """Rows of ``table`` as another session sees them (committed only)."""
    cursor: Any = admin.cursor()
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    row = cursor.fetchone()
    cursor.close()
    assert row is not None
    return int(str(row[0]))


@pytest.fixture
def make_database(mysql_settings: Settings, mysql_admin: MySQLConnectionAbstract) -> Iterator[Any]:
    """A factory of ``MySQLDatabase`` on the test database, closed afterwards."""
    empty_tables(mysql_admin)
    made: list[MySQLDatabase] = []

    def make(driver: str = "c-extension", **overrides: Any) -> MySQLDatabase:
        settings = make_mysql_settings(
            mysql_settings.db_name, db_use_pure=driver == "pure", **overrides
        )
        made.append(MySQLDatabase(settings))
        return made[-1]

    yield make
    for database in made:
        database.close()


@pytest.fixture
def proxy(mysql_settings: Settings) -> Iterator[CountingProxy]:
    """A counting proxy in front of the test server."""
    with CountingProxy(mysql_settings.db_host or "127.0.0.1", mysql_settings.db_port) as counting:
        yield counting


def test_the_c_extension_loads_is_used_and_is_logged(
    make_database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert mysql.connector.HAVE_CEXT, "mysql-connector's C extension must load here"
    with caplog.at_level(logging.INFO, logger="data.mysql.database"):
        database = make_database()
    assert "(C extension)" in caplog.text
    with database.context() as db:
        assert type(db._connection).__name__ == "CMySQLConnection"


def test_the_pure_python_fallback_is_used_when_asked_and_is_logged(
    make_database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="data.mysql.database"):
        database = make_database("pure")
    assert "pure Python: DB_USE_PURE" in caplog.text
    image = new_image("fog", "lamp")
    with database.context() as db:
        assert type(db._connection).__name__ == "MySQLConnection"
        db.images.add(image)
        db.commit_transaction()
    with database.context() as db:
        assert db.images.get_by_guid(image.guid, Visibility()).tags == ["fog", "lamp"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_read_by_guid_costs_one_round_trip(
    make_database: Any, proxy: CountingProxy, driver: str
) -> None:
    database = make_database(driver, db_host="127.0.0.1", db_port=proxy.port, db_pool_size=2)
    image = new_image(*(f"t{n:02d}-{'x' * 60}" for n in range(20)))  # 20 tags of 64 chars
    with transaction(database) as db:
        db.images.add(image)
    before = proxy.client_sends
    with transaction(database) as db:
        found = db.images.get_by_guid(image.guid, Visibility())
    assert proxy.client_sends - before == 1  # the SELECT (tags folded in); no COMMIT
    assert found.tags == [tag.lower() for tag in image.tags]
    before = proxy.client_sends
    with pytest.raises(RecordNotFoundError), transaction(database) as db:
        db.images.get_by_guid(str(uuid.uuid4()), Visibility())
    assert proxy.client_sends - before == 1  # the SELECT; no ROLLBACK


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_write_starts_the_transaction_and_only_a_commit_keeps_it(
    make_database: Any, proxy: CountingProxy, mysql_admin: MySQLConnectionAbstract, driver: str
) -> None:
    database = make_database(driver, db_host="127.0.0.1", db_port=proxy.port, db_pool_size=1)
    image = new_image("dawn", "dusk")
    database.ping()
    before = proxy.client_sends
    with transaction(database) as db:
        assert db.images.count() == 0  # a plain read: no transaction yet
        db.images.add(image)  # START TRANSACTION, the row, its tags
        assert db.images.get_by_guid(image.guid, Visibility()).tags == ["dawn", "dusk"]
        assert count_rows(mysql_admin, "images") == 0  # not visible to others before COMMIT
    assert proxy.client_sends - before == 6  # COUNT, START, INSERT, tags, SELECT, COMMIT
    assert count_rows(mysql_admin, "images") == 1


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_unit_with_no_statement_sends_nothing(
    make_database: Any, proxy: CountingProxy, driver: str
) -> None:
    database = make_database(driver, db_host="127.0.0.1", db_port=proxy.port, db_pool_size=2)
    database.ping()
    before = proxy.client_sends
    for _ in range(5):
        with transaction(database):
            pass
        with database.context():
            pass
    assert proxy.client_sends == before


@pytest.mark.parametrize("driver", DRIVERS)
def test_nothing_persists_without_a_commit(make_database: Any, driver: str) -> None:
    database = make_database(driver, db_pool_size=1)
    image = new_image("lost")
    with database.context() as db:
        db.images.add(image)  # no commit: the exit rolls back
    with database.context() as db:
        assert db.images.find_by_guid(image.guid, Visibility()) is None
        db.images.add(image)
    context = database.context()  # closed without the with block: still rolled back
    context.close()
    with database.context() as db:
        assert db.images.count() == 0


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_killed_idle_session_is_replaced_on_its_first_statement(
    make_database: Any, mysql_admin: MySQLConnectionAbstract, driver: str
) -> None:
    database = make_database(driver, db_pool_size=1)
    with database.context() as db:
        killed = db.connection_id
    kill(mysql_admin, killed)
    time.sleep(0.05)
    image = new_image("phoenix")
    with transaction(database) as db:
        db.images.add(image)
        assert isinstance(db, DatabaseContext) and db.connection_id != killed
    with database.context() as db:
        assert db.images.get_by_guid(image.guid, Visibility()).tags == ["phoenix"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_read_on_a_session_killed_while_idle_reconnects_and_answers(
    make_database: Any, mysql_admin: MySQLConnectionAbstract, driver: str
) -> None:
    database = make_database(driver, db_pool_size=1)
    image = new_image("ember")
    with transaction(database) as db:
        db.images.add(image)
        assert isinstance(db, DatabaseContext)
        killed = db.connection_id
    kill(mysql_admin, killed)  # as the server does after wait_timeout, or on a restart
    time.sleep(0.05)
    with transaction(database) as db:  # a plain read, outside any transaction
        assert db.images.get_by_guid(image.guid, Visibility()).tags == ["ember"]
        assert isinstance(db, DatabaseContext) and db.connection_id != killed
    assert pool_stats(database).in_use == 0


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_session_lost_mid_transaction_fails_the_unit_and_is_discarded(
    make_database: Any, mysql_admin: MySQLConnectionAbstract, driver: str
) -> None:
    database = make_database(driver, db_pool_size=1)
    image = new_image()
    with pytest.raises(DBConnectionError), transaction(database) as db:
        db.images.add(image)
        assert isinstance(db, DatabaseContext)
        lost = db.connection_id
        kill(mysql_admin, lost)
        time.sleep(0.05)
        db.images.count()  # not the first statement: never retried
    assert pool_stats(database).in_use == 0
    with database.context() as db:
        assert db.connection_id != lost
        assert db.images.find_by_guid(image.guid, Visibility()) is None


def test_many_threads_share_a_small_pool_without_errors_or_leaks(make_database: Any) -> None:
    database = make_database(db_pool_size=2, db_pool_timeout=10.0)
    image = new_image("crowd")
    with transaction(database) as db:
        db.images.add(image)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                with transaction(database) as db:
                    db.images.get_by_guid(image.guid, Visibility())
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stats = pool_stats(database)
    assert stats.in_use == 0 and stats.sessions_seen <= 2 and stats.checkouts >= 32 * 25


def test_a_waiter_gets_the_connection_as_soon_as_it_comes_back(make_database: Any) -> None:
    database = make_database(db_pool_size=1, db_pool_timeout=5.0)
    held = database.context()
    got: list[float] = []

    def wait_for_it() -> None:
        started = time.monotonic()
        with database.context():
            got.append(time.monotonic() - started)

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(0.2)
    held.close()
    waiter.join()
    assert 0.15 <= got[0] < 1.0
