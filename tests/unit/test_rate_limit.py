"""Failed-login and creation rate limits in the service, on the in-memory database."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from core.exceptions import AuthenticationError, RateLimitedError
from core.models import ImageDetailCreate
from core.settings import Settings
from service.image_service import Backends
from service.public_images import PublicImageService
from service.rate_limit import RateLimits, RateRule, client_key, login_buckets
from service.user_service import UserService
from tests.fakes.blobs import InMemoryBlobStore
from tests.fakes.database import InMemoryDatabase
from tests.fakes.generator import FakeImageGenerator
from tests.support.auth import FakeClock, cheap_hash

PASSWORD = "correct horse"
OFF = RateRule(0, 60)


class World:
    """A fake database with one user, rate limits on a fake clock, and the services."""

    def __init__(self, *, login: RateRule, create: RateRule = OFF) -> None:
        self.database = InMemoryDatabase()
        self.clock = FakeClock()
        self.limits = RateLimits(self.database, login=login, create=create, clock=self.clock)
        self.users = UserService(self.database, self.limits)
        self.generator = FakeImageGenerator()
        self.backends = Backends(self.database, InMemoryBlobStore(), self.generator)
        self.username = f"alice-{uuid.uuid4().hex[:6]}"
        with self.database.context() as db:
            db.begin_transaction()
            db.users.add(self.username, cheap_hash(PASSWORD))
            db.commit_transaction()

    def login(self, password: str, *, client: str = "198.51.100.1", user: str = "") -> str:
        return self.users.authenticate(user or self.username, password, client=client)

    def fail(self, times: int, **kwargs: str) -> None:
        for _ in range(times):
            with pytest.raises(AuthenticationError):
                self.login("wrong", **kwargs)

    def public(self, client: str) -> PublicImageService:
        return PublicImageService(self.backends, None, client=client, limits=self.limits)


def test_after_n_failures_even_the_right_password_is_429_until_the_window_ends() -> None:
    world = World(login=RateRule(3, 300))
    world.fail(3)
    world.clock.advance(100)
    with pytest.raises(RateLimitedError) as refused:
        world.login(PASSWORD)
    assert refused.value.retry_after == 200
    assert refused.value.code == "rate_limited"
    world.clock.advance(200)
    assert world.login(PASSWORD) == world.username


def test_fewer_failures_than_the_limit_do_not_lock_anyone_out() -> None:
    world = World(login=RateRule(3, 300))
    world.fail(2)
    assert world.login(PASSWORD) == world.username


def test_a_locked_out_attempt_is_refused_before_any_password_check() -> None:
    world = World(login=RateRule(2, 60))
    world.fail(2)
    for _ in range(5):
        with pytest.raises(RateLimitedError):
            world.login("wrong")
    rows = world.database.rate_counters.rows
    assert {row.hits for row in rows.values()} == {2}  # refusals are not counted


def test_a_username_is_locked_out_from_every_address() -> None:
    world = World(login=RateRule(3, 60))
    for n in range(3):
        world.fail(1, client=f"203.0.113.{n}")
    with pytest.raises(RateLimitedError):
        world.login(PASSWORD, client="192.0.2.77")


def test_an_address_is_locked_out_for_every_username() -> None:
    world = World(login=RateRule(3, 60))
    for n in range(3):
        world.fail(1, user=f"nobody{n}")
    with pytest.raises(RateLimitedError):
        world.login(PASSWORD)
    assert world.login(PASSWORD, client="192.0.2.77") == world.username


def test_a_successful_login_writes_no_counter() -> None:
    world = World(login=RateRule(3, 60))
    for _ in range(5):
        world.login(PASSWORD)
    assert world.database.rate_counters.rows == {}


def test_a_limit_of_zero_turns_the_login_rule_off() -> None:
    world = World(login=RateRule(0, 60))
    world.fail(20)
    assert world.login(PASSWORD) == world.username
    assert world.database.rate_counters.rows == {}


def test_usernames_are_counted_by_digest_and_an_empty_one_only_by_address() -> None:
    bob = "login-user:" + hashlib.sha256(b"bob").hexdigest()[:32]
    assert login_buckets("bob", None) == ["login-ip:unknown", bob]
    assert login_buckets("", "198.51.100.1") == ["login-ip:198.51.100.1"]
    typed = login_buckets("my password, oops", "198.51.100.1")[1]
    assert "password" not in typed and len(typed) == len(bob)


def test_public_creation_is_refused_past_the_limit_before_generating() -> None:
    world = World(login=RateRule(5, 60), create=RateRule(2, 3600))
    prompt = ImageDetailCreate(prompt="a fox")
    world.public("198.51.100.1").create_image(prompt)
    world.clock.advance(10)
    world.public("198.51.100.1").create_image(prompt)
    with pytest.raises(RateLimitedError) as refused:
        world.public("198.51.100.1").create_image(prompt)
    assert refused.value.retry_after == 3590
    assert world.generator.calls == 2
    world.public("198.51.100.2").create_image(prompt)  # another client has its own budget
    world.clock.advance(3590)
    world.public("198.51.100.1").create_image(prompt)
    assert world.generator.calls == 4


def test_expired_counters_are_purged_now_and_then() -> None:
    world = World(login=RateRule(5, 60))
    world.fail(1, user="nobody")
    assert len(world.database.rate_counters.rows) == 2
    world.clock.advance(120)
    world.limits._next_purge = 0.0  # the next hit is due to purge
    world.fail(1, user="other", client="192.0.2.9")
    assert sorted(world.database.rate_counters.rows) == login_buckets("other", "192.0.2.9")


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_client_keys_are_normalised(host: str | None, key: str) -> None:
    assert client_key(host) == key


def test_odd_client_strings_are_hashed_to_a_bounded_key() -> None:
    key = client_key("x" * 500 + " ; drop")
    assert key.startswith("h-") and len(key) == 34


def test_defaults_limit_logins_and_leave_creation_unlimited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AUTH_MAX_FAILURES", "AUTH_FAILURE_WINDOW", "CREATE_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    limits = RateLimits.from_settings(InMemoryDatabase(), Settings(_env_file=None))
    assert limits.login == RateRule(5, 300)
    assert not limits.create.enabled
