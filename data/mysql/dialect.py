"""MySQL: ``%(name)s``, naive UTC ``DATETIME(6)``, its errors (data/README.md, "Driver errors")."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mysql.connector import errors

from core.exceptions import ConstraintViolationError, DBConnectionError, PixyProxyException
from data.dialect import Dialect
from data.migrations import without_comments

logger = logging.getLogger(__name__)

ER_SIGNAL_EXCEPTION = 1644
ER_NO_SUCH_TABLE = 1146
SQLSTATE_USER_SIGNAL = "45000"
# access denied (db, user, table), unknown database, missing table
_NOT_USABLE_ERRNOS = frozenset({1044, 1045, 1049, 1142, 1146})
# The session is gone: server shutdown, connection killed, disconnected for inactivity
# (MySQL 8); and every CR_* client error 2000-2999 (2002 socket, 2003 TCP, 2006 gone
# away, 2013/2055 lost connection, ...).
_SESSION_GONE_ERRNOS = frozenset({1053, 1927, 4031})

_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    errors.OperationalError,
    errors.InterfaceError,
    errors.ConnectionTimeoutError,
    errors.ReadTimeoutError,
    errors.WriteTimeoutError,
    OSError,
)


try:  # the C extension's own base error, raised raw by commit() and rollback() of a C
    # connection (e.g. "Lost connection", errno 2013): a driver error like the others.
    from _mysql_connector import MySQLError as _CMySQLError

    _C_ERRORS: tuple[type[Exception], ...] = (_CMySQLError,)
except ImportError:  # pragma: no cover - the C extension did not load
    _C_ERRORS = ()
DRIVER_ERRORS: tuple[type[Exception], ...] = (errors.Error, OSError, *_C_ERRORS)


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
    signalled = errno == ER_SIGNAL_EXCEPTION or sqlstate == SQLSTATE_USER_SIGNAL  # a trigger
    if isinstance(exc, errors.IntegrityError | errors.DataError) or signalled:
        return ConstraintViolationError()
    if isinstance(exc, _CONNECTION_ERRORS) or errno in _NOT_USABLE_ERRNOS or is_disconnect(exc):
        return DBConnectionError()
    return PixyProxyException()


def is_disconnect(exc: BaseException) -> bool:
    """True when ``exc`` says the session to the server is lost."""
    errno = getattr(exc, "errno", None)
    if not isinstance(errno, int):
        return isinstance(exc, OSError)
    return 2000 <= errno < 3000 or errno in _SESSION_GONE_ERRNOS


def mysql_statements(text: str) -> list[str]:
    """Split a MySQL script on ``;`` (it holds no procedures or triggers), comments removed."""
    return [stmt.strip() for stmt in without_comments(text).split(";") if stmt.strip()]


def naive_utc(value: datetime) -> datetime:
    """Aware (or UTC naive) datetime → UTC naive, as ``DATETIME(6)`` stores it."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def aware_utc(value: datetime) -> datetime:
    """A naive UTC ``DATETIME`` from the driver, made aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


MYSQL = Dialect(
    name="mysql",
    to_db_time=naive_utc,
    from_db_time=aware_utc,
    # group_concat_max_len is raised per session (connection_args) for 20 tags of 64.
    tags_folded=(
        "(SELECT GROUP_CONCAT(t.tag ORDER BY t.ordinal SEPARATOR ',')"
        " FROM image_tags AS t WHERE t.image_id = i.id)"
    ),
    driver_errors=DRIVER_ERRORS,
    translate=translate,
    split_script=mysql_statements,
    no_such_table=lambda exc: getattr(exc, "errno", None) == ER_NO_SUCH_TABLE,
    pyformat=True,
    upsert="ON DUPLICATE KEY UPDATE",
    author_index=" FORCE INDEX (ix_images_author_newest)",
    join="STRAIGHT_JOIN",
    for_update=" FOR UPDATE",
    limited_delete=True,
    new_value="VALUES({column})",
    search_from=" FROM images AS i",
    search_where="MATCH (i.prompt) AGAINST (:match IN BOOLEAN MODE)",  # ft_images_prompt
    search_terms=lambda words: " ".join(f"+{word}*" for word in words),  # boolean mode
)
