"""One contract for ``UserRepository`` and its unit of work, run on every backend.

The in-memory fake, embedded SQLite and MySQL/MariaDB must behave the same; the
``database`` fixture that runs each test on each of them is in ``conftest.py``.
Also: ``apply_schema`` creates a usable database and may run twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.exceptions import ConstraintViolationError, RecordNotFoundError
from core.records import UserRecord
from core.settings import Settings
from data.database import Database
from data.init import apply_schema
from data.sqlite.database import SQLiteDatabase


def new_name(prefix: str = "user") -> str:
    """A username with a random suffix, so test data never collides."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def new_hash() -> str:
    """A stand-in password hash (the repository stores it as given)."""
    return f"scrypt$16384$8$1${uuid.uuid4().hex}${uuid.uuid4().hex}"


def add_committed(database: Database, *names: str) -> list[UserRecord]:
    """Add users called ``names`` in one committed unit of work."""
    with database.context() as db:
        db.begin_transaction()
        added = [db.users.add(name, new_hash()) for name in names]
        db.commit_transaction()
    return added


def find(database: Database, username: str) -> UserRecord | None:
    """Look ``username`` up in a fresh unit of work."""
    with database.context() as db:
        return db.users.find(username)


def list_names(database: Database) -> list[str]:
    """Every username, in the repository's order, from a fresh unit of work."""
    with database.context() as db:
        return [record.username for record in db.users.list_all()]


def test_finds_a_user_it_added(database: Database) -> None:
    before = datetime.now(UTC)
    [added] = add_committed(database, new_name())
    assert find(database, added.username) == added
    assert added.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= added.created_at <= datetime.now(UTC)
    with database.context() as db:
        assert db.users.get(added.username) == added


def test_get_raises_record_not_found_for_an_unknown_user(database: Database) -> None:
    with database.context() as db:
        assert db.users.find(new_name()) is None
        with pytest.raises(RecordNotFoundError):
            db.users.get(new_name())


def test_rejects_a_duplicate_username_as_a_constraint_violation(database: Database) -> None:
    [first] = add_committed(database, new_name())
    with database.context() as db:
        db.begin_transaction()
        with pytest.raises(ConstraintViolationError):
            db.users.add(first.username, new_hash())
    assert find(database, first.username) == first
    assert list_names(database) == [first.username]


def test_rolls_back_uncommitted_work_by_default(database: Database) -> None:
    [kept] = add_committed(database, new_name())
    with database.context() as db:
        db.begin_transaction()
        added = db.users.add(new_name(), new_hash())
        db.users.set_password_hash(kept.username, new_hash())
        assert db.users.find(added.username) == added
    assert find(database, added.username) is None
    assert find(database, kept.username) == kept


def test_lists_every_user_ordered_by_name(database: Database) -> None:
    tail = uuid.uuid4().hex[:8]
    names = [f"carol_{tail}", f"Bob_{tail}", f"alice_{tail}", f"bob_{tail}"]
    add_committed(database, *names)
    assert list_names(database) == sorted(names)  # code-point order: upper case first


def test_lists_nothing_when_there_are_no_users(database: Database) -> None:
    assert list_names(database) == []


def test_set_password_hash_replaces_only_that_users_hash(database: Database) -> None:
    alice, bob = add_committed(database, new_name("alice"), new_name("bob"))
    replacement = new_hash()
    with database.context() as db:
        db.begin_transaction()
        db.users.set_password_hash(alice.username, replacement)
        db.users.set_password_hash(alice.username, replacement)  # unchanged: still found
        db.commit_transaction()
    assert find(database, alice.username) == alice.model_copy(update={"password_hash": replacement})
    assert find(database, bob.username) == bob


def test_set_password_hash_of_an_unknown_user_raises_record_not_found(
    database: Database,
) -> None:
    with database.context() as db:
        db.begin_transaction()
        with pytest.raises(RecordNotFoundError):
            db.users.set_password_hash(new_name(), new_hash())


def test_delete_removes_only_that_user(database: Database) -> None:
    alice, bob = add_committed(database, new_name("alice"), new_name("bob"))
    with database.context() as db:
        db.begin_transaction()
        db.users.delete(alice.username)
        db.commit_transaction()
    assert find(database, alice.username) is None
    assert list_names(database) == [bob.username]
    [again] = add_committed(database, alice.username)  # the name is free again
    assert find(database, alice.username) == again


def test_delete_of_an_unknown_user_raises_record_not_found(database: Database) -> None:
    [alice] = add_committed(database, new_name())
    with database.context() as db:
        db.begin_transaction()
        with pytest.raises(RecordNotFoundError):
            db.users.delete(new_name())
        db.users.delete(alice.username)
        with pytest.raises(RecordNotFoundError):
            db.users.delete(alice.username)  # already deleted in this transaction


def test_usernames_are_case_sensitive(database: Database) -> None:
    name = new_name("Alice")
    [upper] = add_committed(database, name)
    assert find(database, name.lower()) is None
    assert find(database, name.upper()) is None
    [lower] = add_committed(database, name.lower())  # no clash with "Alice_…"
    assert find(database, name) == upper
    assert find(database, name.lower()) == lower
    with database.context() as db:
        db.begin_transaction()
        with pytest.raises(RecordNotFoundError):
            db.users.delete(name.upper())


def test_apply_schema_twice_on_a_sqlite_path_leaves_a_usable_database(tmp_path: Path) -> None:
    settings = Settings(db_host=None, sqlite_path=tmp_path / "new" / "folder" / "pixy.db")
    apply_schema(settings)
    apply_schema(settings)
    assert settings.sqlite_path.is_file()
    database = SQLiteDatabase(settings)
    [alice] = add_committed(database, new_name())
    apply_schema(settings)  # keeps existing rows
    assert find(database, alice.username) == alice
    with database.context() as db:
        assert db.images.count() == 0


@pytest.mark.mysql
def test_apply_schema_twice_on_mysql_is_harmless(mysql_settings: Settings) -> None:
    apply_schema(mysql_settings)
    apply_schema(mysql_settings)
