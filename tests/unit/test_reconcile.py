"""``Reconciler`` with in-memory fakes: what goes, what stays, what is reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.models import NewImage
from core.records import NewIdempotencyKey
from service.reconcile import Reconciler, ReconcileReport, parse_duration
from tests.fakes.blobs import InMemoryBlobStore, StoredBlob
from tests.fakes.database import InMemoryDatabase, InMemoryUnitOfWork

GRACE = timedelta(minutes=10)
OLD = datetime.now(UTC) - timedelta(hours=1)


def new_image(**overrides: Any) -> NewImage:
    guid = str(uuid.uuid4())
    values: dict[str, Any] = {
        "guid": guid,
        "prompt": "a fox",
        "filename": f"a-fox-{guid[:8]}.png",
        "content_type": "image/png",
        "size_bytes": 3,
        "sha256": "0" * 64,
        "storage_key": f"images/{guid}.png",
        "created_at": datetime.now(UTC),
        **overrides,
    }
    return NewImage(**values)


def add_row(database: InMemoryDatabase, image: NewImage) -> None:
    with database.context() as db:
        db.begin_transaction()
        db.images.add(image)
        db.commit_transaction()


def put_blob(blobs: InMemoryBlobStore, key: str, *, modified: datetime | None = None) -> None:
    blobs.put(key, b"png", content_type="image/png")
    if modified is not None:
        blobs.blobs[key] = StoredBlob(b"png", "image/png", modified)


class World:
    """A row with its blob, a row without, old and fresh orphans, and a foreign object."""

    def __init__(self, database: InMemoryDatabase | None = None) -> None:
        self.database = database or InMemoryDatabase()
        self.blobs = InMemoryBlobStore()
        self.kept = new_image()
        add_row(self.database, self.kept)
        put_blob(self.blobs, self.kept.storage_key, modified=OLD)
        self.dangling = new_image(private=True, author="alice")
        add_row(self.database, self.dangling)
        self.old_orphans = [f"images/{uuid.uuid4()}.png" for _ in range(3)]
        for key in self.old_orphans:
            put_blob(self.blobs, key, modified=OLD)
        self.fresh_orphan = f"images/{uuid.uuid4()}.png"
        put_blob(self.blobs, self.fresh_orphan)
        put_blob(self.blobs, "other-app/old.bin", modified=OLD)

    def run(self, *, dry_run: bool = False, page_size: int = 2) -> ReconcileReport:
        reconciler = Reconciler(self.database, self.blobs, page_size=page_size)
        return reconciler.run(grace=GRACE, dry_run=dry_run)

    def blob_keys(self) -> set[str]:
        return set(self.blobs.blobs)


def test_exactly_the_old_orphans_go_and_the_dangling_row_is_reported() -> None:
    world = World()
    report = world.run()
    assert sorted(report.orphan_blobs) == sorted(world.old_orphans)
    assert report.deleted_blobs == 3
    assert world.blob_keys() == {world.kept.storage_key, world.fresh_orphan, "other-app/old.bin"}
    assert report.fresh_orphan_blobs == [world.fresh_orphan]
    assert [(row.guid, row.storage_key) for row in report.dangling_rows] == [
        (world.dangling.guid, world.dangling.storage_key)
    ]
    assert (report.blobs_scanned, report.rows_scanned) == (5, 2)
    assert world.database.open_contexts == 0


def test_a_dry_run_changes_nothing_and_reports_the_same() -> None:
    world = World()
    before = dict(world.blobs.blobs)
    report = world.run(dry_run=True)
    assert world.blobs.blobs == before
    assert sorted(report.orphan_blobs) == sorted(world.old_orphans)
    assert report.deleted_blobs == 0 and report.dry_run
    assert [row.guid for row in report.dangling_rows] == [world.dangling.guid]


def test_a_second_run_finds_nothing_more_to_delete() -> None:
    world = World()
    world.run()
    again = world.run(page_size=500)
    assert again.orphan_blobs == [] and again.deleted_blobs == 0
    assert [row.guid for row in again.dangling_rows] == [world.dangling.guid]


class RowAppearsDatabase(InMemoryDatabase):
    """Commits ``row`` just before the ``on_context``-th unit of work is opened."""

    def __init__(self, on_context: int) -> None:
        super().__init__()
        self.row: NewImage | None = None
        self.on_context = on_context
        self.contexts = 0

    def context(self) -> InMemoryUnitOfWork:
        self.contexts += 1
        if self.contexts == self.on_context and self.row is not None:
            add_row(self, self.row)
        return super().context()


def test_a_blob_whose_row_commits_during_the_run_is_never_deleted() -> None:
    database = RowAppearsDatabase(on_context=0)
    world = World(database)
    late = new_image(storage_key=world.old_orphans[0])
    database.row, database.contexts = late, 0
    database.on_context = 2  # 1: the page's check, 2: the re-check right before deleting
    report = Reconciler(world.database, world.blobs, page_size=500).run(grace=GRACE)
    assert report.rescued_blobs == [late.storage_key]
    assert late.storage_key in world.blob_keys()
    assert sorted(report.orphan_blobs) == sorted(world.old_orphans[1:])


class HidingBlobStore(InMemoryBlobStore):
    """Leaves ``hidden`` out of listings (as if uploaded after the listing passed it)."""

    hidden: str = ""

    def list_blobs(self, prefix: str = "") -> Any:
        return (info for info in super().list_blobs(prefix) if info.key != self.hidden)


def test_a_row_whose_blob_was_not_listed_but_exists_is_not_reported() -> None:
    database = InMemoryDatabase()
    blobs = HidingBlobStore()
    image = new_image()
    add_row(database, image)
    put_blob(blobs, image.storage_key)
    blobs.hidden = image.storage_key
    report = Reconciler(database, blobs).run(grace=GRACE)
    assert report.dangling_rows == [] and report.rows_scanned == 1


class FailingDeleteStore(InMemoryBlobStore):
    def delete(self, key: str) -> None:
        self.fail_deletes = key.endswith("0.png")
        super().delete(key)


def test_a_failed_delete_is_reported_and_the_rest_goes_on() -> None:
    database = InMemoryDatabase()
    blobs = FailingDeleteStore()
    for name in ("a0", "b1", "c2"):
        put_blob(blobs, f"images/{name}.png", modified=OLD)
    report = Reconciler(database, blobs).run(grace=GRACE)
    assert report.failed_deletes == ["images/a0.png"]
    assert set(blobs.blobs) == {"images/a0.png"} and report.deleted_blobs == 2


def test_expired_idempotency_keys_are_purged_except_in_a_dry_run() -> None:
    world = World()
    now = datetime.now(UTC)
    with world.database.context() as db:
        db.begin_transaction()
        for n, expires in enumerate((now - timedelta(hours=1), now + timedelta(hours=1))):
            db.idempotency.add(NewIdempotencyKey("public", "", f"k{n}", "h" * 64, now, expires))
        db.commit_transaction()
    assert world.run(dry_run=True).expired_idempotency_keys == 0
    assert world.run().expired_idempotency_keys == 1
    assert len(world.database.idempotency_keys.snapshot()) == 1


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("45", 45), ("0", 0), ("1.5m", 90)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "m", "10x", "-5s", "10 minutes", "1e3", "s10"])
def test_bad_durations_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)
