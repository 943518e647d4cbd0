"""The request's transaction pattern, written once.

::

    with transaction(database) as db:
        db.images.add(...)

begins, and commits when the block ends normally. A known ``PixyProxyException`` rolls
back and is re-raised as it is; anything else rolls back, is logged with its traceback
and becomes a ``PromptException`` chained ``from`` the original.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from core.exceptions import PixyProxyException, PromptException, RecordNotFoundError
from data.database import Database
from data.unit_of_work import UnitOfWork
from service.metrics import connection_in_use

logger = logging.getLogger(__name__)


@contextmanager
def transaction(database: Database) -> Iterator[UnitOfWork]:
    """Open a unit of work, begin, yield it, and commit unless the block raised."""
    with database.context() as db, connection_in_use(database.backend):
        try:
            db.begin_transaction()
            yield db
            db.commit_transaction()
        except RecordNotFoundError:
            db.rollback_transaction()
            raise
        except PixyProxyException as known_exc:
            logger.warning("transaction rolled back: %s (%s)", known_exc.code, known_exc.message)
            db.rollback_transaction()
            raise
        except Exception as exc:
            logger.exception("transaction rolled back after an unexpected error")
            db.rollback_transaction()
            raise PromptException(
                "An unexpected error occurred while processing your request."
            ) from exc
