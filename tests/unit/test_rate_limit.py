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

    def __init__(self, *, pair: RateRule, address: RateRule = OFF, create: RateRule = OFF) -> None:
        self.database = InMemoryDatabase()
        self.clock = FakeClock()
        self.limits = RateLimits(
            self.database, login_pair=pair, login_address=address, create=create, clock=self.clock
        )
        self.users = UserService(self.database, self.limits)
        self.generator = FakeImageGenerator()
        self.backends = Backends(self.database, InMemoryBlobStore(), self.generator)
        self.username = f"alice-{uuid.uuid4().hex[:6]}"
        self.add_user(self.username)

    def add_user(self, username: str) -> None:
        with self.database.context() as db:
            db.begin_transaction()
            db.users.add(username, cheap_hash(PASSWORD))
            db.commit_transaction()

    def login(self, password: str, *, client: str = "198.51.100.1", user: str = "") -> str:
        return self.users.authenticate(user or self.username, password, client=client)

    def fail(self, times: int, **kwargs: str) -> None:
        for _ in range(times):
            with pytest.raises(AuthenticationError):
                self.login("wrong", **kwargs)

    def refused(self, password: str = PASSWORD, **kwargs: str) -> RateLimitedError:
        with pytest.raises(RateLimitedError) as caught:
            self.login(password, **kwargs)
        return caught.value

    def public(self, client: str) -> PublicImageService:
        return PublicImageService(self.backends, None, client=client, limits=self.limits)


def test_after_n_failures_for_a_user_that_address_is_429_until_the_window_ends() -> None:
    world = World(pair=RateRule(3, 300), address=RateRule(20, 300))
    world.fail(3)
    world.clock.advance(100)
    refused = world.refused()  # the right password too: refused before any check
    assert refused.retry_after == 200
    assert refused.code == "rate_limited"
    world.clock.advance(200)
    assert world.login(PASSWORD) == world.username


def test_fewer_failures_than_the_limit_do_not_lock_anyone_out() -> None:
    world = World(pair=RateRule(3, 300), address=RateRule(20, 300))
    world.fail(2)
    assert world.login(PASSWORD) == world.username


def test_a_refused_attempt_is_not_checked_and_not_counted() -> None:
    world = World(pair=RateRule(2, 60), address=RateRule(20, 60))
    world.fail(2)
    for _ in range(5):
        world.refused("wrong")
    rows = world.database.rate_counters.rows
    assert {row.hits for row in rows.values()} == {2}


def test_guesses_from_elsewhere_never_lock_the_owner_out() -> None:
    world = World(pair=RateRule(5, 300), address=RateRule(20, 300))
    for n in range(40):  # a botnet: 40 addresses, each guessing a few times
        world.fail(4, client=f"203.0.113.{n}")
    world.fail(5, client="192.0.2.66")  # and one that got itself refused
    world.refused(client="192.0.2.66")
    assert world.login(PASSWORD, client="198.51.100.1") == world.username


def test_one_address_guessing_one_username_is_refused_for_that_username_only() -> None:
    world = World(pair=RateRule(5, 300), address=RateRule(20, 300))
    world.add_user("bob")
    world.fail(5)
    world.refused()
    assert world.login(PASSWORD, user="bob") == "bob"  # a neighbour behind the same NAT


def test_one_address_guessing_many_usernames_is_refused_for_every_username() -> None:
    world = World(pair=RateRule(5, 300), address=RateRule(20, 300))
    for n in range(20):
        world.fail(1, user=f"nobody{n}")
    refused = world.refused()  # a known user with the right password, from that address
    assert refused.retry_after == 300
    world.refused(user="nobody-new")
    assert world.login(PASSWORD, client="192.0.2.77") == world.username


def test_the_address_rule_counts_failures_of_one_username_too() -> None:
    world = World(pair=RateRule(0, 60), address=RateRule(3, 60))  # the pair rule off
    world.fail(3)
    world.refused()
    assert world.login(PASSWORD, client="192.0.2.77") == world.username


def test_retry_after_is_the_longest_wait_among_the_full_buckets() -> None:
    world = World(pair=RateRule(2, 100), address=RateRule(3, 100))
    world.fail(1, user="nobody")
    world.clock.advance(40)
    world.fail(2)  # the pair is full (window from t=40); the address too (from t=0)
    world.clock.advance(10)
    assert world.refused().retry_after == 90  # the pair's window ends last
    assert world.refused(user="nobody").retry_after == 50  # only the address is full


def test_a_successful_login_writes_no_counter() -> None:
    world = World(pair=RateRule(3, 60), address=RateRule(20, 60))
    for _ in range(5):
        world.login(PASSWORD)
    assert world.database.rate_counters.rows == {}


def test_a_limit_of_zero_turns_a_login_rule_off() -> None:
    world = World(pair=RateRule(0, 60), address=RateRule(0, 60))
    world.fail(30)
    assert world.login(PASSWORD) == world.username
    assert world.database.rate_counters.rows == {}


def test_failures_count_per_address_and_per_pair_with_the_name_as_a_digest() -> None:
    world = World(pair=RateRule(5, 60), address=RateRule(20, 60))
    world.fail(2)
    world.fail(1, user="bob")
    world.fail(1, client="192.0.2.9")
    hits = {bucket: row.hits for bucket, row in world.database.rate_counters.rows.items()}
    alice = hashlib.sha256(world.username.encode()).hexdigest()[:32]
    bob = hashlib.sha256(b"bob").hexdigest()[:32]
    assert hits == {
        "login-ip:198.51.100.1": 3,
        f"login-pair:198.51.100.1:{alice}": 2,
        f"login-pair:198.51.100.1:{bob}": 1,
        "login-ip:192.0.2.9": 1,
        f"login-pair:192.0.2.9:{alice}": 1,
    }
    assert not any(world.username in bucket for bucket in hits)


def test_an_empty_username_counts_only_for_the_address() -> None:
    assert login_buckets("", "198.51.100.1") == ["login-ip:198.51.100.1"]
    assert login_buckets("bob", None) == [
        "login-ip:unknown",
        "login-pair:unknown:" + hashlib.sha256(b"bob").hexdigest()[:32],
    ]
    typed = login_buckets("my password, oops", "198.51.100.1")[1]
    assert "password" not in typed


def test_bucket_keys_fit_the_column_for_every_kind_of_address() -> None:
    for host in ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "x" * 500, "a" * 64, None):
        for bucket in login_buckets("u" * 5000, host):
            assert len(bucket) <= 128  # rate_counters.bucket is VARCHAR(128)


def test_public_creation_is_refused_past_the_limit_before_generating() -> None:
    world = World(pair=RateRule(5, 60), create=RateRule(2, 3600))
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
    world = World(pair=RateRule(5, 60), address=RateRule(20, 60))
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


def test_defaults_limit_logins_per_pair_and_per_address_and_leave_creation_unlimited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "AUTH_MAX_FAILURES",
        "AUTH_MAX_ADDRESS_FAILURES",
        "AUTH_FAILURE_WINDOW",
        "CREATE_RATE_LIMIT",
    ):
        monkeypatch.delenv(name, raising=False)
    limits = RateLimits.from_settings(InMemoryDatabase(), Settings(_env_file=None))
    assert limits.login_pair == RateRule(5, 300)
    assert limits.login_address == RateRule(20, 300)
    assert not limits.create.enabled
