"""Translate mysql-connector errors into core exceptions, at the data boundary.

Nothing above ``data/`` sees a mysql-connector exception. Messages are fixed texts:
never the driver's message (it may quote SQL or values), never a password.

Mapping (decided here, documented once):

- ``IntegrityError`` (duplicate key, foreign key), ``DataError`` (a value does not fit
  its column) and a trigger's ``SIGNAL SQLSTATE '45000'`` (errno 1644, a plain
  ``DatabaseError``): ``ConstraintViolationError`` (409) — the database refused the data.
- ``OperationalError``, ``InterfaceError``, ``PoolError``, timeouts, the client-side
  errors (errno 2000-2999: cannot connect, server gone, connection lost; the C
  extension raises some as a plain ``DatabaseError``), and the errors that
  mean "this database is not usable as configured" (access denied, unknown database,
  missing table: run ``pixyproxy init-db``): ``DBConnectionError`` (503).
- Anything else (a programming error): ``PixyProxyException`` with the generic message,
  which the web layer answers with a 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import mysql.connector
from mysql.connector import errors

from core.exceptions import (
    ConstraintViolationError,
    DBConnectionError,
    PixyProxyException,
)

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

ER_SIGNAL_EXCEPTION = 1644
SQLSTATE_USER_SIGNAL = "45000"
# access denied (db, user, table), unknown database, missing table
_NOT_USABLE_ERRNOS = frozenset({1044, 1045, 1049, 1142, 1146})
# CR_* client errors (2002 socket, 2003 TCP, 2006 gone away, 2013/2055 lost, ...)
_CLIENT_ERRNOS = range(2000, 3000)

_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    errors.OperationalError,
    errors.InterfaceError,
    errors.PoolError,
    errors.ConnectionTimeoutError,
    errors.ReadTimeoutError,
    errors.WriteTimeoutError,
    OSError,
)


DRIVER_ERRORS: tuple[type[Exception], ...] = (errors.Error, OSError)
if mysql.connector.HAVE_CEXT:
    # The C extension's commit() and rollback() let its own errors out untranslated.
    from _mysql_connector import MySQLError

    DRIVER_ERRORS = (*DRIVER_ERRORS, MySQLError)


def as_connector_error(exc: BaseException) -> BaseException:
    """A raw C-extension error as the connector's own class; anything else as it is."""
    if isinstance(exc, errors.Error | OSError):
        return exc
    errno = getattr(exc, "errno", None)
    if not isinstance(errno, int):
        return exc
    converted: BaseException = errors.get_mysql_exception(
        errno, msg=getattr(exc, "msg", None), sqlstate=getattr(exc, "sqlstate", None)
    )
    return converted


def translate(exc: BaseException) -> PixyProxyException:
    """Return the core exception for a driver error (the caller raises it ``from exc``)."""
    exc = as_connector_error(exc)
    errno = getattr(exc, "errno", None)
    sqlstate = getattr(exc, "sqlstate", None)
    logger.debug("mysql error %s (errno=%s, sqlstate=%s)", type(exc).__name__, errno, sqlstate)
    if isinstance(exc, errors.IntegrityError | errors.DataError):
        return ConstraintViolationError()
    if errno == ER_SIGNAL_EXCEPTION or sqlstate == SQLSTATE_USER_SIGNAL:
        return ConstraintViolationError()
    if isinstance(exc, _CONNECTION_ERRORS) or errno in _NOT_USABLE_ERRNOS:
        return DBConnectionError()
    if isinstance(errno, int) and errno in _CLIENT_ERRNOS:
        return DBConnectionError()
    return PixyProxyException()


@contextmanager
def mysql_errors() -> Iterator[None]:
    """Run a block, translating any mysql-connector error with ``raise ... from exc``."""
    try:
        yield
    except PixyProxyException:
        raise
    except DRIVER_ERRORS as exc:
        raise translate(exc) from exc


def translated(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function so driver errors leave it as core exceptions."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with mysql_errors():
            return func(*args, **kwargs)

    return wrapper
