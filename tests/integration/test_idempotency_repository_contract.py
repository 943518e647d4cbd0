"""One contract for ``IdempotencyRepository``, on the fake, SQLite and MySQL/MariaDB."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.exceptions import ConstraintViolationError
from core.records import COMPLETED, PENDING, IdempotencyRecord, NewIdempotencyKey
from data.database import Database

NOW = datetime(2025, 3, 1, 12, 0, 0, 654321, tzinfo=UTC)


def new_key(**overrides: object) -> NewIdempotencyKey:
    values: dict[str, object] = {
        "scope": "public",
        "caller": "",
        "key": f"key-{uuid.uuid4().hex[:10]}",
        "request_hash": uuid.uuid4().hex * 2,
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
        **overrides,
    }
    return NewIdempotencyKey(**values)  # type: ignore[arg-type]


def claim(database: Database, new: NewIdempotencyKey) -> IdempotencyRecord:
    with database.context() as db:
        db.begin_transaction()
        record = db.idempotency.add(new)
        db.commit_transaction()
    return record


def find(database: Database, new: NewIdempotencyKey) -> IdempotencyRecord | None:
    with database.context() as db:
        return db.idempotency.find(new.scope, new.caller, new.key)


def test_a_claimed_key_is_found_pending_with_what_was_stored(database: Database) -> None:
    new = new_key(caller="alice", key="Ab-9_~!")
    record = claim(database, new)
    found = find(database, new)
    assert found == record
    assert (found.status, found.image_guid) == (PENDING, None)
    assert (found.scope, found.caller, found.key) == ("public", "alice", "Ab-9_~!")
    assert (found.created_at, found.expires_at) == (NOW, NOW + timedelta(minutes=10))


def test_the_same_key_cannot_be_claimed_twice_in_one_scope_and_caller(
    database: Database,
) -> None:
    new = new_key()
    claim(database, new)
    with pytest.raises(ConstraintViolationError):
        claim(database, new_key(key=new.key))
    # other scopes, callers and (case-sensitive) keys are independent
    claim(database, new_key(key=new.key, scope="private"))
    claim(database, new_key(key=new.key, caller="alice"))
    claim(database, new_key(key=new.key.upper()))


def test_completing_records_the_guid_once(database: Database) -> None:
    new = new_key()
    record = claim(database, new)
    guid = str(uuid.uuid4())
    later = NOW + timedelta(days=1)
    with database.context() as db:
        db.begin_transaction()
        assert db.idempotency.complete(record.id, image_guid=guid, expires_at=later)
        assert not db.idempotency.complete(record.id, image_guid=guid, expires_at=later)
        db.commit_transaction()
    found = find(database, new)
    assert found is not None
    assert (found.status, found.image_guid, found.expires_at) == (COMPLETED, guid, later)


def test_an_uncommitted_completion_is_rolled_back(database: Database) -> None:
    new = new_key()
    record = claim(database, new)
    with database.context() as db:
        db.begin_transaction()
        db.idempotency.complete(record.id, image_guid=str(uuid.uuid4()), expires_at=NOW)
    found = find(database, new)
    assert found is not None and found.status == PENDING


def test_release_deletes_only_a_pending_key(database: Database) -> None:
    pending, completed = new_key(), new_key()
    pending_record, completed_record = claim(database, pending), claim(database, completed)
    with database.context() as db:
        db.begin_transaction()
        db.idempotency.complete(completed_record.id, image_guid=str(uuid.uuid4()), expires_at=NOW)
        assert db.idempotency.release(pending_record.id)
        assert not db.idempotency.release(completed_record.id)
        db.commit_transaction()
    assert find(database, pending) is None
    assert find(database, completed) is not None
    claim(database, pending)  # free again


def test_expired_keys_are_deleted_one_by_one_or_purged(database: Database) -> None:
    old = [new_key(expires_at=NOW - timedelta(seconds=n)) for n in (1, 2, 3)]
    live = new_key(expires_at=NOW + timedelta(seconds=1))
    records = [claim(database, new) for new in old]
    live_record = claim(database, live)
    with database.context() as db:
        db.begin_transaction()
        assert not db.idempotency.delete_expired(live_record.id, NOW)
        assert db.idempotency.delete_expired(records[0].id, NOW)
        assert db.idempotency.purge_expired(NOW, limit=1) == 1
        assert db.idempotency.purge_expired(NOW) == 1
        assert db.idempotency.purge_expired(NOW) == 0
        db.commit_transaction()
    assert [find(database, new) for new in old] == [None, None, None]
    assert find(database, live) == live_record
