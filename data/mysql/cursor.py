"""The one cursor of a pooled connection, reused by every unit of work on it.

See data/README.md, "MySQL: the unit of work and its round trips".
"""

from __future__ import annotations

from typing import Any

import mysql.connector
from mysql.connector.cursor import MySQLCursorBufferedDict

from data.mysql.dialect import DRIVER_ERRORS, is_disconnect

START_TRANSACTION = "START TRANSACTION"


def is_plain_read(operation: Any) -> bool:
    """True for a ``SELECT`` that locks nothing: it may run outside a transaction."""
    text = str(operation).lstrip()
    return text[:6].upper() == "SELECT" and "FOR UPDATE" not in text.upper()


class UnitCursor:
    """Mixin over a driver cursor class: the unit of work's state, lazy transaction, retry."""

    unit_fresh = True  # no statement since the unit began (or its transaction ended)
    unit_in_transaction = False  # START TRANSACTION was sent and not yet ended
    unit_broken = False
    _connection: Any

    def execute(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a statement; the first write (or locking read) starts the transaction."""
        if not self.unit_in_transaction and not is_plain_read(operation):
            self._retrying_execute(START_TRANSACTION)
            self.unit_in_transaction = True
        return self._retrying_execute(operation, *args, **kwargs)

    def _retrying_execute(self, *args: Any, **kwargs: Any) -> Any:
        """Run a statement; the first of a unit is retried once on a lost session."""
        first, self.unit_fresh = self.unit_fresh, False
        try:
            return super().execute(*args, **kwargs)  # type: ignore[misc]
        except DRIVER_ERRORS as exc:
            if not is_disconnect(exc):
                raise
            if not first:
                self.unit_broken = True
                raise
        try:
            self._connection.reconnect(attempts=1)
        except DRIVER_ERRORS:
            self.unit_broken = True
            raise
        try:
            return super().execute(*args, **kwargs)  # type: ignore[misc]
        except DRIVER_ERRORS as exc:
            self.unit_broken = is_disconnect(exc)
            raise

    def end_unit(self) -> None:
        """Note that the unit's work ended (committed, rolled back, or read only)."""
        self.unit_fresh = True
        self.unit_in_transaction = False


class PureUnitCursor(UnitCursor, MySQLCursorBufferedDict):
    """The cursor on the pure-Python protocol (``use_pure``)."""


if mysql.connector.HAVE_CEXT:
    from mysql.connector.connection_cext import CMySQLConnection
    from mysql.connector.cursor_cext import CMySQLCursorBufferedDict

    class CUnitCursor(UnitCursor, CMySQLCursorBufferedDict):
        """The cursor on the C extension."""

        def fetchall(self) -> list[dict[str, Any]]:  # type: ignore[override]
            """All rows as dictionaries (the column names computed once, not per row)."""
            rows = super(CMySQLCursorBufferedDict, self).fetchall()
            names = self.column_names
            return [dict(zip(names, row, strict=True)) for row in rows]

    def unit_cursor(connection: Any) -> UnitCursor:
        """The reusable cursor for ``connection`` (pure or C extension)."""
        if isinstance(connection, CMySQLConnection):
            return CUnitCursor(connection)
        return PureUnitCursor(connection)

else:  # pragma: no cover - the C extension did not load

    def unit_cursor(connection: Any) -> UnitCursor:
        """The reusable cursor for ``connection`` (pure Python only)."""
        return PureUnitCursor(connection)
