"""Rate limits on failed logins and on public creation, counted in the database.

Counters live in the database (``data/rate_counter_repository.py``) so every worker and
replica sees the same numbers. Each bucket holds a fixed window that starts at its
first event (``AUTH_FAILURE_WINDOW``, ``CREATE_RATE_WINDOW`` seconds).

* Failed logins count in two buckets, both tied to the client address, never to a
  username alone (so nobody can lock a user out from elsewhere, OWASP's warning):

  - the pair (address, username), ``login-pair:<address>:<SHA-256 of the name>``:
    ``AUTH_MAX_FAILURES`` failures (5) stop one address guessing one username;
  - the address, ``login-ip:<address>``: ``AUTH_MAX_ADDRESS_FAILURES`` failures (20)
    stop one address guessing, whatever usernames it tries.

  Once a bucket of the attempt is full, the attempt is a ``RateLimitedError`` (429,
  ``Retry-After`` = the rest of the window) *before* any password is checked, a right
  one included, so a password cannot be guessed at full speed. The owner, with the
  right password, from an address that is not itself full, always gets in. People type
  passwords into the username field, so names are stored only as digests (and the row
  is purged soon after its window ends). Unknown names count like known ones, so a
  refusal tells nothing about which usernames exist. A successful login writes
  nothing. Concurrent wrong guesses that passed the check together may overshoot a
  limit by how many were in flight; the count itself is exact.
* Public creation: ``create-ip:…``; each creation counts before anything is generated,
  and the one past ``CREATE_RATE_LIMIT`` is refused.

A limit of 0 turns its rule off. Rows of expired windows are purged now and then
(at most every ``PURGE_INTERVAL`` seconds per process, in a transaction of their own).
IPv6 clients are counted per /64 network, which is what one host usually gets.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.exceptions import PixyProxyException, RateLimitedError
from core.records import RateCount
from core.settings import Settings
from data.database import Database
from service.transaction import transaction

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PURGE_INTERVAL = 60.0  # seconds between purges of expired rows, per process
PURGE_BATCH = 500
LOGIN_MESSAGE = "Too many failed logins; try again later."
CREATE_MESSAGE = "Too many images created from this address; try again later."
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class RateRule:
    """At most ``limit`` events per ``window`` seconds in one bucket; ``limit`` 0 is off."""

    limit: int
    window: int

    @property
    def enabled(self) -> bool:
        """Whether the rule limits anything."""
        return self.limit > 0


def client_key(host: str | None) -> str:
    """A bucket-safe key for a client address: IPv6 by /64, odd strings hashed."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if _SAFE_KEY.fullmatch(host):
            return host
        return "h-" + hashlib.sha256(host.encode("utf-8", "replace")).hexdigest()[:32]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def username_digest(username: str) -> str:
    """The digest that stands for a username in bucket keys (never the name as typed)."""
    return hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]


def login_buckets(username: str, client: str | None) -> list[str]:
    """The buckets a login attempt counts in: the address, then the (address, username) pair.

    An empty username has no pair of its own; it counts for the address only.
    """
    address = client_key(client)
    buckets = [f"login-ip:{address}"]
    if username:
        buckets.append(f"login-pair:{address}:{username_digest(username)}")
    return buckets


class RateLimits:
    """The login and creation rules over one database's counters."""

    def __init__(
        self,
        database: Database,
        *,
        login_pair: RateRule,
        login_address: RateRule,
        create: RateRule,
        clock: Clock = utc_now,
    ) -> None:
        """Count in ``database``; ``clock`` gives the time (tests pass their own).

        ``login_pair`` limits failures per (address, username), ``login_address`` per
        address over all usernames, ``create`` public creations per address.
        """
        self._database = database
        self.login_pair = login_pair
        self.login_address = login_address
        self.create = create
        self._clock = clock
        self._purge_lock = threading.Lock()
        self._next_purge = 0.0

    @classmethod
    def from_settings(
        cls, database: Database, settings: Settings, *, clock: Clock = utc_now
    ) -> RateLimits:
        """The rules of ``AUTH_*`` and ``CREATE_RATE_*``."""
        window = settings.auth_failure_window
        return cls(
            database,
            login_pair=RateRule(settings.auth_max_failures, window),
            login_address=RateRule(settings.auth_max_address_failures, window),
            create=RateRule(settings.create_rate_limit, settings.create_rate_window),
            clock=clock,
        )

    def _login_rules(self, username: str, client: str | None) -> list[tuple[str, RateRule]]:
        """The attempt's buckets, each with its rule; rules that are off are left out."""
        buckets = login_buckets(username, client)
        rules = [self.login_address, self.login_pair][: len(buckets)]
        return [(bucket, rule) for bucket, rule in zip(buckets, rules, strict=True) if rule.enabled]

    def check_login(self, username: str, client: str | None) -> None:
        """``RateLimitedError`` while the address, or this address for this username, is full."""
        rules = self._login_rules(username, client)
        if not rules:
            return
        now = self._clock()
        with transaction(self._database) as db:
            counts = [(db.rate_counters.current(bucket, now=now), rule) for bucket, rule in rules]
        full = [c for c, rule in counts if c is not None and c.hits >= rule.limit]
        if full:
            kinds = ", ".join(c.bucket.split(":", 1)[0] for c in full)
            logger.warning("login refused from %s: %s full", client_key(client), kinds)
            raise RateLimitedError(LOGIN_MESSAGE, retry_after=_retry_after(full, now))

    def record_login_failure(self, username: str, client: str | None) -> None:
        """Count one failed login for the address and for the (address, username) pair."""
        rules = self._login_rules(username, client)
        if rules:
            self._hit(rules)

    def admit_creation(self, client: str | None) -> None:
        """Count one public creation; ``RateLimitedError`` if it is one too many."""
        if not self.create.enabled:
            return
        count = self._hit([(f"create-ip:{client_key(client)}", self.create)])[0]
        if count.hits > self.create.limit:
            logger.warning("creation refused: %s over its limit", count.bucket)
            raise RateLimitedError(CREATE_MESSAGE, retry_after=_retry_after([count], self._clock()))

    def _hit(self, rules: Sequence[tuple[str, RateRule]]) -> list[RateCount]:
        """One event in each bucket, in one short transaction (row locks in key order).

        The counts come back in the order of ``rules``.
        """
        now = self._clock()
        with transaction(self._database) as db:
            by_bucket = {
                bucket: db.rate_counters.hit(bucket, now=now, window=timedelta(seconds=rule.window))
                for bucket, rule in sorted(rules, key=lambda item: item[0])
            }
        self._maybe_purge(now)
        return [by_bucket[bucket] for bucket, _ in rules]

    def _maybe_purge(self, now: datetime) -> None:
        """Delete a batch of expired rows, at most every ``PURGE_INTERVAL`` seconds."""
        if time.monotonic() < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._next_purge = time.monotonic() + PURGE_INTERVAL
            with transaction(self._database) as db:
                purged = db.rate_counters.purge_expired(now, limit=PURGE_BATCH)
            if purged:
                logger.info("purged %d expired rate counters", purged)
        except PixyProxyException as exc:
            logger.warning("could not purge rate counters: %s", exc.code)
        finally:
            self._purge_lock.release()


def _retry_after(counts: Sequence[RateCount], now: datetime) -> int:
    """Whole seconds until the last of ``counts``' windows ends (at least 1)."""
    longest = max((count.expires_at - now).total_seconds() for count in counts)
    return max(1, math.ceil(longest))
