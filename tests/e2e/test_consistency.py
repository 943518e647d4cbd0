"""CONTRACT.md §5 made to fail for real: a rejected insert, a stopped S3 endpoint, a pool."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from mysql.connector.abstracts import MySQLConnectionAbstract
from types_boto3_s3 import S3Client

from core.settings import Settings
from data.mysql.database import MySQLDatabase
from data.mysql.unit_of_work import DatabaseContext
from service.init import Services, build_services
from tests.e2e.test_public_images import assert_error
from tests.support.pool_stats import pool_stats
from tests.support.s3_fixtures import StoppableS3
from web.app import create_app

pytestmark = pytest.mark.e2e


def _bucket_keys(s3_client: S3Client, settings: Settings) -> list[str]:
    listed = s3_client.list_objects_v2(Bucket=str(settings.s3_bucket))
    return [item["Key"] for item in listed.get("Contents", [])]


def _row_count(admin: MySQLConnectionAbstract) -> int:
    cursor = admin.cursor()
    cursor.execute("SELECT COUNT(*) FROM images")
    (count,) = cursor.fetchone()  # type: ignore[misc]
    cursor.close()
    return int(str(count))


@pytest.fixture
def rejecting_trigger(mysql_admin: MySQLConnectionAbstract) -> Iterator[None]:
    """A trigger that makes every insert into ``images`` fail inside MySQL."""
    cursor = mysql_admin.cursor()
    cursor.execute(
        "CREATE TRIGGER reject_images BEFORE INSERT ON images FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'rejected by test trigger'"
    )
    yield
    cursor.execute("DROP TRIGGER IF EXISTS reject_images")
    cursor.close()


def test_a_rejected_insert_leaves_no_blob_behind(
    client: TestClient,
    rejecting_trigger: None,
    s3_client: S3Client,
    e2e_settings: Settings,
    mysql_admin: MySQLConnectionAbstract,
) -> None:
    response = client.post("/image", json={"prompt": "a fox the database refuses"})
    body = assert_error(response, 409, "constraint_violation")
    assert "rejected by test trigger" not in response.text
    assert "INSERT" not in body["message"]
    assert _bucket_keys(s3_client, e2e_settings) == []
    assert _row_count(mysql_admin) == 0


@pytest.fixture
def stoppable_client(
    e2e_settings: Settings, stoppable_s3: StoppableS3, mysql_clean: None
) -> Iterator[tuple[TestClient, StoppableS3]]:
    """The app with its bucket behind an S3 endpoint the test can stop."""
    settings = e2e_settings.model_copy(
        update={
            "s3_endpoint_url": stoppable_s3.endpoint_url,
            "s3_bucket": stoppable_s3.settings.s3_bucket,
        }
    )
    services = build_services(settings)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        yield client, stoppable_s3
    services.close()


def test_a_failed_upload_leaves_no_row_and_the_service_recovers(
    stoppable_client: tuple[TestClient, StoppableS3], mysql_admin: MySQLConnectionAbstract
) -> None:
    client, endpoint = stoppable_client
    endpoint.stop()
    response = client.post("/image", json={"prompt": "a fox with nowhere to go"})
    assert_error(response, 503, "blob_store_unavailable")
    assert response.headers["retry-after"]
    assert _row_count(mysql_admin) == 0
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["blob_store"]["ok"] is False
    assert ready.json()["database"]["ok"] is True

    endpoint.start()
    assert client.get("/readyz").status_code == 200
    created = client.post("/image", json={"prompt": "a fox after the outage"})
    assert created.status_code == 201
    content = client.get(f"/image/{created.json()['guid']}/content")
    assert content.status_code == 200 and len(content.content) == created.json()["size_bytes"]


def _server_connections(admin: MySQLConnectionAbstract) -> int:
    """MySQL's count of connection attempts since it started."""
    cursor = admin.cursor()
    cursor.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
    (_, value) = cursor.fetchone()  # type: ignore[misc]
    cursor.close()
    return int(str(value))


def test_reads_reuse_pooled_connections_instead_of_opening_new_ones(
    client: TestClient, services: Services, mysql_admin: MySQLConnectionAbstract
) -> None:
    guid = client.post("/image", json={"prompt": "a pooled fox"}).json()["guid"]
    for _ in range(3):  # let the pool reach its steady state
        client.get(f"/image/{guid}")
    before = _server_connections(mysql_admin)
    for _ in range(40):
        assert client.get(f"/image/{guid}").status_code == 200
    assert client.get(f"/image/{uuid.uuid4()}").status_code == 404
    opened = _server_connections(mysql_admin) - before
    # Other test sessions may share the server; 41 requests must not open 41 connections.
    assert opened < 5, f"{opened} new MySQL connections for 41 requests"
    database = services.backends.database
    assert isinstance(database, MySQLDatabase)
    assert pool_stats(database).opened <= pool_stats(database).size  # no churn
    assert pool_stats(database).sessions_seen <= pool_stats(database).size


class _CommitKillingDatabase(MySQLDatabase):
    """The real MySQL backend, except that its server connection is KILLed right before
    a commit, from an admin session, so the commit itself fails in the driver."""

    def __init__(self, settings: Settings, admin: MySQLConnectionAbstract) -> None:
        super().__init__(settings)
        self._admin = admin

    def context(self) -> DatabaseContext:
        context = super().context()
        real_commit = context.commit_transaction
        admin = self._admin

        def commit_after_kill() -> None:
            cursor = admin.cursor()
            cursor.execute(f"KILL {int(context.connection_id or 0)}")
            cursor.close()
            real_commit()

        context.commit_transaction = commit_after_kill  # type: ignore[method-assign]
        return context


def test_a_failed_commit_leaves_no_blob_behind(
    e2e_settings: Settings,
    mysql_clean: None,
    mysql_admin: MySQLConnectionAbstract,
    s3_client: S3Client,
    openai_api: object,
) -> None:
    database = _CommitKillingDatabase(e2e_settings, mysql_admin)
    services = build_services(e2e_settings, database=database)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        response = client.post("/image", json={"prompt": "a fox whose commit is lost"})
    services.close()
    assert_error(response, 503, "db_connection")
    assert _bucket_keys(s3_client, e2e_settings) == []
    assert _row_count(mysql_admin) == 0
