"""The database port: a source of units of work, and the schema it runs on."""

from __future__ import annotations

from abc import ABC, abstractmethod

from data.migrations import Migration, SchemaStatus
from data.unit_of_work import UnitOfWork


class Database(ABC):
    """A source of units of work: a pool for MySQL, a file for SQLite."""

    backend: str

    @abstractmethod
    def context(self) -> UnitOfWork:
        """Open a unit of work; raise ``DBConnectionError`` if no connection is available."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``DBConnectionError`` unless the database answers."""

    @abstractmethod
    def migrate(self) -> list[Migration]:
        """Create the database if missing and apply pending migrations; return those applied."""

    @abstractmethod
    def schema_status(self) -> SchemaStatus:
        """Where the schema stands against this release (nothing is changed)."""

    @abstractmethod
    def close(self) -> None:
        """Release every connection."""
