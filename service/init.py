"""The bootstrap: build every service from a ``Settings`` (the request's ``init.py``).

The web app's lifespan and the CLI call :func:`build_services` once; tests call it with
their own settings, or pass fakes for any backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.settings import Settings
from data.context import Database
from data.init import build_database
from data.schema import apply_schema
from service.generation.generator import ImageGenerator
from service.generation.init import build_generator
from service.image_service import Backends
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from service.rate_limit import Clock, RateLimits, utc_now
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
        """Finish the renditions under way, then release pooled connections."""
        self.backends.database.close()


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


def initialise_database(settings: Settings) -> None:
    """Create the configured database if missing and apply the schema (idempotent)."""
    apply_schema(settings)
