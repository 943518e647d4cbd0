"""Idempotent creation: the ``Idempotency-Key`` header of the POST routes (CONTRACT.md §1).

A request with a key first *claims* ``(scope, caller, key)`` by inserting a ``pending``
row in a transaction of its own, before anything is generated; the unique index lets
exactly one request win. The winner generates, and the transaction that inserts the
image also marks the key ``completed`` with the image's guid, so both commit together
or not at all. If creation fails, the claim is deleted (released) and a retry may
claim the key again.

Any other request with the same key, within its lifetime:

* another body (SHA-256 of the canonical, validated body) → ``IdempotencyConflictError``;
* ``completed`` → the stored image's details, without generating again;
* ``pending`` → poll until it completes (then as above) or is released (then claim it),
  for at most ``wait`` seconds, then ``IdempotencyInProgressError`` (409, Retry-After).

A pending claim holds a lease (``PENDING_LEASE``), so a key whose process died mid-request
is free again after it. A completed key expires after ``IDEMPOTENCY_TTL`` seconds; the
next request with an expired key deletes it and claims afresh (``pixyproxy reconcile``
purges the others). Each step is a short transaction touching one row, so concurrent
requests wait for each other's row lock but never deadlock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self

from core.exceptions import (
    ConstraintViolationError,
    IdempotencyConflictError,
    IdempotencyInProgressError,
    PixyProxyException,
    ValidationFailedError,
)
from core.models import ImageDetail, ImageDetailCreate
from core.records import COMPLETED, IdempotencyRecord, NewIdempotencyKey
from data.database import Database
from data.unit_of_work import UnitOfWork
from service.transaction import transaction

logger = logging.getLogger(__name__)

KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"  # 1-128 visible ASCII characters
PENDING_LEASE = timedelta(minutes=10)  # well above OPENAI_TIMEOUT's default of 120 s
POLL_INTERVAL = 0.05  # seconds between looks at a pending key
_KEY = re.compile(KEY_PATTERN)

OnInsert = Callable[[UnitOfWork, str], None]
"""Called with the unit of work and the new image's guid, inside the insert's transaction."""


@dataclass(frozen=True)
class IdempotentRequest:
    """Who asks, under which key, for what (``request_hash``)."""

    scope: str  # "public" or "private"
    caller: str  # username; "" when anonymous
    key: str
    request_hash: str

    @classmethod
    def of(cls, *, scope: str, caller: str | None, key: str, body: ImageDetailCreate) -> Self:
        """Check the key and fingerprint the (already validated) body."""
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValidationFailedError(
                "The Idempotency-Key header must be 1 to 128 visible ASCII characters.",
                details=[
                    {
                        "loc": ["header", "Idempotency-Key"],
                        "msg": "Must be 1 to 128 visible ASCII characters",
                        "type": "idempotency_key",
                    }
                ],
            )
        return cls(scope=scope, caller=caller or "", key=key, request_hash=request_hash(body))


def request_hash(body: ImageDetailCreate) -> str:
    """SHA-256 of the canonical JSON of a validated body (stripped prompt, normalised tags).

    Fields left out (``size``, ``quality``) are left out of the hash too, so a key stored
    by a release without them still matches the same body.
    """
    canonical = json.dumps(
        body.model_dump(mode="json", exclude_none=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class IdempotencyKeys:
    """Runs a creation at most once per key (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        *,
        ttl: float,
        wait: float,
        lease: timedelta = PENDING_LEASE,
    ) -> None:
        """``ttl``: seconds a completed key lives; ``wait``: seconds to poll a pending one."""
        self._database = database
        self._ttl = timedelta(seconds=ttl)
        self._wait = wait
        self._lease = lease

    def run(
        self,
        request: IdempotentRequest,
        create: Callable[[OnInsert], ImageDetail],
        replay: Callable[[str], ImageDetail],
    ) -> ImageDetail:
        """``create`` once for this key; a completed repeat gets ``replay(guid)`` instead."""
        outcome = self._claim_or_wait(request)
        if isinstance(outcome, str):
            logger.info("idempotent replay key scope=%s guid=%s", request.scope, outcome)
            return replay(outcome)
        claim = outcome
        try:
            return create(lambda db, guid: self._complete(db, claim, guid))
        except BaseException:
            self._release(claim)
            raise

    def _claim_or_wait(self, request: IdempotentRequest) -> IdempotencyRecord | str:
        """Our pending claim, or the guid of the completed request with this key."""
        deadline = time.monotonic() + self._wait
        while True:
            claim = self._try_claim(request)
            if claim is not None:
                return claim
            found = self._find(request)
            if found is not None and found.expires_at <= _now():
                self._delete_expired(found)
                continue  # free again: claim it
            if found is not None:
                if found.request_hash != request.request_hash:
                    raise IdempotencyConflictError
                if found.status == COMPLETED and found.image_guid is not None:
                    return found.image_guid
            if time.monotonic() >= deadline:
                raise IdempotencyInProgressError
            if found is not None:
                time.sleep(POLL_INTERVAL)  # pending: look again shortly; gone: claim at once

    def _try_claim(self, request: IdempotentRequest) -> IdempotencyRecord | None:
        """Insert the pending row in its own committed transaction; ``None`` if taken."""
        now = _now()
        new = NewIdempotencyKey(
            scope=request.scope,
            caller=request.caller,
            key=request.key,
            request_hash=request.request_hash,
            created_at=now,
            expires_at=now + self._lease,
        )
        try:
            with transaction(self._database) as db:
                try:
                    return db.idempotency.add(new)
                except ConstraintViolationError:
                    return None  # the key is taken; nothing to commit
        except ConstraintViolationError:
            return None  # taken between our insert and our commit (the fake checks late)

    def _find(self, request: IdempotentRequest) -> IdempotencyRecord | None:
        with transaction(self._database) as db:
            return db.idempotency.find(request.scope, request.caller, request.key)

    def _delete_expired(self, record: IdempotencyRecord) -> None:
        with transaction(self._database) as db:
            db.idempotency.delete_expired(record.id, _now())

    def _complete(self, db: UnitOfWork, claim: IdempotencyRecord, guid: str) -> None:
        """Inside the image's transaction: pending → completed, or roll the image back."""
        if not db.idempotency.complete(claim.id, image_guid=guid, expires_at=_now() + self._ttl):
            logger.warning("idempotency claim %d was lost (lease ran out?)", claim.id)
            raise IdempotencyInProgressError

    def _release(self, claim: IdempotencyRecord) -> None:
        """Delete our pending claim after a failure (best effort: the lease frees it too)."""
        try:
            with transaction(self._database) as db:
                db.idempotency.release(claim.id)
        except PixyProxyException:
            logger.warning("could not release idempotency claim %d; its lease will", claim.id)
