"""HTTP Basic over HTTP: bad credentials, secrecy of passwords, and the rate limits.

On MariaDB + moto S3 + the fake Images API. The rate-limit tests run two apps (two
"replicas") on the same database with a fake clock, to show that the counters are
shared through the database and that the window ends.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mysql.connector.abstracts import MySQLConnectionAbstract

from core.settings import Settings
from service.init import Services, build_services
from service.rate_limit import login_buckets
from tests.e2e.test_public_images import assert_error
from tests.support.auth import FakeClock, basic
from tests.support.openai_server import FakeImagesAPI
from web.app import create_app

pytestmark = pytest.mark.e2e

MakeUser = Callable[..., tuple[str, str]]
CHALLENGE = 'Basic realm="pixyproxy"'


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def assert_challenge(response: Any) -> None:
    assert_error(response, 401, "authentication")
    assert response.headers["www-authenticate"] == CHALLENGE


BAD_HEADERS: dict[str, Callable[[str, str], str]] = {
    "wrong password": lambda user, _: basic(user, "not-the-password"),
    "unknown user": lambda _, pw: basic(f"ghost-{uuid.uuid4().hex[:6]}", pw),
    "empty user": lambda _, pw: basic("", pw),
    "not base64": lambda *_: "Basic %%%not*base64%%%",
    "bad padding": lambda *_: "Basic YWxpY2U6cw",
    "no colon": lambda user, _: f"Basic {b64(user.encode())}",
    "not UTF-8": lambda *_: f"Basic {b64(bytes([0xC3, 0x28, 0x3A, 0xFF]))}",
    "scheme only": lambda *_: "Basic",
    "another scheme": lambda *_: "Bearer abc.def",
    "huge user": lambda _, pw: basic("x" * 5000, pw),
}


@pytest.mark.parametrize("case", BAD_HEADERS)
def test_bad_credentials_are_a_401_challenge_on_every_route_never_a_500(
    client: TestClient, make_user: MakeUser, openai_api: FakeImagesAPI, case: str
) -> None:
    user, password = make_user("alice")
    headers = {"Authorization": BAD_HEADERS[case](user, password)}
    assert_challenge(client.get("/private/image", headers=headers))
    assert_challenge(client.post("/image", json={"prompt": "a fox"}, headers=headers))
    assert_challenge(client.get(f"/image/{uuid.uuid4()}", headers=headers))
    assert openai_api.calls == []


def test_missing_credentials_on_a_private_route_are_a_401_challenge(client: TestClient) -> None:
    assert_challenge(client.get("/private/image"))
    assert_challenge(client.post("/private/image", json={"prompt": "a fox"}))


def test_a_non_ascii_password_works_as_curl_sends_it(
    client: TestClient, services: Services
) -> None:
    name, password = f"jurgen-{uuid.uuid4().hex[:4]}", "pässwörd ✓ ñ"
    services.users.add_user(name, password)
    headers = {"Authorization": basic(name, password)}
    assert client.get("/private/image", headers=headers).status_code == 200


def _dump_tables(admin: MySQLConnectionAbstract) -> str:
    cursor = admin.cursor()
    text = []
    for table in ("users", "images", "image_tags", "idempotency_keys", "rate_counters"):
        cursor.execute(f"SELECT * FROM {table}")
        text.append(repr(cursor.fetchall()))
    cursor.close()
    return "\n".join(text)


def test_the_password_never_reaches_a_log_line_a_response_or_the_database(
    client: TestClient,
    services: Services,
    mysql_admin: MySQLConnectionAbstract,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every line any module writes
    name = f"alice-{uuid.uuid4().hex[:6]}"
    password, wrong, new = (f"{tag}-{uuid.uuid4().hex}" for tag in ("pw", "guess", "new"))
    secrets = [password, wrong, new, b64(f"{name}:{password}".encode()), b64(wrong.encode())]
    services.users.add_user(name, password)
    good = {"Authorization": basic(name, password)}
    responses = [
        client.post("/private/image", json={"prompt": "my cat"}, headers=good),
        client.get("/private/image", headers=good),
        client.post("/image", json={"prompt": "a public cat"}, headers=good),
        client.get("/image", headers={"Authorization": basic(name, wrong)}),
        client.get("/image", headers={"Authorization": f"Basic {b64(wrong.encode())}"}),
        client.get("/image", headers={"Authorization": f"Basic {wrong}"}),
        client.get("/image", headers={"Authorization": basic(wrong, password)}),
    ]
    services.users.change_password(name, new)
    responses.append(client.get("/private/image", headers={"Authorization": basic(name, new)}))
    for _ in range(6):  # into the lockout: its 429 and log lines must not leak either
        responses.append(client.get("/image", headers={"Authorization": basic(name, wrong)}))
    assert [r.status_code for r in responses[:3]] == [201, 200, 201]
    assert responses[-1].status_code == 429

    logged = "\n".join(
        [caplog.text]
        + [
            f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
            for record in caplog.records
        ]
    )
    answered = "\n".join(f"{r.text} {dict(r.headers)!r}" for r in responses)
    stored = _dump_tables(mysql_admin)
    assert name in logged and name in stored  # the haystacks are real
    for secret in secrets:
        assert secret not in logged
        assert secret not in answered
        assert secret not in stored
    cursor = mysql_admin.cursor()
    cursor.execute("SELECT password_hash FROM users WHERE username = %s", (name,))
    (stored_hash,) = cursor.fetchone()  # type: ignore[misc]
    cursor.close()
    assert str(stored_hash).startswith("scrypt$16384$")


@contextmanager
def replica(settings: Settings, clock: FakeClock, address: str) -> Iterator[TestClient]:
    """One more app (as another worker or replica would be) on the same database."""
    services = build_services(settings, clock=clock)
    app = create_app(services=services)
    with TestClient(app, raise_server_exceptions=False, client=(address, 40000)) as test_client:
        yield test_client
    services.close()


def test_failed_logins_are_counted_across_replicas_per_address_until_the_window_ends(
    e2e_settings: Settings,
    make_user: MakeUser,
    mysql_admin: MySQLConnectionAbstract,
) -> None:
    settings = e2e_settings.model_copy(
        update={"auth_max_failures": 3, "auth_max_address_failures": 5, "auth_failure_window": 60}
    )
    clock = FakeClock()
    (alice, alice_pw), (bob, bob_pw) = make_user("alice"), make_user("bob")
    wrong = {"Authorization": basic(alice, "wrong")}
    right = {"Authorization": basic(alice, alice_pw)}
    bob_right = {"Authorization": basic(bob, bob_pw)}
    with (
        replica(settings, clock, "203.0.113.10") as one,
        replica(settings, clock, "203.0.113.10") as two,
        replica(settings, clock, "198.51.100.20") as elsewhere,
    ):
        assert_challenge(one.get("/private/image", headers=wrong))
        assert_challenge(two.get("/private/image", headers=wrong))
        clock.advance(15)
        assert_challenge(one.get("/private/image", headers=wrong))

        locked = two.get("/private/image", headers=right)  # the right password, too late
        assert_error(locked, 429, "rate_limited")
        assert locked.headers["retry-after"] == "45"
        assert "www-authenticate" not in locked.headers
        # that address for that username only: the owner elsewhere, a neighbour here
        assert elsewhere.get("/private/image", headers=right).status_code == 200
        assert one.get("/private/image", headers=bob_right).status_code == 200

        cursor = mysql_admin.cursor()
        cursor.execute("SELECT bucket, hits FROM rate_counters ORDER BY bucket")
        assert cursor.fetchall() == [(bucket, 3) for bucket in login_buckets(alice, "203.0.113.10")]
        cursor.close()

        for n in range(2):  # two more names from the same address: the address is full
            assert_challenge(two.get("/image", headers={"Authorization": basic(f"x{n}", "pw")}))
        assert_error(one.get("/private/image", headers=bob_right), 429, "rate_limited")
        assert elsewhere.get("/private/image", headers=bob_right).status_code == 200

        clock.advance(45)
        assert one.get("/private/image", headers=right).status_code == 200
        assert two.get("/private/image", headers=bob_right).status_code == 200


def test_public_creation_is_rate_limited_per_client_and_private_creation_is_not(
    e2e_settings: Settings, make_user: MakeUser, openai_api: FakeImagesAPI
) -> None:
    settings = e2e_settings.model_copy(update={"create_rate_limit": 2, "create_rate_window": 600})
    clock = FakeClock()
    user = make_user("alice")
    with (
        replica(settings, clock, "203.0.113.30") as app,
        replica(settings, clock, "198.51.100.40") as other,
    ):
        first = app.post("/image", json={"prompt": "one"}, headers={"Idempotency-Key": "k-1"})
        clock.advance(100)
        assert first.status_code == 201
        assert app.post("/image", json={"prompt": "two"}).status_code == 201
        refused = app.post("/image", json={"prompt": "three"})
        assert_error(refused, 429, "rate_limited")
        assert refused.headers["retry-after"] == "500"
        assert len(openai_api.calls) == 2  # refused before generating

        replay = app.post("/image", json={"prompt": "one"}, headers={"Idempotency-Key": "k-1"})
        assert replay.status_code == 201 and replay.json() == first.json()  # not counted
        private = app.post(
            "/private/image", json={"prompt": "mine"}, headers={"Authorization": basic(*user)}
        )
        assert private.status_code == 201
        assert other.post("/image", json={"prompt": "elsewhere"}).status_code == 201

        clock.advance(500)
        assert app.post("/image", json={"prompt": "four"}).status_code == 201
        assert len(openai_api.calls) == 5
