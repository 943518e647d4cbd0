"""What differs between backends, and the session (data/README.md, "Dialects and sessions")."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from core.exceptions import PixyProxyException

Row = Mapping[str, Any]
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Dialect:
    """One backend's SQL differences (see the module docstring)."""

    name: str
    to_db_time: Callable[[datetime], Any]  # aware or UTC naive datetime -> stored value
    from_db_time: Callable[[Any], datetime]  # stored value -> aware UTC datetime
    tags_folded: str  # expression: the tags of image i, comma-separated, by ordinal
    driver_errors: tuple[type[BaseException], ...]
    translate: Callable[[BaseException], PixyProxyException]
    no_such_table: Callable[[BaseException], bool]
    split_script: Callable[[str], list[str]]  # a migration file → its statements
    # Search: the full-text source and condition (``:match``), and the words' query text
    search_from: str
    search_where: str
    search_terms: Callable[[Sequence[str]], str]
    # Standard SQL, as SQLite speaks it, unless a dialect says otherwise:
    pyformat: bool = False  # placeholders %(name)s instead of :name
    upsert: str = "ON CONFLICT ({key}) DO UPDATE SET"  # INSERT … <upsert> col = …
    author_index: str = ""  # hint after "images AS i" for an author's listing
    join: str = "CROSS JOIN"  # a join that keeps the written table order
    for_update: str = ""  # locks the row a delete reads first
    limited_delete: bool = False  # DELETE … ORDER BY … LIMIT is allowed
    new_value: str = "excluded.{column}"  # in an upsert: the value the INSERT brought

    def sql(self, text: str) -> str:
        """``text`` with its ``:name`` placeholders in this dialect's style."""
        return _pyformat(text) if self.pyformat else text

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Run a block, translating any driver error with ``raise ... from exc``."""
        try:
            yield
        except PixyProxyException:
            raise
        except self.driver_errors as exc:
            raise self.translate(exc) from exc

    def upsert_all(self, key: str, columns: Sequence[str]) -> str:
        """The upsert clause that replaces ``columns`` of the row whose ``key`` exists."""
        new = ", ".join(f"{c} = {self.new_value.format(column=c)}" for c in columns)
        return f"{self.upsert.format(key=key)} {new}"

    def purge(self, table: str, key: str, where: str, order: str) -> str:
        """``DELETE`` at most ``:limit`` rows of ``table`` matching ``where``, by ``order``."""
        if self.limited_delete:
            return f"DELETE FROM {table} WHERE {where} ORDER BY {order} LIMIT :limit"  # noqa: S608
        return (
            f"DELETE FROM {table} WHERE {key} IN"  # noqa: S608 - constants only
            f" (SELECT {key} FROM {table} WHERE {where} ORDER BY {order} LIMIT :limit)"
        )


@functools.lru_cache(maxsize=1024)
def _pyformat(text: str) -> str:
    """``:name`` → ``%(name)s``, once per distinct statement (ours hold no literal ``%``)."""
    return _NAMED.sub(r"%(\1)s", text)


class Session:
    """A unit of work's DB-API cursor through its dialect: statements, errors translated."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        """Bind to ``cursor``; the unit of work owns the transaction."""
        self._cursor = cursor
        self.dialect = dialect

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query and return its rows (mappings by column name)."""
        with self.dialect.errors():
            self._cursor.execute(self.dialect.sql(sql), params or {})
            return cast("list[Row]", self._cursor.fetchall())  # SQLite steps the query here

    def run(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run a statement; return how many rows it changed."""
        with self.dialect.errors():
            self._cursor.execute(self.dialect.sql(sql), params)
            return int(self._cursor.rowcount)

    def insert(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run an ``INSERT``; return the new row's id."""
        with self.dialect.errors():
            self._cursor.execute(self.dialect.sql(sql), params)
            return int(self._cursor.lastrowid or 0)

    def run_many(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each parameter set."""
        with self.dialect.errors():
            self._cursor.executemany(self.dialect.sql(sql), params)


def placeholders(prefix: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    """``:prefix0, :prefix1, …`` for ``values``, added to ``params``."""
    params.update((f"{prefix}{n}", value) for n, value in enumerate(values))
    return ", ".join(f":{prefix}{n}" for n in range(len(values)))
