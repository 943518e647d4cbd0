"""``MySQLDatabase`` against a real MariaDB/MySQL: pool, outages, errors, schema, grants."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import mysql.connector
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.exceptions import ConstraintViolationError, DBConnectionError
from core.models import NewImage
from core.records import Visibility
from core.settings import Settings
from data.mysql.database import SQL_DIR, MySQLDatabase, apply_mysql_schema
from tests.support.mysql_fixtures import (
    admin_connect,
    create_app_user,
    empty_tables,
    make_mysql_settings,
)
from tests.support.pool_stats import pool_stats

pytestmark = pytest.mark.mysql


def new_image() -> NewImage:
    """A valid public image row."""
    guid = str(uuid.uuid4())
    return NewImage(
        guid=guid,
        prompt="a lighthouse at dusk",
        tags=["sea"],
        filename=f"a-lighthouse-at-dusk-{guid[:8]}.png",
        content_type="image/png",
        size_bytes=10,
        sha256=uuid.uuid4().hex * 2,
        storage_key=f"images/{guid}.png",
        created_at=datetime.now(UTC),
    )


def query(admin: MySQLConnectionAbstract, sql: str, params: Any = ()) -> list[Any]:
    """Run ``sql`` on the admin connection and return every row."""
    cursor = admin.cursor()
    cursor.execute(sql, params)
    rows = cursor.fetchall() if cursor.description else []
    cursor.close()
    return rows


def session_ids(admin: MySQLConnectionAbstract, db_name: str) -> set[int]:
    """Server session ids connected to ``db_name``, other than the admin's own."""
    rows = query(
        admin,
        "SELECT id FROM information_schema.PROCESSLIST WHERE db = %s AND id <> CONNECTION_ID()",
        (db_name,),
    )
    return {int(row[0]) for row in rows}


@pytest.fixture
def small_pool(mysql_settings: Settings, mysql_admin: MySQLConnectionAbstract) -> Iterator[Any]:
    """A factory of ``MySQLDatabase`` on the test database with other pool settings."""
    empty_tables(mysql_admin)
    made: list[MySQLDatabase] = []

    def make(**overrides: Any) -> MySQLDatabase:
        settings = make_mysql_settings(mysql_settings.db_name, **overrides)
        made.append(MySQLDatabase(settings))
        return made[-1]

    yield make
    for database in made:
        database.close()


def test_an_exhausted_pool_raises_db_connection_error_after_the_timeout(small_pool: Any) -> None:
    database = small_pool(db_pool_size=2, db_pool_timeout=0.5)
    with database.context(), database.context():
        started = time.monotonic()
        with pytest.raises(DBConnectionError, match="exhausted"):
            database.context()
        waited = time.monotonic() - started
    assert 0.4 <= waited < 2.0
    with database.context() as db:  # both came back
        assert db.images.count() == 0
    assert pool_stats(database).in_use == 0


def test_units_of_work_reuse_pooled_connections(
    small_pool: Any, mysql_settings: Settings, mysql_admin: MySQLConnectionAbstract
) -> None:
    database = small_pool(db_pool_size=3)
    image = new_image()
    with database.context() as db:
        db.images.add(image)
        db.commit_transaction()
    before = session_ids(mysql_admin, mysql_settings.db_name)
    used: set[int | None] = set()
    for _ in range(20):
        with database.context() as db:
            db.images.get_by_guid(image.guid, Visibility())
            used.add(db.connection_id)
    assert session_ids(mysql_admin, mysql_settings.db_name) == before
    assert used == before and len(before) == 1  # opened on demand; one at a time reuses one
    assert pool_stats(database).sessions_seen == 1


def test_killed_pooled_connections_are_replaced(
    small_pool: Any, mysql_settings: Settings, mysql_admin: MySQLConnectionAbstract
) -> None:
    database = small_pool(db_pool_size=2)
    with database.context(), database.context():
        pass  # two sessions, open at once
    pooled = session_ids(mysql_admin, mysql_settings.db_name)
    assert len(pooled) == 2
    for session in pooled:
        query(mysql_admin, f"KILL {session}")
    with database.context() as db:
        db.images.add(new_image())
        db.commit_transaction()
        assert db.connection_id not in pooled
    with database.context() as db:
        assert db.images.count() == 1


def test_an_unreachable_server_fails_at_use_not_at_construction() -> None:
    database = MySQLDatabase(make_mysql_settings("pixyproxy", db_port=1, db_pool_size=1))
    for _ in range(3):  # a failed checkout gives its pool slot back
        with pytest.raises(DBConnectionError) as caught:
            database.context()
        assert isinstance(caught.value.__cause__, mysql.connector.Error)
    with pytest.raises(DBConnectionError):
        database.ping()
    assert pool_stats(database).in_use == 0 and pool_stats(database).opened == 0


