"""Property: random traffic never shows a private image to anyone but its owner.

The whole app in-process (TestClient) on the in-memory fakes; the MySQL twin of this
test is ``tests/e2e/test_isolation_property.py``. The machine and its model are in
``tests/support/isolation_machine.py``.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from core.settings import Settings
from service.init import build_services
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator
from tests.support.auth import cheap_hash
from tests.support.isolation_machine import isolation_machine
from web.app import create_app


def test_random_traffic_never_shows_a_private_image_to_anyone_but_its_owner() -> None:
    database, blobs = InMemoryDatabase(), InMemoryBlobStore()
    users = [(f"{name}-{uuid.uuid4().hex[:4]}", uuid.uuid4().hex) for name in ("ann", "ben", "cy")]
    with database.context() as db:
        db.begin_transaction()
        for username, password in users:
            db.users.add(username, cheap_hash(password))
        db.commit_transaction()

    def reset() -> None:
        database.rows = {}
        blobs.blobs.clear()

    services = build_services(
        Settings(_env_file=None), database=database, blobs=blobs, generator=FakeImageGenerator()
    )
    with TestClient(create_app(services=services)) as client:
        run_state_machine_as_test(
            isolation_machine(client, users, reset),
            settings=settings(
                max_examples=30,
                stateful_step_count=20,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
