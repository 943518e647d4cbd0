"""Long CLI jobs (``reconcile``, ``renditions``): progress on stderr, the report on stdout.

Both build a service job from settings, run it with a progress reporter (a rich bar on a
terminal, plain lines otherwise, none with ``--json``), close it, and print its report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn

from core.exceptions import PixyProxyException
from core.settings import Settings, load_settings
from service.reconcile import ReconcileProgress

err = Console(stderr=True)


class Job(Protocol):
    """A service job the CLI runs once and closes."""

    def close(self) -> None:
        """Release the job's database pool and clients."""


J = TypeVar("J", bound=Job)
R = TypeVar("R", bound=BaseModel)


class BarProgress:
    """A rich progress bar on the terminal (stderr)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int | None) -> None:
        """Start a bar for the pass (an open-ended one when the total is unknown)."""
        if self._task is not None:
            self._progress.stop_task(self._task)
        self._task = self._progress.add_task(f"checking {name}", total=total)

    def advance(self, count: int) -> None:
        """Move the current bar on."""
        if self._task is not None:
            self._progress.advance(self._task, count)


class LineProgress:
    """Plain lines on stderr, one per page, for logs and pipes."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._name = ""
        self._done = 0

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def phase(self, name: str, total: int | None) -> None:
        """Announce a pass."""
        self._name, self._done = name, 0
        suffix = f" ({total})" if total is not None else ""
        print(f"{self._label}: checking {name}{suffix}", file=sys.stderr, flush=True)

    def advance(self, count: int) -> None:
        """One line per page."""
        self._done += count
        print(f"{self._label}: {self._name} checked: {self._done}", file=sys.stderr, flush=True)


def run_job(
    label: str,
    build: Callable[[Settings], J],
    run: Callable[[J, ReconcileProgress | None], R],
    *,
    as_json: bool,
) -> R:
    """Build the job (bad settings: exit 2), run it with progress (failure: exit 1), close it."""
    try:
        job = build(load_settings())
    except PixyProxyException as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    progress = BarProgress(err) if err.is_terminal and not as_json else None
    try:
        with progress or LineProgress(label) as reporter:
            return run(job, None if as_json else reporter)
    except PixyProxyException as exc:
        err.print(f"[red]{label} failed:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        job.close()


def print_report(report: BaseModel, summary: Sequence[str], *, as_json: bool) -> None:
    """The report on stdout: JSON with ``--json``, else the human-readable lines."""
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        typer.echo("\n".join(summary))