class TcpProxy:
    """A TCP forwarder to the test server that can be taken down and brought back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._running = False

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._running = True
        self._sockets = [listener]
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        self._running = False
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets = []
        time.sleep(0.1)  # let the accept loop notice

    def _accept(self, listener: socket.socket) -> None:
        while self._running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def test_recovers_by_itself_when_the_server_comes_back(
    small_pool: Any, mysql_settings: Settings
) -> None:
    proxy = TcpProxy(mysql_settings.db_host or "127.0.0.1", mysql_settings.db_port)
    database = small_pool(db_host="127.0.0.1", db_port=proxy.port, db_pool_size=2)
    try:
        with pytest.raises(DBConnectionError):  # down at startup
            database.ping()
        proxy.start()
        database.ping()
        proxy.stop()  # down while the pool holds connections
        with pytest.raises(DBConnectionError):
            database.ping()
        proxy.start()
        database.ping()
        with database.context() as db:
            assert db.images.count() == 0
    finally:
        proxy.stop()
    assert pool_stats(database).opened == 2  # the first session, and the one replacing it


def test_a_trigger_signal_surfaces_as_a_constraint_violation(
    mysql_database: MySQLDatabase, mysql_admin: MySQLConnectionAbstract
) -> None:
    trigger = f"reject_{uuid.uuid4().hex[:8]}"
    query(
        mysql_admin,
        f"CREATE TRIGGER {trigger} BEFORE INSERT ON images FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'secret trigger text'",
    )
    try:
        with mysql_database.context() as db, pytest.raises(ConstraintViolationError) as caught:
            db.images.add(new_image())
        assert "secret" not in str(caught.value) and "INSERT" not in str(caught.value)
        assert isinstance(caught.value.__cause__, mysql.connector.DatabaseError)
    finally:
        query(mysql_admin, f"DROP TRIGGER IF EXISTS {trigger}")


def test_a_duplicate_guid_message_carries_no_sql_or_values(mysql_database: MySQLDatabase) -> None:
    image = new_image()
    with mysql_database.context() as db:
        db.images.add(image)
        with pytest.raises(ConstraintViolationError) as caught:
            db.images.add(image)
    assert str(caught.value) == ConstraintViolationError.default_message


def test_closing_twice_releases_the_connection_once(small_pool: Any) -> None:
    database = small_pool(db_pool_size=1, db_pool_timeout=0.3)
    context = database.context()
    context.close()
    context.close()
    assert pool_stats(database).in_use == 0
    with database.context(), pytest.raises(DBConnectionError):
        database.context()


@pytest.fixture
def scratch_settings(mysql_settings: Settings) -> Iterator[Settings]:
    """Settings for a database that does not exist yet; dropped afterwards."""
    settings = make_mysql_settings(f"pixyproxy_scratch_{uuid.uuid4().hex[:8]}")
    yield settings
    admin = admin_connect(settings)
    try:
        query(admin, f"DROP DATABASE IF EXISTS `{settings.db_name}`")
    finally:
        admin.close()


def test_apply_mysql_schema_creates_the_database_and_is_idempotent(
    scratch_settings: Settings,
) -> None:
    apply_mysql_schema(scratch_settings)
    apply_mysql_schema(scratch_settings)
    admin = admin_connect(scratch_settings, database=scratch_settings.db_name)
    try:
        tables = {row[0] for row in query(admin, "SHOW TABLES")}
    finally:
        admin.close()
    assert tables == {
        "images",
        "image_tags",
        "image_renditions",
        "users",
        "idempotency_keys",
        "rate_counters",
        "schema_migrations",
    }


def test_the_app_user_gets_dml_on_its_schema_and_nothing_global(
    scratch_settings: Settings,
) -> None:
    user, password = f"pp_test_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    apply_mysql_schema(scratch_settings)
    create_app_user(scratch_settings, user, password)
    admin = admin_connect(scratch_settings)
    try:
        grants = [row[0] for row in query(admin, "SHOW GRANTS FOR %s@'%'", (user,))]
        app = make_mysql_settings(scratch_settings.db_name, db_user=user, db_password=password)
        app_db = MySQLDatabase(app)
        with app_db.context() as db:
            db.images.add(new_image())
            db.commit_transaction()
            with pytest.raises(mysql.connector.ProgrammingError):
                db.cursor.execute("CREATE TABLE sneaky (id INT)")
        app_db.close()
    finally:
        query(admin, "DROP USER IF EXISTS %s@'%'", (user,))
        admin.close()
    global_grants = [grant for grant in grants if " ON *.* " in grant]
    assert all(grant.startswith("GRANT USAGE ON *.*") for grant in global_grants)
    assert any(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{scratch_settings.db_name}`.*" in grant
        for grant in grants
    )
    script = (SQL_DIR / "002_app_user.sql").read_text()
    statements = [line for line in script.splitlines() if not line.startswith("--")]
    assert "*.*" not in "\n".join(statements)
