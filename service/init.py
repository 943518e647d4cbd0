"""The bootstrap: build every service from a ``Settings`` (the request's ``init.py``).

The one composition root: the web app's lifespan calls :func:`build_services` once,
the CLI :func:`build_user_service`, :func:`build_reconciler`, :func:`build_backfill` and
the schema functions; tests call them with their own settings, or pass fakes for any
backend. Whatever is built here is closed by the ``close()`` of what it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.exceptions import DBConnectionError, SchemaVersionError
from core.settings import Settings
from data.database import Database
from data.init import apply_schema, build_database, schema_status
from data.migrations import SchemaStatus
from service.backfill import RenditionBackfill
from service.generation.generator import ImageGenerator
from service.generation.init import build_generator
from service.image_service import Backends
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from service.rate_limit import Clock, RateLimits, utc_now
from service.reconcile import Reconciler
from service.renditions import Renditions
from service.user_service import UserService
from storage.blob_store import BlobStore
from storage.init import build_blob_store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Everything the web layer and the CLI use, built once per process."""

    settings: Settings
    backends: Backends
    users: UserService
    limits: RateLimits | None = None

    def public(self, caller: str | None = None, *, client: str | None = None) -> PublicImageService:
        """The public scope, acting as ``caller`` (``None``: anonymous) from ``client``."""
        return PublicImageService(self.backends, caller, client=client, limits=self.limits)

    def private(self, owner: str) -> PrivateImageService:
        """The private scope of ``owner``."""
        return PrivateImageService(self.backends, owner)

    def authenticate(self, username: str, password: str, *, client: str | None = None) -> str:
        """The username if the password is right, else ``AuthenticationError``.

        ``client`` (the caller's address) is counted for the failed-login rate limit.
        """
        return self.users.authenticate(username, password, client=client)

    def close(self) -> None:
        """Finish the renditions under way, then release the pool, S3 and OpenAI clients."""
        try:
            if self.backends.renditions is not None:
                self.backends.renditions.close()
        finally:
            try:
                self.backends.database.close()
            finally:
                try:
                    self.backends.blobs.close()
                finally:
                    self.backends.generator.close()


def build_services(
    settings: Settings,
    *,
    database: Database | None = None,
    blobs: BlobStore | None = None,
    generator: ImageGenerator | None = None,
    clock: Clock = utc_now,
) -> Services:
    """Build the backends chosen by ``settings`` (or take the given ones) and the services.

    Nothing here touches the network: an unreachable database or bucket is reported by
    ``/readyz`` and answered with 503, and the service recovers when it returns.
    ``clock`` is the rate limits' time source (tests pass their own).
    """
    database = database or build_database(settings)
    blobs = blobs or build_blob_store(settings)
    backends = Backends(
        database=database,
        blobs=blobs,
        generator=generator or build_generator(settings),
        content_redirect=settings.content_redirect,
        presign_expires=settings.presign_expires,
        idempotency_ttl=settings.idempotency_ttl,
        default_size=settings.openai_image_size,
        default_quality=settings.openai_image_quality,
        renditions=Renditions(database, blobs, workers=settings.rendition_workers),
    )
    logger.info(
        "backends: database=%s blob_store=%s generator=%s",
        backends.database.backend,
        backends.blobs.backend,
        backends.generator.backend,
    )
    limits = RateLimits.from_settings(backends.database, settings, clock=clock)
    return Services(
        settings=settings,
        backends=backends,
        users=UserService(backends.database, limits),
        limits=limits,
    )


def build_user_service(settings: Settings) -> UserService:
    """A ``UserService`` on its own database connection, for the CLI."""
    return UserService(build_database(settings))


def _storage(settings: Settings) -> tuple[Database, BlobStore, Callable[[], None]]:
    """The configured database and blob store, and the function that closes both."""
    database, blobs = build_database(settings), build_blob_store(settings)

    def close() -> None:
        try:
            database.close()
        finally:
            blobs.close()

    return database, blobs, close


def build_reconciler(settings: Settings) -> Reconciler:
    """A ``Reconciler`` on the configured database and blob store (for the CLI)."""
    database, blobs, close = _storage(settings)
    return Reconciler(database, blobs, on_close=close)


def build_backfill(settings: Settings) -> RenditionBackfill:
    """A renditions backfill on the configured database and blob store (for the CLI)."""
    database, blobs, close = _storage(settings)
    renditions = Renditions(database, blobs, workers=0)
    return RenditionBackfill(database, renditions, on_close=close)


def initialise_database(settings: Settings) -> list[str]:
    """Create the configured database if missing and apply pending migrations.

    Idempotent; returns the labels of the migrations applied now (``init-db``,
    ``migrate``).
    """
    return [migration.label for migration in apply_schema(settings)]


def database_schema_status(settings: Settings) -> SchemaStatus:
    """Where the configured database's schema stands (``migrate --status``)."""
    return schema_status(settings)


def check_schema(settings: Settings) -> None:
    """Refuse to serve on a schema this release cannot run on (called at startup).

    A newer schema always stops startup. An older MySQL schema does too, with the
    command that upgrades it (the app user has no DDL rights, so serving never
    migrates MySQL); the embedded SQLite file upgrades itself on first use. An
    unreachable database does not stop startup (CONTRACT.md §2): it is logged, and
    ``/readyz`` reports it.
    """
    try:
        status = schema_status(settings)
    except DBConnectionError as exc:
        logger.warning("schema not checked, database unreachable: %s", exc.message)
        return
    if status.up_to_date or not settings.uses_mysql:
        return
    found = f"version {status.current}" if status.current else "the first release's (unversioned)"
    raise SchemaVersionError(
        f"The database schema is at {found}; this release needs version {status.latest}. "
        "Run `pixyproxy migrate` with DB_USER/DB_PASSWORD of an account with DDL rights."
    )
