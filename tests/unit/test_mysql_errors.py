"""Driver errors become core exceptions at the data boundary, whatever class carries them."""

import pytest
from mysql.connector import errors

from core.exceptions import ConstraintViolationError, DBConnectionError, PixyProxyException
from data.mysql.dialect import translate


@pytest.mark.parametrize("errno", [2002, 2003, 2006, 2013, 2055])
def test_client_side_connection_errors_are_db_connection_errors_in_any_class(
    errno: int,
) -> None:
    # The C extension reports "can't connect" as a plain DatabaseError with errno 2003.
    assert isinstance(translate(errors.DatabaseError(errno=errno)), DBConnectionError)
    assert isinstance(translate(errors.OperationalError(errno=errno)), DBConnectionError)


def test_integrity_and_signal_errors_are_constraint_violations() -> None:
    assert isinstance(translate(errors.IntegrityError(errno=1062)), ConstraintViolationError)
    signal = errors.DatabaseError(errno=1644, sqlstate="45000")
    assert isinstance(translate(signal), ConstraintViolationError)


def test_a_programming_error_is_the_generic_family_error() -> None:
    translated = translate(errors.ProgrammingError(errno=1064))
    assert type(translated) is PixyProxyException


def test_the_c_extensions_raw_lost_connection_is_a_db_connection_error() -> None:
    # A C connection's commit() and rollback() raise _mysql_connector's own error class.
    cext = pytest.importorskip("_mysql_connector")
    from data.mysql.dialect import DRIVER_ERRORS, MYSQL  # noqa: PLC0415

    lost = cext.MySQLInterfaceError("Lost connection to MySQL server during query")
    lost.errno = 2013
    assert isinstance(lost, DRIVER_ERRORS)
    with pytest.raises(DBConnectionError), MYSQL.errors():
        raise lost
