"""The repositories, written once over a ``Session`` (data/dialect.py)."""

from __future__ import annotations

from data.dialect import Session
from data.repositories.idempotency_keys import SQLIdempotencyRepository
from data.repositories.images import SQLImageRepository
from data.repositories.rate_counters import SQLRateCounterRepository
from data.repositories.users import SQLUserRepository
from data.unit_of_work import UnitOfWork


def bind_repositories(unit: UnitOfWork, session: Session) -> None:
    """Give ``unit`` its four repositories, all on ``session``."""
    unit.images = SQLImageRepository(session)
    unit.idempotency = SQLIdempotencyRepository(session)
    unit.users = SQLUserRepository(session)
    unit.rate_counters = SQLRateCounterRepository(session)
