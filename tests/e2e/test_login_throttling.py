"""Login throttling over real sockets, from distinct client addresses (CONTRACT.md §6).

A real uvicorn serves the app on MariaDB + moto S3 + the fake Images API, with the
default limits. Each client binds its own loopback source address (127.0.0.2,
127.0.0.3, …): to uvicorn, and so to the rate limits, each is a distinct client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from service.init import Services
from tests.e2e.test_public_images import assert_error
from tests.support.auth import basic
from tests.support.live_server_fixtures import StartServer

pytestmark = pytest.mark.e2e

MakeUser = Callable[..., tuple[str, str]]
AT_MOST = 20  # CONTRACT.md §6: an address is refused after at most 20 failures


@contextmanager
def client_from(url: str, address: str) -> Iterator[httpx.Client]:
    """An HTTP client whose connections leave from ``address``."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        yield client


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """One authenticated request."""
    return client.get("/private/image", headers={"Authorization": basic(username, password)})


def assert_throttled_after_at_most_20(statuses: list[int]) -> int:
    """The index of the first 429: only 401s before it, only 429s from it on."""
    assert 429 in statuses, statuses
    first = statuses.index(429)
    assert 1 <= first <= AT_MOST, statuses
    assert statuses[:first] == [401] * first
    assert statuses[first:] == [429] * (len(statuses) - first)
    return first


def assert_login_throttle_answer(response: httpx.Response, window: int) -> None:
    """429 with the error body and a usable ``Retry-After``, and no Basic challenge."""
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= window
    assert "www-authenticate" not in response.headers


def counter_hits(admin: MySQLConnectionAbstract) -> dict[str, int]:
    """``bucket -> hits`` of the rate counters in the database."""
    if not admin.is_connected():
        admin.reconnect()
    admin.commit()  # a fresh snapshot
    cursor = admin.cursor()
    cursor.execute("SELECT bucket, hits FROM rate_counters")
    rows = {str(bucket): int(str(hits)) for bucket, hits in cursor.fetchall()}
    cursor.close()
    return rows


def test_forty_wrong_passwords_throttle_that_address_and_the_owner_gets_in_from_another(
    live_server: StartServer,
    services: Services,
    make_user: MakeUser,
    mysql_admin: MySQLConnectionAbstract,
) -> None:
    user, password = make_user("alice")
    neighbour, neighbour_pw = make_user("bob")
    url = live_server(services)
    window = services.settings.auth_failure_window
    with client_from(url, "127.0.0.2") as guesser:
        answers = [login(guesser, user, f"guess-{n}") for n in range(40)]
        right_from_there = login(guesser, user, password)
        neighbour_from_there = login(guesser, neighbour, neighbour_pw)

    first = assert_throttled_after_at_most_20([r.status_code for r in answers])
    for refused in answers[first:]:
        assert_login_throttle_answer(refused, window)
    assert_login_throttle_answer(right_from_there, window)  # refused before the check
    assert neighbour_from_there.status_code == 200  # the address itself is not full yet
    hits = counter_hits(mysql_admin)
    assert hits["login-ip:127.0.0.2"] == first  # refusals cost no password check, no count
    assert not any(user in bucket for bucket in hits)

    with client_from(url, "127.0.0.3") as owner:
        assert login(owner, user, password).status_code == 200


def test_forty_usernames_from_one_address_throttle_it_for_everyone_there_only(
    live_server: StartServer,
    services: Services,
    make_user: MakeUser,
) -> None:
    user, password = make_user("carol")
    url = live_server(services)
    window = services.settings.auth_failure_window
    with client_from(url, "127.0.0.4") as sprayer:
        answers = [login(sprayer, f"name-{n}", "password1") for n in range(40)]
        right_from_there = login(sprayer, user, password)

    first = assert_throttled_after_at_most_20([r.status_code for r in answers])
    for refused in answers[first:]:
        assert_login_throttle_answer(refused, window)
    assert_login_throttle_answer(right_from_there, window)
    with client_from(url, "127.0.0.5") as owner:
        assert login(owner, user, password).status_code == 200


def test_many_addresses_guessing_one_username_never_lock_its_owner_out(
    live_server: StartServer,
    services: Services,
    make_user: MakeUser,
) -> None:
    user, password = make_user("dave")
    url = live_server(services)
    for n in range(10, 16):  # six addresses, each until it is refused
        with client_from(url, f"127.0.1.{n}") as guesser:
            statuses = [login(guesser, user, "nope").status_code for _ in range(8)]
        assert_throttled_after_at_most_20(statuses)
    with client_from(url, "127.0.0.6") as owner:
        assert login(owner, user, password).status_code == 200
