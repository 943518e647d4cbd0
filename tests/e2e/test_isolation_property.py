"""Property: random traffic never shows a private image to anyone but its owner, on MySQL.

The app over HTTP on MariaDB (the SQL that decides visibility is the real one), with
in-memory blobs and a fake generator so that many sequences fit in a few seconds. The
machine and its model are in ``tests/support/isolation_machine.py``.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from service.init import build_services
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.generator import FakeImageGenerator
from tests.support.auth import cheap_hash
from tests.support.isolation_machine import isolation_machine
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.mysql]


def test_random_traffic_on_mysql_never_shows_a_private_image_to_anyone_but_its_owner(
    mysql_settings: Settings, mysql_clean: None, mysql_admin: MySQLConnectionAbstract
) -> None:
    blobs = InMemoryBlobStore()
    services = build_services(mysql_settings, blobs=blobs, generator=FakeImageGenerator())
    users = [(f"{name}-{uuid.uuid4().hex[:4]}", uuid.uuid4().hex) for name in ("ann", "ben", "cy")]
    with services.backends.database.context() as db:
        db.begin_transaction()
        for username, password in users:
            db.users.add(username, cheap_hash(password))
        db.commit_transaction()

    def reset() -> None:
        cursor = mysql_admin.cursor()
        cursor.execute("DELETE FROM image_tags")
        cursor.execute("DELETE FROM images")
        cursor.close()
        blobs.blobs.clear()

    try:
        with TestClient(create_app(services=services)) as client:
            run_state_machine_as_test(
                isolation_machine(client, users, reset),
                settings=settings(
                    max_examples=15,
                    stateful_step_count=20,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
    finally:
        services.close()
