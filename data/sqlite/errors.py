"""Translate ``sqlite3`` errors into core exceptions, at the data boundary.

Same mapping as the MySQL backend: ``IntegrityError`` (also a trigger's
``RAISE(ABORT, …)``) and ``DataError`` → ``ConstraintViolationError``;
``OperationalError`` (locked, cannot open, no such table) → ``DBConnectionError``;
anything else → ``PixyProxyException`` (a 500). Messages never carry the driver's text.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from core.exceptions import ConstraintViolationError, DBConnectionError, PixyProxyException

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def translate(exc: Exception) -> PixyProxyException:
    """Return the core exception for a ``sqlite3`` error (raise it ``from exc``)."""
    logger.debug("sqlite error %s", type(exc).__name__)
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
        return ConstraintViolationError()
    if isinstance(exc, sqlite3.OperationalError | OSError):
        return DBConnectionError()
    return PixyProxyException()


@contextmanager
def sqlite_errors() -> Iterator[None]:
    """Run a block, translating any ``sqlite3`` error with ``raise ... from exc``."""
    try:
        yield
    except PixyProxyException:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise translate(exc) from exc


def translated(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function so driver errors leave it as core exceptions."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with sqlite_errors():
            return func(*args, **kwargs)

    return wrapper
